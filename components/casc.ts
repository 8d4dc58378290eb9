// The Jenkins Configuration-as-Code document, as a pure function of the settings. Keys are the
// ones the Kubernetes plugin and JCasC accept (see DESIGN.md); JCasC refuses unknown keys and
// Jenkins then fails to start, so tests check the output against schemas/jcasc.schema.json.
import { createHash } from "crypto";
import { stringify } from "yaml";
import { Names } from "./names";
import { PodTemplate, Settings } from "./settings";

/** File names under the SECRETS directory; JCasC resolves `${name}` from them. */
export const SECRET_FILES = {
    adminPassword: "jenkins-admin-password",
} as const;

export const CASC_FILE = "jenkins.yaml";

/** Labels on every agent pod, so policies and network rules can tell agents apart. */
export const AGENT_POD_LABELS: Record<string, string> = {
    "app.kubernetes.io/part-of": "jenkins-k8s",
    "app.kubernetes.io/component": "agent",
};

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** JCasC interpolates every `${...}`; `^${...}` is its escape for a literal. */
function escapeInterpolation(value: Json): Json {
    if (typeof value === "string") {
        return value.replace(/\$\{/g, "^${");
    }
    if (Array.isArray(value)) {
        return value.map(escapeInterpolation);
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeInterpolation(v)]));
    }
    return value;
}

/**
 * A stable pod template id. Without one the plugin makes a random UUID on every load, which
 * breaks links to the template and makes each reload look like a new template.
 */
export function templateId(namespace: string, name: string): string {
    const h = createHash("sha256").update(`${namespace}/${name}`).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function podTemplate(s: Settings, names: Names, t: PodTemplate, index: number): Json {
    return {
        id: templateId(s.agentNamespace, t.name),
        name: t.name,
        namespace: s.agentNamespace,
        label: t.labels.join(" "),
        // The first template also takes jobs that ask for no label, since the controller runs none.
        nodeUsageMode: index === 0 ? "NORMAL" : "EXCLUSIVE",
        serviceAccount: names.agentServiceAccount,
        idleMinutes: t.idleMinutes,
        instanceCap: t.instanceCap,
        containers: t.containers.map((c) => ({
            name: c.name,
            image: c.image,
            // No command or args: on the jnlp container they would replace the agent's entrypoint
            // and the agent would never connect (the original's pods were recreated in a loop).
            resourceRequestCpu: c.resources.cpuRequest,
            resourceLimitCpu: c.resources.cpuLimit,
            resourceRequestMemory: c.resources.memoryRequest,
            resourceLimitMemory: c.resources.memoryLimit,
        })),
    };
}

/** The JCasC document as a plain object. */
export function buildCasc(s: Settings, names: Names): Record<string, Json> {
    const tcp = s.agents.connection === "tcp";
    const cloud: Record<string, Json> = {
        name: "kubernetes",
        serverUrl: "https://kubernetes.default",
        namespace: s.agentNamespace,
        jenkinsUrl: names.jenkinsUrl,
        ...(tcp ? { jenkinsTunnel: names.jenkinsTunnel } : { webSocket: true }),
        containerCapStr: String(s.agents.containerCap),
        podRetention: s.agents.podRetention,
        podLabels: Object.entries(AGENT_POD_LABELS).map(([key, value]) => ({ key, value })),
        templates: s.agents.templates.map((t, i) => podTemplate(s, names, t, i)),
    };
    const doc = escapeInterpolation({
        jenkins: {
            systemMessage: "Configured by Pulumi (jenkins-k8s). Changes made in the UI are replaced on the next deploy.",
            // Builds run in agent pods, never on the controller, which holds every credential.
            numExecutors: 0,
            // -1 disables the inbound TCP port; WebSocket agents come in over HTTP.
            slaveAgentPort: tcp ? 50000 : -1,
            securityRealm: {
                local: {
                    allowsSignup: false,
                    users: [{ id: s.adminUsername, name: s.adminUsername, password: "" }],
                },
            },
            authorizationStrategy: {
                loggedInUsersCanDoAnything: { allowAnonymousRead: false },
            },
            clouds: [{ kubernetes: cloud }],
        },
        unclassified: {
            location: { url: s.publicUrl ?? names.jenkinsUrl },
        },
    }) as { jenkins: { securityRealm: { local: { users: { password: string }[] } } } };
    // Set after escaping: this is the one reference JCasC must resolve, from the mounted Secret.
    doc.jenkins.securityRealm.local.users[0].password = `\${${SECRET_FILES.adminPassword}}`;
    return doc as unknown as Record<string, Json>;
}

/** The document as YAML, with a header that tells a reader where it comes from. */
export function renderCasc(doc: Record<string, Json>): string {
    return (
        "# Generated by jenkins-k8s (Pulumi). Edit the stack config, not this file.\n" +
        stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })
    );
}

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}
