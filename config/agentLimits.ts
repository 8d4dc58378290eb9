// What each agent tier's namespace may hold at once (a ResourceQuota) and what one container or
// pod there may ask for (a LimitRange), so a pipeline's own podTemplate cannot take the cluster:
// sized from the tier's templates unless the stack says otherwise, and a template that cannot fit
// what its tier allows is refused at preview, naming both.
import { z } from "zod";
import * as v from "./checks";
import { checked, parseQuantity, wholeNumber as count } from "./checks";
import type { ValidValues } from "./keys";
import type { PodTemplate } from "./podTemplates";
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

/** A template's pod: the sum of its containers' limits, cpu in cores, memory in bytes. */
function podSize(t: PodTemplate): { cpu: number; memory: number; containers: number } {
    return {
        cpu: t.containers.reduce((sum, c) => sum + parseQuantity(c.cpuLimit), 0),
        memory: t.containers.reduce((sum, c) => sum + parseQuantity(c.memoryLimit), 0),
        containers: t.containers.length,
    };
}

/** The claim a template's workspace asks for, if it is a genericEphemeralVolume. */
function workspaceClaim(t: PodTemplate): number | undefined {
    return t.workspaceVolume.type === "genericEphemeralVolume" ? parseQuantity(t.workspaceVolume.size) : undefined;
}

const max = (values: number[]) => values.reduce((a, b) => Math.max(a, b), 0);

/**
 * Each tier's quota and limits. Unset, a tier holds `containerCap` pods (the cloud's own cap) the
 * size of its largest template, each container at most its largest template container.
 */
export function tierLimits(
    tiers: Tier[],
    config: AgentQuotaConfig,
    containerCap: number,
    defaults: ContainerDefaults,
): TierLimits[] {
    return tiers.map((tier) => {
        const pods = tier.templates.map(podSize);
        const containers = tier.templates.flatMap((t) => t.containers);
        // A container: its tier's largest template container, or twice what a container that sets
        // nothing gets (room for a pipeline's own tool container; never below that default, which
        // the API server refuses above the max). A pod: its largest template pod, or room for a
        // pipeline's own pod of PIPELINE_CONTAINERS containers at that most.
        const containerCpu =
            config.containerCpu ??
            cpuQuantity(
                max([2 * parseQuantity(defaults.cpuLimit), ...containers.map((c) => parseQuantity(c.cpuLimit))]),
            );
        const containerMemory =
            config.containerMemory ??
            bytesQuantity(
                max([2 * parseQuantity(defaults.memoryLimit), ...containers.map((c) => parseQuantity(c.memoryLimit))]),
            );
        const podCpu =
            config.podCpu ??
            cpuQuantity(max([PIPELINE_CONTAINERS * parseQuantity(containerCpu), ...pods.map((p) => p.cpu)]));
        const podMemory =
            config.podMemory ??
            bytesQuantity(max([PIPELINE_CONTAINERS * parseQuantity(containerMemory), ...pods.map((p) => p.memory)]));
        // The quota: containerCap pods (the cloud's own cap) the size of the tier's largest template.
        const templateCpu = max(pods.map((p) => p.cpu));
        const templateMemory = max(pods.map((p) => p.memory));
        const ephemeral = parseQuantity(config.containerEphemeralStorage);
        const podEphemeral = ephemeral * max(pods.map((p) => p.containers));
        const count = config.pods ?? containerCap;
        const claims = tier.templates.map(workspaceClaim).filter((c): c is number => c !== undefined);
        const shared = new Set(
            tier.templates.flatMap((t) => t.volumes.flatMap((x) => (x.type === "pvc" ? [x.claimName] : []))),
        );
        const quota: Record<string, string> = {
            pods: String(count),
            "requests.cpu": config.cpu ?? cpuQuantity(count * templateCpu),
            "limits.cpu": config.cpu ?? cpuQuantity(count * templateCpu),
            "requests.memory": config.memory ?? bytesQuantity(count * templateMemory),
            "limits.memory": config.memory ?? bytesQuantity(count * templateMemory),
            "requests.ephemeral-storage": config.ephemeralStorage ?? bytesQuantity(count * podEphemeral),
            "limits.ephemeral-storage": config.ephemeralStorage ?? bytesQuantity(count * podEphemeral),
            persistentvolumeclaims: String(config.claims ?? (claims.length > 0 ? count : 0) + shared.size),
        };
        // Shared claims are made elsewhere, their size unknown here: storage is bounded only when set.
        const storage = config.claimStorage ?? (shared.size === 0 ? bytesQuantity(count * max(claims)) : undefined);
        if (storage !== undefined) quota["requests.storage"] = storage;
        return {
            tier,
            quota,
            container: {
                max: {
                    cpu: containerCpu,
                    memory: containerMemory,
                    "ephemeral-storage": config.containerEphemeralStorage,
                },
                default: {
                    cpu: defaults.cpuLimit,
                    memory: defaults.memoryLimit,
                    "ephemeral-storage": config.containerEphemeralStorage,
                },
                defaultRequest: {
                    cpu: defaults.cpuRequest,
                    memory: defaults.memoryRequest,
                    "ephemeral-storage": EPHEMERAL_REQUEST,
                },
            },
            pod: { max: { cpu: podCpu, memory: podMemory } },
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
    defaultKey: (resource: "cpu" | "memory") => string,
): string[] {
    const problems: string[] = [];
    // The same for every tier: said once, from the first.
    const first = limits[0];
    for (const [resource, most] of [
        ["cpu", "containerCpu"],
        ["memory", "containerMemory"],
    ] as const) {
        if (first && parseQuantity(first.container.default[resource]) > parseQuantity(first.container.max[resource])) {
            problems.push(
                `${key(most)} = "${first.container.max[resource]}": below ${defaultKey(resource)} = "${first.container.default[resource]}", the limit a container that sets none gets`,
            );
        }
    }
    for (const { tier, quota, container, pod } of limits) {
        const where = `the ${tier.name} tier (namespace ${tier.namespace})`;
        for (const t of tier.templates) {
            for (const c of t.containers) {
                for (const [field, resource, own] of [
                    ["cpuLimit", "cpu", c.cpuLimit],
                    ["memoryLimit", "memory", c.memoryLimit],
                ] as const) {
                    const most = resource === "cpu" ? "containerCpu" : "containerMemory";
                    if (parseQuantity(own) > parseQuantity(container.max[resource])) {
                        problems.push(
                            `${at(t, `container ${c.name} ${field}`)} = "${own}": above ${key(most)} = "${container.max[resource]}" of ${where}, the most one container there may ask for`,
                        );
                    }
                }
            }
            const size = podSize(t);
            for (const [resource, own, quantity, most] of [
                ["cpu", size.cpu, cpuQuantity, "podCpu"],
                ["memory", size.memory, bytesQuantity, "podMemory"],
            ] as const) {
                if (own > parseQuantity(pod.max[resource])) {
                    problems.push(
                        `${at(t, "containers")}: its pod's ${resource} limits add up to ${quantity(own)}, above ${key(most)} = "${pod.max[resource]}" of ${where}, the most one pod there may ask for`,
                    );
                } else if (own > parseQuantity(quota[`limits.${resource}`])) {
                    problems.push(
                        `${at(t, "containers")}: its pod's ${resource} limits add up to ${quantity(own)}, above ${key(resource)} = "${quota[`limits.${resource}`]}", the quota of ${where}: no pod of it could start`,
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
export function agentLimitsFor(v: ValidValues, tiers: Tier[]): TierLimits[] | undefined {
    if (!v.agentResourceQuota) return undefined;
    return tierLimits(tiers, v.agentQuota ?? agentQuotaSchema.parse({}), v.containerCap, {
        cpuRequest: v.agentCpuRequest,
        cpuLimit: v.agentCpuLimit,
        memoryRequest: v.agentMemoryRequest,
        memoryLimit: v.agentMemoryLimit,
    });
}
