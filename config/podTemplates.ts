// Agent pod templates: the `podTemplates` setting (a list of objects, so it lives in the stack
// file; Pulumi.yaml's schema cannot type it), its defaults, and the Pod Security level each
// template needs. Templates default to the `restricted` Pod Security Standard; anything that
// needs more (an image builder, a privileged container, a host path) must say so.
// Long by design: the template schema, field by field, with the default templates beside it.
import { z } from "zod";
import * as v from "./checks";
import { ACCESS_MODES, bool, checked, oneOf, wholeNumber as count } from "./checks";

import { SECURITY_LEVELS, SecurityLevel } from "./podSecurity";
import { readPodYaml } from "../policy/podYaml";

export { SECURITY_LEVELS };
export type { SecurityLevel };

/** The uid agent containers run as under the restricted profile (the inbound-agent image's user). */
export const AGENT_UID = 1000;
export const JNLP = "jnlp";
export const WORKDIR = "/home/jenkins/agent";

const env = z
    .record(z.string(), z.string({ error: () => "must be a string value" }), {
        error: () => "must be a map of NAME: value",
    })
    .superRefine((vars, ctx) => {
        for (const name of Object.keys(vars)) {
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
                ctx.addIssue({
                    code: "custom",
                    path: [name],
                    message: `"${name}" is not an environment variable name: use letters, digits and '_', not starting with a digit`,
                });
            }
        }
    });
const absolutePath = checked(v.checkAbsolutePath);

// The plugin takes command and args as one string each and splits it on spaces, keeping only
// double-quoted runs together; single quotes and embedded quotes do not survive that.
const word = z.string().superRefine((value, ctx) => {
    if (value === "" || /["'\s]/.test(value)) {
        ctx.addIssue({
            code: "custom",
            message:
                "must be one word without spaces or quotes (the plugin splits command and args on spaces); for a shell line use command [sh, -c] in the template's yaml",
        });
    }
});

const containerSchema = z.strictObject({
    name: checked(v.checkDnsLabel),
    image: checked(v.checkImage),
    cpuRequest: checked(v.checkCpu).default("250m"),
    cpuLimit: checked(v.checkCpu).default("2"),
    memoryRequest: checked(v.checkMemory).default("256Mi"),
    memoryLimit: checked(v.checkMemory).default("2Gi"),
    /** Tool containers idle until a `container('x')` step runs in them; `cat` with a TTY is the plugin's idiom. */
    command: z.array(word).optional(),
    args: z.array(word).optional(),
    env: env.default({}),
    workingDir: absolutePath.optional(),
    runAsUser: count(0, 2147483647).optional(),
    privileged: bool.default(false),
});

const mountPath = absolutePath;
const volumeSchema = z.discriminatedUnion(
    "type",
    [
        z.strictObject({ type: z.literal("emptyDir"), mountPath, memory: z.boolean().default(false) }),
        z.strictObject({
            type: z.literal("secret"),
            secretName: checked(v.checkDnsSubdomain),
            mountPath,
            /** Keys of the Secret to mount, each as a file of the given relative path (e.g. .dockerconfigjson as config.json). */
            items: z
                .array(z.strictObject({ key: z.string().min(1), path: checked(v.checkRelativePath) }))
                .min(1)
                .optional(),
            /** Mount only into these containers (default: every container of the pod, as the plugin does). */
            containers: z.array(checked(v.checkDnsLabel)).min(1).optional(),
            optional: z.boolean().default(false),
        }),
        z.strictObject({
            type: z.literal("configMap"),
            configMapName: checked(v.checkDnsSubdomain),
            mountPath,
            optional: z.boolean().default(false),
        }),
        z.strictObject({
            type: z.literal("pvc"),
            claimName: checked(v.checkDnsSubdomain),
            mountPath,
            readOnly: z.boolean().default(false),
        }),
        z.strictObject({
            type: z.literal("nfs"),
            server: checked(v.checkHostOrIp),
            path: absolutePath,
            mountPath,
            readOnly: z.boolean().default(false),
        }),
        z.strictObject({
            type: z.literal("hostPath"),
            hostPath: absolutePath,
            mountPath,
            readOnly: z.boolean().default(true),
        }),
    ],
    { error: () => "must have a type: emptyDir, secret, configMap, pvc, nfs or hostPath" },
);

// A claim per agent pod is a generic ephemeral volume: Kubernetes creates it with the pod and
// deletes it with the pod (kubernetes plugin GenericEphemeralWorkspaceVolume, @Symbol
// genericEphemeralVolume), so the launching account needs no claim rights. The plugin's older
// dynamicPVC, which has the launcher create and delete claims itself, is not offered.
const workspaceSchema = z.discriminatedUnion(
    "type",
    [
        z.strictObject({ type: z.literal("emptyDir"), memory: z.boolean().default(false) }),
        z.strictObject({
            type: z.literal("genericEphemeralVolume"),
            size: checked(v.checkWorkspaceSize),
            storageClass: checked(v.checkDnsSubdomain).optional(),
            accessMode: oneOf(ACCESS_MODES).default("ReadWriteOnce"),
        }),
        z.object({ type: z.literal("dynamicPVC") }).transform((_w, ctx) => {
            ctx.addIssue({
                code: "custom",
                path: ["type"],
                message:
                    "is replaced by genericEphemeralVolume (same size, storageClass and accessMode): Kubernetes then creates and deletes the claim with the pod, and the controller needs no rights on claims",
            });
            return z.NEVER;
        }),
    ],
    { error: () => "must have a type: emptyDir or genericEphemeralVolume" },
);

const tolerationSchema = z
    .strictObject({
        key: z.string().optional(),
        operator: z.enum(["Exists", "Equal"]).default("Equal"),
        value: z.string().optional(),
        effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
        tolerationSeconds: z.number().int().optional(),
    })
    // The API server's own rules: it would refuse the agent pod only when a build starts.
    .superRefine((t, ctx) => {
        if (t.operator === "Exists" && t.value !== undefined) {
            ctx.addIssue({ code: "custom", path: ["value"], message: "must be empty when operator is Exists" });
        }
        if (t.operator === "Equal" && t.key === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["key"],
                message: "is required when operator is Equal (use Exists to tolerate every taint)",
            });
        }
        if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
            ctx.addIssue({
                code: "custom",
                path: ["tolerationSeconds"],
                message: "only applies with effect NoExecute",
            });
        }
    });

/** A list of tolerations, as a template and agentTolerations take them. */
export const tolerationsSchema = z.array(tolerationSchema, {
    error: (issue) =>
        issue.code === "invalid_type"
            ? "must be a list of tolerations such as [{key: dedicated, operator: Equal, value: ci, effect: NoSchedule}]"
            : undefined,
});

// The plugin writes the selector as "k=v,k2=v2" and splits it on ',' and '='.
const nodeSelector = z.record(z.string(), z.string()).superRefine((selector, ctx) => {
    for (const [key, value] of Object.entries(selector)) {
        if (/[,=\s]/.test(key) || /[,=\s]/.test(value) || key === "") {
            ctx.addIssue({
                code: "custom",
                path: [key],
                message: "must not contain ',', '=' or spaces in the label key or value",
            });
        }
    }
});

const templateSchema = z.strictObject({
    name: checked(v.checkDnsLabel),
    labels: z
        .array(checked(v.checkAgentLabel), { error: () => "must be a list of labels" })
        .min(1, { error: () => "must list at least one label" }),
    /** Containers besides the agent; a container named jnlp replaces the default agent container. */
    containers: z.array(containerSchema).default([]),
    idleMinutes: count(0, 1440).default(0),
    /** Seconds a pod of this template may live (the plugin's activeDeadlineSeconds); unset: agentPodMaxSeconds. */
    activeDeadlineSeconds: count(60, 604800).optional(),
    instanceCap: count(1, 1000).default(10),
    nodeSelector: nodeSelector.default({}),
    tolerations: tolerationsSchema.default([]),
    workspaceVolume: workspaceSchema.default({ type: "emptyDir", memory: false }),
    volumes: z.array(volumeSchema).default([]),
    env: env.default({}),
    /** Run with the deployer ServiceAccount, which may deploy to `deployNamespaces`. */
    deploy: bool.default(false),
    /** The Pod Security Standard this template's pods meet; anything above restricted is an opt-in. */
    podSecurity: z
        .enum(SECURITY_LEVELS, { error: () => `must be one of: ${SECURITY_LEVELS.join(", ")}` })
        .default("restricted"),
    /** Mount the node's Docker socket: root on the node for every build. Only as an explicit opt-in. */
    hostDockerSocket: bool.default(false),
    /** Extra pod YAML merged into the agent pod, for what the keys above do not cover. */
    yaml: z.string().optional(),
});

export const templatesSchema = z.array(templateSchema, { error: () => "must be a list of pod templates" });

export type TemplateConfig = z.input<typeof templateSchema>;
export type PodTemplate = z.output<typeof templateSchema>;
export type AgentContainer = PodTemplate["containers"][number];
export type Toleration = PodTemplate["tolerations"][number];

/** A problem found across a template's fields, with the path below `podTemplates`. */
export interface TemplateProblem {
    path: (string | number)[];
    value: unknown;
    message: string;
}

/** Checks that zod's per-field schema cannot: uniqueness, opt-ins, request vs limit. */
export function templateProblems(templates: PodTemplate[]): TemplateProblem[] {
    const problems: TemplateProblem[] = [];
    const names = new Map<string, number>();
    const labels = new Map<string, number>();
    templates.forEach((t, i) => {
        for (const p of t.yaml === undefined ? [] : readPodYaml(t.yaml).problems) {
            problems.push({ path: [i, "yaml"], value: p.line, message: p.message });
        }
        if (names.has(t.name)) {
            problems.push({
                path: [i, "name"],
                value: t.name,
                message: `is used by podTemplates[${names.get(t.name)}] too; template names must be unique`,
            });
        }
        names.set(t.name, i);
        for (const label of t.labels) {
            if (labels.has(label) && labels.get(label) !== i) {
                problems.push({
                    path: [i, "labels"],
                    value: label,
                    message: `is also a label of podTemplates[${labels.get(label)}]; Jenkins would pick either template at random`,
                });
            }
            labels.set(label, i);
        }
        const containerNames = new Set<string>();
        t.containers.forEach((c, j) => {
            if (containerNames.has(c.name)) {
                problems.push({
                    path: [i, "containers", j, "name"],
                    value: c.name,
                    message: "is used twice in this template",
                });
            }
            containerNames.add(c.name);
            if (v.parseQuantity(c.cpuRequest) > v.parseQuantity(c.cpuLimit)) {
                problems.push({
                    path: [i, "containers", j, "cpuRequest"],
                    value: c.cpuRequest,
                    message: `must not exceed cpuLimit ("${c.cpuLimit}")`,
                });
            }
            if (v.parseQuantity(c.memoryRequest) > v.parseQuantity(c.memoryLimit)) {
                problems.push({
                    path: [i, "containers", j, "memoryRequest"],
                    value: c.memoryRequest,
                    message: `must not exceed memoryLimit ("${c.memoryLimit}")`,
                });
            }
            const java = c.name === JNLP ? v.agentJavaProblem(c.image) : undefined;
            if (java) {
                problems.push({ path: [i, "containers", j, "image"], value: c.image, message: java });
            }
            if (c.name === JNLP && (c.command !== undefined || c.args !== undefined)) {
                problems.push({
                    path: [i, "containers", j, "command"],
                    value: c.command ?? c.args,
                    message:
                        "must be left unset on the jnlp container: it replaces the agent's entrypoint and the agent never connects",
                });
            }
            if (c.privileged && t.podSecurity !== "privileged") {
                problems.push({
                    path: [i, "containers", j, "privileged"],
                    value: true,
                    message: `needs podSecurity: privileged on the template (it is ${t.podSecurity})`,
                });
            }
            if (c.runAsUser === 0 && t.podSecurity === "restricted") {
                problems.push({
                    path: [i, "containers", j, "runAsUser"],
                    value: 0,
                    message:
                        "runs as root, which the restricted profile forbids; set podSecurity: baseline on the template",
                });
            }
        });
        t.volumes.forEach((vol, j) => {
            if (vol.type === "secret") {
                for (const name of vol.containers ?? []) {
                    if (name !== JNLP && !t.containers.some((c) => c.name === name)) {
                        problems.push({
                            path: [i, "volumes", j, "containers"],
                            value: name,
                            message: `names no container of this template (it has ${[JNLP, ...t.containers.map((c) => c.name)].join(", ")})`,
                        });
                    }
                }
            }
            // The restricted standard allows only configMap, emptyDir, PVC, secret and the like.
            if (vol.type === "nfs" && t.podSecurity === "restricted") {
                problems.push({
                    path: [i, "volumes", j, "type"],
                    value: "nfs",
                    message:
                        "needs podSecurity: baseline (or privileged) on the template; the restricted profile refuses nfs volumes",
                });
            }
            if (vol.type === "hostPath" && t.podSecurity !== "privileged") {
                problems.push({
                    path: [i, "volumes", j, "type"],
                    value: "hostPath",
                    message: `needs podSecurity: privileged on the template (it is ${t.podSecurity}); a host path gives builds the node's files`,
                });
            }
        });
        if (t.deploy && t.podSecurity !== "restricted") {
            problems.push({
                path: [i, "podSecurity"],
                value: t.podSecurity,
                message: "must be restricted on a deploy template: the deploy tier's namespace enforces restricted",
            });
        }
        if (t.hostDockerSocket && t.podSecurity !== "privileged") {
            problems.push({
                path: [i, "hostDockerSocket"],
                value: true,
                message: `needs podSecurity: privileged on the template (it is ${t.podSecurity}); the socket is root on the node`,
            });
        }
    });
    return problems;
}

/**
 * The trust tier a template's pods run in: deploy templates in the deploy tier, the others in the
 * tier of their Pod Security level. Each tier has its own namespace and cloud (see tiers.ts).
 */
export type TierName = "build" | "baseline" | "privileged" | "deploy";
export function tierOf(t: Pick<PodTemplate, "deploy" | "podSecurity">): TierName {
    return t.deploy ? "deploy" : t.podSecurity === "restricted" ? "build" : t.podSecurity;
}

/** Where kaniko reads registry credentials: $DOCKER_CONFIG/config.json, and its image sets DOCKER_CONFIG to this. */
const KANIKO_DOCKER_DIR = "/kaniko/.docker";

/**
 * The capabilities kaniko needs to unpack images and run RUN steps as the Dockerfile's users, all
 * in the baseline profile's allowed set: chown/fowner/dac_override for the files it writes,
 * setuid/setgid to switch users, setfcap for file capabilities in layers, kill for RUN steps.
 */
const KANIKO_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "SETFCAP", "KILL"];

/**
 * The default set when `podTemplates` is not set: a plain agent on `agentLabel` (with
 * `agentIdleMinutes` and `agentInstanceCap`), and an image builder that builds and pushes from a
 * Dockerfile without a Docker daemon and without node root: kaniko (the maintained fork), which
 * unpacks and runs each step inside its own container, so it needs no user namespaces, no
 * Unconfined seccomp or AppArmor and no privileged flag. It runs as root in its container with
 * seven capabilities of the baseline set, so it lives in the baseline tier. With a registry
 * Secret (a kubernetes.io/dockerconfigjson one in that tier's namespace), its .dockerconfigjson is
 * mounted as the config.json kaniko reads, into the kaniko container only.
 */
export function defaultTemplates(agent: {
    label: string;
    idleMinutes: number;
    instanceCap: number;
    kanikoImage: string;
    registrySecret?: string;
}): TemplateConfig[] {
    return [
        { name: "default", labels: [agent.label], idleMinutes: agent.idleMinutes, instanceCap: agent.instanceCap },
        {
            name: "image-build",
            labels: ["image-build"],
            podSecurity: "baseline",
            containers: [
                {
                    name: "kaniko",
                    image: agent.kanikoImage,
                    // The debug image has busybox; the executor image has no shell for `sh` steps.
                    command: ["/busybox/cat"],
                    cpuRequest: "500m",
                    cpuLimit: "2",
                    memoryRequest: "1Gi",
                    memoryLimit: "4Gi",
                },
            ],
            volumes: agent.registrySecret
                ? [
                      {
                          type: "secret",
                          secretName: agent.registrySecret,
                          mountPath: KANIKO_DOCKER_DIR,
                          items: [{ key: ".dockerconfigjson", path: "config.json" }],
                          containers: ["kaniko"],
                      },
                  ]
                : [],
            yaml: [
                "spec:",
                "  containers:",
                "    - name: kaniko",
                "      securityContext:",
                "        runAsUser: 0",
                "        runAsNonRoot: false",
                "        allowPrivilegeEscalation: false",
                "        capabilities:",
                "          drop: [ALL]",
                `          add: [${KANIKO_CAPABILITIES.join(", ")}]`,
                "",
            ].join("\n"),
        },
    ];
}
