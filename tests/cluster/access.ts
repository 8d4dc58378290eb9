// What each ServiceAccount of a stack must and must not be able to do, written from what uses
// the account (the Kubernetes plugin's source for the launching account), not from our Roles: the
// real API server answers, and a Role that grants more or less than this fails the tier.
import type { V1ResourceRule } from "@kubernetes/client-node";

/** One API request, as SubjectAccessReview asks it (a subresource is never a resource name). */
export interface Access {
    verb: string;
    resource: string;
    subresource?: string;
    group?: string;
}

export const show = (a: Access): string =>
    `${a.verb} ${a.group ? `${a.resource}.${a.group}` : a.resource}${a.subresource ? `/${a.subresource}` : ""}`;

/**
 * What the Kubernetes plugin does with the account it launches agents as, in the cloud's
 * namespace (jenkinsci/kubernetes-plugin):
 * - KubernetesLauncher: create the pod, watch it and poll it (get) until the agent connects,
 *   watch its events, read a failed container's log;
 * - KubernetesSlave._terminate: delete it; Reaper: watch every pod of the namespace (list+watch);
 * - GarbageCollection: list agent pods, patch the live ones' last-refresh annotation, delete orphans;
 * - ContainerExecDecorator: `container('x') { sh ... }` is an exec (create over WebSocket since
 *   Kubernetes 1.30, get on older servers).
 */
export const LAUNCHER_NEEDS: Access[] = [
    ...["create", "delete", "get", "list", "patch", "watch"].map((verb) => ({ verb, resource: "pods" })),
    { verb: "create", resource: "pods", subresource: "exec" },
    { verb: "get", resource: "pods", subresource: "exec" },
    { verb: "get", resource: "pods", subresource: "log" },
    ...["get", "list", "watch"].map((verb) => ({ verb, resource: "events" })),
];

/**
 * What the controller's account does in its own namespace besides: the JCasC reload sidecar
 * (controller/casc-reload.sh) records each reload as an Event on the controller pod.
 */
export const RELOAD_REPORT_NEEDS: Access[] = [{ verb: "create", resource: "events" }];

/**
 * What the backup CronJob's account does, in the controller's namespace only
 * (controller/backup-home.sh): create a VolumeSnapshot, list the stack's, delete those past the
 * retention.
 */
export const BACKUP_NEEDS: Access[] = ["create", "delete", "list"].map((verb) => ({
    verb,
    resource: "volumesnapshots",
    group: "snapshot.storage.k8s.io",
}));

/**
 * What the agent reaper's account does, in each agent tier's namespace only
 * (controller/reap-agents.sh): list the pods, delete the stuck, finished and overdue ones.
 */
export const REAPER_NEEDS: Access[] = ["list", "delete"].map((verb) => ({ verb, resource: "pods" }));

/**
 * Requests no Jenkins account may make anywhere: each one is a way from a build (or the
 * controller) to more than it was given. Asked in every namespace of the stack and beyond.
 */
export const NEVER: Access[] = [
    { verb: "get", resource: "secrets" },
    { verb: "list", resource: "secrets" },
    { verb: "watch", resource: "secrets" },
    { verb: "create", resource: "serviceaccounts", subresource: "token" },
    { verb: "impersonate", resource: "serviceaccounts" },
    { verb: "create", resource: "pods", subresource: "attach" },
    { verb: "create", resource: "pods", subresource: "portforward" },
    { verb: "patch", resource: "pods", subresource: "ephemeralcontainers" },
    { verb: "patch", resource: "configmaps" },
    { verb: "create", resource: "rolebindings", group: "rbac.authorization.k8s.io" },
    { verb: "bind", resource: "roles", group: "rbac.authorization.k8s.io" },
    { verb: "escalate", resource: "roles", group: "rbac.authorization.k8s.io" },
    { verb: "create", resource: "deployments", group: "apps" },
];

/** Cluster-scoped requests no Jenkins account may make. */
export const NEVER_CLUSTER: Access[] = [
    { verb: "list", resource: "nodes" },
    { verb: "list", resource: "namespaces" },
    { verb: "create", resource: "namespaces" },
    { verb: "create", resource: "persistentvolumes" },
    { verb: "create", resource: "clusterrolebindings", group: "rbac.authorization.k8s.io" },
    { verb: "create", resource: "customresourcedefinitions", group: "apiextensions.k8s.io" },
    { verb: "delete", resource: "validatingadmissionpolicies", group: "admissionregistration.k8s.io" },
    { verb: "delete", resource: "validatingadmissionpolicybindings", group: "admissionregistration.k8s.io" },
    { verb: "create", resource: "certificatesigningrequests", group: "certificates.k8s.io" },
];

/** A rule list as the set of single grants it holds, `group/resource:verb`; "*" stays as written. */
export function grants(rules: Pick<V1ResourceRule, "apiGroups" | "resources" | "verbs">[]): Set<string> {
    const out = new Set<string>();
    for (const r of rules) {
        for (const g of r.apiGroups ?? [""]) {
            for (const res of r.resources ?? []) {
                for (const v of r.verbs) {
                    out.add(`${g}/${res}:${v}`);
                }
            }
        }
    }
    return out;
}

/** The grants an Access list stands for. */
export function grantsOf(list: Access[]): Set<string> {
    return new Set(
        list.map((a) => `${a.group ?? ""}/${a.resource}${a.subresource ? `/${a.subresource}` : ""}:${a.verb}`),
    );
}

/** `a` without what `b` has, sorted, for messages. */
export function minus(a: Set<string>, b: Set<string>): string[] {
    return [...a].filter((x) => !b.has(x)).sort();
}
