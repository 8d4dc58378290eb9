import * as k8s from "@pulumi/kubernetes";
import type { TierLimits } from "../config/agentLimits";
import { reaperResources } from "./reaper";
import * as pulumi from "@pulumi/pulumi";
import { buildCasc, CASC_FILE, CascInput, renderCasc, sha256 } from "../jcasc/jcasc";
import { Names } from "../config/names";
import { agentEgress, API_EGRESS, type EgressRule } from "./networkPolicies";
import { AGENT_UID, PodTemplate } from "../config/podTemplates";
import { restrictedContainer, RUNTIME_DEFAULT_SECCOMP } from "../config/podSecurity";
import { perTier } from "./perTier";
import { component } from "../config/metadata";

/** Where the pre-puller copies its no-op, in each pod. */
const NOOP_DIR = "/jenkins-k8s-noop";

/** Templates that run on the same nodes, and the images they use. */
export interface PrePullGroup {
    /** "" for templates placed anywhere; else a short hash of the placement, for the DaemonSet's name. */
    suffix: string;
    nodeSelector: Record<string, string>;
    tolerations: PodTemplate["tolerations"];
    images: string[];
}

/** The templates grouped by placement (node selector and tolerations), in the templates' order. */
export function prePullGroups(templates: PodTemplate[]): PrePullGroup[] {
    const groups = new Map<string, PrePullGroup>();
    for (const t of templates) {
        const nodeSelector = Object.fromEntries(Object.entries(t.nodeSelector).sort(([a], [b]) => a.localeCompare(b)));
        const key = JSON.stringify([nodeSelector, t.tolerations]);
        const anywhere = Object.keys(nodeSelector).length === 0 && t.tolerations.length === 0;
        const group: PrePullGroup = groups.get(key) ?? {
            suffix: anywhere ? "" : sha256(key).slice(0, 8),
            nodeSelector,
            // Without tolerationSeconds: a pre-puller evicted after N seconds would be recreated
            // by its DaemonSet, again and again; it stays as long as the taint does.
            tolerations: t.tolerations.map(({ tolerationSeconds: _seconds, ...rest }) => rest),
            images: [],
        };
        groups.set(key, group);
        for (const image of t.containers.map((c) => c.image)) {
            if (!group.images.includes(image)) {
                group.images.push(image);
            }
        }
    }
    return [...groups.values()];
}

export interface JenkinsCloudConfigArgs {
    /** Namespace of the controller, where the ConfigMap goes. */
    namespace: pulumi.Input<string>;
    /** Names shared with the other components (the ConfigMap's, the controller's selector labels). */
    names: Names;
    /** What the JCasC document is built from: the admin user, the URLs, the clouds and their tiers. */
    casc: CascInput;
    /** Each tier's namespace, as created (or named) by the stack. */
    tierNamespaces: Record<string, pulumi.Input<string>>;
    /**
     * Pull every template's images on the nodes it can run on, ahead of the first build: a static
     * busybox (toolImage) is the no-op each image runs; a pause container keeps the pod. Unset: no pre-pulling.
     */
    prePull?: { pauseImage: string; toolImage: string };
    /** Each tier's ResourceQuota and LimitRange; none when unset. */
    limits?: TierLimits[];
    /** What the JCasC document must wait for: this up's restore point, when it takes one. */
    after?: pulumi.Resource[];
    /** The agent reaper (components/reaper.ts); none when unset. */
    reaper?: { stuckSeconds: number; image: string };
    /** Limit agent pods' egress to DNS, the controller and these CIDRs; unset: no limit. */
    egress?: EgressRule[];
}

/**
 * The JCasC ConfigMap: security realm, the Kubernetes cloud and its agent pod templates. The
 * document is built by a pure function (jcasc/jcasc.ts); this component stores it, and optionally
 * pre-pulls the agent images on every node. It holds no secret: the admin password is a
 * `${...}` reference JCasC resolves from the mounted Secret.
 */
export class JenkinsCloudConfig extends pulumi.ComponentResource {
    /** The JCasC document, as YAML. */
    public readonly casc: string;
    public readonly configMap: k8s.core.v1.ConfigMap;
    public readonly configMapName: pulumi.Output<string>;
    /** The pre-pullers: one DaemonSet per placement (node selector and tolerations) of the templates. */
    public readonly prePullers: k8s.apps.v1.DaemonSet[];

    constructor(name: string, args: JenkinsCloudConfigArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jenkins:index:JenkinsCloudConfig", name, {}, opts);
        const { names } = args;
        this.casc = renderCasc(buildCasc(args.casc));

        this.configMap = new k8s.core.v1.ConfigMap(
            `${name}-casc`,
            {
                metadata: {
                    name: names.cascConfigMap,
                    namespace: args.namespace,
                    labels: { ...names.labels, ...component("casc") },
                },
                data: { [CASC_FILE]: this.casc },
            },
            // After the restore point an up takes: the reload sidecar applies a changed document
            // within a minute, and the snapshot must hold the home as it was before it.
            { parent: this, dependsOn: args.after ?? [] },
        );
        this.configMapName = this.configMap.metadata.name;

        const templates = args.casc.tiers.flatMap((t) => t.templates);
        this.prePullers = args.prePull
            ? prePullGroups(templates).map((group) => this.prePullDaemonSet(name, args, args.prePull!, group))
            : [];

        // Every tier is limited; the deploy tier talks to the API server (a private address) by
        // design, so it loses only the link-local ranges: the nodes' cloud metadata endpoints.
        const egress = args.egress;
        for (const tier of egress ? args.casc.tiers : []) {
            const { name: resourceName, aliases } = perTier(name, tier.name, "agent-egress");
            new k8s.networking.v1.NetworkPolicy(
                resourceName,
                {
                    metadata: {
                        name: names.agentEgressPolicy,
                        namespace: args.tierNamespaces[tier.name],
                        labels: names.labels,
                    },
                    spec: agentEgress(names, args.casc.connection, tier.apiAccess ? API_EGRESS : egress!),
                },
                { parent: this, aliases },
            );
        }

        // What each tier's pods may take at once, and one container or pod at most (config/agentLimits.ts).
        for (const limits of args.limits ?? []) {
            const tier = limits.tier.name;
            const metadata = { name: names.agentLimits, namespace: args.tierNamespaces[tier], labels: names.labels };
            const quota = perTier(name, tier, "agent-quota");
            new k8s.core.v1.ResourceQuota(
                quota.name,
                { metadata, spec: { hard: limits.quota } },
                { parent: this, aliases: quota.aliases },
            );
            const limitRange = perTier(name, tier, "agent-limits");
            new k8s.core.v1.LimitRange(
                limitRange.name,
                {
                    metadata,
                    spec: {
                        limits: [
                            { type: "Container", ...limits.container },
                            { type: "Pod", max: limits.pod.max },
                        ],
                    },
                },
                { parent: this, aliases: limitRange.aliases },
            );
        }

        if (args.reaper) {
            reaperResources(
                name,
                { namespace: args.namespace, names, tierNamespaces: args.tierNamespaces, ...args.reaper },
                this,
            );
        }

        this.registerOutputs({
            configMapName: this.configMapName,
            casc: this.casc,
            prePullers: this.prePullers.map((d) => d.metadata.name),
        });
    }

    /**
     * Pulls a placement group's images on every node its templates can run on: a tool init
     * container copies a statically linked busybox into a shared emptyDir as `true`; each image
     * then runs that copy as an init container (so images without a shell work too) and exits at
     * once; a pause container keeps the pod, and so the images, in place.
     */
    private prePullDaemonSet(
        name: string,
        args: JenkinsCloudConfigArgs,
        prePull: NonNullable<JenkinsCloudConfigArgs["prePull"]>,
        group: PrePullGroup,
    ): k8s.apps.v1.DaemonSet {
        const { names } = args;
        const dsName = group.suffix ? `${names.prePuller}-${group.suffix}` : names.prePuller;
        const selector = { "app.kubernetes.io/name": dsName };
        const securityContext = restrictedContainer(AGENT_UID);
        const small = { requests: { cpu: "1m", memory: "8Mi" }, limits: { cpu: "50m", memory: "32Mi" } };
        const noop = { name: "noop", mountPath: NOOP_DIR, readOnly: true };
        return new k8s.apps.v1.DaemonSet(
            group.suffix ? `${name}-agent-images-${group.suffix}` : `${name}-agent-images`,
            {
                metadata: {
                    name: dsName,
                    // Beside the controller, not in an agent tier's namespace: a DaemonSet's pods
                    // restart forever and have no deadline, which the agent admission policy refuses,
                    // and they would count against the tier's quota.
                    namespace: args.namespace,
                    labels: { ...names.labels, ...selector },
                },
                spec: {
                    selector: { matchLabels: selector },
                    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%" } },
                    template: {
                        metadata: { labels: { ...names.labels, ...selector } },
                        spec: {
                            automountServiceAccountToken: false,
                            securityContext: { seccompProfile: RUNTIME_DEFAULT_SECCOMP },
                            ...(Object.keys(group.nodeSelector).length > 0 ? { nodeSelector: group.nodeSelector } : {}),
                            ...(group.tolerations.length > 0 ? { tolerations: group.tolerations } : {}),
                            initContainers: [
                                {
                                    name: "noop",
                                    image: prePull.toolImage,
                                    // busybox runs the applet its name says: a copy named `true` is true.
                                    command: ["/bin/busybox", "cp", "/bin/busybox", `${NOOP_DIR}/true`],
                                    resources: small,
                                    securityContext,
                                    volumeMounts: [{ ...noop, readOnly: false }],
                                },
                                ...group.images.map((image, i) => ({
                                    name: `pull-${i}`,
                                    image,
                                    command: [`${NOOP_DIR}/true`],
                                    resources: small,
                                    securityContext,
                                    volumeMounts: [noop],
                                })),
                            ],
                            containers: [
                                { name: "pause", image: prePull.pauseImage, resources: small, securityContext },
                            ],
                            volumes: [{ name: noop.name, emptyDir: { sizeLimit: "8Mi" } }],
                        },
                    },
                },
            },
            { parent: this },
        );
    }
}
