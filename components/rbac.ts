import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Names } from "../config/names";
import { Tier, TierName } from "../config/tiers";
import type { PodTemplate } from "../config/podTemplates";
import { templatePodYaml } from "../jcasc/jcasc";
import { grant } from "./grant";
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

/** Tolerations the admission plugin DefaultTolerationSeconds adds to every pod before validation. */
const DEFAULT_TOLERATIONS = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"].map(
    (key) => `${key}|Exists||NoExecute`,
);

/** A toleration as one string: key, operator (Equal when unset), value, effect; its seconds aside. */
export function tolerationId(t: { key?: string; operator?: string; value?: string; effect?: string }): string {
    return `${t.key ?? ""}|${t.operator ?? "Equal"}|${t.value ?? ""}|${t.effect ?? ""}`;
}

/** The same in CEL, of a pod's toleration `t`. */
const TOLERATION_ID_CEL = ["key", "operator", "value", "effect"]
    .map((f) => `(has(t.${f}) ? t.${f} : '${f === "operator" ? "Equal" : ""}')`)
    .join(" + '|' + ");

/** What the stack allows an agent pod beyond its tier's templates: the longest life, the highest priority. */
export interface AgentPodBounds {
    podMaxSeconds: number;
    maxPriority: number;
    /** Tolerations every agent pod may carry (agentTolerations: the ones the cluster adds). */
    tolerations: { key?: string; operator?: string; value?: string; effect?: string }[];
}

/** What the admission policy reads of a template's pod spec. */
interface TemplateSpec {
    containers?: { resources?: Record<string, object> }[];
    tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
    runtimeClassName?: string;
}

/**
 * The extended resources (a name with a domain, e.g. nvidia.com/gpu) a template's containers ask
 * for: the ExtendedResourceToleration admission plugin gives such a pod `<name>|Exists||NoSchedule`.
 */
function extendedResources(spec: TemplateSpec): string[] {
    return (spec.containers ?? []).flatMap((c) =>
        Object.values(c.resources ?? {}).flatMap((r) => Object.keys(r ?? {}).filter((k) => k.includes("/"))),
    );
}

/**
 * The admission policy for the agent tiers' namespaces, as CEL: what a pod there must be,
 * whatever its template or a Jenkinsfile says. (Mutating admission has run by then: the
 * ServiceAccount plugin has set `default` when no account was named, and added the token volume
 * when one is mounted.)
 * - it runs as its tier's one account;
 * - it carries no ServiceAccount token, except in a tier that talks to the API server (deploy);
 * - the scheduler places it (no `nodeName`, which would pick a node past taints and affinity);
 * - it mounts no claim but the shared claims its tier's templates name, and its ephemeral
 *   volumes (a genericEphemeralVolume workspace) ask for a new, empty claim: no data source to
 *   clone, no volume or selector to bind, no annotations, on the default class or one the tier's
 *   templates name, so no build reads another build's workspace; and no inline CSI volume;
 * - and it cannot hurt other workloads: a priority at most `maxPriority` (never a system class),
 *   only the tolerations its tier may carry, restartPolicy Never, a deadline of at most
 *   `podMaxSeconds`, no hostPort, and only a runtime class its tier's templates name.
 */
export function agentPodRules(
    tiers: Pick<Tier, "namespace" | "podServiceAccount" | "apiAccess" | "templates">[],
    bounds: AgentPodBounds,
): {
    variables: { name: string; expression: string }[];
    validations: { expression: string; messageExpression: string; reason: string }[];
} {
    const map = (value: (t: (typeof tiers)[number]) => string) =>
        `{${tiers.map((t) => `'${t.namespace}': ${value(t)}`).join(", ")}}[namespaceObject.metadata.name]`;
    const quote = (v: string) => `'${v}'`;
    /** A CEL list of strings, each once, in the order first given. */
    const strings = (values: string[]) => `[${[...new Set(values)].map(quote).join(", ")}]`;
    // Each template's pod spec, as the plugin is given it: built once, read by three variables.
    const specs = new Map<PodTemplate, TemplateSpec>();
    const specOf = (x: PodTemplate): TemplateSpec => {
        if (!specs.has(x)) specs.set(x, templatePodYaml(x).spec as TemplateSpec);
        return specs.get(x)!;
    };
    const account = "(has(object.spec.serviceAccountName) ? object.spec.serviceAccountName : 'default')";
    const volumes = "(has(object.spec.volumes) ? object.spec.volumes : [])";
    const claim = "v.ephemeral.volumeClaimTemplate";
    const fresh = [
        ...["dataSource", "dataSourceRef", "volumeName", "selector"].map((f) => `!has(${claim}.spec.${f})`),
        // Some provisioners choose where the data lives from the claim's annotations.
        `(!has(${claim}.metadata) || !has(${claim}.metadata.annotations))`,
        // The cluster's default class, or a class a template of the tier names.
        `(!has(${claim}.spec.storageClassName) || ${claim}.spec.storageClassName in variables.classes)`,
    ].join(" && ");
    const ns = "namespaceObject.metadata.name";
    return {
        variables: [
            { name: "allowed", expression: map((t) => quote(t.podServiceAccount)) },
            { name: "tokenless", expression: map((t) => String(!t.apiAccess)) },
            {
                name: "claims",
                expression: map((t) =>
                    strings(
                        t.templates.flatMap((x) => x.volumes.flatMap((v) => (v.type === "pvc" ? [v.claimName] : []))),
                    ),
                ),
            },
            {
                // The taints the tier's templates tolerate (their own fields and yaml), and the defaults.
                name: "tolerations",
                expression: map((t) =>
                    strings([
                        ...DEFAULT_TOLERATIONS,
                        ...bounds.tolerations.map(tolerationId),
                        ...t.templates
                            .flatMap((x) => extendedResources(specOf(x)))
                            .map((r) => `${r}|Exists||NoSchedule`),
                        ...t.templates.flatMap((x) => (specOf(x).tolerations ?? []).map(tolerationId)),
                    ]),
                ),
            },
            {
                name: "runtimeClasses",
                expression: map((t) => strings(t.templates.flatMap((x) => specOf(x).runtimeClassName ?? []))),
            },
            {
                name: "classes",
                expression: map((t) =>
                    strings(
                        t.templates.flatMap((x) =>
                            x.workspaceVolume.type === "genericEphemeralVolume" && x.workspaceVolume.storageClass
                                ? [x.workspaceVolume.storageClass]
                                : [],
                        ),
                    ),
                ),
            },
        ],
        validations: [
            {
                expression: `${account} == variables.allowed`,
                messageExpression: `'jenkins-k8s agent trust tiers: pods in ' + ${ns} + ' run as the ServiceAccount ' + variables.allowed + ' only, not ' + ${account}`,
                reason: "Forbidden",
            },
            {
                expression: `!variables.tokenless || ${volumes}.all(v, !has(v.projected) || !has(v.projected.sources) || v.projected.sources.all(s, !has(s.serviceAccountToken)))`,
                messageExpression: `'jenkins-k8s agent trust tiers: pods in ' + ${ns} + ' carry no ServiceAccount token: set automountServiceAccountToken: false and mount no serviceAccountToken volume'`,
                reason: "Forbidden",
            },
            {
                expression: "!has(object.spec.nodeName) || object.spec.nodeName == ''",
                messageExpression: `'jenkins-k8s agent trust tiers: pods in ' + ${ns} + ' are placed by the scheduler: spec.nodeName is not allowed'`,
                reason: "Forbidden",
            },
            {
                expression: `${volumes}.all(v, !has(v.persistentVolumeClaim) || v.persistentVolumeClaim.claimName in variables.claims)`,
                messageExpression: `'jenkins-k8s agent trust tiers: pods in ' + ${ns} + ' mount no claim but the shared claims named by the tier templates (a workspace claim is a genericEphemeralVolume)'`,
                reason: "Forbidden",
            },
            {
                expression: `${volumes}.all(v, !has(v.ephemeral) || !has(v.ephemeral.volumeClaimTemplate) || ${fresh})`,
                messageExpression: `'jenkins-k8s agent trust tiers: ephemeral volumes of pods in ' + ${ns} + ' ask for a new, empty claim: no dataSource, dataSourceRef, volumeName, selector or annotations, and the default class or one the tier templates name'`,
                reason: "Forbidden",
            },
            {
                // The Priority admission plugin has set spec.priority from the class by now.
                expression: `(!has(object.spec.priorityClassName) || !object.spec.priorityClassName.startsWith('system-')) && (!has(object.spec.priority) || object.spec.priority <= ${bounds.maxPriority})`,
                messageExpression: `'jenkins-k8s agent limits: pods in ' + ${ns} + ' run at priority ${bounds.maxPriority} at most (jenkins-k8s:agentMaxPriority), so no build preempts other workloads; PriorityClass ' + (has(object.spec.priorityClassName) ? object.spec.priorityClassName : '(none)') + ' gives ' + string(has(object.spec.priority) ? object.spec.priority : 0)`,
                reason: "Forbidden",
            },
            {
                expression: `(has(object.spec.tolerations) ? object.spec.tolerations : []).all(t, ${TOLERATION_ID_CEL} in variables.tolerations)`,
                messageExpression: `'jenkins-k8s agent limits: pods in ' + ${ns} + ' tolerate only the taints the tier templates tolerate (key|operator|value|effect): ' + variables.tolerations.join(', ')`,
                reason: "Forbidden",
            },
            {
                expression: "object.spec.restartPolicy == 'Never'",
                messageExpression: `'jenkins-k8s agent limits: pods in ' + ${ns} + ' have restartPolicy Never (an agent that ends is not restarted), not ' + object.spec.restartPolicy`,
                reason: "Forbidden",
            },
            {
                expression: `has(object.spec.activeDeadlineSeconds) && object.spec.activeDeadlineSeconds <= ${bounds.podMaxSeconds}`,
                messageExpression: `'jenkins-k8s agent limits: pods in ' + ${ns} + ' end within ${bounds.podMaxSeconds} seconds (jenkins-k8s:agentPodMaxSeconds): activeDeadlineSeconds ' + (has(object.spec.activeDeadlineSeconds) ? string(object.spec.activeDeadlineSeconds) : 'is unset')`,
                reason: "Forbidden",
            },
            {
                expression:
                    "object.spec.containers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)) && (!has(object.spec.initContainers) || object.spec.initContainers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)))",
                messageExpression: `'jenkins-k8s agent limits: pods in ' + ${ns} + ' open no port on the node (hostPort)'`,
                reason: "Forbidden",
            },
            {
                expression:
                    "!has(object.spec.runtimeClassName) || object.spec.runtimeClassName in variables.runtimeClasses",
                messageExpression: `'jenkins-k8s agent limits: pods in ' + ${ns} + ' use the runtime classes the tier templates name (' + variables.runtimeClasses.join(', ') + '), not ' + object.spec.runtimeClassName`,
                reason: "Forbidden",
            },
            {
                // Inline CSI volumes (secrets-store and the like) reach what their driver serves; no template asks for one.
                expression: `${volumes}.all(v, !has(v.csi))`,
                messageExpression: `'jenkins-k8s agent trust tiers: pods in ' + ${ns} + ' mount no inline CSI volume'`,
                reason: "Forbidden",
            },
        ],
    };
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
        const { names } = args;
        const labels = names.labels;
        const child = { parent: this };

        this.controllerServiceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-controller`,
            {
                metadata: { name: names.controllerServiceAccount, namespace: args.namespace, labels },
                // The plugin authenticates to the API server with this token (the build tier's cloud).
                automountServiceAccountToken: true,
            },
            child,
        );

        // The JCasC reload sidecar reports every reload as an Event on the controller pod, with the
        // pod's account: creating events in its own namespace is all it needs. RBAC cannot narrow
        // it to events about that pod; an event is a record, and grants nothing.
        grant(
            `${name}-casc-reload-events`,
            {
                metadata: { name: names.reloadEventsRole, namespace: args.namespace, labels },
                rules: [RELOAD_EVENTS_RULE],
                account: { name: this.controllerServiceAccount.metadata.name, namespace: args.namespace },
            },
            child,
        );

        let agentServiceAccount: k8s.core.v1.ServiceAccount | undefined;
        let deployer: k8s.core.v1.ServiceAccount | undefined;
        for (const tier of args.tiers) {
            const named = (what: string) => perTier(name, tier.name, what);
            const tierNamespace = args.tierNamespaces[tier.name];
            const agent = named("agent");
            const podAccount = new k8s.core.v1.ServiceAccount(
                tier.name === "deploy" ? `${name}-deployer` : agent.name,
                {
                    metadata: { name: tier.podServiceAccount, namespace: tierNamespace, labels },
                    // Build code is untrusted: no API token, except where deploying is the job.
                    automountServiceAccountToken: tier.name === "deploy",
                },
                { ...child, aliases: agent.aliases },
            );
            if (tier.name === "build") {
                agentServiceAccount = podAccount;
            }
            if (tier.name === "deploy") {
                deployer = podAccount;
            }

            let launcher: pulumi.Input<string> = this.controllerServiceAccount.metadata.name;
            let launcherNamespace: pulumi.Input<string> = args.namespace;
            if (tier.launcher) {
                const account = named("launcher");
                const sa = new k8s.core.v1.ServiceAccount(
                    account.name,
                    {
                        metadata: { name: tier.launcher.serviceAccount, namespace: args.namespace, labels },
                        // Its token reaches Jenkins through the Secret below, never a pod's mount.
                        automountServiceAccountToken: false,
                    },
                    { ...child, aliases: account.aliases },
                );
                // A long-lived token the token controller fills in; mounted only into the
                // controller, where JCasC makes it a System-scoped credential of this tier's cloud.
                const tokenName = named("launcher-token");
                const token = new k8s.core.v1.Secret(
                    tokenName.name,
                    {
                        metadata: {
                            name: tier.launcher.tokenSecret,
                            namespace: args.namespace,
                            labels,
                            annotations: { "kubernetes.io/service-account.name": sa.metadata.name },
                        },
                        type: "kubernetes.io/service-account-token",
                    },
                    { ...child, aliases: tokenName.aliases },
                );
                this.launcherTokenSecretNames[tier.name] = token.metadata.name;
                launcher = sa.metadata.name;
                launcherNamespace = sa.metadata.namespace;
            }

            const manager = named("agent-manager");
            grant(
                manager.name,
                {
                    metadata: { name: names.agentManagerRole, namespace: tierNamespace, labels },
                    rules: AGENT_MANAGER_RULES,
                    account: { name: launcher, namespace: launcherNamespace },
                },
                { ...child, aliases: manager.aliases },
            );
        }
        this.agentServiceAccount = agentServiceAccount!;

        if (deployer) {
            const subject = {
                kind: "ServiceAccount",
                name: deployer.metadata.name,
                namespace: deployer.metadata.namespace,
            };
            for (const ns of args.deployNamespaces) {
                // A RoleBinding to a ClusterRole grants the role's rights in this namespace only.
                new k8s.rbac.v1.RoleBinding(
                    `${name}-deploy-${ns}`,
                    {
                        metadata: { name: names.deployerServiceAccount, namespace: ns, labels },
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

        if (args.admissionPolicy) {
            const rules = agentPodRules(args.tiers, args.podBounds);
            const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
                `${name}-agent-accounts`,
                {
                    metadata: { name: names.agentAccountsPolicy, labels },
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
                child,
            );
            new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                `${name}-agent-accounts`,
                {
                    metadata: { name: names.agentAccountsPolicy, labels },
                    spec: { policyName: policy.metadata.name, validationActions: ["Deny"] },
                },
                child,
            );
        }

        this.registerOutputs({
            controllerServiceAccount: this.controllerServiceAccount.metadata.name,
            agentServiceAccount: this.agentServiceAccount.metadata.name,
            launcherTokenSecretNames: this.launcherTokenSecretNames,
        });
    }
}
