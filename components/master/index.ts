import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { readFileSync } from "fs";
import * as path from "path";
import { AGENT_POD_LABELS, CASC_FILE, SECRET_FILES, sha256 } from "../../jcasc/jcasc";
import { AGENT_PORT, HTTP_PORT, Names } from "../../config/names";
import { Settings } from "../../config/settings";
import { Tier, TierName } from "../../config/tiers";

export interface JenkinsMasterArgs {
    namespace: pulumi.Input<string>;
    settings: Settings;
    names: Names;
    /** The agent tiers: their namespaces may reach the controller; their launchers' tokens are mounted. */
    tiers: Tier[];
    homeClaimName: pulumi.Input<string>;
    serviceAccountName: pulumi.Input<string>;
    /** The Secret holding each launcher's token, by tier. */
    launcherTokenSecrets: Partial<Record<TierName, pulumi.Input<string>>>;
    cascConfigMapName: pulumi.Input<string>;
}

const HOME = "/var/jenkins_home";
const CASC_DIR = "/var/jenkins_casc";
const SCRIPTS_DIR = "/var/jenkins_scripts";
const SECRETS_DIR = "/run/secrets/jenkins";
const WAR_CACHE = "/var/jenkins_cache";
const UID = 1000;

const script = (file: string) => readFileSync(path.join(__dirname, "..", "..", "controller", file), "utf8");
export const INSTALL_PLUGINS_SCRIPT = script("install-plugins.sh");
export const CASC_RELOAD_SCRIPT = script("casc-reload.sh");

/** plugins.txt for jenkins-plugin-cli: one `artifactId:version` a line. */
export function pluginsFile(plugins: string[]): string {
    return plugins.join("\n") + "\n";
}

/**
 * JVM options. The heap is a share of the container limit: -Xmx equal to the limit (as in the
 * original) leaves no room for metaspace, threads and native memory, and the kernel kills the JVM.
 */
export function javaOpts(s: Settings): string {
    return [
        `-XX:MaxRAMPercentage=${s.controller.heapPercent}`,
        `-XX:InitialRAMPercentage=${Math.min(s.controller.heapPercent, 25)}`,
        "-XX:+ExitOnOutOfMemoryError",
        // Configuration comes from JCasC; the wizard would lock the instance until someone clicks.
        "-Djenkins.install.runSetupWizard=false",
        // Provision agent pods as soon as a build is queued instead of waiting for load statistics.
        "-Dhudson.slaves.NodeProvisioner.initialDelay=0",
        "-Dhudson.slaves.NodeProvisioner.MARGIN=50",
        "-Dhudson.slaves.NodeProvisioner.MARGIN0=0.85",
        `-Duser.timezone=${s.controller.timezone}`,
        // The kubelet expands $(VAR) from the env var set before JAVA_OPTS (the Secret's token).
        "-Dcasc.reload.token=$(CASC_RELOAD_TOKEN)",
        s.controller.javaOpts,
    ]
        .filter((o) => o !== "")
        .join(" ");
}

/**
 * Who may reach the controller. The agent port: agent pods only. The web port: agent pods (both
 * connection modes use jenkinsUrl) plus the configured CIDRs and namespaces, or anyone when
 * none are configured. Egress stays open: the controller needs the API server, the update
 * center and source hosts.
 */
export function controllerIngress(
    s: Settings,
    names: Names,
    agentNamespaces: string[],
): k8s.types.input.networking.v1.NetworkPolicySpec {
    const agents = {
        namespaceSelector: {
            matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: agentNamespaces }],
        },
        podSelector: { matchLabels: AGENT_POD_LABELS },
    };
    const webFrom = [
        ...s.network.webAllowedCidrs.map((cidr) => ({ ipBlock: { cidr } })),
        ...s.network.webAllowedNamespaces.map((ns) => ({
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
        })),
    ];
    const web = {
        ports: [{ port: HTTP_PORT, protocol: "TCP" }],
        ...(webFrom.length > 0 ? { from: [agents, ...webFrom] } : {}),
    };
    const tunnel = { ports: [{ port: AGENT_PORT, protocol: "TCP" }], from: [agents] };
    return {
        podSelector: { matchLabels: names.controllerSelector },
        policyTypes: ["Ingress"],
        ingress: s.agents.connection === "tcp" ? [web, tunnel] : [web],
    };
}

const restrictedContainer: k8s.types.input.core.v1.SecurityContext = {
    runAsNonRoot: true,
    runAsUser: UID,
    runAsGroup: UID,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

/**
 * The Jenkins controller: admin Secret, plugin list, the workload and its Services. One replica
 * with the Recreate strategy, so two controllers never share one Jenkins home during a rollout.
 */
export class JenkinsMaster extends pulumi.ComponentResource {
    public readonly adminPassword: pulumi.Output<string>;
    public readonly adminSecret: k8s.core.v1.Secret;
    public readonly scriptsConfigMap: k8s.core.v1.ConfigMap;
    public readonly deployment: k8s.apps.v1.Deployment;
    public readonly service: k8s.core.v1.Service;
    public readonly agentService?: k8s.core.v1.Service;
    public readonly networkPolicy?: k8s.networking.v1.NetworkPolicy;
    public readonly ingress?: k8s.networking.v1.Ingress;
    public readonly serviceMonitor?: k8s.apiextensions.CustomResource;
    public readonly disruptionBudget?: k8s.policy.v1.PodDisruptionBudget;
    /** Hash of what needs a controller restart to apply; it is the pod template's annotation. */
    public readonly restartHash: string;
    /** URL outside the cluster, when the settings or the Service type give one. */
    public readonly externalUrl: pulumi.Output<string | undefined>;

    constructor(name: string, args: JenkinsMasterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jenkins:index:JenkinsMaster", name, {}, opts);
        const { settings: s, names } = args;
        const labels = { ...names.labels, "app.kubernetes.io/component": "controller" };
        const tcp = s.agents.connection === "tcp";
        // Tells the web Service from the agent Service, for the ServiceMonitor's selector.
        const webLabels = { ...labels, "jenkins-k8s/service": "web" };

        // Kept in state: the same password on every update, with no read-back from the cluster.
        const password = new random.RandomPassword(
            `${name}-admin-password`,
            { length: 32, special: true, overrideSpecial: "-_.~" },
            { parent: this },
        );
        this.adminPassword = pulumi.secret(password.result);
        // Lets the reload sidecar, and only it, ask JCasC to re-read its file.
        const reloadToken = new random.RandomPassword(
            `${name}-casc-reload-token`,
            { length: 40, special: false },
            { parent: this },
        );
        this.adminSecret = new k8s.core.v1.Secret(
            `${name}-admin`,
            {
                metadata: { name: names.adminSecret, namespace: args.namespace, labels },
                type: "Opaque",
                stringData: {
                    username: s.adminUsername,
                    password: this.adminPassword,
                    [SECRET_FILES.reloadToken]: reloadToken.result,
                },
            },
            { parent: this },
        );

        const plugins = pluginsFile(s.plugins);
        const scripts = {
            "plugins.txt": plugins,
            "install-plugins.sh": INSTALL_PLUGINS_SCRIPT,
            "casc-reload.sh": CASC_RELOAD_SCRIPT,
        };
        this.scriptsConfigMap = new k8s.core.v1.ConfigMap(
            `${name}-scripts`,
            { metadata: { name: names.scriptsConfigMap, namespace: args.namespace, labels }, data: scripts },
            { parent: this },
        );

        // What only a restart applies: the image, JVM options, plugins and the pod's scripts. The
        // JCasC is not in it: the reload sidecar applies a changed document without a restart.
        this.restartHash = sha256(JSON.stringify([s.controller.image, javaOpts(s), scripts]));

        const homeMount = { name: "jenkins-home", mountPath: HOME };
        const tmpMount = { name: "tmp", mountPath: "/tmp" };
        const scriptsMount = { name: "scripts", mountPath: SCRIPTS_DIR, readOnly: true };
        const cascMount = { name: "casc", mountPath: CASC_DIR, readOnly: true };
        // Jenkins reads the admin password, the reload token and the launchers' tokens here (JCasC
        // resolves `${file}` from SECRETS); the sidecar sees only the reload token.
        const secretMount = { name: "secrets", mountPath: SECRETS_DIR, readOnly: true };
        const reloadTokenMount = { name: "reload-token", mountPath: SECRETS_DIR, readOnly: true };
        const initContainers: k8s.types.input.core.v1.Container[] = [];
        if (s.storage.mode === "nfs") {
            // fsGroup is not applied to NFS volumes, so the export may belong to root. This is the
            // one container that runs as root, with only the capabilities chown needs.
            initContainers.push({
                name: "fix-home-ownership",
                image: s.controller.image,
                command: [
                    "sh",
                    "-c",
                    // With root_squash (the NFS default) root cannot chown on the export: fail
                    // with the fix instead of a bare EPERM in a crash loop.
                    `[ "$(stat -c %u:%g ${HOME})" = "${UID}:${UID}" ] || chown -R ${UID}:${UID} ${HOME} || ` +
                        `{ echo "fix-home-ownership: cannot chown ${HOME} to ${UID}:${UID} (root_squash on the export?); ` +
                        `run 'chown -R ${UID}:${UID} <export>' on the NFS server, or export it with no_root_squash" >&2; exit 1; }`,
                ],
                securityContext: {
                    runAsNonRoot: false,
                    runAsUser: 0,
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"], add: ["CHOWN", "DAC_OVERRIDE", "FOWNER"] },
                    seccompProfile: { type: "RuntimeDefault" },
                },
                resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
                volumeMounts: [homeMount],
            });
        }
        initContainers.push({
            name: "install-plugins",
            image: s.controller.image,
            command: ["sh", `${SCRIPTS_DIR}/install-plugins.sh`],
            env: [
                { name: "PLUGINS_FILE", value: `${SCRIPTS_DIR}/plugins.txt` },
                { name: "JENKINS_HOME", value: HOME },
                { name: "JAVA_OPTS", value: "-XX:MaxRAMPercentage=50" },
            ],
            securityContext: restrictedContainer,
            resources: {
                requests: { cpu: "100m", memory: "256Mi" },
                limits: { cpu: s.controller.resources.cpuLimit, memory: "1Gi" },
            },
            volumeMounts: [homeMount, tmpMount, scriptsMount],
        });

        const probe = (failureThreshold: number): k8s.types.input.core.v1.Probe => ({
            httpGet: { path: "/login", port: "http" },
            periodSeconds: 10,
            timeoutSeconds: 5,
            failureThreshold,
        });

        this.deployment = new k8s.apps.v1.Deployment(
            `${name}-controller`,
            {
                metadata: { name: names.controller, namespace: args.namespace, labels },
                spec: {
                    replicas: 1,
                    strategy: { type: "Recreate" },
                    selector: { matchLabels: names.controllerSelector },
                    template: {
                        metadata: {
                            labels: { ...labels, ...names.controllerSelector },
                            annotations: { "jenkins-k8s/restart-hash": this.restartHash },
                        },
                        spec: {
                            serviceAccountName: args.serviceAccountName,
                            automountServiceAccountToken: true,
                            // A Service named jenkins would otherwise inject JENKINS_PORT=tcp://... into the env.
                            enableServiceLinks: false,
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: UID,
                                runAsGroup: UID,
                                fsGroup: UID,
                                // Skip the recursive chown of a large home when ownership is already right.
                                fsGroupChangePolicy: "OnRootMismatch",
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            initContainers,
                            containers: [
                                {
                                    name: "jenkins",
                                    image: s.controller.image,
                                    env: [
                                        {
                                            name: "CASC_RELOAD_TOKEN",
                                            valueFrom: {
                                                secretKeyRef: {
                                                    name: this.adminSecret.metadata.name,
                                                    key: SECRET_FILES.reloadToken,
                                                },
                                            },
                                        },
                                        { name: "JAVA_OPTS", value: javaOpts(s) },
                                        { name: "JENKINS_OPTS", value: `--webroot=${WAR_CACHE}/war` },
                                        { name: "JENKINS_HOME", value: HOME },
                                        { name: "CASC_JENKINS_CONFIG", value: `${CASC_DIR}/${CASC_FILE}` },
                                        { name: "SECRETS", value: SECRETS_DIR },
                                        // JCasC adds its credentials to those made in the UI
                                        // instead of replacing them all on every load.
                                        { name: "CASC_CREDENTIALS_MERGE_STRATEGY", value: "merge" },
                                        { name: "TZ", value: s.controller.timezone },
                                    ],
                                    ports: [
                                        { name: "http", containerPort: HTTP_PORT },
                                        ...(tcp ? [{ name: "agent", containerPort: AGENT_PORT }] : []),
                                    ],
                                    resources: {
                                        requests: {
                                            cpu: s.controller.resources.cpuRequest,
                                            memory: s.controller.resources.memoryRequest,
                                        },
                                        limits: {
                                            cpu: s.controller.resources.cpuLimit,
                                            memory: s.controller.resources.memoryLimit,
                                        },
                                    },
                                    // Slow first starts (plugin loading) are the startup probe's job, so
                                    // liveness needs no long initial delay and restarts stay fast.
                                    startupProbe: probe(60),
                                    livenessProbe: probe(5),
                                    readinessProbe: probe(3),
                                    securityContext: restrictedContainer,
                                    volumeMounts: [
                                        homeMount,
                                        tmpMount,
                                        { name: "war-cache", mountPath: WAR_CACHE },
                                        cascMount,
                                        secretMount,
                                    ],
                                },
                                {
                                    name: "casc-reload",
                                    image: s.controller.image,
                                    command: ["sh", `${SCRIPTS_DIR}/casc-reload.sh`],
                                    env: [
                                        { name: "CASC_FILE", value: `${CASC_DIR}/${CASC_FILE}` },
                                        { name: "TOKEN_FILE", value: `${SECRETS_DIR}/${SECRET_FILES.reloadToken}` },
                                        { name: "JENKINS_URL", value: `http://localhost:${HTTP_PORT}` },
                                    ],
                                    resources: {
                                        requests: { cpu: "10m", memory: "16Mi" },
                                        limits: { cpu: "100m", memory: "64Mi" },
                                    },
                                    securityContext: restrictedContainer,
                                    volumeMounts: [scriptsMount, cascMount, reloadTokenMount, tmpMount],
                                },
                            ],
                            volumes: [
                                { name: "jenkins-home", persistentVolumeClaim: { claimName: args.homeClaimName } },
                                { name: "tmp", emptyDir: {} },
                                { name: "war-cache", emptyDir: {} },
                                { name: "casc", configMap: { name: args.cascConfigMapName } },
                                {
                                    name: "scripts",
                                    configMap: { name: this.scriptsConfigMap.metadata.name, defaultMode: 0o555 },
                                },
                                {
                                    name: "secrets",
                                    projected: {
                                        defaultMode: 0o440,
                                        sources: [
                                            {
                                                secret: {
                                                    name: this.adminSecret.metadata.name,
                                                    items: [
                                                        { key: "password", path: SECRET_FILES.adminPassword },
                                                        {
                                                            key: SECRET_FILES.reloadToken,
                                                            path: SECRET_FILES.reloadToken,
                                                        },
                                                    ],
                                                },
                                            },
                                            ...args.tiers.flatMap((t) =>
                                                t.launcher
                                                    ? [
                                                          {
                                                              secret: {
                                                                  name: args.launcherTokenSecrets[t.name]!,
                                                                  items: [{ key: "token", path: t.launcher.tokenFile }],
                                                              },
                                                          },
                                                      ]
                                                    : [],
                                            ),
                                        ],
                                    },
                                },
                                {
                                    name: "reload-token",
                                    secret: {
                                        secretName: this.adminSecret.metadata.name,
                                        defaultMode: 0o440,
                                        items: [{ key: SECRET_FILES.reloadToken, path: SECRET_FILES.reloadToken }],
                                    },
                                },
                            ],
                        },
                    },
                },
            },
            // The first start downloads plugins; give it longer than the provider's 10 minutes.
            { parent: this, customTimeouts: { create: "20m", update: "20m" } },
        );

        this.service = new k8s.core.v1.Service(
            `${name}-web`,
            {
                metadata: { name: names.service, namespace: args.namespace, labels: webLabels },
                spec: {
                    type: s.service.type,
                    selector: names.controllerSelector,
                    ports: [
                        {
                            name: "http",
                            port: HTTP_PORT,
                            targetPort: "http",
                            ...(s.service.nodePort !== undefined ? { nodePort: s.service.nodePort } : {}),
                        },
                    ],
                    ...(s.service.loadBalancerSourceRanges.length > 0
                        ? { loadBalancerSourceRanges: s.service.loadBalancerSourceRanges }
                        : {}),
                },
            },
            { parent: this },
        );

        if (tcp) {
            this.agentService = new k8s.core.v1.Service(
                `${name}-agent`,
                {
                    metadata: { name: names.agentService, namespace: args.namespace, labels },
                    spec: {
                        type: "ClusterIP",
                        selector: names.controllerSelector,
                        ports: [{ name: "agent", port: AGENT_PORT, targetPort: "agent" }],
                    },
                },
                { parent: this },
            );
        }

        if (s.ingress) {
            const { host, className, tlsSecret, annotations } = s.ingress;
            this.ingress = new k8s.networking.v1.Ingress(
                `${name}-web`,
                {
                    metadata: { name: names.service, namespace: args.namespace, labels, annotations },
                    spec: {
                        ...(className ? { ingressClassName: className } : {}),
                        ...(tlsSecret ? { tls: [{ hosts: [host], secretName: tlsSecret }] } : {}),
                        rules: [
                            {
                                host,
                                http: {
                                    paths: [
                                        {
                                            path: "/",
                                            pathType: "Prefix",
                                            backend: {
                                                service: { name: this.service.metadata.name, port: { name: "http" } },
                                            },
                                        },
                                    ],
                                },
                            },
                        ],
                    },
                },
                // An Ingress waits for an address from its controller; that is not ours to await.
                { parent: this },
            );
        }

        if (s.metrics.serviceMonitor) {
            this.serviceMonitor = new k8s.apiextensions.CustomResource(
                `${name}-metrics`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "ServiceMonitor",
                    metadata: { name: names.service, namespace: args.namespace, labels },
                    spec: {
                        selector: { matchLabels: webLabels },
                        namespaceSelector: { matchNames: [s.namespace] },
                        endpoints: [{ port: "http", path: "/prometheus/", interval: "30s" }],
                    },
                },
                { parent: this },
            );
        }

        if (s.network.policy) {
            this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
                `${name}-controller`,
                {
                    metadata: { name: names.controller, namespace: args.namespace, labels },
                    spec: controllerIngress(
                        s,
                        names,
                        args.tiers.map((t) => t.namespace),
                    ),
                },
                { parent: this },
            );
        }

        if (s.disruptionBudget) {
            // One replica and no voluntary eviction: `kubectl drain` waits on this pod instead of
            // killing running builds, until an operator moves it at a quiet moment. The price:
            // unattended node upgrades stall on this node until then.
            this.disruptionBudget = new k8s.policy.v1.PodDisruptionBudget(
                `${name}-controller`,
                {
                    metadata: { name: names.controller, namespace: args.namespace, labels },
                    spec: { maxUnavailable: 0, selector: { matchLabels: names.controllerSelector } },
                },
                { parent: this },
            );
        }

        if (s.publicUrl === undefined && s.service.type !== "ClusterIP") {
            void pulumi.log.warn(
                `the web UI is exposed as a ${s.service.type} Service but publicUrl is empty: Jenkins will call itself ` +
                    `${names.jenkinsUrl}, so links in e-mails and the reverse-proxy check will be wrong; set ` +
                    `jenkins-k8s:publicUrl to the address users open`,
                this,
            );
        }

        this.externalUrl =
            s.publicUrl !== undefined
                ? pulumi.output<string | undefined>(s.publicUrl)
                : s.service.type === "LoadBalancer"
                  ? this.service.status.apply((st) => {
                        const ingress = st?.loadBalancer?.ingress?.[0];
                        const host = ingress?.hostname || ingress?.ip;
                        return host ? `http://${host}:${HTTP_PORT}/` : undefined;
                    })
                  : pulumi.output<string | undefined>(undefined);

        this.registerOutputs({
            adminPassword: this.adminPassword,
            serviceName: this.service.metadata.name,
            externalUrl: this.externalUrl,
        });
    }
}
