// What the identity running `pulumi up` must be allowed to do, asked of the API server at preview
// (SelfSubjectAccessReview), so a deployer short of a right learns it from the preview, with every
// missing right named, instead of from an up that stops halfway.
//
// The rights are those of the objects the stack makes, read from the settings the same way the
// components read them; a test holds the list to the objects of every example stack's render.
import type * as k8s from "@pulumi/kubernetes";
import {
    AGENT_MANAGER_RULES,
    BACKUP_RULES,
    REAPER_RULES,
    RELOAD_EVENTS_RULE,
    SNAPSHOT_GROUP,
} from "../components/rights";
import type { Settings } from "../config/settings";

/** The API resource of each kind the program makes: its group and plural. */
export const KINDS = {
    Namespace: { group: "", resource: "namespaces" },
    PersistentVolume: { group: "", resource: "persistentvolumes" },
    PersistentVolumeClaim: { group: "", resource: "persistentvolumeclaims" },
    ServiceAccount: { group: "", resource: "serviceaccounts" },
    Secret: { group: "", resource: "secrets" },
    ConfigMap: { group: "", resource: "configmaps" },
    Service: { group: "", resource: "services" },
    Deployment: { group: "apps", resource: "deployments" },
    DaemonSet: { group: "apps", resource: "daemonsets" },
    CronJob: { group: "batch", resource: "cronjobs" },
    Role: { group: "rbac.authorization.k8s.io", resource: "roles" },
    RoleBinding: { group: "rbac.authorization.k8s.io", resource: "rolebindings" },
    NetworkPolicy: { group: "networking.k8s.io", resource: "networkpolicies" },
    Ingress: { group: "networking.k8s.io", resource: "ingresses" },
    PodDisruptionBudget: { group: "policy", resource: "poddisruptionbudgets" },
    ValidatingAdmissionPolicy: { group: "admissionregistration.k8s.io", resource: "validatingadmissionpolicies" },
    ValidatingAdmissionPolicyBinding: {
        group: "admissionregistration.k8s.io",
        resource: "validatingadmissionpolicybindings",
    },
    ServiceMonitor: { group: "monitoring.coreos.com", resource: "servicemonitors" },
    ResourceQuota: { group: "", resource: "resourcequotas" },
    LimitRange: { group: "", resource: "limitranges" },
    HTTPRoute: { group: "gateway.networking.k8s.io", resource: "httproutes" },
    VolumeSnapshot: { group: SNAPSHOT_GROUP, resource: "volumesnapshots" },
} as const;
export type Kind = keyof typeof KINDS;

const SNAPSHOT_CLASSES = { group: SNAPSHOT_GROUP, resource: "volumesnapshotclasses" };

/** One kind of object the stack makes, in one namespace (none: cluster-scoped). */
export interface Made {
    kind: Kind;
    namespace?: string;
}

/** One request the deployer must be allowed, as a SelfSubjectAccessReview asks it. */
export interface Right {
    verb: string;
    group: string;
    resource: string;
    namespace?: string;
    name?: string;
}

/**
 * The kinds of object the stack makes, by namespace. `VolumeSnapshot` is the restore point an up
 * takes before it restarts a running controller (backups on): not in a first up's render, but
 * the deployer needs it from the first upgrade on.
 */
export function madeBy(settings: Settings): Made[] {
    const made: Made[] = [];
    const add = (namespace: string | undefined, ...kinds: Kind[]) =>
        made.push(...kinds.map((kind) => ({ kind, ...(namespace === undefined ? {} : { namespace }) })));
    const { agents, storage } = settings;
    const controller = settings.namespace;
    if (settings.createNamespaces || agents.createDeployNamespaces) add(undefined, "Namespace");
    if (storage.mode === "nfs") add(undefined, "PersistentVolume");
    if (agents.admissionPolicy) add(undefined, "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding");

    add(controller, "ServiceAccount", "Role", "RoleBinding", "Secret", "ConfigMap", "Service", "Deployment");
    if (storage.mode !== "existingClaim") add(controller, "PersistentVolumeClaim");
    if (settings.network.policy) add(controller, "NetworkPolicy");
    if (settings.ingress) add(controller, "Ingress");
    if (settings.gateway) add(controller, "HTTPRoute");
    if (settings.metrics.serviceMonitor) add(controller, "ServiceMonitor");
    if (settings.disruptionBudget) add(controller, "PodDisruptionBudget");
    if (settings.backups) add(controller, "CronJob", "VolumeSnapshot");
    if (agents.prePullImages) add(controller, "DaemonSet");
    if (agents.reaper) add(controller, "CronJob");

    for (const tier of agents.tiers) {
        add(tier.namespace, "ServiceAccount", "Role", "RoleBinding");
        if (agents.egress) add(tier.namespace, "NetworkPolicy");
        if (agents.limits) add(tier.namespace, "ResourceQuota", "LimitRange");
    }
    if (agents.tiers.some((t) => t.name === "deploy")) {
        for (const ns of agents.deployNamespaces) add(ns, "RoleBinding");
    }
    // One entry per kind and namespace.
    const seen = new Set<string>();
    return made.filter((m) => {
        const id = `${m.kind}/${m.namespace ?? ""}`;
        return seen.has(id) ? false : (seen.add(id), true);
    });
}

/**
 * What the up does with each kind: server-side apply (`patch`, and `create` for an object that
 * does not exist yet: the API server checks both), read back (`get`), and the preview's
 * server-side dry-run is authorized as the write itself (pulumi/pulumi-kubernetes#2213).
 */
const WRITE_VERBS = ["get", "create", "patch"];

/**
 * What the provider watches while it waits for the controller's Deployment to be ready
 * (pulumi-kubernetes provider/pkg/await/deployment.go: informers on deployments, replicasets,
 * pods and persistentvolumeclaims of its namespace).
 */
const DEPLOYMENT_AWAIT: Right[] = [
    { verb: "list", group: "apps", resource: "deployments" },
    { verb: "watch", group: "apps", resource: "deployments" },
    { verb: "list", group: "apps", resource: "replicasets" },
    { verb: "watch", group: "apps", resource: "replicasets" },
    { verb: "list", group: "", resource: "pods" },
    { verb: "watch", group: "", resource: "pods" },
    { verb: "list", group: "", resource: "persistentvolumeclaims" },
    { verb: "watch", group: "", resource: "persistentvolumeclaims" },
];

/** The Roles the stack makes, by namespace, with their rules: the deployer must hold each right it grants. */
function rolesMade(settings: Settings): { namespace: string; rules: k8s.types.input.rbac.v1.PolicyRule[] }[] {
    return [
        { namespace: settings.namespace, rules: [RELOAD_EVENTS_RULE, ...(settings.backups ? BACKUP_RULES : [])] },
        ...settings.agents.tiers.map((t) => ({
            namespace: t.namespace,
            rules: [...AGENT_MANAGER_RULES, ...(settings.agents.reaper ? REAPER_RULES : [])],
        })),
    ];
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);

export interface DeployerRights {
    /** What the up needs: without one of these it fails. */
    needed: Right[];
    /** Deleting what the stack made: a later up that removes an object, and `pulumi destroy`. */
    deletes: Right[];
    /** The rights the stack's Roles grant, by namespace; held, or the deployer may `escalate` there. */
    granted: Right[];
    /** The ClusterRole bound in each deploy namespace: `bind` there, or every right it holds. */
    binds: Right[];
}

export function deployerRights(settings: Settings): DeployerRights {
    const made = madeBy(settings);
    const of = (m: Made, verb: string): Right => ({
        verb,
        ...KINDS[m.kind],
        ...(m.namespace === undefined ? {} : { namespace: m.namespace }),
    });
    const needed = made.flatMap((m) => WRITE_VERBS.map((v) => of(m, v)));
    // Deploy namespaces the stack does not create are read (preflight/clusterReady.ts, and the
    // provider). The API server authorizes a namespace's GET in that namespace (apiserver's
    // RequestInfoFactory makes a namespace's name its request's namespace), so a RoleBinding there
    // allows it: asked there.
    if (!settings.agents.createDeployNamespaces) {
        for (const name of settings.agents.deployNamespaces) {
            needed.push({ verb: "get", group: "", resource: "namespaces", name, namespace: name });
        }
    }
    needed.push(...DEPLOYMENT_AWAIT.map((r) => ({ ...r, namespace: settings.namespace })));
    // The preview's own reads: the snapshot class backups name, the snapshot a restore starts from.
    if (settings.backups?.snapshotClass) {
        needed.push({ ...SNAPSHOT_CLASSES, verb: "get", name: settings.backups.snapshotClass });
    }
    if (settings.restoreFromSnapshot) {
        needed.push({ ...KINDS.VolumeSnapshot, verb: "get", namespace: settings.namespace });
    }
    const granted = rolesMade(settings).flatMap(({ namespace, rules }) =>
        rules.flatMap((rule) =>
            strings(rule.apiGroups).flatMap((group) =>
                strings(rule.resources).flatMap((resource) =>
                    strings(rule.verbs).map((verb) => ({ verb, group, resource, namespace })),
                ),
            ),
        ),
    );
    const deploy = settings.agents.tiers.some((t) => t.name === "deploy") ? settings.agents.deployNamespaces : [];
    return {
        needed,
        deletes: made.map((m) => of(m, "delete")),
        granted,
        binds: deploy.map((namespace) => ({
            verb: "bind",
            group: "rbac.authorization.k8s.io",
            resource: "clusterroles",
            name: settings.agents.deployClusterRole,
            namespace,
        })),
    };
}

/** The API server's answer to one SelfSubjectAccessReview: allowed, and by which authorizer's words. */
export interface Answer {
    allowed: boolean;
    /** RBAC's answers start "RBAC: "; a webhook's (GKE IAM, EKS access policies) or system:masters' do not. */
    reason?: string;
}

export interface AccessReader {
    /** The API server's answer to each request (SelfSubjectAccessReview); null offline. */
    mayI(rights: Right[]): Promise<Answer[] | null>;
    /** The deployer's user name (SelfSubjectReview), when the API server says it. */
    whoAmI(): Promise<string | undefined>;
}

/** `create, patch roles.rbac.authorization.k8s.io` for the rights of one namespace, by resource. */
function describe(rights: Right[]): string {
    const byResource = new Map<string, string[]>();
    for (const r of rights) {
        const what = `${r.resource}${r.group ? `.${r.group}` : ""}${r.name ? `/${r.name}` : ""}`;
        byResource.set(what, [...(byResource.get(what) ?? []), r.verb]);
    }
    return [...byResource].map(([what, verbs]) => `${verbs.join(", ")} ${what}`).join("; ");
}

/** The rights by where they apply: each namespace in order, then the cluster. */
function byNamespace(rights: Right[]): [string, Right[]][] {
    const groups = new Map<string, Right[]>();
    for (const r of rights) {
        const where = r.namespace === undefined ? "cluster-wide" : `in namespace ${r.namespace}`;
        groups.set(where, [...(groups.get(where) ?? []), r]);
    }
    // The cluster's first: namespaces are made before what goes in them.
    return [...groups].sort(([a], [b]) => Number(b === "cluster-wide") - Number(a === "cluster-wide"));
}

/**
 * What the deployer may not do that the up needs (problems), and what it can only do partly or
 * was not checked (warnings). Needs the cluster's reads (`adoptKeptObjects`); offline, says so.
 */
export async function rightsProblems(
    settings: Settings,
    reader: AccessReader,
): Promise<{ problems: string[]; warnings: string[] }> {
    const problems: string[] = [];
    const warnings: string[] = [];
    if (!settings.adoptKeptObjects) {
        return { problems, warnings }; // readinessProblems says the preview reads nothing.
    }
    const rights = deployerRights(settings);
    // Granting a right one does not hold takes both: `escalate` to make the Role, `bind` to bind it.
    const escalate = byNamespace(rights.granted).flatMap(([, rs]) =>
        ["escalate", "bind"].map((verb) => ({
            verb,
            group: "rbac.authorization.k8s.io",
            resource: "roles",
            namespace: rs[0].namespace,
        })),
    );
    const id = (r: Right) => JSON.stringify([r.verb, r.group, r.resource, r.namespace, r.name]);
    const all = [...rights.needed, ...rights.deletes, ...rights.granted, ...escalate, ...rights.binds];
    const asked = [...new Map(all.map((r) => [id(r), r])).values()];
    const answers = await reader.mayI(asked);
    if (answers === null) {
        warnings.push(
            "the deployer's rights were not checked: no cluster was read (an offline render); docs/ci.md lists what an up needs",
        );
        return { problems, warnings };
    }
    const answer = new Map(asked.map((r, i) => [id(r), answers[i]]));
    const allowed = (r: Right) => answer.get(id(r))?.allowed === true;
    const denied = (rs: Right[]) => rs.filter((r) => !allowed(r));
    // A Role may grant only what its maker holds through RBAC (the API server's escalation check
    // reads RBAC's rules, not a webhook's or the privileged group's answers), unless it may escalate.
    const heldByRbac = (r: Right) => allowed(r) && (answer.get(id(r))?.reason ?? "").startsWith("RBAC:");
    const who = await reader.whoAmI();
    const deployer = who ? `the deployer (${who})` : "the deployer";

    for (const [where, rs] of byNamespace(denied(rights.needed))) {
        problems.push(
            `${deployer} may not ${describe(rs)} ${where}, which the up needs (docs/ci.md lists every right)`,
        );
    }
    const mayEscalate = (namespace?: string) => escalate.filter((r) => r.namespace === namespace).every(allowed);
    const ungranted = rights.granted.filter((r) => !heldByRbac(r) && !mayEscalate(r.namespace));
    for (const [where, rs] of byNamespace(ungranted)) {
        problems.push(
            `${deployer} does not hold ${describe(rs)} ${where} through RBAC, which a Role the stack makes there grants: the API server refuses a Role (and its binding) that grants more than its maker holds by RBAC, unless it may escalate and bind roles there`,
        );
    }
    for (const r of denied(rights.binds)) {
        warnings.push(
            `${deployer} may not bind ClusterRole ${r.name} in namespace ${r.namespace}: the RoleBinding the deploy tier needs there is allowed only if ${deployer} holds every right of ${r.name} in that namespace (not checked)`,
        );
    }
    for (const [where, rs] of byNamespace(denied(rights.deletes))) {
        warnings.push(
            `${deployer} may not delete ${describe(rs)
                .replace(/^delete /, "")
                .replace(
                    /; delete /g,
                    ", ",
                )} ${where}: an up that removes one of these, and pulumi destroy, will fail (a preview-only identity is fine without)`,
        );
    }
    return { problems, warnings };
}
