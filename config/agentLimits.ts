// What each agent tier's namespace may hold at once (a ResourceQuota) and what one container or
// pod there may ask for (a LimitRange), so a pipeline's own podTemplate cannot take the cluster:
// sized from the tier's templates unless the stack says otherwise, and a template that cannot fit
// what its tier allows is refused at preview, naming both.
import { z } from "zod";
import * as v from "./checks";
import { checked, parseQuantity, wholeNumber as count } from "./checks";
import type { PodTemplate } from "./podTemplates";
import { readPodYaml } from "../policy/podYaml";
import type { Tier } from "./tiers";

/** The stack's `agentQuota`: each field unset is sized from the tier's templates. */
export const agentQuotaSchema = z.strictObject({
    /** Pods at once in a tier's namespace. */
    pods: count(1, 10000).optional(),
    /** The sum of the CPU limits (and so requests) of a tier's pods. */
    cpu: checked(v.checkCpu).optional(),
    memory: checked(v.checkMemory).optional(),
    /** The sum of the ephemeral-storage limits (the containers' writable layers, logs and emptyDirs). */
    ephemeralStorage: checked(v.checkWorkspaceSize).optional(),
    /** Claims at once (workspace claims of genericEphemeralVolume templates, shared claims included). */
    claims: count(0, 10000).optional(),
    /** The storage all claims of a tier's namespace may request. */
    claimStorage: checked(v.checkWorkspaceSize).optional(),
    /** The most one container may ask for; unset: the tier's largest template container. */
    containerCpu: checked(v.checkCpu).optional(),
    containerMemory: checked(v.checkMemory).optional(),
    /** The most one pod may ask for (its containers together); unset: the tier's largest template pod. */
    podCpu: checked(v.checkCpu).optional(),
    podMemory: checked(v.checkMemory).optional(),
    /** The ephemeral-storage limit a container gets when it sets none, and the most it may set. */
    containerEphemeralStorage: checked(v.checkWorkspaceSize).default("10Gi"),
});
export type AgentQuotaConfig = z.output<typeof agentQuotaSchema>;

/** What a container that sets nothing gets: the agent defaults (the jnlp container's). */
export interface ContainerDefaults {
    cpuRequest: string;
    cpuLimit: string;
    memoryRequest: string;
    memoryLimit: string;
}

/** One tier's ResourceQuota `hard` and LimitRange, as Kubernetes quantities. */
export interface TierLimits {
    tier: Tier;
    quota: Record<string, string>;
    container: {
        max: Record<string, string>;
        default: Record<string, string>;
        defaultRequest: Record<string, string>;
    };
    pod: { max: Record<string, string> };
    /** Each template of the tier: its containers as sized, and its pod's size. */
    templates: {
        template: PodTemplate;
        containers: SizedContainer[];
        size: { cpu: number; memory: number; ephemeral: number };
    }[];
}

/** Containers of a pipeline's own pod the default per-pod maximum has room for, each at the per-container maximum. */
export const PIPELINE_CONTAINERS = 4;

/** The ephemeral storage a container that sets none asks for (what the kubelet reserves). */
const EPHEMERAL_REQUEST = "256Mi";

/** Kubernetes quantities written back: whole cores or millicores, whole Gi or Mi. */
export function cpuQuantity(cores: number): string {
    const milli = Math.ceil(cores * 1000 - 1e-6);
    return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}
export function bytesQuantity(bytes: number): string {
    const mi = Math.ceil(bytes / 2 ** 20 - 1e-6);
    if (mi === 0) return "0";
    return mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`;
}

/** One container of a template's pod, with the limits it sets (cores, bytes); unset: the LimitRange's default. */
interface SizedContainer {
    name: string;
    /** What a message names it by: the template's field, or its yaml. */
    field: (resource: string) => string;
    cpu?: number;
    memory?: number;
    ephemeral?: number;
}

type Limits = Record<string, string | number> | undefined;
const limitOf = (limits: Limits, resource: string): number | undefined =>
    limits?.[resource] === undefined ? undefined : parseQuantity(String(limits[resource]));

/**
 * The containers of a template's pod as the plugin makes it: its own containers (their cpu and
 * memory fields win over the yaml's; ephemeral storage only the yaml sets) and the containers
 * its yaml adds, read as the plugin reads it.
 */
function sizedContainers(t: PodTemplate): SizedContainer[] {
    type YamlContainer = { name?: string; resources?: { limits?: Limits } };
    const yaml = ((t.yaml ? readPodYaml(t.yaml).pod?.spec : undefined) ?? {}) as { containers?: YamlContainer[] };
    const fromYaml = Array.isArray(yaml.containers) ? yaml.containers : [];
    const own = t.containers.map((c): SizedContainer => {
        const y = fromYaml.find((x) => x?.name === c.name);
        return {
            name: c.name,
            field: (r) =>
                `container ${c.name} ${r === "cpu" ? "cpuLimit" : r === "memory" ? "memoryLimit" : `yaml limits.${r}`}`,
            cpu: parseQuantity(c.cpuLimit),
            memory: parseQuantity(c.memoryLimit),
            ephemeral: limitOf(y?.resources?.limits, "ephemeral-storage"),
        };
    });
    const added = fromYaml
        .filter((y) => !t.containers.some((c) => c.name === y?.name))
        .map((y): SizedContainer => {
            const limits = y?.resources?.limits;
            return {
                name: String(y?.name),
                field: (r) => `yaml container ${String(y?.name)} limits.${r}`,
                cpu: limitOf(limits, "cpu"),
                memory: limitOf(limits, "memory"),
                ephemeral: limitOf(limits, "ephemeral-storage"),
            };
        });
    return [...own, ...added];
}

/** A pod's size: the sum of its containers' limits, each unset one at `fill`'s. */
function podSize(containers: SizedContainer[], fill: { cpu: number; memory: number; ephemeral: number }) {
    const sum = (f: (c: SizedContainer) => number) => containers.reduce((total, c) => total + f(c), 0);
    return {
        cpu: sum((c) => c.cpu ?? fill.cpu),
        memory: sum((c) => c.memory ?? fill.memory),
        ephemeral: sum((c) => c.ephemeral ?? fill.ephemeral),
    };
}

/** The claim a template's workspace asks for, if it is a genericEphemeralVolume. */
function workspaceClaim(t: PodTemplate): number | undefined {
    return t.workspaceVolume.type === "genericEphemeralVolume" ? parseQuantity(t.workspaceVolume.size) : undefined;
}

const max = (values: number[]) => values.reduce((a, b) => Math.max(a, b), 0);
const defined = (values: (number | undefined)[]) => values.filter((v): v is number => v !== undefined);

/**
 * Each tier's quota and limits. Unset, a tier holds `containerCap` pods (the cloud's own cap) the
 * size of its largest template; a container at most the larger of its largest template container
 * and twice what a container that sets nothing asks for (room for a pipeline's own tool
 * container); a pod at most its largest template pod or PIPELINE_CONTAINERS containers at that
 * most. A container that sets no limit gets the most (so one that sets only a request up to it is
 * valid), and the agent defaults' requests.
 */
export function tierLimits(
    tiers: Tier[],
    config: AgentQuotaConfig,
    containerCap: number,
    defaults: ContainerDefaults,
): TierLimits[] {
    return tiers.map((tier) => {
        const templates = tier.templates.map((template) => ({ template, containers: sizedContainers(template) }));
        const all = templates.flatMap((t) => t.containers);
        const containerCpu =
            config.containerCpu ??
            cpuQuantity(max([2 * parseQuantity(defaults.cpuLimit), ...defined(all.map((c) => c.cpu))]));
        const containerMemory =
            config.containerMemory ??
            bytesQuantity(max([2 * parseQuantity(defaults.memoryLimit), ...defined(all.map((c) => c.memory))]));
        const fill = {
            cpu: parseQuantity(containerCpu),
            memory: parseQuantity(containerMemory),
            ephemeral: parseQuantity(config.containerEphemeralStorage),
        };
        const pods = templates.map((t) => podSize(t.containers, fill));
        const podCpu = config.podCpu ?? cpuQuantity(max([PIPELINE_CONTAINERS * fill.cpu, ...pods.map((p) => p.cpu)]));
        const podMemory =
            config.podMemory ?? bytesQuantity(max([PIPELINE_CONTAINERS * fill.memory, ...pods.map((p) => p.memory)]));
        // The quota: containerCap pods (the cloud's own cap) the size of the tier's largest template.
        const count = config.pods ?? containerCap;
        const claims = tier.templates.map(workspaceClaim).filter((c): c is number => c !== undefined);
        const shared = new Set(
            tier.templates.flatMap((t) => t.volumes.flatMap((x) => (x.type === "pvc" ? [x.claimName] : []))),
        );
        const total = (f: (p: (typeof pods)[number]) => number) => count * max(pods.map(f));
        const quota: Record<string, string> = {
            pods: String(count),
            "requests.cpu": config.cpu ?? cpuQuantity(total((p) => p.cpu)),
            "limits.cpu": config.cpu ?? cpuQuantity(total((p) => p.cpu)),
            "requests.memory": config.memory ?? bytesQuantity(total((p) => p.memory)),
            "limits.memory": config.memory ?? bytesQuantity(total((p) => p.memory)),
            "requests.ephemeral-storage": config.ephemeralStorage ?? bytesQuantity(total((p) => p.ephemeral)),
            "limits.ephemeral-storage": config.ephemeralStorage ?? bytesQuantity(total((p) => p.ephemeral)),
            persistentvolumeclaims: String(config.claims ?? (claims.length > 0 ? count : 0) + shared.size),
        };
        // Shared claims are made elsewhere, their size unknown here: storage is bounded only when set.
        const storage = config.claimStorage ?? (shared.size === 0 ? bytesQuantity(count * max(claims)) : undefined);
        if (storage !== undefined) quota["requests.storage"] = storage;
        const containerMax = {
            cpu: containerCpu,
            memory: containerMemory,
            "ephemeral-storage": config.containerEphemeralStorage,
        };
        return {
            tier,
            quota,
            container: {
                max: containerMax,
                default: containerMax,
                defaultRequest: {
                    cpu: defaults.cpuRequest,
                    memory: defaults.memoryRequest,
                    "ephemeral-storage": EPHEMERAL_REQUEST,
                },
            },
            pod: { max: { cpu: podCpu, memory: podMemory } },
            templates: templates.map((t, i) => ({ ...t, size: pods[i] })),
        };
    });
}

/**
 * The templates that cannot run within their tier's limits: a container above the most a
 * container may ask for, a pod above the most a pod may, or one pod above the whole quota.
 * `key` names a field of `agentQuota`; `at` a template's field.
 */
export function limitProblems(
    limits: TierLimits[],
    at: (template: PodTemplate, field: string) => string,
    key: (field: string) => string,
): string[] {
    const problems: string[] = [];
    const RESOURCES = [
        ["cpu", "containerCpu", "podCpu", "cpu", cpuQuantity],
        ["memory", "containerMemory", "podMemory", "memory", bytesQuantity],
        ["ephemeral-storage", "containerEphemeralStorage", undefined, "ephemeralStorage", bytesQuantity],
    ] as const;
    for (const { tier, quota, container, pod, templates } of limits) {
        const where = `the ${tier.name} tier (namespace ${tier.namespace})`;
        for (const { template: t, containers, size } of templates) {
            for (const [resource, most, , , quantity] of RESOURCES) {
                for (const c of containers) {
                    const own = resource === "cpu" ? c.cpu : resource === "memory" ? c.memory : c.ephemeral;
                    if (own !== undefined && own > parseQuantity(container.max[resource])) {
                        problems.push(
                            `${at(t, c.field(resource))} = "${quantity(own)}": above ${key(most)} = "${container.max[resource]}" of ${where}, the most one container there may ask for`,
                        );
                    }
                }
            }
            for (const [resource, , podMost, total, quantity] of RESOURCES) {
                const own = resource === "cpu" ? size.cpu : resource === "memory" ? size.memory : size.ephemeral;
                if (podMost && own > parseQuantity(pod.max[resource])) {
                    problems.push(
                        `${at(t, "containers")}: its pod's ${resource} limits add up to ${quantity(own)}, above ${key(podMost)} = "${pod.max[resource]}" of ${where}, the most one pod there may ask for`,
                    );
                } else if (own > parseQuantity(quota[`limits.${resource}`])) {
                    problems.push(
                        `${at(t, "containers")}: its pod's ${resource} limits add up to ${quantity(own)}, above ${key(total)} = "${quota[`limits.${resource}`]}", the quota of ${where}: no pod of it could start`,
                    );
                }
            }
            const claim = workspaceClaim(t);
            if (claim !== undefined) {
                if (Number(quota.persistentvolumeclaims) < 1) {
                    problems.push(
                        `${at(t, "workspaceVolume")}: a claim per pod, and ${key("claims")} = ${quota.persistentvolumeclaims} allows none in ${where}`,
                    );
                } else if (
                    quota["requests.storage"] !== undefined &&
                    claim > parseQuantity(quota["requests.storage"])
                ) {
                    problems.push(
                        `${at(t, "workspaceVolume.size")} = "${bytesQuantity(claim)}": above ${key("claimStorage")} = "${quota["requests.storage"]}" of ${where}`,
                    );
                }
            }
        }
    }
    return problems;
}

/** The stack's quota and limits for these tiers, or none when agentResourceQuota is false. */
/** The keys the quota and limits are made of (keys.ts's ValidValues has them). */
export interface AgentLimitsInput {
    agentResourceQuota: boolean;
    agentQuota?: AgentQuotaConfig;
    containerCap: number;
    agentCpuRequest: string;
    agentCpuLimit: string;
    agentMemoryRequest: string;
    agentMemoryLimit: string;
}

export function agentLimitsFor(v: AgentLimitsInput, tiers: Tier[]): TierLimits[] | undefined {
    if (!v.agentResourceQuota) return undefined;
    return tierLimits(tiers, v.agentQuota ?? agentQuotaSchema.parse({}), v.containerCap, {
        cpuRequest: v.agentCpuRequest,
        cpuLimit: v.agentCpuLimit,
        memoryRequest: v.agentMemoryRequest,
        memoryLimit: v.agentMemoryLimit,
    });
}
