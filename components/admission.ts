// The admission policy of the agent tiers' namespaces, as CEL: a pure builder. JenkinsRbac makes
// the ValidatingAdmissionPolicy and its binding from it; the cluster tier runs it on the real API server.
import type { Tier } from "../config/tiers";
import type { PodTemplate } from "../config/podTemplates";
import { templatePodYaml } from "../jcasc/jcasc";
import { configKey } from "../config/keys";

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
                messageExpression: `'jenkins-k8s agent limits: pods in ' + ${ns} + ' run at priority ${bounds.maxPriority} at most (${configKey("agentMaxPriority")}), so no build preempts other workloads; PriorityClass ' + (has(object.spec.priorityClassName) ? object.spec.priorityClassName : '(none)') + ' gives ' + string(has(object.spec.priority) ? object.spec.priority : 0)`,
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
                messageExpression: `'jenkins-k8s agent limits: pods in ' + ${ns} + ' end within ${bounds.podMaxSeconds} seconds (${configKey("agentPodMaxSeconds")}): activeDeadlineSeconds ' + (has(object.spec.activeDeadlineSeconds) ? string(object.spec.activeDeadlineSeconds) : 'is unset')`,
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
