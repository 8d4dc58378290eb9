import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Names } from "./names";

export interface JenkinsRbacArgs {
    namespace: pulumi.Input<string>;
    agentNamespace: pulumi.Input<string>;
    names: Names;
    /** Namespaces the deployer account may deploy to; empty: no deployer account. */
    deployNamespaces: string[];
    /** The ClusterRole granted there, through namespaced RoleBindings. */
    deployClusterRole: string;
    /** Some template's workspace is a dynamic PVC, which the plugin creates next to the pod. */
    agentClaims: boolean;
}

/**
 * What the Kubernetes plugin needs to run agent pods, and nothing more: namespaced, no secrets,
 * no wildcards. The controller's account manages pods in the agent namespace; the agents' own
 * account has no rights and no token unless a later change grants deploy rights.
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

/** Only with a dynamicPVC workspace: the plugin creates a claim per agent pod, owned by the pod. */
export const AGENT_CLAIM_RULE: k8s.types.input.rbac.v1.PolicyRule = {
    apiGroups: [""],
    resources: ["persistentvolumeclaims"],
    verbs: ["create", "delete", "get", "list", "watch"],
};

export class JenkinsRbac extends pulumi.ComponentResource {
    public readonly controllerServiceAccount: k8s.core.v1.ServiceAccount;
    public readonly agentServiceAccount: k8s.core.v1.ServiceAccount;
    public readonly agentManagerRole: k8s.rbac.v1.Role;
    public readonly agentManagerBinding: k8s.rbac.v1.RoleBinding;
    public readonly deployerServiceAccount?: k8s.core.v1.ServiceAccount;
    /** One RoleBinding per deploy namespace, keyed by namespace. */
    public readonly deployBindings: Record<string, k8s.rbac.v1.RoleBinding> = {};

    constructor(name: string, args: JenkinsRbacArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jenkins:index:JenkinsRbac", name, {}, opts);
        const { names } = args;
        const labels = names.labels;

        this.controllerServiceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-controller`,
            {
                metadata: { name: names.controllerServiceAccount, namespace: args.namespace, labels },
                // The plugin authenticates to the API server with this token.
                automountServiceAccountToken: true,
            },
            { parent: this },
        );
        this.agentServiceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-agent`,
            {
                metadata: { name: names.agentServiceAccount, namespace: args.agentNamespace, labels },
                // Build code is untrusted: no API token in agent pods unless rights are granted.
                automountServiceAccountToken: false,
            },
            { parent: this },
        );
        this.agentManagerRole = new k8s.rbac.v1.Role(
            `${name}-agent-manager`,
            {
                metadata: { name: names.agentManagerRole, namespace: args.agentNamespace, labels },
                rules: args.agentClaims ? [...AGENT_MANAGER_RULES, AGENT_CLAIM_RULE] : AGENT_MANAGER_RULES,
            },
            { parent: this },
        );
        this.agentManagerBinding = new k8s.rbac.v1.RoleBinding(
            `${name}-agent-manager`,
            {
                metadata: { name: names.agentManagerRole, namespace: args.agentNamespace, labels },
                roleRef: {
                    apiGroup: "rbac.authorization.k8s.io",
                    kind: "Role",
                    name: this.agentManagerRole.metadata.name,
                },
                subjects: [
                    {
                        kind: "ServiceAccount",
                        name: this.controllerServiceAccount.metadata.name,
                        namespace: args.namespace,
                    },
                ],
            },
            { parent: this },
        );

        if (args.deployNamespaces.length > 0) {
            const deployer = new k8s.core.v1.ServiceAccount(
                `${name}-deployer`,
                {
                    metadata: { name: names.deployerServiceAccount, namespace: args.agentNamespace, labels },
                    // Only pods of templates with `deploy: true` use this account, and they need its token.
                    automountServiceAccountToken: true,
                },
                { parent: this },
            );
            this.deployerServiceAccount = deployer;
            for (const ns of args.deployNamespaces) {
                // A RoleBinding to a ClusterRole grants the role's rights in this namespace only.
                this.deployBindings[ns] = new k8s.rbac.v1.RoleBinding(
                    `${name}-deploy-${ns}`,
                    {
                        metadata: { name: names.deployerServiceAccount, namespace: ns, labels },
                        roleRef: {
                            apiGroup: "rbac.authorization.k8s.io",
                            kind: "ClusterRole",
                            name: args.deployClusterRole,
                        },
                        subjects: [
                            { kind: "ServiceAccount", name: deployer.metadata.name, namespace: args.agentNamespace },
                        ],
                    },
                    { parent: this },
                );
            }
        }

        this.registerOutputs({
            controllerServiceAccount: this.controllerServiceAccount.metadata.name,
            agentServiceAccount: this.agentServiceAccount.metadata.name,
            deployerServiceAccount: this.deployerServiceAccount?.metadata.name,
        });
    }
}
