// Checks between keys: a value that is fine on its own but not with another (a request above its
// limit, a key that only applies with another, a tier namespace that collides). Each problem names
// the key, the value and what would fix it.
import { configKey, KEYS, REQUIRED_PLUGINS, ValidValues } from "./keys";
import { PodTemplate, templateProblems, tierOf } from "./podTemplates";
import { formatPath, ReadValues, RefusedKey } from "./reader";
import { deriveTiers, LONGEST_TIER_SUFFIX, tierNamespace, TIER_NAMES } from "./tiers";
import { accessView, type AccessView, credentialProblems, principalProblems, teamProblems } from "./accessChecks";
import type { Tier } from "./tiers";
import { cidrWithin, imageJenkinsVersion, parseQuantity, pluginId, type Resources } from "./checks";
import { TEST_JOB } from "./jobs";
import { agentLimitsFor, limitProblems } from "./agentLimits";
import { SKIP_AWAIT } from "./metadata";

function resourceProblems(prefix: "controller" | "agent", r: Resources): string[] {
    const problems: string[] = [];
    if (parseQuantity(r.cpuRequest) > parseQuantity(r.cpuLimit)) {
        problems.push(
            `${configKey(`${prefix}CpuRequest`)} = "${r.cpuRequest}": must not exceed ${configKey(`${prefix}CpuLimit`)} ("${r.cpuLimit}")`,
        );
    }
    if (parseQuantity(r.memoryRequest) > parseQuantity(r.memoryLimit)) {
        problems.push(
            `${configKey(`${prefix}MemoryRequest`)} = "${r.memoryRequest}": must not exceed ${configKey(`${prefix}MemoryLimit`)} ("${r.memoryLimit}")`,
        );
    }
    return problems;
}

/** What a rule reads: the validated values, the templates they resolve to, the agent tiers. */
interface RuleInput {
    v: ValidValues;
    templates: () => PodTemplate[];
    /** For a refused list, the elements that passed on their own (reader.ts). */
    partial: ReadValues["partial"];
    /** Undefined when a key they are derived from was refused. */
    tiers: Tier[] | undefined;
    /** The sign-in, grant, team and credential keys that passed (accessChecks.ts). */
    access: AccessView;
}

/**
 * A rule across keys: it reports each problem it finds, naming the key, the value and what would
 * fix it. What it reported before reading a refused key stands (crossChecks).
 */
type Rule = (input: RuleInput, problems: string[]) => void;

/** Each rule by what it judges, in the order its problems are listed. */
export const CROSS_CHECKS: Record<string, Rule> = {
    controllerResources: ({ v }, problems) => {
        problems.push(
            ...resourceProblems("controller", {
                cpuRequest: v.controllerCpuRequest,
                cpuLimit: v.controllerCpuLimit,
                memoryRequest: v.controllerMemoryRequest,
                memoryLimit: v.controllerMemoryLimit,
            }),
        );
    },
    agentResources: ({ v }, problems) => {
        problems.push(
            ...resourceProblems("agent", {
                cpuRequest: v.agentCpuRequest,
                cpuLimit: v.agentCpuLimit,
                memoryRequest: v.agentMemoryRequest,
                memoryLimit: v.agentMemoryLimit,
            }),
        );
    },
    // Paths as the user wrote them: before the default jnlp container is put first. When a template
    // was refused, the others are still judged (a sparse list keeps their indexes).
    podTemplates: ({ v, partial }, problems) => {
        const templates = (partial.podTemplates as ValidValues["podTemplates"] | undefined) ?? v.podTemplates ?? [];
        for (const p of templateProblems(templates)) {
            problems.push(`${formatPath("podTemplates", p.path)} = ${JSON.stringify(p.value)}: ${p.message}`);
        }
    },
    deployTemplates: ({ v, templates: templatesOf }, problems) => {
        templatesOf().forEach((t, i) => {
            if (t.deploy && v.deployNamespaces.length === 0) {
                problems.push(
                    `${formatPath("podTemplates", [i, "deploy"])} = true: needs ${configKey("deployNamespaces")} to list where it may deploy`,
                );
            }
        });
    },
    ingress: ({ v }, problems) => {
        if (v.ingressHost === "") {
            for (const k of ["ingressClass", "ingressTlsSecret"] as const) {
                if (v[k] !== "") {
                    problems.push(`${configKey(k)} = "${v[k]}": only applies with ${configKey("ingressHost")}`);
                }
            }
            if (v.ingressAnnotations !== undefined) {
                problems.push(
                    `${configKey("ingressAnnotations")} = ${JSON.stringify(v.ingressAnnotations)}: only applies with ${configKey("ingressHost")}`,
                );
            }
        } else if (v.publicUrl !== "" && new URL(v.publicUrl).hostname !== v.ingressHost) {
            problems.push(
                `${configKey("publicUrl")} = "${v.publicUrl}": its host must be ${configKey("ingressHost")} ("${v.ingressHost}"), or leave publicUrl empty to derive it`,
            );
        }
    },
    gateway: ({ v }, problems) => {
        if (v.gateway === "") {
            if (v.gatewaySection !== "") {
                problems.push(
                    `${configKey("gatewaySection")} = "${v.gatewaySection}": only applies with ${configKey("gateway")}`,
                );
            }
            if (v.gatewayHostnames.length > 0) {
                problems.push(
                    `${configKey("gatewayHostnames")} = ${JSON.stringify(v.gatewayHostnames)}: only applies with ${configKey("gateway")}`,
                );
            }
        } else if (v.ingressHost !== "") {
            problems.push(
                `${configKey("gateway")} = "${v.gateway}": an HTTPRoute is the alternative to the Ingress, and ${configKey("ingressHost")} = "${v.ingressHost}" asks for one too; keep one`,
            );
        } else if (
            v.publicUrl !== "" &&
            v.gatewayHostnames.length > 0 &&
            !v.gatewayHostnames.includes(new URL(v.publicUrl).hostname)
        ) {
            problems.push(
                `${configKey("publicUrl")} = "${v.publicUrl}": its host must be one of ${configKey("gatewayHostnames")} (${v.gatewayHostnames.join(", ")}), or leave publicUrl empty to derive it`,
            );
        }
    },
    serviceMonitor: ({ v }, problems) => {
        if (v.serviceMonitor && !v.metrics) {
            problems.push(
                `${configKey("serviceMonitor")} = true: needs ${configKey("metrics")} = true (the Prometheus plugin serves what it scrapes)`,
            );
        }
    },
    webAllowed: ({ v }, problems) => {
        if (!v.networkPolicy) {
            for (const k of ["webAllowedCidrs", "webAllowedNamespaces"] as const) {
                if (v[k].length > 0) {
                    problems.push(
                        `${configKey(k)} = ${JSON.stringify(v[k])}: only applies when ${configKey("networkPolicy")} is true`,
                    );
                }
            }
        }
    },
    agentNamespaceApart: ({ v }, problems) => {
        if (v.agentNamespace === v.namespace) {
            problems.push(
                `${configKey("agentNamespace")} = "${v.agentNamespace}": must differ from ${configKey("namespace")}; a pipeline's own pod in the controller's namespace could mount its Secrets (the admin password, the launchers' tokens)`,
            );
        }
    },
    agentNamespaceLength: ({ v }, problems) => {
        if (v.agentNamespace.length > 63 - LONGEST_TIER_SUFFIX) {
            problems.push(
                `${configKey("agentNamespace")} = "${v.agentNamespace}": must be at most ${63 - LONGEST_TIER_SUFFIX} characters, so that each tier's namespace (${TIER_NAMES.filter(
                    (t) => t !== "build",
                )
                    .map((t) => `<agentNamespace>-${t}`)
                    .join(", ")}) is a valid name`,
            );
        }
    },
    tierNamespacesFree: ({ v }, problems) => {
        for (const tier of TIER_NAMES) {
            const ns = tierNamespace(v.agentNamespace, tier);
            if (tier !== "build" && (ns === v.namespace || v.deployNamespaces.includes(ns))) {
                problems.push(
                    `${configKey("agentNamespace")} = "${v.agentNamespace}": its ${tier} tier's namespace "${ns}" is also ${ns === v.namespace ? configKey("namespace") : `in ${configKey("deployNamespaces")}`}; choose another agentNamespace`,
                );
            }
        }
    },
    privilegedTemplates: ({ v, templates: templatesOf }, problems) => {
        templatesOf().forEach((t, i) => {
            if (t.podSecurity === "privileged" && !v.allowPrivilegedAgents) {
                problems.push(
                    `${formatPath("podTemplates", [i, "podSecurity"])} = "privileged": needs ${configKey("allowPrivilegedAgents")} = true; its pods are root on the node and run in a tier of their own`,
                );
            }
        });
    },
    agentEgress: ({ v }, problems) => {
        if (v.agentNetworkPolicy) {
            for (const except of v.agentEgressExcept) {
                if (!v.agentEgressCidrs.some((cidr) => cidrWithin(except, cidr))) {
                    problems.push(
                        `${configKey("agentEgressExcept")} = ${JSON.stringify(v.agentEgressExcept)}: "${except}" lies in none of ${configKey("agentEgressCidrs")} (${JSON.stringify(v.agentEgressCidrs)}), so it takes nothing out`,
                    );
                }
            }
        } else {
            for (const k of ["agentEgressCidrs", "agentEgressExcept"] as const) {
                if (JSON.stringify(v[k]) !== JSON.stringify(KEYS[k].default)) {
                    problems.push(
                        `${configKey(k)} = ${JSON.stringify(v[k])}: only applies when ${configKey("agentNetworkPolicy")} is true`,
                    );
                }
            }
        }
    },
    deployNamespacesOutside: ({ v }, problems) => {
        for (const [ns, why] of [
            [v.namespace, "builds could read the admin Secret there"],
            ...TIER_NAMES.map(
                (t) =>
                    [
                        tierNamespace(v.agentNamespace, t),
                        "builds could exec into other builds' agents and start pods there",
                    ] as const,
            ),
        ] as const) {
            if (v.deployNamespaces.includes(ns)) {
                problems.push(
                    `${configKey("deployNamespaces")} = ${JSON.stringify(v.deployNamespaces)}: must not include "${ns}", a namespace of this Jenkins; ${why}`,
                );
            }
        }
    },
    existingClaimNamespace: ({ v }, problems) => {
        if (v.storageMode === "existingClaim" && v.createNamespaces) {
            problems.push(
                `${configKey("storageMode")} = "existingClaim": the claim must already exist, so its namespace must too; set ${configKey("createNamespaces")} to false`,
            );
        }
    },
    nodePort: ({ v }, problems) => {
        if (v.nodePort !== 0 && v.serviceType !== "NodePort") {
            problems.push(
                `${configKey("nodePort")} = ${v.nodePort}: only applies when ${configKey("serviceType")} is NodePort (it is ${v.serviceType}); set it to 0 or change serviceType`,
            );
        }
    },
    loadBalancerSourceRanges: ({ v }, problems) => {
        if (v.loadBalancerSourceRanges.length > 0 && v.serviceType !== "LoadBalancer") {
            problems.push(
                `${configKey("loadBalancerSourceRanges")} = ${JSON.stringify(v.loadBalancerSourceRanges)}: only applies when ${configKey("serviceType")} is LoadBalancer (it is ${v.serviceType})`,
            );
        }
    },
    storageModeKeys: ({ v }, problems) => {
        const storageKeys: Record<string, ("nfsServer" | "nfsPath" | "existingClaim")[]> = {
            nfs: ["nfsServer", "nfsPath"],
            existingClaim: ["existingClaim"],
            dynamic: [],
        };
        for (const [mode, keys] of Object.entries(storageKeys)) {
            for (const k of keys) {
                const value = v[k];
                if (mode === v.storageMode && value === "") {
                    problems.push(`${configKey(k)} = "": required when ${configKey("storageMode")} is ${mode}`);
                } else if (mode !== v.storageMode && value !== "") {
                    problems.push(
                        `${configKey(k)} = "${value}": only applies when ${configKey("storageMode")} is ${mode} (it is ${v.storageMode})`,
                    );
                }
            }
        }
    },
    storageClass: ({ v }, problems) => {
        if (v.storageMode !== "dynamic" && v.storageClass !== "") {
            problems.push(
                `${configKey("storageClass")} = "${v.storageClass}": only applies when ${configKey("storageMode")} is dynamic (it is ${v.storageMode})`,
            );
        }
    },
    plugins: ({ v }, problems) => {
        const ids = v.plugins.map(pluginId);
        const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
        if (dupes.length > 0) {
            problems.push(
                `${configKey("plugins")} = ${JSON.stringify(v.plugins)}: lists ${[...new Set(dupes)].join(", ")} more than once; give each plugin one version`,
            );
        }
        const needed = [...REQUIRED_PLUGINS, ...(v.agentConnection === "tcp" ? ["instance-identity"] : [])];
        const missing = needed.filter((id) => !ids.includes(id));
        if (missing.length > 0) {
            problems.push(
                `${configKey("plugins")} = ${JSON.stringify(v.plugins)}: must include ${missing.join(", ")}` +
                    (missing.includes("instance-identity")
                        ? " (TCP agents need it; or set agentConnection to websocket)"
                        : ""),
            );
        }
    },
    backupsNeedCsi: ({ v }, problems) => {
        if (v.backups && v.storageMode === "nfs") {
            problems.push(
                `${configKey("backups")} = true: Jenkins home is a static NFS volume (${configKey("storageMode")} = nfs), which CSI snapshots cannot take; ` +
                    "snapshot the export on the NFS server (its own snapshots, or a copy of the export), or move home to a CSI storage class (storageMode: dynamic)",
            );
        }
    },
    restoreFromSnapshot: ({ v }, problems) => {
        if (v.restoreFromSnapshot === "") return;
        if (v.storageMode !== "dynamic") {
            problems.push(
                `${configKey("restoreFromSnapshot")} = "${v.restoreFromSnapshot}": restores a claim from a CSI snapshot, so needs ${configKey("storageMode")} dynamic (it is ${v.storageMode})`,
            );
        } else if (!v.retainHomeOnDestroy) {
            problems.push(
                `${configKey("restoreFromSnapshot")} = "${v.restoreFromSnapshot}": the restore moves the controller to a new claim and leaves the current one in the cluster, which needs ${configKey("retainHomeOnDestroy")} = true (otherwise the current home would be deleted)`,
            );
        }
    },
    ingressAnnotations: ({ v }, problems) => {
        // The old way to skip the wait ("true") still says what ingressAwait: false does.
        const own = Object.entries(v.ingressAnnotations ?? {}).find(
            ([k, value]) => k === SKIP_AWAIT && (v.ingressAwait || value !== "true"),
        )?.[0];
        if (own) {
            problems.push(
                `${configKey("ingressAnnotations")} = ${JSON.stringify(v.ingressAnnotations)}: sets ${own}, which the program writes from ${configKey("ingressAwait")}; set ${configKey("ingressAwait")} instead`,
            );
        }
    },
    jenkinsVersion: ({ v }, problems) => {
        const tagged = imageJenkinsVersion(v.controllerImage);
        if (v.jenkinsVersion === "" && tagged === undefined) {
            problems.push(
                `${configKey("controllerImage")} = "${v.controllerImage}": its tag names no Jenkins release, so the plugin lock cannot be matched to it; set ${configKey("jenkinsVersion")} to the core the image runs`,
            );
        } else if (v.jenkinsVersion !== "" && tagged !== undefined && tagged !== v.jenkinsVersion) {
            problems.push(
                `${configKey("jenkinsVersion")} = "${v.jenkinsVersion}": ${configKey("controllerImage")} ("${v.controllerImage}") runs Jenkins ${tagged}; leave jenkinsVersion empty, or make them agree`,
            );
        }
    },
    testJobName: ({ v }, problems) => {
        // Jenkins' item names are one in any case (core Jenkins.items: CASE_INSENSITIVE_ORDER).
        const clash = (v.teams ?? []).findIndex((t) => t.name.toLowerCase() === TEST_JOB);
        if (v.testJob && clash >= 0) {
            problems.push(
                `${configKey("teams")}[${clash}].name = "${v.teams![clash].name}": is the test job's name (${configKey("testJob")} = true), and Jenkins' item names are one in any case; rename the team, or turn testJob off`,
            );
        }
    },
    testJobTier: ({ v, templates: templatesOf }, problems) => {
        if (v.testJob && !templatesOf().some((t) => tierOf(t) === "build")) {
            problems.push(
                `${configKey("testJob")} = true: it runs on the build tier's first pod template, and no template is in the build tier (podSecurity restricted, not deploy)`,
            );
        }
    },
    // Inside Jenkins: sign-in, grants, teams and credentials (accessChecks.ts). Each rule judges
    // the keys that passed, so a refused team does not hide a duplicate credential id.
    principals: ({ access }, problems) => {
        problems.push(...principalProblems(access));
    },
    credentials: ({ access, tiers }, problems) => {
        problems.push(...credentialProblems(access, tiers));
    },
    teams: ({ access, tiers }, problems) => {
        problems.push(...teamProblems(access, tiers));
    },
    // What each tier may hold, and whether each template fits in it.
    agentLimits: ({ v, templates: templatesOf, tiers }, problems) => {
        if (!tiers) return;
        const all = templatesOf();
        const at = (t: PodTemplate, field: string) =>
            `${formatPath("podTemplates", [all.indexOf(t)])} (${t.name}) ${field}`;
        problems.push(
            ...limitProblems(agentLimitsFor(v, tiers) ?? [], at, (field) => `${configKey("agentQuota")}.${field}`),
        );
        all.forEach((t, i) => {
            if (t.activeDeadlineSeconds !== undefined && t.activeDeadlineSeconds > v.agentPodMaxSeconds) {
                problems.push(
                    `${formatPath("podTemplates", [i, "activeDeadlineSeconds"])} = ${t.activeDeadlineSeconds}: above ${configKey("agentPodMaxSeconds")} = ${v.agentPodMaxSeconds}, which the admission policy refuses`,
                );
            }
        });
    },
};

/** The value `read` returns; undefined when it reads a key whose own value was refused. */
function unlessRefused<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (err) {
        if (err instanceof RefusedKey) return undefined;
        throw err;
    }
}

/**
 * Problems between keys, on the validated values and the templates they resolve to: every one
 * is found before any is reported, and before the settings are shaped. A rule stops where it reads
 * a key whose own value was refused: that key's problem is already listed, and judging a value
 * the user did not give would mislead; what the rule found before that stands.
 */
export function crossChecks(
    v: ValidValues,
    templatesOf: () => PodTemplate[],
    partial: ReadValues["partial"] = {},
): string[] {
    const tiers = unlessRefused(() =>
        deriveTiers({
            agentNamespace: v.agentNamespace,
            templates: templatesOf(),
            deployNamespaces: v.deployNamespaces,
            allowPrivilegedAgents: v.allowPrivilegedAgents,
        }),
    );
    const input: RuleInput = { v, templates: templatesOf, partial, tiers, access: accessView(v) };
    const problems: string[] = [];
    for (const [name, rule] of Object.entries(CROSS_CHECKS)) {
        try {
            unlessRefused(() => rule(input, problems));
        } catch (err) {
            // A rule's own defect, not the user's settings: say which rule.
            throw new Error(`cross-key rule ${name}: ${(err as Error).message}`, { cause: err });
        }
    }
    return problems;
}
