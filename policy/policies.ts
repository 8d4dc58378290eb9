// The rules the jenkins-k8s design sets for what reaches the cluster, as Pulumi policies. Kept apart
// from index.ts because constructing the PolicyPack starts the analyzer's gRPC server; tests
// import these and run them through run.ts instead.
// Long by design: eleven policies, one after the other, each with its description and messages.
import * as k8s from "@pulumi/kubernetes";
import {
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    validateResourceOfType,
} from "@pulumi/policy";
import {
    ALLOW_HOST_PATH,
    ALLOW_PRIVILEGED,
    hasAnnotation,
    hasLabel,
    jcascClouds,
    podSite,
    podSites,
    ResourceClass,
    templateOptsIn,
    templatePod,
    unpinnedReason,
} from "./kube";
import {
    COMPONENT_LABEL,
    CONTROLLER_COMPONENT,
    DEFAULT_CLOUD,
    HOME_COMPONENT,
    RESTRICTED_SECCOMP_TYPES,
} from "./facts";

type Obj = Record<string, any>;

const noPrivilegedContainers: ResourceValidationPolicy = {
    name: "no-privileged-containers",
    description: `No container may run privileged or allow privilege escalation, unless the object or pod is annotated ${ALLOW_PRIVILEGED}: "true".`,
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        for (const site of podSites(args)) {
            if (hasAnnotation(site.annotations, ALLOW_PRIVILEGED)) {
                continue;
            }
            for (const c of site.containers) {
                const sc = c.container.securityContext;
                for (const field of ["privileged", "allowPrivilegeEscalation"]) {
                    if (sc?.[field] === true) {
                        reportViolation(`container "${c.name}" (${c.where}) sets securityContext.${field}: true`);
                    }
                }
            }
        }
    },
};

const noHostPath: ResourceValidationPolicy = {
    name: "no-host-path",
    description: `No hostPath volume and no hostNetwork, hostPID or hostIPC, unless the object or pod is annotated ${ALLOW_HOST_PATH}: "true".`,
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        for (const site of podSites(args)) {
            if (hasAnnotation(site.annotations, ALLOW_HOST_PATH)) {
                continue;
            }
            for (const v of site.volumes) {
                if (v.hostPath !== undefined) {
                    reportViolation(
                        `volume "${v.name}" (${v.where}) is a hostPath volume of the node's ${v.hostPath || "filesystem"}`,
                    );
                }
            }
            for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
                if (site.spec[field] === true) {
                    reportViolation(`${field}: true (${site.where}) shares the node's namespace with the pod`);
                }
            }
        }
    },
};

// A memory limit but no cpu limit on purpose: a cpu limit throttles for nothing when the node has
// spare cycles, while a missing memory limit lets one pod starve the node.
const REQUIRED_RESOURCES: [string, string][] = [
    ["requests", "cpu"],
    ["requests", "memory"],
    ["limits", "memory"],
];

function isSet(v: unknown): boolean {
    return v !== undefined && v !== null && v !== "";
}

const containerResources: ResourceValidationPolicy = {
    name: "container-resources",
    description: "Every container and init container sets cpu and memory requests and a memory limit.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        for (const site of podSites(args)) {
            // Ephemeral containers (kubectl debug) cannot take resources at all.
            for (const c of site.containers.filter((x) => !x.ephemeral)) {
                const r = c.container.resources;
                const missing = REQUIRED_RESOURCES.filter(([group, key]) => !isSet(r?.[group]?.[key]));
                if (missing.length > 0) {
                    const fields = missing.map(([group, key]) => `resources.${group}.${key}`).join(", ");
                    reportViolation(`container "${c.name}" (${c.where}) has no ${fields}`);
                }
            }
        }
    },
};

const pinnedImages: ResourceValidationPolicy = {
    name: "pinned-images",
    description:
        "Every image is pinned by a digest or a fixed tag; no untagged images, no latest, lts, stable or weekly.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        for (const site of podSites(args)) {
            for (const c of site.containers) {
                const reason = unpinnedReason(c.container.image);
                if (reason) {
                    reportViolation(`container "${c.name}" (${c.where}) ${reason}`);
                }
            }
        }
    },
};

const BINDINGS: ResourceClass[] = [
    k8s.rbac.v1.ClusterRoleBinding,
    k8s.rbac.v1.RoleBinding,
    // The original was written against v1beta1; an old manifest reused as-is must not slip past.
    k8s.rbac.v1beta1.ClusterRoleBinding,
    k8s.rbac.v1beta1.RoleBinding,
    k8s.rbac.v1alpha1.ClusterRoleBinding,
    k8s.rbac.v1alpha1.RoleBinding,
];
const ROLES: ResourceClass[] = [
    k8s.rbac.v1.ClusterRole,
    k8s.rbac.v1.Role,
    k8s.rbac.v1beta1.ClusterRole,
    k8s.rbac.v1beta1.Role,
    k8s.rbac.v1alpha1.ClusterRole,
    k8s.rbac.v1alpha1.Role,
];

const noClusterAdminBinding: ResourceValidationPolicy = {
    name: "no-cluster-admin-binding",
    description: "No ClusterRoleBinding or RoleBinding may grant the cluster-admin ClusterRole.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!BINDINGS.some((b) => args.isType(b))) {
            args.notApplicable("applies to ClusterRoleBindings and RoleBindings");
        }
        const ref = args.props.roleRef;
        // Kind first: a Role's name is often another resource's output, unknown during preview.
        if (ref?.kind === "ClusterRole" && ref.name === "cluster-admin") {
            const who = (args.props.subjects ?? []).map((s: Obj) => `${s.kind} ${s.name}`).join(", ");
            reportViolation(`roleRef is ClusterRole cluster-admin${who ? ` (bound to ${who})` : ""}`);
        }
    },
};

function rules(args: ResourceValidationArgs): Obj[] {
    if (!ROLES.some((r) => args.isType(r))) {
        args.notApplicable("applies to Roles and ClusterRoles");
    }
    return args.props.rules ?? [];
}

const noSecretsListWatch: ResourceValidationPolicy = {
    name: "no-secrets-list-watch",
    description: "No Role or ClusterRole may grant list or watch on secrets: either one reads every secret's value.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        rules(args).forEach((rule, i) => {
            const groups: string[] = rule.apiGroups ?? [];
            const resources: string[] = rule.resources ?? [];
            const coreGroup = groups.includes("") || groups.includes("*");
            const secrets = resources.includes("secrets") || (coreGroup && resources.includes("*"));
            const verbs = ((rule.verbs ?? []) as string[]).filter((v) => v === "list" || v === "watch" || v === "*");
            if (secrets && verbs.length > 0) {
                reportViolation(
                    `rules[${i}] grants ${verbs.join(", ")} on ${resources.includes("secrets") ? "secrets" : "* in the core group"}`,
                );
            }
        });
    },
};

const noWildcardRbac: ResourceValidationPolicy = {
    name: "no-wildcard-rbac",
    description: "Roles and ClusterRoles name their verbs, resources and API groups instead of using *.",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        rules(args).forEach((rule, i) => {
            for (const field of ["verbs", "resources", "apiGroups"]) {
                if (((rule[field] ?? []) as string[]).includes("*")) {
                    reportViolation(`rules[${i}].${field} contains "*"`);
                }
            }
        });
    },
};

/**
 * @pulumi/policy 1.21 passes the analyzer `protect` but not `retainOnDelete` (PolicyResourceOptions
 * has no such field and the engine's AnalyzerResourceOptions does not carry it). The runner in
 * run.ts adds it from the program's registrations; under the CLI it is absent, so `protect` is the
 * only option these policies can verify there.
 */
export type ResourceOptionsWithRetain = PolicyResourceOptions & { retainOnDelete?: boolean };

const DATA_LOSING_RECLAIM = ["Recycle", "Delete"];

function isHome(metadata: Obj | undefined): boolean {
    return hasLabel([metadata?.labels ?? {}], COMPONENT_LABEL, HOME_COMPONENT);
}

const jenkinsHomeProtected: ResourceValidationPolicy = {
    name: "jenkins-home-protected",
    description:
        `Jenkins home outlives pulumi destroy: a PersistentVolumeClaim labelled ${COMPONENT_LABEL}: ${HOME_COMPONENT} ` +
        "has retainOnDelete or protect, and such a PersistentVolume's reclaim policy is neither Recycle nor Delete.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.isType(k8s.core.v1.PersistentVolumeClaim)) {
            if (!isHome(args.props.metadata)) {
                return;
            }
            const opts = args.opts as ResourceOptionsWithRetain;
            // Only a visible `false` is a violation; an absent one is the CLI's blind spot (see above),
            // which jenkins-home-retain-unverified reports instead of blocking every preview.
            if (!opts.protect && opts.retainOnDelete === false) {
                reportViolation(
                    "PersistentVolumeClaim holding Jenkins home has neither retainOnDelete nor protect: " +
                        "pulumi destroy would delete the claim and, with most StorageClasses, the data",
                );
            }
            return;
        }
        if (args.isType(k8s.core.v1.PersistentVolume)) {
            const policy = args.props.spec?.persistentVolumeReclaimPolicy;
            if (isHome(args.props.metadata) && DATA_LOSING_RECLAIM.includes(policy)) {
                reportViolation(
                    `PersistentVolume holding Jenkins home has spec.persistentVolumeReclaimPolicy: ${policy}; use Retain`,
                );
            }
            return;
        }
        args.notApplicable("applies to PersistentVolumeClaims and PersistentVolumes");
    },
};

const jenkinsHomeRetainUnverified: ResourceValidationPolicy = {
    name: "jenkins-home-retain-unverified",
    description:
        "The analyzer cannot see retainOnDelete, so a Jenkins home claim that is not protect-ed cannot be verified to survive pulumi destroy.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(k8s.core.v1.PersistentVolumeClaim, (pvc, args, reportViolation) => {
        const opts = args.opts as ResourceOptionsWithRetain;
        if (isHome(pvc.metadata) && !opts.protect && opts.retainOnDelete === undefined) {
            reportViolation(
                "cannot tell whether this Jenkins home claim has retainOnDelete (@pulumi/policy does not pass it to policies); " +
                    "check the program, or set protect: true to make it verifiable",
            );
        }
    }),
};

const restrictedController: ResourceValidationPolicy = {
    name: "restricted-controller",
    description:
        `The Jenkins controller Deployment (${COMPONENT_LABEL}: ${CONTROLLER_COMPONENT}) runs as non-root with a RuntimeDefault (or Localhost) seccomp ` +
        "profile, and its containers drop ALL capabilities.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(k8s.apps.v1.Deployment, (_deployment, args, reportViolation) => {
        const site = podSite(args);
        if (!site || !hasLabel(site.labels, COMPONENT_LABEL, CONTROLLER_COMPONENT)) {
            args.notApplicable("applies to the Jenkins controller only");
        }
        const pod = site!.spec;
        const podSc: Obj = pod.securityContext ?? {};
        // Init containers may need root (chown of an NFS home); what serves users must not.
        for (const c of site!.containers.filter((x) => !x.init && !x.ephemeral)) {
            const sc: Obj = c.container.securityContext ?? {};
            if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) {
                reportViolation(
                    `container "${c.name}" (${c.where}) may run as root: set runAsNonRoot: true on the pod or container`,
                );
            }
            const seccomp = (sc.seccompProfile ?? podSc.seccompProfile)?.type;
            if (!RESTRICTED_SECCOMP_TYPES.includes(seccomp)) {
                reportViolation(
                    `container "${c.name}" (${c.where}) has seccompProfile ${seccomp ?? "unset"}; set RuntimeDefault on the pod or container`,
                );
            }
            const drop: string[] = sc.capabilities?.drop ?? [];
            if (!drop.includes("ALL")) {
                reportViolation(
                    `container "${c.name}" (${c.where}.securityContext.capabilities.drop) does not drop ALL`,
                );
            }
        }
    }),
};

const agentTrustTiers: ResourceValidationPolicy = {
    name: "agent-trust-tiers",
    description:
        "Kubernetes clouds in a JCasC ConfigMap keep agents in tiers: the default cloud (kubernetes) fills in the restricted " +
        "securityContext; a cloud with templates that opt into privileged containers or host paths is usage-restricted " +
        "and not the default; no two clouds launch into one namespace; every cloud collects orphaned pods.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(k8s.core.v1.ConfigMap, (configMap, _args, reportViolation) => {
        const seen = new Map<string, string>();
        for (const { key, cloud } of jcascClouds(configMap)) {
            const at = `cloud "${cloud.name}" (data["${key}"])`;
            if (cloud.name === DEFAULT_CLOUD && cloud.restrictedPssSecurityContext !== true) {
                reportViolation(
                    `${at} is the cloud pipelines' own pod templates get: set restrictedPssSecurityContext: true`,
                );
            }
            const optIn = (Array.isArray(cloud.templates) ? cloud.templates : []).filter((t: Obj) => templateOptsIn(t));
            if (optIn.length > 0 && (cloud.name === DEFAULT_CLOUD || cloud.usageRestricted !== true)) {
                reportViolation(
                    `${at} has templates that opt into privileged containers or host paths (${optIn
                        .map((t: Obj) => t.name)
                        .join(
                            ", ",
                        )}): they belong to a usage-restricted cloud of their own, not ${cloud.name === DEFAULT_CLOUD ? "the default cloud" : "an unrestricted one"}`,
                );
            }
            if (cloud.namespace && seen.has(cloud.namespace)) {
                reportViolation(
                    `${at} launches into ${cloud.namespace}, as cloud "${seen.get(cloud.namespace)}" does: each tier needs a namespace of its own`,
                );
            }
            seen.set(cloud.namespace, cloud.name);
            if (!cloud.garbageCollection) {
                reportViolation(`${at} has no garbageCollection: orphaned agent pods would stay`);
            }
        }
    }),
};

const agentPodBounds: ResourceValidationPolicy = {
    name: "agent-pod-bounds",
    description:
        "Every agent pod template in a JCasC ConfigMap (the cloud's defaults, which pipelines' own pods inherit, included) " +
        "gives its pods an activeDeadlineSeconds, and none asks for a system PriorityClass, tolerates every taint, " +
        "restarts its pods or opens a port on the node.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(k8s.core.v1.ConfigMap, (configMap, _args, reportViolation) => {
        for (const { key, cloud } of jcascClouds(configMap)) {
            for (const t of Array.isArray(cloud.templates) ? (cloud.templates as Obj[]) : []) {
                const at = `template "${t.name}" of cloud "${cloud.name}" (data["${key}"])`;
                if (!(Number(t.activeDeadlineSeconds) > 0)) {
                    reportViolation(
                        `${at} has no activeDeadlineSeconds: its pods${t.name === cloud.defaultsProviderTemplate ? ", and every pipeline's own pod of the cloud," : ""} would run until someone deletes them`,
                    );
                }
                const spec: Obj = templatePod(t)?.spec ?? {};
                if (typeof spec.priorityClassName === "string" && spec.priorityClassName.startsWith("system-")) {
                    reportViolation(
                        `${at} asks for PriorityClass ${spec.priorityClassName}: its builds would preempt cluster workloads`,
                    );
                }
                for (const tol of Array.isArray(spec.tolerations) ? (spec.tolerations as Obj[]) : []) {
                    if (tol?.operator === "Exists" && !tol.key) {
                        reportViolation(
                            `${at} tolerates every taint (operator Exists, no key): its builds would land on control-plane and dedicated nodes`,
                        );
                    }
                }
                if (spec.restartPolicy !== undefined && spec.restartPolicy !== "Never") {
                    reportViolation(
                        `${at} sets restartPolicy ${spec.restartPolicy}: an agent that ends would be started again, for ever`,
                    );
                }
                const containers = [
                    ...(Array.isArray(t.containers) ? (t.containers as Obj[]) : []),
                    ...(Array.isArray(spec.containers) ? (spec.containers as Obj[]) : []),
                    ...(Array.isArray(spec.initContainers) ? (spec.initContainers as Obj[]) : []),
                ];
                for (const c of containers) {
                    for (const port of Array.isArray(c?.ports) ? (c.ports as Obj[]) : []) {
                        if (Number(port?.hostPort) > 0) {
                            reportViolation(
                                `${at}: container "${c.name}" opens port ${port.hostPort} on the node (hostPort)`,
                            );
                        }
                    }
                }
            }
        }
    }),
};

export const policies: ResourceValidationPolicy[] = [
    noPrivilegedContainers,
    noHostPath,
    containerResources,
    pinnedImages,
    noClusterAdminBinding,
    noSecretsListWatch,
    noWildcardRbac,
    jenkinsHomeProtected,
    jenkinsHomeRetainUnverified,
    restrictedController,
    agentTrustTiers,
    agentPodBounds,
];
