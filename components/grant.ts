// A Role and the RoleBinding that gives it to one ServiceAccount, both named and labelled alike:
// how every account of the stack gets its rights in a namespace (the launchers', the reload
// sidecar's, the backups', the reaper's). The deploy tier's ClusterRole bindings are rbac.ts's.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

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
