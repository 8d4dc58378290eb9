// What a first `pulumi up` needs of the cluster and would otherwise find out late: a Kubernetes
// version that serves the agent tiers' admission policy, a default PriorityClass agent pods may
// run at, the deploy namespaces the stack does not create (there, and enforcing the Pod Security
// level deploy rights need), and a StorageClass for Jenkins home (with none, the claim stays
// Pending until the Deployment times out). Checked at preview when the cluster is read; an
// offline evaluation says it did not check.
import { configKey } from "../config/keys";
import { POD_SECURITY_ENFORCE, weakerThan } from "../config/podSecurity";
import type { Settings } from "../config/settings";
import type { KeptReader } from "./kept";

/** The oldest Kubernetes release whose admissionregistration.k8s.io/v1 serves ValidatingAdmissionPolicy (GA). */
export const ADMISSION_POLICY_MINOR = 30;

/** The StorageClass annotation that makes a class the default (and its beta spelling, still honoured). */
const DEFAULT_CLASS = [
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
];

export interface StorageClassInfo {
    name: string;
    annotations: Record<string, string>;
}

export interface ReadinessReader {
    /** The API server's version; null when no cluster is read (offline). */
    serverVersion(): Promise<{ major: number; minor: number; gitVersion: string } | null>;
    /** Every StorageClass; null offline; undefined when the deployer may not list them. */
    storageClasses(): Promise<StorageClassInfo[] | null | undefined>;
    /** The PriorityClass every pod that names none gets (globalDefault), if any; undefined when not readable. */
    defaultPriority(): Promise<{ name: string; value: number } | null | undefined>;
}

/**
 * What the cluster lacks for this stack (problems), and what could not be checked (warnings). The
 * deploy namespaces the stack does not create are read as kept objects are (KeptReader.read).
 * `homeExists`: the home claim is there already (a running stack, or one kept by destroy), so its
 * class was settled when it was made.
 */
export async function readinessProblems(
    settings: Settings,
    reader: ReadinessReader & Pick<KeptReader, "read">,
    homeExists: boolean,
): Promise<{ problems: string[]; warnings: string[] }> {
    const problems: string[] = [];
    const warnings: string[] = [];
    const agents = settings.agents;
    const deployRead = agents.createDeployNamespaces ? [] : agents.deployNamespaces;
    const unchecked = `the cluster's Kubernetes version and StorageClasses${deployRead.length > 0 ? ` and the deploy namespaces (${deployRead.join(", ")}: that they exist and enforce Pod Security ${agents.deployNamespacePodSecurity})` : ""} were not checked`;
    if (!settings.adoptKeptObjects) {
        warnings.push(`${unchecked}: ${configKey("adoptKeptObjects")} is false, so the preview reads nothing`);
        return { problems, warnings };
    }
    const version = await reader.serverVersion();
    if (version === null) {
        warnings.push(`${unchecked}: no cluster was read (an offline render)`);
        return { problems, warnings };
    }
    if (settings.agents.admissionPolicy && version.major === 1 && version.minor < ADMISSION_POLICY_MINOR) {
        problems.push(
            `${configKey("admissionPolicy")} = true: the cluster runs Kubernetes ${version.gitVersion}, and ValidatingAdmissionPolicy is served (GA) from 1.${ADMISSION_POLICY_MINOR}; upgrade the cluster, or set admissionPolicy to false (the tiers then rest on Pod Security and RBAC alone)`,
        );
    }
    // With the admission policy, every agent pod runs at most at agentMaxPriority: a cluster whose
    // default class is above it would have every agent pod refused.
    if (settings.agents.admissionPolicy) {
        const priority = await reader.defaultPriority();
        if (priority === undefined) {
            warnings.push(
                `the cluster's default PriorityClass was not checked: the deployer may not list PriorityClasses; if one has globalDefault and a value above ${configKey("agentMaxPriority")} = ${settings.agents.maxPriority}, every agent pod is refused`,
            );
        } else if (priority !== null && priority.value > settings.agents.maxPriority) {
            problems.push(
                `${configKey("agentMaxPriority")} = ${settings.agents.maxPriority}: the cluster's default PriorityClass ${priority.name} gives every pod that names none ${priority.value}, so the admission policy would refuse every agent pod; set agentMaxPriority to ${priority.value}`,
            );
        }
    }
    // Deploy rights (a ClusterRole such as edit: create any pod) in a namespace that enforces less
    // than deployNamespacePodSecurity would let a job run pods that are root on a node.
    for (const ns of deployRead) {
        const found = await reader.read({ kind: "Namespace", name: ns });
        if (found === undefined || found.deleting) {
            problems.push(
                `${configKey("deployNamespaces")} = ${JSON.stringify(agents.deployNamespaces)}: the cluster has no namespace ${ns}${found ? " (it is being deleted)" : ""}; create it (labelled ${POD_SECURITY_ENFORCE}=${agents.deployNamespacePodSecurity}), or set ${configKey("createDeployNamespaces")} to true`,
            );
            continue;
        }
        const enforced = found.labels[POD_SECURITY_ENFORCE] ?? "privileged";
        if (weakerThan(enforced, agents.deployNamespacePodSecurity)) {
            warnings.push(
                `deploy namespace ${ns} enforces Pod Security ${enforced}${found.labels[POD_SECURITY_ENFORCE] ? "" : " (no label)"}: ` +
                    `jobs allowed to deploy there could run pods that are root on a node. Label it ` +
                    `${POD_SECURITY_ENFORCE}=${agents.deployNamespacePodSecurity} (${configKey("deployNamespacePodSecurity")}).`,
            );
        }
    }
    const storage = settings.storage;
    if (storage.mode !== "dynamic" || homeExists) return { problems, warnings };
    const classes = await reader.storageClasses();
    if (classes === undefined || classes === null) {
        warnings.push(
            `the cluster's StorageClasses were not checked: the deployer may not list them; ${storage.storageClass ? `StorageClass ${storage.storageClass} must exist` : "a default StorageClass must exist"}, or Jenkins home's claim stays Pending`,
        );
        return { problems, warnings };
    }
    const names = classes.map((c) => c.name).sort();
    if (storage.storageClass !== undefined) {
        if (!names.includes(storage.storageClass)) {
            problems.push(
                `${configKey("storageClass")} = "${storage.storageClass}": the cluster has no such StorageClass (it has ${names.length > 0 ? names.join(", ") : "none"}), so Jenkins home's claim would stay Pending`,
            );
        }
    } else if (!classes.some((c) => DEFAULT_CLASS.some((a) => c.annotations[a] === "true"))) {
        problems.push(
            `${configKey("storageClass")} is empty, and the cluster has no default StorageClass (${names.length > 0 ? `it has ${names.join(", ")}` : "it has none"}), so Jenkins home's claim would stay Pending: set storageClass to one of them, or mark one default (on EKS, the EBS CSI driver add-on's gp3 class)`,
        );
    }
    return { problems, warnings };
}
