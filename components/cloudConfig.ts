import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { buildCasc, CASC_FILE, renderCasc } from "../jcasc/jcasc";
import { AGENT_PORT, HTTP_PORT, Names } from "../config/names";
import { AGENT_UID } from "../config/podTemplates";
import { Settings } from "../config/settings";
import { Tier } from "../config/tiers";

export interface JenkinsCloudConfigArgs {
    namespace: pulumi.Input<string>;
    /** Each tier's namespace, as created (or named) by the stack. */
    tierNamespaces: Record<string, pulumi.Input<string>>;
    tiers: Tier[];
    settings: Settings;
    names: Names;
}

/** The deploy tier's egress: anywhere (the API server included) but the link-local ranges. */
export const API_EGRESS = [
    { cidr: "0.0.0.0/0", except: ["169.254.0.0/16"] },
    { cidr: "::/0", except: ["fe80::/10", "fd00:ec2::254/128"] },
];

/**
 * Where a tier's pods may connect: DNS, the controller's web (and agent) port, and the configured
 * CIDRs less their excepts, which by default leave out the private and link-local ranges: the API
 * server (these pods hold no token), cluster services and the cloud's metadata endpoint. A
 * NetworkPolicy's rules add up, so a longer prefix in agentEgressCidrs re-admits one host.
 */
export function agentEgress(
    s: Settings,
    names: Names,
    egress: { cidr: string; except: string[] }[],
): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        // Every pod of the namespace: the templates' and the pipelines' own.
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
            {
                ports: [
                    { port: 53, protocol: "UDP" },
                    { port: 53, protocol: "TCP" },
                ],
            },
            {
                to: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": s.namespace } },
                        podSelector: { matchLabels: names.controllerSelector },
                    },
                ],
                ports: [
                    { port: HTTP_PORT, protocol: "TCP" },
                    ...(s.agents.connection === "tcp" ? [{ port: AGENT_PORT, protocol: "TCP" }] : []),
                ],
            },
            ...egress.map(({ cidr, except }) => ({
                to: [{ ipBlock: { cidr, ...(except.length > 0 ? { except } : {}) } }],
            })),
        ],
    };
}

/**
 * The JCasC ConfigMap: security realm, the Kubernetes cloud and its agent pod templates. The
 * document is built by a pure function (casc.ts); this component stores it, and optionally
 * pre-pulls the agent images on every node. It holds no secret: the admin password is a
 * `${...}` reference JCasC resolves from the mounted Secret.
 */
export class JenkinsCloudConfig extends pulumi.ComponentResource {
    /** The JCasC document, as YAML. */
    public readonly casc: string;
    public readonly configMap: k8s.core.v1.ConfigMap;
    public readonly configMapName: pulumi.Output<string>;
    public readonly prePuller?: k8s.apps.v1.DaemonSet;

    constructor(name: string, args: JenkinsCloudConfigArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jenkins:index:JenkinsCloudConfig", name, {}, opts);
        const { settings: s, names } = args;
        this.casc = renderCasc(buildCasc(s, names, args.tiers));

        const build = args.tiers.find((t) => t.name === "build");
        for (const t of build?.templates.filter((x) => x.volumes.some((v) => v.type === "secret")) ?? []) {
            void pulumi.log.warn(
                `pod template '${t.name}' mounts a Secret in the build tier (${build!.namespace}), whose cloud every job ` +
                    "may use: any Jenkinsfile can read that Secret with a pod of its own. Keep it in a Jenkins credential " +
                    "(withCredentials), or give the template podSecurity: baseline to put it in a usage-restricted tier.",
                this,
            );
        }
        for (const t of s.agents.templates) {
            if (t.hostDockerSocket) {
                void pulumi.log.warn(
                    `pod template '${t.name}' mounts the node's Docker socket (hostDockerSocket: true): every build on it ` +
                        "is root on the node, and the socket does not exist on containerd nodes (Kubernetes 1.24+). " +
                        "Prefer the image-build template (kaniko, in the baseline tier).",
                    this,
                );
            }
        }

        this.configMap = new k8s.core.v1.ConfigMap(
            `${name}-casc`,
            {
                metadata: {
                    name: names.cascConfigMap,
                    namespace: args.namespace,
                    labels: { ...names.labels, "app.kubernetes.io/component": "casc" },
                },
                data: { [CASC_FILE]: this.casc },
            },
            { parent: this },
        );
        this.configMapName = this.configMap.metadata.name;

        if (s.agents.prePullImages) {
            this.prePuller = this.prePullDaemonSet(name, args);
        }

        // Every tier is limited; the deploy tier talks to the API server (a private address) by
        // design, so it loses only the link-local ranges: the nodes' cloud metadata endpoints.
        const egress = s.agents.egress;
        for (const tier of egress ? args.tiers : []) {
            new k8s.networking.v1.NetworkPolicy(
                tier.name === "build" ? `${name}-agent-egress` : `${name}-${tier.name}-agent-egress`,
                {
                    metadata: {
                        name: names.agentEgressPolicy,
                        namespace: args.tierNamespaces[tier.name],
                        labels: names.labels,
                    },
                    spec: agentEgress(s, names, tier.apiAccess ? API_EGRESS : egress!),
                },
                { parent: this },
            );
        }

        this.registerOutputs({ configMapName: this.configMapName });
    }

    /**
     * Pulls every agent image on every node once: each image runs as an init container that
     * exits at once, then a pause container keeps the pod (and so the images) in place.
     */
    private prePullDaemonSet(name: string, args: JenkinsCloudConfigArgs): k8s.apps.v1.DaemonSet {
        const { settings: s, names } = args;
        const images = [...new Set(s.agents.templates.flatMap((t) => t.containers.map((c) => c.image)))];
        const selector = { "app.kubernetes.io/name": names.prePuller };
        const securityContext = {
            runAsNonRoot: true,
            runAsUser: AGENT_UID,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        };
        const small = { requests: { cpu: "1m", memory: "8Mi" }, limits: { cpu: "50m", memory: "32Mi" } };
        return new k8s.apps.v1.DaemonSet(
            `${name}-agent-images`,
            {
                metadata: {
                    name: names.prePuller,
                    namespace: args.tierNamespaces.build,
                    labels: { ...names.labels, ...selector },
                },
                spec: {
                    selector: { matchLabels: selector },
                    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%" } },
                    template: {
                        metadata: { labels: { ...names.labels, ...selector } },
                        spec: {
                            automountServiceAccountToken: false,
                            serviceAccountName: names.agentServiceAccount,
                            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
                            // Each image needs a shell; `sh -c true` only proves it was pulled.
                            initContainers: images.map((image, i) => ({
                                name: `pull-${i}`,
                                image,
                                command: ["sh", "-c", "true"],
                                resources: small,
                                securityContext,
                            })),
                            containers: [
                                { name: "pause", image: s.agents.pauseImage, resources: small, securityContext },
                            ],
                        },
                    },
                },
            },
            { parent: this },
        );
    }
}
