// The Jenkins Configuration-as-Code document, as a pure function of what it is built from. Keys are the
// ones the Kubernetes plugin and JCasC accept (each cited to its source below); JCasC refuses unknown keys and
// Jenkins then fails to start, so tests check the output against schemas/jcasc.schema.json.
// Long by design: one document, field by field in the plugin's shape (clouds, templates, their
// pod yaml, the launchers' credentials); splitting it would scatter one schema over files.
import { createHash } from "crypto";
import { stringify } from "yaml";
import { readPodYaml } from "../policy/podYaml";
import type { AgentConnection, PodRetention } from "../config/keys";
import { Names } from "../config/names";
import { component, PART_OF } from "../config/metadata";
import { AGENT_UID, AgentContainer, JNLP, PodTemplate, WORKDIR } from "../config/podTemplates";
import { proxyVariables, type Proxy, type Settings } from "../config/settings";
import { isIP } from "net";
import type { Access } from "../config/access";
import { authorizationStrategy, controllerSecret, Reference, securityRealm, systemCredentials } from "./security";
import { jobs } from "./jobs";
import { mergeExtra, Merged } from "./extra";
import type { CascDocument } from "../config/jobs";
import { DEFAULTS_TEMPLATE, Tier } from "../config/tiers";
import {
    ALLOW_HOST_PATH,
    ALLOW_PRIVILEGED,
    DROP_ALL,
    NO_ESCALATION,
    RUNTIME_DEFAULT_SECCOMP,
} from "../config/podSecurity";

/** What the JCasC document is built from. */
export interface CascInput {
    /** Id of the admin user (local sign-in); its password is the file `${jenkins-admin-password}`. */
    adminUsername: string;
    /** Sign-in, permissions, teams and credentials. */
    access: Access;
    /** The original's test job, on this label; unset: none. */
    testJob?: { label: string };
    /** Extra JCasC documents, merged into the program's (extra.ts). */
    extraCasc: CascDocument[];
    /** The Jenkins location URL users reach; unset: the in-cluster URL. */
    publicUrl?: string;
    /** tcp: the inbound agent port and a tunnel to it; websocket: agents over HTTP only. */
    connection: AgentConnection;
    /** Most agent pods of each cloud at once. */
    containerCap: number;
    /** When finished agent pods are kept (the plugin's podRetention). */
    podRetention: PodRetention;
    /** One cloud per tier, in the tiers' order; the first (build) is the default cloud. */
    tiers: Tier[];
    /** Where agents reach the controller: its web Service, and the agent Service for TCP agents. */
    jenkinsUrl: string;
    jenkinsTunnel: string;
    /** An HTTP proxy for Jenkins' own requests and the agents' tools; none when unset. */
    proxy?: Proxy;
    /** The longest an agent pod lives: every template's activeDeadlineSeconds unless it sets less. */
    podMaxSeconds: number;
}

/** The JCasC input of a stack's settings. */
export function cascInput(s: Settings, names: Pick<Names, "jenkinsUrl" | "jenkinsTunnel">): CascInput {
    return {
        adminUsername: s.adminUsername,
        access: s.access,
        testJob: s.jobs.testJob,
        extraCasc: s.jobs.extraCasc,
        publicUrl: s.publicUrl,
        connection: s.agents.connection,
        containerCap: s.agents.containerCap,
        podRetention: s.agents.podRetention,
        tiers: s.agents.tiers,
        jenkinsUrl: names.jenkinsUrl,
        jenkinsTunnel: names.jenkinsTunnel,
        proxy: s.proxy,
        podMaxSeconds: s.agents.podMaxSeconds,
    };
}

/**
 * Jenkins' own proxy (core 2.568.2 hudson.ProxyConfiguration: @DataBoundConstructor(name, port),
 * setter noProxyHost), for the update center, plugins' HTTP clients and Git on the controller.
 * Its exclusions are host patterns where `*` is any text, matched against the whole host: a
 * domain (.example.com) becomes *.example.com, a CIDR on octet bounds 10.* (another CIDR has no
 * pattern: curl and the agents' tools still honour it).
 */
export function jenkinsProxy(p: Proxy): { name: string; port: number; noProxyHost: string } {
    const patterns = p.noProxy.flatMap((entry) => {
        if (entry.startsWith(".")) return [`*${entry}`];
        const cidr = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(8|16|24|32)$/.exec(entry);
        if (cidr) return [[...cidr.slice(1, 1 + Number(cidr[5]) / 8), ...(cidr[5] === "32" ? [] : ["*"])].join(".")];
        if (entry.includes("/")) return [];
        return isIP(entry) ? [entry] : [entry, `*.${entry}`];
    });
    return { name: p.host, port: p.port, noProxyHost: [...new Set(patterns)].join("\n") };
}

/** The controller's own secrets, files of its projected volume (security.ts CONTROLLER_SECRETS_DIR). */
export const SECRET_FILES = {
    adminPassword: "jenkins-admin-password",
    automationPassword: "jenkins-automation-password",
    reloadToken: "casc-reload-token",
} as const;

export const CASC_FILE = "jenkins.yaml";

/** Labels on every agent pod, so policies and network rules can tell agents apart. */
export const AGENT_POD_LABELS: Record<string, string> = {
    ...PART_OF,
    ...component("agent"),
};

type Json = string | number | boolean | null | Reference | Json[] | { [key: string]: Json };
/** The document as written: references resolved to their text. */
type Written = string | number | boolean | null | Written[] | { [key: string]: Written };

/**
 * JCasC interpolates every `${...}`; `^${...}` is its escape for a literal. A Reference is the one
 * `${...}` meant for JCasC to resolve (a mounted Secret's file), written as it is.
 */
function escapeInterpolation(value: Json): Written {
    if (value instanceof Reference) {
        return value.expression;
    }
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

function envVars(env: Record<string, string>): Json[] {
    return Object.entries(env).map(([key, value]) => ({ envVar: { key, value } }));
}

function container(t: PodTemplate, c: AgentContainer): Json {
    const tool = c.name !== JNLP;
    // Under the restricted profile a tool image runs as uid 1000, which many images have no
    // home for (HOME=/ is not writable): give it the agent's working directory instead.
    const env = tool && t.podSecurity === "restricted" && !("HOME" in c.env) ? { HOME: WORKDIR, ...c.env } : c.env;
    return {
        name: c.name,
        image: c.image,
        // No command or args on jnlp: they would replace the agent's entrypoint and the agent
        // would never connect (the original's pods were recreated in a loop). Tool containers
        // idle on `cat` with a TTY until a `container('x')` step runs in them. The plugin splits
        // both strings on spaces; the words were checked to have none.
        ...(tool
            ? { command: (c.command ?? ["cat"]).join(" "), args: (c.args ?? []).join(" "), ttyEnabled: true }
            : {}),
        ...(c.workingDir ? { workingDir: c.workingDir } : {}),
        ...(c.privileged ? { privileged: true } : {}),
        ...(c.runAsUser !== undefined ? { runAsUser: String(c.runAsUser) } : {}),
        resourceRequestCpu: c.cpuRequest,
        resourceLimitCpu: c.cpuLimit,
        resourceRequestMemory: c.memoryRequest,
        resourceLimitMemory: c.memoryLimit,
        ...(Object.keys(env).length > 0 ? { envVars: envVars(env) } : {}),
    };
}

function volume(vol: PodTemplate["volumes"][number]): Json {
    switch (vol.type) {
        case "emptyDir":
            return { emptyDirVolume: { mountPath: vol.mountPath, memory: vol.memory } };
        case "secret":
            return { secretVolume: { secretName: vol.secretName, mountPath: vol.mountPath, optional: vol.optional } };
        case "configMap":
            return {
                configMapVolume: { configMapName: vol.configMapName, mountPath: vol.mountPath, optional: vol.optional },
            };
        case "pvc":
            return {
                persistentVolumeClaim: { claimName: vol.claimName, mountPath: vol.mountPath, readOnly: vol.readOnly },
            };
        case "nfs":
            return {
                nfsVolume: {
                    serverAddress: vol.server,
                    serverPath: vol.path,
                    mountPath: vol.mountPath,
                    readOnly: vol.readOnly,
                },
            };
        case "hostPath":
            return { hostPathVolume: { hostPath: vol.hostPath, mountPath: vol.mountPath, readOnly: vol.readOnly } };
    }
}

function workspace(w: PodTemplate["workspaceVolume"]): Json {
    return w.type === "emptyDir"
        ? { emptyDirWorkspaceVolume: { memory: w.memory } }
        : {
              genericEphemeralVolume: {
                  requestsSize: w.size,
                  accessModes: w.accessMode,
                  ...(w.storageClass ? { storageClassName: w.storageClass } : {}),
              },
          };
}

type Obj = Record<string, any>;

/** Deep merge for pod YAML: maps merge, containers merge by name, other lists are replaced. */
function mergePod(base: Obj, extra: Obj): Obj {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(extra)) {
        if ((k === "containers" || k === "initContainers") && Array.isArray(v) && Array.isArray(out[k])) {
            const merged = [...out[k]];
            for (const c of v) {
                const i = merged.findIndex((m: Obj) => m.name === c.name);
                if (i === -1) {
                    merged.push(c);
                } else {
                    merged[i] = mergePod(merged[i], c);
                }
            }
            out[k] = merged;
        } else if (
            v &&
            typeof v === "object" &&
            !Array.isArray(v) &&
            out[k] &&
            typeof out[k] === "object" &&
            !Array.isArray(out[k])
        ) {
            out[k] = mergePod(out[k], v);
        } else {
            out[k] = v;
        }
    }
    return out;
}

type SecretVolume = Extract<PodTemplate["volumes"][number], { type: "secret" }>;

/**
 * A Secret volume with chosen keys or containers: the plugin's secretVolume has neither (its
 * subPath turns into an item without a path, which the API server refuses), so such a volume is
 * written into the pod YAML.
 */
function inPodYaml(vol: PodTemplate["volumes"][number]): vol is SecretVolume {
    return vol.type === "secret" && (vol.items !== undefined || vol.containers !== undefined);
}

/**
 * The pod fields the plugin has no key for: the Pod Security profile, the API token,
 * tolerations, and Secret volumes with chosen keys or containers. The restricted profile is the
 * default; a template that asks for more gets only what it asked for in its own `yaml`.
 */
export function templatePodYaml(t: PodTemplate): Obj {
    const restricted = t.podSecurity === "restricted";
    const spec: Obj = {
        // Build code is untrusted: an API token only where the template deploys.
        automountServiceAccountToken: t.deploy,
        ...(t.tolerations.length > 0 ? { tolerations: t.tolerations } : {}),
    };
    if (t.podSecurity !== "privileged") {
        spec.securityContext = {
            ...(restricted
                ? { runAsNonRoot: true, runAsUser: AGENT_UID, runAsGroup: AGENT_UID, fsGroup: AGENT_UID }
                : {}),
            seccompProfile: RUNTIME_DEFAULT_SECCOMP,
        };
        spec.containers = t.containers.map((c) => ({
            name: c.name,
            securityContext: {
                ...(restricted ? { ...NO_ESCALATION, capabilities: DROP_ALL } : {}),
                ...(c.privileged ? {} : { privileged: false }),
            },
        }));
    }
    const yamlVolumes = t.volumes.filter(inPodYaml).map((vol, i) => ({ vol, name: `secret-${i}` }));
    if (yamlVolumes.length > 0) {
        spec.volumes = yamlVolumes.map(({ vol, name }) => ({
            name,
            secret: {
                secretName: vol.secretName,
                ...(vol.items ? { items: vol.items } : {}),
                optional: vol.optional,
            },
        }));
        const mounting = new Map<string, Obj[]>();
        for (const { vol, name } of yamlVolumes) {
            for (const c of vol.containers ?? t.containers.map((x) => x.name)) {
                mounting.set(c, [...(mounting.get(c) ?? []), { name, mountPath: vol.mountPath, readOnly: true }]);
            }
        }
        spec.containers = t.containers.map((c) => {
            const own = (spec.containers as Obj[] | undefined)?.find((x) => x.name === c.name) ?? { name: c.name };
            return mounting.has(c.name) ? { ...own, volumeMounts: mounting.get(c.name) } : own;
        });
    }
    // The opt-ins, written on the pods themselves: visible in the cluster, and the explicit
    // allow the policy pack looks for.
    const annotations: Record<string, string> = {
        ...(t.containers.some((c) => c.privileged) ? { [ALLOW_PRIVILEGED]: "true" } : {}),
        ...(t.hostDockerSocket || t.volumes.some((v) => v.type === "hostPath") ? { [ALLOW_HOST_PATH]: "true" } : {}),
    };
    const generated = Object.keys(annotations).length > 0 ? { metadata: { annotations }, spec } : { spec };
    // Read as the plugin reads it; what it cannot read was refused with the settings.
    return mergePod(generated, t.yaml ? (readPodYaml(t.yaml).pod ?? {}) : {});
}

function podTemplate(tier: Tier, t: PodTemplate, normal: boolean, podMaxSeconds: number): Json {
    const volumes = [
        ...t.volumes.filter((vol) => !inPodYaml(vol)).map(volume),
        ...(t.hostDockerSocket
            ? [
                  {
                      hostPathVolume: {
                          hostPath: "/var/run/docker.sock",
                          mountPath: "/var/run/docker.sock",
                          readOnly: false,
                      },
                  },
              ]
            : []),
    ];
    return {
        id: templateId(tier.namespace, t.name),
        name: t.name,
        namespace: tier.namespace,
        label: t.labels.join(" "),
        // The build tier's first template also takes jobs that ask for no label, since the
        // controller runs none; every other template only takes jobs that name its label.
        nodeUsageMode: normal ? "NORMAL" : "EXCLUSIVE",
        serviceAccount: tier.podServiceAccount,
        idleMinutes: t.idleMinutes,
        instanceCap: t.instanceCap,
        // kubernetes-plugin PodTemplate.java setActiveDeadlineSeconds(int), a @DataBoundSetter (tag 4423
        // and master of March 2026, around the pinned 4540); PodTemplateBuilder.java writes it into the pod.
        activeDeadlineSeconds: t.activeDeadlineSeconds ?? podMaxSeconds,
        ...(Object.keys(t.nodeSelector).length > 0
            ? {
                  nodeSelector: Object.entries(t.nodeSelector)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(","),
              }
            : {}),
        workspaceVolume: workspace(t.workspaceVolume),
        ...(volumes.length > 0 ? { volumes } : {}),
        ...(Object.keys(t.env).length > 0 ? { envVars: envVars(t.env) } : {}),
        containers: t.containers.map((c) => container(t, c)),
        yaml: yaml11(templatePodYaml(t)),
        yamlMergeStrategy: "merge",
        showRawYaml: false,
    };
}

/**
 * The template every template of a cloud inherits from (its defaultsProviderTemplate), pipelines'
 * own included: the tier's ServiceAccount, which the admission policy requires and which holds no
 * token (a pipeline's pod that names none would otherwise run as `default`); and on a
 * restricted-by-default cloud pod-level uid and gid 1000, so the kubelet can verify the
 * `runAsNonRoot` the cloud fills in for images whose USER is a name. It takes no job itself.
 */
function defaultsTemplate(tier: Tier, proxy: Proxy | undefined, podMaxSeconds: number): Json {
    return {
        id: templateId(tier.namespace, DEFAULTS_TEMPLATE),
        name: DEFAULTS_TEMPLATE,
        // No label and EXCLUSIVE: no job can ask for this template, so no pod is made of it.
        nodeUsageMode: "EXCLUSIVE",
        serviceAccount: tier.podServiceAccount,
        // A pipeline's own pod that sets none gets it (kubernetes-plugin PodTemplateUtils.java combine:
        // the parent's when the template's is 0; same at 4423 and master).
        activeDeadlineSeconds: podMaxSeconds,
        // Every pod of the cloud inherits these (PodTemplateUtils.combine merges envVars).
        ...(proxy ? { envVars: envVars(proxyVariables(proxy)) } : {}),
        ...(tier.restrictedPss ? { runAsUser: String(AGENT_UID), runAsGroup: String(AGENT_UID) } : {}),
    };
}

/** Orphaned agent pods (a controller that died mid-build) are deleted after this many seconds. */
const GARBAGE_COLLECTION_SECONDS = 300;

/** The kubernetes plugin's own limit on requests to the API server at once (KubernetesCloud.java). */
export const PLUGIN_MAX_REQUESTS = 32;

/**
 * Requests the cloud's client makes to the API server at once (maxRequestsPerHostStr; the client's
 * per-host and total limit, KubernetesFactoryAdapter.java). The plugin's help warns that too low a
 * value hangs builds (help-maxRequestsPerHostStr.html, JENKINS-40825): requests past the limit wait
 * in the client's queue. At the cap every agent pod may hold a request while it launches (its wait
 * until ready) and one for a `container` step's exec, so the limit is two for each pod, never below
 * the plugin's 32. The connect and read timeouts keep the plugin's 5 s and 15 s, which are also
 * the least it accepts (setConnectTimeout, setReadTimeout): the API server is in the cluster.
 * waitForPodSec is not written: the plugin stores it and reads it nowhere (its source to March
 * 2026, after 4423; 4540's tag is not published here); how long a pod may take to come online is
 * each template's slaveConnectTimeout (KubernetesLauncher.java).
 */
export function maxRequests(containerCap: number): number {
    return Math.max(PLUGIN_MAX_REQUESTS, 2 * containerCap);
}

function cloud(input: CascInput, tier: Tier): { [key: string]: Json } {
    const tcp = input.connection === "tcp";
    return {
        name: tier.cloud,
        // A usage-restricted tier's cloud authenticates with its launcher's token and takes the
        // address and CA from the pod; the others use the controller's own account (in-cluster).
        ...(tier.launcher
            ? { credentialsId: tier.launcher.credentialsId }
            : { serverUrl: "https://kubernetes.default" }),
        namespace: tier.namespace,
        jenkinsUrl: input.jenkinsUrl,
        ...(tcp ? { jenkinsTunnel: input.jenkinsTunnel } : { webSocket: true }),
        containerCapStr: String(input.containerCap),
        maxRequestsPerHostStr: String(maxRequests(input.containerCap)),
        podRetention: input.podRetention,
        podLabels: Object.entries(AGENT_POD_LABELS).map(([key, value]) => ({ key, value })),
        usageRestricted: tier.usageRestricted,
        ...(tier.restrictedPss ? { restrictedPssSecurityContext: true } : {}),
        defaultsProviderTemplate: DEFAULTS_TEMPLATE,
        garbageCollection: { timeout: GARBAGE_COLLECTION_SECONDS },
        templates: [
            defaultsTemplate(tier, input.proxy, input.podMaxSeconds),
            ...tier.templates.map((t, i) =>
                podTemplate(tier, t, tier.name === "build" && i === 0, input.podMaxSeconds),
            ),
        ],
    };
}

/** The JCasC document as a plain object: the program's, with the extra documents merged in. */
export function buildCasc(input: CascInput): Record<string, Written> {
    return checkCasc(input).doc as Record<string, Written>;
}

/** The document, and what the preview says of the extra documents merged into it (extra.ts). */
export function checkCasc(input: CascInput, plugins?: ReadonlySet<string>): Merged {
    return mergeExtra(programCasc(input), input.extraCasc, plugins);
}

/** The program's own document. */
function programCasc(input: CascInput): Record<string, Written> {
    const tcp = input.connection === "tcp";
    const credentials = systemCredentials(input.access, input.tiers);
    return escapeInterpolation({
        jenkins: {
            systemMessage:
                "Configured by Pulumi (jenkins-k8s). Changes made in the UI are replaced on the next deploy.",
            // Builds run in agent pods, never on the controller, which holds every credential.
            numExecutors: 0,
            // -1 disables the inbound TCP port; WebSocket agents come in over HTTP.
            slaveAgentPort: tcp ? 50000 : -1,
            securityRealm: securityRealm(input.access, {
                adminUsername: input.adminUsername,
                adminPassword: controllerSecret(SECRET_FILES.adminPassword),
                automationPassword: controllerSecret(SECRET_FILES.automationPassword),
            }),
            authorizationStrategy: authorizationStrategy(input.access, input.adminUsername),
            ...(input.proxy ? { proxy: jenkinsProxy(input.proxy) } : {}),
            clouds: input.tiers.map((t) => ({ kubernetes: cloud(input, t) })),
        },
        ...(credentials ? { credentials } : {}),
        unclassified: {
            location: { url: input.publicUrl ?? input.jenkinsUrl },
        },
        jobs: jobs({ access: input.access, testJob: input.testJob }),
    }) as Record<string, Written>;
}

/** The document as YAML, with a header that tells a reader where it comes from. */
/**
 * JCasC and the plugin's pod YAML are read by SnakeYAML, a YAML 1.1 parser: there `yes`, `on`,
 * `2024-01-01`, `0755` and `~` are a boolean, a date, an octal number and null. Written as YAML
 * 1.1, every such string is quoted, so it stays a string. No anchors, so each part reads alone.
 */
const YAML_1_1 = { version: "1.1", lineWidth: 0, aliasDuplicateObjects: false } as const;

/**
 * YAML 1.1 text of `value`. The one string the `yaml` library leaves plain there, `<<`, is SnakeYAML's
 * merge key in any position; it is quoted here, as a value (our documents have no such key).
 */
function yaml11(value: unknown): string {
    return stringify(value, YAML_1_1).replace(/^(\s*(?:- |[^\s#][^\n]*?: ))<<$/gm, '$1"<<"');
}

export function renderCasc(doc: Record<string, Written>): string {
    return "# Generated by jenkins-k8s (Pulumi). Edit the stack config, not this file.\n" + yaml11(doc);
}

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}
