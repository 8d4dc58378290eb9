import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Names } from "../config/names";
import { Tier, TierName } from "../config/tiers";
import { AGENT_MANAGER_RULES, grant, RELOAD_EVENTS_RULE } from "./rights";
import { agentPodRules, type AgentPodBounds } from "./admission";
import { perTier } from "./perTier";

export interface JenkinsRbacArgs {
    /** The controller's namespace: its account and the launchers' accounts live there. */
    namespace: pulumi.Input<string>;
    /** Each tier's namespace, as created (or named) by the stack. */
    tierNamespaces: Record<string, pulumi.Input<string>>;
    /** The agent trust tiers: each gets a Role for its launching account and its pods' ServiceAccount. */
    tiers: Tier[];
    /** Names shared with the other components (accounts, Roles, labels). */
    names: Names;
    /** Namespaces the deployer account may deploy to; empty: no deploy tier. */
    deployNamespaces: string[];
    /** The deploy namespaces as resources (created, or read to prove they exist); bindings wait for them. */
    deployNamespacesReady: pulumi.Resource[];
    /** The ClusterRole granted there, through namespaced RoleBindings. */
    deployClusterRole: string;
    /** Pin each tier's pods to its one ServiceAccount with a ValidatingAdmissionPolicy. */
    admissionPolicy: boolean;
    /** With the admission policy: the longest life and the highest priority of an agent pod. */
    podBounds: AgentPodBounds;
}

/**
 * ServiceAccounts and least-privilege roles, tier by tier. The controller's account launches the
 * pods of every tier any job may use; a usage-restricted tier has a launcher of its own, whose
 * token Jenkins holds as a System-scoped credential; the accounts pods run as hold nothing, except
 * the deployer, which holds `deployClusterRole` in each deploy namespace and nowhere else.
 */
export class JenkinsRbac extends pulumi.ComponentResource {
    public readonly controllerServiceAccount: k8s.core.v1.ServiceAccount;
    /** The account build-tier pods run as. */
    public readonly agentServiceAccount: k8s.core.v1.ServiceAccount;
    /** The Secret holding each launcher's token, by tier (usage-restricted tiers only). */
    public readonly launcherTokenSecretNames: Partial<Record<TierName, pulumi.Output<string>>> = {};

    constructor(name: string, args: JenkinsRbacArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jenkins:index:JenkinsRbac", name, {}, opts);
        this.controllerServiceAccount = this.controllerAccount(name, args);
        const podAccounts = new Map(args.tiers.map((tier) => [tier.name, this.tierAccounts(name, args, tier)]));
        this.agentServiceAccount = podAccounts.get("build")!;
        const deployer = podAccounts.get("deploy");
        if (deployer) this.deployBindings(name, args, deployer);
        if (args.admissionPolicy) this.admissionPolicy(name, args);

        this.registerOutputs({
            controllerServiceAccount: this.controllerServiceAccount.metadata.name,
            agentServiceAccount: this.agentServiceAccount.metadata.name,
            launcherTokenSecretNames: this.launcherTokenSecretNames,
        });
    }

    /**
     * The controller's account: the plugin authenticates to the API server with its token (the
     * build tier's cloud). The JCasC reload sidecar reports every reload as an Event on the
     * controller pod, with the pod's account: creating events in its own namespace is all it
     * needs. RBAC cannot narrow it to events about that pod; an event is a record, and grants nothing.
     */
    private controllerAccount(name: string, args: JenkinsRbacArgs): k8s.core.v1.ServiceAccount {
        const { names } = args;
        const labels = names.labels;
        const account = new k8s.core.v1.ServiceAccount(
            `${name}-controller`,
            {
                metadata: { name: names.controllerServiceAccount, namespace: args.namespace, labels },
                automountServiceAccountToken: true,
            },
            { parent: this },
        );
        grant(
            `${name}-casc-reload-events`,
            {
                metadata: { name: names.reloadEventsRole, namespace: args.namespace, labels },
                rules: [RELOAD_EVENTS_RULE],
                account: { name: account.metadata.name, namespace: args.namespace },
            },
            { parent: this },
        );
        return account;
    }

    /**
     * One tier's accounts: the one its pods run as (no API token: build code is untrusted, except
     * where deploying is the job), its launcher when the tier is usage-restricted, and the rights
     * to run its pods (AGENT_MANAGER_RULES) for whichever account launches them. Returns the pods' account.
     */
    private tierAccounts(name: string, args: JenkinsRbacArgs, tier: Tier): k8s.core.v1.ServiceAccount {
        const labels = args.names.labels;
        const named = (what: string) => perTier(name, tier.name, what);
        const tierNamespace = args.tierNamespaces[tier.name];
        const agent = named("agent");
        const podAccount = new k8s.core.v1.ServiceAccount(
            tier.name === "deploy" ? `${name}-deployer` : agent.name,
            {
                metadata: { name: tier.podServiceAccount, namespace: tierNamespace, labels },
                automountServiceAccountToken: tier.name === "deploy",
            },
            { parent: this, aliases: agent.aliases },
        );
        const launcher = tier.launcher
            ? this.launcher(name, args, tier.name, tier.launcher)
            : { name: this.controllerServiceAccount.metadata.name, namespace: args.namespace };
        const manager = named("agent-manager");
        grant(
            manager.name,
            {
                metadata: { name: args.names.agentManagerRole, namespace: tierNamespace, labels },
                rules: AGENT_MANAGER_RULES,
                account: launcher,
            },
            { parent: this, aliases: manager.aliases },
        );
        return podAccount;
    }

    /**
     * A usage-restricted tier's launching account, and a long-lived token the token controller
     * fills in: its token reaches Jenkins through that Secret, never a pod's mount, and is mounted
     * only into the controller, where JCasC makes it a System-scoped credential of this tier's cloud.
     */
    private launcher(
        name: string,
        args: JenkinsRbacArgs,
        tier: TierName,
        launcher: NonNullable<Tier["launcher"]>,
    ): { name: pulumi.Input<string>; namespace: pulumi.Input<string> } {
        const labels = args.names.labels;
        const account = perTier(name, tier, "launcher");
        const sa = new k8s.core.v1.ServiceAccount(
            account.name,
            {
                metadata: { name: launcher.serviceAccount, namespace: args.namespace, labels },
                automountServiceAccountToken: false,
            },
            { parent: this, aliases: account.aliases },
        );
        const tokenName = perTier(name, tier, "launcher-token");
        const token = new k8s.core.v1.Secret(
            tokenName.name,
            {
                metadata: {
                    name: launcher.tokenSecret,
                    namespace: args.namespace,
                    labels,
                    annotations: { "kubernetes.io/service-account.name": sa.metadata.name },
                },
                type: "kubernetes.io/service-account-token",
            },
            { parent: this, aliases: tokenName.aliases },
        );
        this.launcherTokenSecretNames[tier] = token.metadata.name;
        return { name: sa.metadata.name, namespace: sa.metadata.namespace };
    }

    /** The deployer holds `deployClusterRole` in each deploy namespace: a RoleBinding grants a ClusterRole's rights there only. */
    private deployBindings(name: string, args: JenkinsRbacArgs, deployer: k8s.core.v1.ServiceAccount): void {
        const subject = {
            kind: "ServiceAccount",
            name: deployer.metadata.name,
            namespace: deployer.metadata.namespace,
        };
        for (const ns of args.deployNamespaces) {
            new k8s.rbac.v1.RoleBinding(
                `${name}-deploy-${ns}`,
                {
                    metadata: { name: args.names.deployerServiceAccount, namespace: ns, labels: args.names.labels },
                    roleRef: {
                        apiGroup: "rbac.authorization.k8s.io",
                        kind: "ClusterRole",
                        name: args.deployClusterRole,
                    },
                    subjects: [subject],
                },
                { parent: this, dependsOn: args.deployNamespacesReady },
            );
        }
    }

    /** The agent tiers' admission policy (admission.ts) and its binding: pod creation in their namespaces only. */
    private admissionPolicy(name: string, args: JenkinsRbacArgs): void {
        const { names } = args;
        const rules = agentPodRules(args.tiers, args.podBounds);
        const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            `${name}-agent-accounts`,
            {
                metadata: { name: names.agentAccountsPolicy, labels: names.labels },
                spec: {
                    failurePolicy: "Fail",
                    matchConstraints: {
                        resourceRules: [
                            { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
                        ],
                        namespaceSelector: {
                            matchExpressions: [
                                {
                                    key: "kubernetes.io/metadata.name",
                                    operator: "In",
                                    values: args.tiers.map((t) => t.namespace),
                                },
                            ],
                        },
                    },
                    variables: rules.variables,
                    validations: rules.validations,
                },
            },
            { parent: this },
        );
        new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            `${name}-agent-accounts`,
            {
                metadata: { name: names.agentAccountsPolicy, labels: names.labels },
                spec: { policyName: policy.metadata.name, validationActions: ["Deny"] },
            },
            { parent: this },
        );
    }
}
