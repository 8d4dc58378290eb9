// Every right the stack grants, in one place: what each account may do where, and the one way a
// Role and the RoleBinding that gives it to one ServiceAccount are made (the launchers', the reload
// sidecar's, the backups', the reaper's). The accounts are made by their components; the deploy
// tier's ClusterRole bindings are rbac.ts's. The preview asks the API server whether the deployer
// may grant each of these (preflight/deployerRights.ts).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The API group of the VolumeSnapshots backups make (the external-snapshotter CRDs). */
export const SNAPSHOT_GROUP = "snapshot.storage.k8s.io";

/**
 * What the Kubernetes plugin needs to run agent pods, and nothing more: namespaced, no secrets,
 * no wildcards. Each tier's launching account holds this in its tier's namespace only.
 */
export const AGENT_MANAGER_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
    // Create agent pods, watch them until they are running, delete them when the build ends;
    // list finds pods left over from a controller restart so they are cleaned up; patch: every
    // minute the plugin annotates live agent pods (GarbageCollection.annotateLiveAgents) so
    // orphans can be told apart.
    { apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "get", "list", "patch", "watch"] },
    // `container('x') { sh ... }` in a pipeline runs through exec; API servers since 1.30 check
    // `create` for the WebSocket exec protocol and older ones `get`, so both are needed.
    { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] },
    // The plugin copies a failed agent's container log into the build log.
    { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
    // Scheduling failures (no node fits, image pull errors) are read from events to fail fast.
    { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
];

/** The controller's account in its own namespace: the reload sidecar's Events, and nothing else. */
export const RELOAD_EVENTS_RULE: k8s.types.input.rbac.v1.PolicyRule = {
    apiGroups: [""],
    resources: ["events"],
    verbs: ["create"],
};

/** What the reaper may do, in each agent tier's namespace. */
export const REAPER_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
    { apiGroups: [""], resources: ["pods"], verbs: ["list", "delete"] },
];

/** What the backup account may do, in the controller's namespace only. */
export const BACKUP_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
    { apiGroups: [SNAPSHOT_GROUP], resources: ["volumesnapshots"], verbs: ["create", "delete", "list"] },
];

export interface GrantArgs {
    /** The Role's and the RoleBinding's metadata (name, namespace, labels). */
    metadata: { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> };
    rules: k8s.types.input.rbac.v1.PolicyRule[];
    /** The ServiceAccount that gets the rules there. */
    account: { name: pulumi.Input<string>; namespace: pulumi.Input<string> };
}

/** `resourceName` names both resources, as each caller has always named its pair. */
export function grant(resourceName: string, args: GrantArgs, opts: pulumi.CustomResourceOptions): k8s.rbac.v1.Role {
    const role = new k8s.rbac.v1.Role(resourceName, { metadata: args.metadata, rules: args.rules }, opts);
    new k8s.rbac.v1.RoleBinding(
        resourceName,
        {
            metadata: args.metadata,
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", ...args.account }],
        },
        opts,
    );
    return role;
}
