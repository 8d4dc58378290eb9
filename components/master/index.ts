// JenkinsMaster: the Jenkins controller. Its admin Secret and scripts here; the pod in
// workload.ts, the Services, Ingress, HTTPRoute and ServiceMonitor in exposure.ts, the
// PodDisruptionBudget in guards.ts, the NetworkPolicy's spec in ../networkPolicies.ts.
import type { Proxy } from "../../config/settings";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Names } from "../../config/names";
import type { AgentConnection } from "../../config/keys";
import type { Settings } from "../../config/settings";
import { SECRET_FILES } from "../../jcasc/jcasc";
import {
    agentServiceSpec,
    externalUrl,
    ingressAnnotations,
    httpRouteSpec,
    ingressSpec,
    serviceMonitorSpec,
    webServiceSpec,
} from "./exposure";
import { disruptionBudgetSpec } from "./guards";
import { controllerNetworkPolicy } from "../networkPolicies";
import { AUTOMATION_PASSWORD_KEY, podScripts, RestartParts, workloadSpec } from "./workload";
import { installList, Lock } from "../../plugins/lock";
import { component } from "../../config/metadata";
import { CONTROLLER_COMPONENT } from "../../policy/facts";

export interface JenkinsMasterArgs {
    /** Namespace of the controller and of everything this component makes. */
    namespace: pulumi.Input<string>;
    /** Names shared with the other components (Services, Secret, ConfigMaps, selector labels). */
    names: Names;
    /** The controller container: image, resources, heap share, extra JVM options, time zone. */
    controller: Settings["controller"];
    /** Id of the admin user; its password is generated here and kept in the stack's state. */
    adminUsername: string;
    /** The build-only user of local sign-in; its password is generated here too. */
    automationUser?: string;
    /** Secrets the credentials and the sign-in read: mounted, each whole, and no other. */
    credentialSecrets: string[];
    /** The plugin lock to install (checked against the stack's list at preview), and where it is. */
    plugins: { lock: Lock; lockFile: string; mirror?: string; downloads: number };
    /** The proxy for the plugin downloads and Jenkins' own requests; none when unset. */
    proxy?: Proxy;
    /** tcp: the inbound agent port and its Service; websocket: HTTP only. */
    agentConnection: AgentConnection;
    /** The web Service: ClusterIP (default), NodePort or LoadBalancer. */
    service: Settings["service"];
    /** An Ingress for the web Service; none when unset. */
    ingress?: Settings["ingress"];
    /** An HTTPRoute to a Gateway API Gateway, the alternative to the Ingress. */
    gateway?: Settings["gateway"];
    /** A ServiceMonitor scraping /prometheus/ (metrics must be on; the CRD must exist). */
    serviceMonitor: boolean;
    /** Limit who reaches the controller (the web port to these, the agent port to agents); unset: no policy. */
    networkPolicy?: Pick<Settings["network"], "webAllowedCidrs" | "webAllowedNamespaces">;
    /** A PodDisruptionBudget that blocks voluntary eviction. */
    disruptionBudget: boolean;
    /** The URL users reach Jenkins at (publicUrl, or the Ingress's); unset: none known. */
    publicUrl?: string;
    /** Jenkins home is on NFS: a root init container fixes its ownership. */
    nfsHome: boolean;
    /** Every agent tier's namespace: the only pods that may reach the agent port. */
    agentNamespaces: string[];
    /** Launchers' token Secrets, mounted as the files JCasC makes System-scoped credentials of. */
    launcherTokens: { secretName: pulumi.Input<string>; file: string }[];
    /** The Jenkins home claim (JenkinsStorage's), mounted at JENKINS_HOME. */
    homeClaimName: pulumi.Input<string>;
    /** The controller's ServiceAccount (JenkinsRbac's): it launches the agents of open tiers. */
    serviceAccountName: pulumi.Input<string>;
    /** The JCasC ConfigMap (JenkinsCloudConfig's), mounted where JCasC and the reload sidecar read it. */
    cascConfigMapName: pulumi.Input<string>;
    /** The pods' restart hash and its parts for this controller, lock and mounts (workload.ts controllerRestart). */
    restart: { hash: string; parts: RestartParts };
    /** What the controller's rollout must wait for: the restore point taken before a restart. */
    after?: pulumi.Resource[];
}

/**
 * The Jenkins controller (JenkinsMaster is the design's name for it): admin Secret, plugin lock,
 * the workload and its Services. One replica
 * with the Recreate strategy, so two controllers never share one Jenkins home during a rollout.
 */
export class JenkinsMaster extends pulumi.ComponentResource {
    public readonly adminPassword: pulumi.Output<string>;
    /** The automation user's password; unset without one. */
    public readonly automationPassword?: pulumi.Output<string>;
    public readonly service: k8s.core.v1.Service;
    /** URL outside the cluster, when the settings or the Service type give one. */
    public readonly externalUrl: pulumi.Output<string | undefined>;

    constructor(name: string, args: JenkinsMasterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jenkins:index:JenkinsMaster", name, {}, opts);
        const { names } = args;
        const labels = { ...names.labels, ...component(CONTROLLER_COMPONENT) };
        const meta = (metaName: string, extra: Record<string, unknown> = {}) => ({
            name: metaName,
            namespace: args.namespace,
            labels,
            ...extra,
        });
        const child = { parent: this };
        // Tells the web Service from the agent Service, for the ServiceMonitor's selector.
        const webLabels = { ...labels, "jenkins-k8s/service": "web" };

        // Kept in state: the same password on every update, with no read-back from the cluster.
        const password = new random.RandomPassword(
            `${name}-admin-password`,
            { length: 32, special: true, overrideSpecial: "-_.~" },
            child,
        );
        this.adminPassword = pulumi.secret(password.result);
        if (args.automationUser) {
            const automation = new random.RandomPassword(
                `${name}-automation-password`,
                { length: 32, special: true, overrideSpecial: "-_.~" },
                child,
            );
            this.automationPassword = pulumi.secret(automation.result);
        }
        // Lets the reload sidecar, and only it, ask JCasC to re-read its file.
        const reloadToken = new random.RandomPassword(
            `${name}-casc-reload-token`,
            { length: 40, special: false },
            child,
        );
        const adminSecret = new k8s.core.v1.Secret(
            `${name}-admin`,
            {
                metadata: meta(names.adminSecret),
                type: "Opaque",
                stringData: {
                    username: args.adminUsername,
                    password: this.adminPassword,
                    ...(this.automationPassword ? { [AUTOMATION_PASSWORD_KEY]: this.automationPassword } : {}),
                    [SECRET_FILES.reloadToken]: reloadToken.result,
                },
            },
            child,
        );

        const scripts = podScripts(installList(args.plugins.lock, args.plugins.lockFile));
        const scriptsConfigMap = new k8s.core.v1.ConfigMap(
            `${name}-scripts`,
            { metadata: meta(names.scriptsConfigMap), data: scripts },
            child,
        );

        new k8s.apps.v1.Deployment(
            `${name}-controller`,
            {
                metadata: meta(names.controller),
                spec: workloadSpec({
                    names,
                    labels,
                    controller: args.controller,
                    agentConnection: args.agentConnection,
                    nfsHome: args.nfsHome,
                    pluginDownloads: args.plugins,
                    proxy: args.proxy,
                    restart: args.restart,
                    serviceAccountName: args.serviceAccountName,
                    homeClaimName: args.homeClaimName,
                    cascConfigMapName: args.cascConfigMapName,
                    scriptsConfigMapName: scriptsConfigMap.metadata.name,
                    adminSecretName: adminSecret.metadata.name,
                    launcherTokens: args.launcherTokens,
                    automationUser: this.automationPassword !== undefined,
                    credentialSecrets: args.credentialSecrets,
                }),
            },
            // The first start downloads plugins; give it longer than the provider's 10 minutes.
            { parent: this, customTimeouts: { create: "20m", update: "20m" }, dependsOn: args.after ?? [] },
        );

        this.service = new k8s.core.v1.Service(
            `${name}-web`,
            { metadata: { ...meta(names.service), labels: webLabels }, spec: webServiceSpec(names, args.service) },
            child,
        );
        if (args.agentConnection === "tcp") {
            new k8s.core.v1.Service(
                `${name}-agent`,
                { metadata: meta(names.agentService), spec: agentServiceSpec(names) },
                child,
            );
        }
        if (args.ingress) {
            new k8s.networking.v1.Ingress(
                `${name}-web`,
                {
                    metadata: meta(names.service, { annotations: ingressAnnotations(args.ingress) }),
                    spec: ingressSpec(args.ingress, this.service.metadata.name),
                },
                // The provider waits for the ingress controller's address unless ingressAwait is false
                // (pulumi.com/skipAwait, exposure.ts ingressAnnotations).
                child,
            );
        }
        if (args.gateway) {
            new k8s.apiextensions.CustomResource(
                `${name}-route`,
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: meta(names.service),
                    spec: httpRouteSpec(args.gateway, this.service.metadata.name),
                },
                child,
            );
        }
        if (args.serviceMonitor) {
            new k8s.apiextensions.CustomResource(
                `${name}-metrics`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "ServiceMonitor",
                    metadata: meta(names.service),
                    spec: serviceMonitorSpec(names.namespace, webLabels),
                },
                child,
            );
        }
        if (args.networkPolicy) {
            new k8s.networking.v1.NetworkPolicy(
                `${name}-controller`,
                {
                    metadata: meta(names.controller),
                    spec: controllerNetworkPolicy(
                        names,
                        args.networkPolicy,
                        args.agentConnection,
                        args.agentNamespaces,
                    ),
                },
                child,
            );
        }
        if (args.disruptionBudget) {
            new k8s.policy.v1.PodDisruptionBudget(
                `${name}-controller`,
                { metadata: meta(names.controller), spec: disruptionBudgetSpec(names) },
                child,
            );
        }

        this.externalUrl = externalUrl(args.publicUrl, args.service, this.service);
        this.registerOutputs({
            adminPassword: this.adminPassword,
            automationPassword: this.automationPassword,
            serviceName: this.service.metadata.name,
            externalUrl: this.externalUrl,
        });
    }
}
