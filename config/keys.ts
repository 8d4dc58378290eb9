// The one table of settings: every key the program takes, with its type, default, check and
// description. Pulumi.yaml's `config:` block and the README's reference are generated from it
// (npm run docs:update), and config/reader.ts reads the stack's config against it. A table, one
// entry per key, so it is long by nature; the checks it uses live in checks.ts.
import { z } from "zod";
import { SECURITY_LEVELS, templatesSchema, tolerationsSchema } from "./podTemplates";
import { credentialsSchema, principalsSchema, securityRealmSchema, teamsSchema } from "./access";
import { extraCascSchema } from "./jobs";
import { agentQuotaSchema } from "./agentLimits";
import * as v from "./checks";
import { PROJECT } from "./metadata";
import { ACCESS_MODES, bool, checked, oneOf, optionalChecked as optional, wholeNumber as int } from "./checks";

/** The image of the CronJobs that run controller/'s scripts: a shell and curl. */
const CURL_IMAGE = "curlimages/curl:8.11.1";

/** A key as `pulumi config` and every message name it: `jenkins-k8s:<name>`. */
export const configKey = (name: KeyName): string => `${PROJECT}:${name}`;

/** The type names Pulumi.yaml's config schema knows. `object` keys live only in stack files. */
export type KeyType = "string" | "integer" | "boolean" | "array" | "object";

export interface KeySpec {
    type: KeyType;
    description: string;
    /** Applied when the stack does not set the key. `object` keys have none in Pulumi.yaml. */
    default?: unknown;
    schema: z.ZodType;
    /** For `object` keys, which Pulumi.yaml cannot declare: their shape and default, for the README. */
    docs?: { type: string; default: string };
}

const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer"] as const;
const STORAGE_MODES = ["dynamic", "nfs", "existingClaim"] as const;
const AGENT_CONNECTIONS = ["tcp", "websocket"] as const;
const POD_RETENTIONS = ["never", "onFailure", "always", "default", "evicted"] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];
export type AgentConnection = (typeof AGENT_CONNECTIONS)[number];
export type PodRetention = (typeof POD_RETENTIONS)[number];

/** Plugins the program's own configuration depends on; the list must contain them. */
export const REQUIRED_PLUGINS = ["kubernetes", "configuration-as-code"] as const;

export const DEFAULT_PLUGINS = [
    "kubernetes:4540.v612369217f87",
    "configuration-as-code:2115.vf6de120eef70",
    "workflow-aggregator:608.v67378e9d3db_1",
    "git:5.10.1",
    "instance-identity:203.v15e81a_1b_7a_38",
];

const pluginList = z
    .array(checked(v.checkPlugin), { error: () => "must be a list of 'artifactId:version' strings" })
    .min(1, { error: () => "must list at least the kubernetes and configuration-as-code plugins" });

export const KEYS = {
    namespace: {
        type: "string",
        default: "jenkins",
        schema: checked(v.checkDnsLabel),
        description: "Namespace of the Jenkins controller.",
    },
    agentNamespace: {
        type: "string",
        default: "jenkins-agents",
        schema: checked(v.checkDnsLabel),
        description:
            "Namespace of the build tier: the default cloud's agent pods, pipelines' own pods included. Other tiers use `<agentNamespace>-baseline`, `-privileged`, `-deploy`. Must differ from `namespace`.",
    },
    createNamespaces: {
        type: "boolean",
        default: true,
        schema: bool,
        description: "Create the namespaces (false: they must exist already).",
    },
    controllerImage: {
        type: "string",
        default: "jenkins/jenkins:2.568.2-jdk21",
        schema: checked(v.checkImage),
        description: "Controller image, pinned by tag or digest (floating tags such as lts are refused).",
    },
    controllerCpuRequest: {
        type: "string",
        default: "500m",
        schema: checked(v.checkCpu),
        description: "Controller CPU request.",
    },
    controllerCpuLimit: {
        type: "string",
        default: "2",
        schema: checked(v.checkCpu),
        description: "Controller CPU limit.",
    },
    controllerMemoryRequest: {
        type: "string",
        default: "2Gi",
        schema: checked(v.checkMemory),
        description: "Controller memory request.",
    },
    controllerMemoryLimit: {
        type: "string",
        default: "2Gi",
        schema: checked(v.checkMemory),
        description: "Controller memory limit; the JVM heap is a share of it (`heapPercent`).",
    },
    heapPercent: {
        type: "integer",
        default: 50,
        schema: int(10, 80, "the rest of the limit is metaspace, threads and native memory"),
        description: "JVM heap as a percentage of the controller memory limit (-XX:MaxRAMPercentage).",
    },
    javaOpts: {
        type: "string",
        default: "",
        schema: checked(v.checkJavaOpts),
        description: "Extra JVM options appended to the controller's JAVA_OPTS.",
    },
    timezone: {
        type: "string",
        default: "UTC",
        schema: checked(v.checkTimezone),
        description: "Time zone of the controller (user.timezone), e.g. Asia/Shanghai.",
    },
    adminUsername: {
        type: "string",
        default: "admin",
        schema: checked(v.checkUserId),
        description:
            "Id of the admin user; its password is generated and exported as the secret output `adminPassword`.",
    },
    plugins: {
        type: "array",
        default: DEFAULT_PLUGINS,
        schema: pluginList,
        description:
            "Plugins to install, `artifactId:version`; must include kubernetes and configuration-as-code (and instance-identity with TCP agents). What they need comes from the plugin lock (`npm run plugins:lock`), installed exactly and checked by SHA-256. A stack that changes the list writes it whole (the default is not merged).",
    },
    jenkinsVersion: {
        type: "string",
        default: "",
        schema: optional(v.checkJenkinsVersion),
        description:
            "The Jenkins core the controller image runs, which the plugin lock is resolved for; empty: read from `controllerImage`'s tag (jenkins/jenkins:2.568.2-jdk21 runs 2.568.2).",
    },
    pluginLockDir: {
        type: "string",
        default: "plugin-locks",
        schema: checked(v.checkProjectFolder),
        description: "Folder of the plugin locks, relative to the project (`npm run plugins:lock` writes them).",
    },
    pluginMirror: {
        type: "string",
        default: "",
        schema: optional(v.checkMirrorUrl),
        description:
            "Where the controller downloads plugins: a server with the update center's download layout (BASE/plugins/NAME/VERSION/NAME.hpi), e.g. an Artifactory or Nexus proxy of https://updates.jenkins.io/download, or an internal host. Empty: updates.jenkins.io, then archives.jenkins.io.",
    },
    httpProxy: {
        type: "string",
        default: "",
        schema: optional(v.checkProxyUrl),
        description:
            "An HTTP proxy for what the controller and agents fetch from outside: the plugin downloads, Jenkins' own requests (update center, Git and libraries fetched on the controller), and every agent container's HTTP_PROXY, HTTPS_PROXY and NO_PROXY. The cluster's own addresses (localhost, *.svc, *.cluster.local) and noProxy go around it. Empty: none. Tools that ignore those variables (Maven, Gradle, the JVM) need their own settings.",
    },
    noProxy: {
        type: "array",
        default: [],
        schema: z.array(checked(v.checkNoProxyEntry), {
            error: () => "must be a list of hosts, .domains, IP addresses or CIDRs",
        }),
        description:
            "With httpProxy: hosts, domains (.example.com: its subdomains too), IP addresses and CIDRs reached directly, besides the cluster's own.",
    },
    pluginDownloads: {
        type: "integer",
        default: 8,
        schema: int(1, 32),
        description:
            "Plugin archives the controller downloads at once when the lock changes (each still checked by SHA-256, retried across sources). 8 measured against the bound in `npm run bench`; lower it for a mirror that limits connections.",
    },
    pluginSecurityWarnings: {
        type: "array",
        default: [],
        schema: z.array(checked(v.checkWarningId), {
            error: () => "must be a list of warning ids such as SECURITY-2004",
        }),
        description:
            "Security warnings (ids such as SECURITY-2004) on locked plugin versions that the stack deploys anyway; the preview reports each. Any other warning fails the preview and `plugins:lock`.",
    },
    securityRealm: {
        type: "object",
        schema: securityRealmSchema.optional(),
        docs: { type: "object (stack file only): type local, oidc or ldap", default: "local" },
        description:
            "How users sign in (an object, in the stack file): `type: local` (one generated administrator, `adminUsername`), `oidc` (an OpenID Connect provider: Keycloak, Dex, Entra ID, Okta; its client secret from a Secret) or `ldap`. See docs/access.md.",
    },
    administrators: {
        type: "object",
        schema: principalsSchema.optional(),
        docs: { type: "object (stack file only): users, groups", default: "none besides adminUsername" },
        description:
            "Who may administer Jenkins (`users` and `groups`, in the stack file). With local sign-in `adminUsername` is always one; with oidc or ldap at least one is required.",
    },
    readers: {
        type: "object",
        schema: principalsSchema.optional(),
        docs: { type: "object (stack file only): users, groups", default: "none" },
        description: "Who may read every job and build, and change nothing (`users` and `groups`, in the stack file).",
    },
    automationUser: {
        type: "string",
        default: "automation",
        schema: optional(v.checkUserId),
        description:
            "With local sign-in: a generated user that may read and build every job and nothing else (a webhook relay, another stack's job trigger); its password is the secret output `automationPassword`. Empty: none.",
    },
    teams: {
        type: "object",
        schema: teamsSchema.optional(),
        docs: { type: "list of objects (stack file only)", default: "none" },
        description:
            "Teams (a list, in the stack file): each a folder whose `members` may build and `maintainers` also replay pipelines and manage builds, the usage-restricted `clouds` its jobs may launch in, and `credentials` only its jobs see. A team removed from the list keeps its folder, jobs and history, with every grant taken away. See docs/access.md.",
    },
    deletedTeams: {
        type: "array",
        default: [],
        schema: z.array(checked(v.checkItemName), { error: () => "must be a list of team names" }),
        description:
            "Folders of former teams to delete, with every job and build record in them. A removed team's folder is kept unless it is listed here.",
    },
    credentials: {
        type: "object",
        schema: credentialsSchema.optional(),
        docs: { type: "list of objects (stack file only)", default: "none" },
        description:
            "Jenkins credentials read from Kubernetes Secrets in `namespace` (a list, in the stack file): usernamePassword, secretText, sshPrivateKey or file, `scope` global (jobs) or system (Jenkins itself only). Only the Secrets named here are mounted into the controller.",
    },
    testJob: {
        type: "boolean",
        default: false,
        schema: bool,
        description:
            "A freestyle job `agent-test`, restricted to the default template's label, whose shell step says where it runs: the original's acceptance test, one click (Build now).",
    },
    extraCasc: {
        type: "object",
        schema: extraCascSchema.optional(),
        docs: { type: "list of JCasC documents (stack file only)", default: "none" },
        description:
            "Extra JCasC documents (a list of mappings, or YAML text, in the stack file) for settings the program does not model (a global pipeline library, a mailer); merged into the program's document as JCasC merges several files. What the program writes (clouds, sign-in, permissions, credentials, jobs) is refused, naming the path. See docs/jobs.md.",
    },
    serviceType: {
        type: "string",
        default: "ClusterIP",
        schema: oneOf(SERVICE_TYPES),
        description: "Type of the web Service: ClusterIP, NodePort or LoadBalancer.",
    },
    nodePort: {
        type: "integer",
        default: 0,
        schema: v.described(
            z.union([z.literal(0), int(30000, 32767)], {
                error: () => "must be 0 (assigned by the cluster) or a NodePort from 30000 to 32767",
            }),
            "0 or 30000–32767",
        ),
        description: "Fixed node port of the web Service when serviceType is NodePort; 0 lets the cluster pick one.",
    },
    loadBalancerSourceRanges: {
        type: "array",
        default: [],
        schema: z.array(checked(v.checkCidr), { error: () => "must be a list of CIDRs" }),
        description: "CIDRs allowed to reach a LoadBalancer web Service; empty allows all.",
    },
    publicUrl: {
        type: "string",
        default: "",
        schema: optional(v.checkRootUrl),
        description:
            "URL users reach Jenkins at (Jenkins location URL); empty uses the in-cluster URL. With ingressHost set, its host must be ingressHost.",
    },
    ingressHost: {
        type: "string",
        default: "",
        schema: optional(v.checkDnsSubdomain),
        description:
            "Host name of an Ingress for the web UI; empty: no Ingress. The Jenkins URL is then derived from it.",
    },
    ingressClass: {
        type: "string",
        default: "",
        schema: optional(v.checkDnsSubdomain),
        description: "IngressClass of the Ingress; empty uses the cluster's default class.",
    },
    ingressTlsSecret: {
        type: "string",
        default: "",
        schema: optional(v.checkDnsSubdomain),
        description: "TLS Secret (in `namespace`) for the Ingress host; set: the Jenkins URL is https.",
    },
    ingressAnnotations: {
        type: "object",
        schema: z
            .record(z.string(), z.string({ error: () => "must be a string value" }), {
                error: () => "must be a map of annotation: value",
            })
            .optional(),
        docs: { type: "map of strings (stack file only)", default: "none" },
        description: "Annotations of the Ingress (a map, in the stack file), e.g. for cert-manager or body size.",
    },
    adoptKeptObjects: {
        type: "boolean",
        default: true,
        schema: bool,
        description:
            "At preview, read the cluster for what an earlier `pulumi destroy` of this stack kept (its namespace, home claim, NFS volume, created deploy namespaces) and adopt it; false: no such read, and a kept object in the way fails `pulumi up` (already exists). For previews that cannot reach the cluster (backups and a restore still read what they need).",
    },
    ingressAwait: {
        type: "boolean",
        default: false,
        schema: bool,
        description:
            "Make `pulumi up` wait (up to 10 minutes, then fail) until the ingress controller publishes an address in the Ingress's status. Off by default, as in the Helm chart: controllers that publish no address (ingress-nginx without --publish-service, many bare-metal and local setups) would fail every update.",
    },
    gateway: {
        type: "string",
        default: "",
        schema: optional(v.checkGatewayRef),
        description:
            "A Gateway API Gateway for the web UI, `<namespace>/<name>`: an HTTPRoute (gateway.networking.k8s.io/v1) attaches to it, the alternative to the Ingress; TLS is the Gateway's listener's. Empty: no HTTPRoute. The Gateway must allow routes from `namespace` (its listener's allowedRoutes).",
    },
    gatewaySection: {
        type: "string",
        default: "",
        schema: optional(v.checkDnsSubdomain),
        description:
            "With gateway: the listener (sectionName) to attach to; empty: every listener that admits the route.",
    },
    gatewayHostnames: {
        type: "array",
        default: [],
        schema: z.array(checked(v.checkDnsSubdomain), { error: () => "must be a list of host names" }),
        description:
            "With gateway: the host names the HTTPRoute matches (the first is the Jenkins URL's, https, unless publicUrl says otherwise); empty: the listener's.",
    },
    metrics: {
        type: "boolean",
        default: false,
        schema: bool,
        description: "Install the Prometheus plugin (`metricsPlugin`), which serves metrics at /prometheus/.",
    },
    metricsPlugin: {
        type: "string",
        default: "prometheus:856.vc9e3d6e4b_b_9e",
        schema: checked(v.checkPlugin),
        description: "The Prometheus plugin's pinned `artifactId:version`, added when metrics is true.",
    },
    serviceMonitor: {
        type: "boolean",
        default: false,
        schema: bool,
        description: "Create a ServiceMonitor for the Prometheus Operator (needs metrics, and the CRD in the cluster).",
    },
    storageMode: {
        type: "string",
        default: "dynamic",
        schema: oneOf(STORAGE_MODES),
        description: "Jenkins home: dynamic (PVC on a StorageClass), nfs (static NFS PV + PVC) or existingClaim.",
    },
    storageSize: {
        type: "string",
        default: "8Gi",
        schema: checked(v.checkStorageSize),
        description: "Size of Jenkins home.",
    },
    storageClass: {
        type: "string",
        default: "",
        schema: optional(v.checkDnsSubdomain),
        description: "StorageClass for dynamic mode; empty uses the cluster's default class.",
    },
    storageAccessMode: {
        type: "string",
        default: "ReadWriteOnce",
        schema: oneOf(ACCESS_MODES),
        description: "Access mode of the Jenkins home claim.",
    },
    nfsServer: {
        type: "string",
        default: "",
        schema: optional(v.checkHostOrIp),
        description: "NFS server (nfs mode).",
    },
    nfsPath: {
        type: "string",
        default: "",
        schema: optional(v.checkAbsolutePath),
        description: "Exported path on the NFS server (nfs mode).",
    },
    existingClaim: {
        type: "string",
        default: "",
        schema: optional(v.checkDnsSubdomain),
        description:
            "Name of an existing PVC in `namespace` (existingClaim mode). The claim must exist, and so its namespace: existingClaim needs createNamespaces: false.",
    },
    retainHomeOnDestroy: {
        type: "boolean",
        default: true,
        schema: bool,
        description:
            "Keep Jenkins home on `pulumi destroy`: the claim, the NFS PV, and the controller's namespace that holds them (when the stack creates it); the next `pulumi up` of the stack adopts them.",
    },
    backups: {
        type: "boolean",
        default: false,
        schema: bool,
        description:
            "CSI VolumeSnapshots of Jenkins home: on `backupSchedule` (a CronJob with an account of its own), and before every up that changes the running controller's restart hash (image, JVM options, plugin lock, pod scripts; named after the new hash; the controller waits until it is ready). Needs the snapshot API (external-snapshotter) and a CSI storage class; not for storageMode nfs.",
    },
    backupSchedule: {
        type: "string",
        default: "0 3 * * *",
        schema: checked(v.checkCron),
        description:
            "When the scheduled snapshots are taken: a CronJob schedule (UTC unless the cluster says otherwise).",
    },
    backupRetention: {
        type: "integer",
        default: 7,
        schema: int(1, 1000),
        description:
            "How many scheduled snapshots, and how many pre-upgrade ones, to keep; older ones are deleted by each scheduled run.",
    },
    backupMaxAgeDays: {
        type: "integer",
        default: 0,
        schema: int(0, 3650),
        description: "Also delete snapshots older than this many days (0: by count only).",
    },
    volumeSnapshotClass: {
        type: "string",
        default: "",
        schema: optional(v.checkDnsSubdomain),
        description: "The VolumeSnapshotClass of the snapshots; empty: the cluster's default class.",
    },
    backupImage: {
        type: "string",
        default: CURL_IMAGE,
        schema: checked(v.checkImage),
        description:
            "Image of the snapshot CronJob: a shell and curl (it talks to the API server with its own account).",
    },
    restoreFromSnapshot: {
        type: "string",
        default: "",
        schema: optional(v.checkDnsSubdomain),
        description:
            "Name of a ready VolumeSnapshot in `namespace` to restore Jenkins home from: the controller moves to a new claim created from it; the current claim stays as it is, unmounted. Keep it set while that home is in use.",
    },
    agentConnection: {
        type: "string",
        default: "tcp",
        schema: oneOf(AGENT_CONNECTIONS),
        description:
            "How agents connect: tcp (inbound port 50000 through the agent Service) or websocket (HTTP port only).",
    },
    agentLabel: {
        type: "string",
        default: "jenkins-agent",
        schema: checked(v.checkAgentLabel),
        description:
            "Label of the default pod template (when podTemplates is unset); jobs restricted to it run in agent pods.",
    },
    agentImage: {
        type: "string",
        default: "jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk21",
        schema: checked(v.checkAgentImage),
        description: "Image of the default template's jnlp container.",
    },
    agentCpuRequest: {
        type: "string",
        default: "500m",
        schema: checked(v.checkCpu),
        description: "CPU request of the default template's jnlp container.",
    },
    agentCpuLimit: {
        type: "string",
        default: "1",
        schema: checked(v.checkCpu),
        description: "CPU limit of the default template's jnlp container.",
    },
    agentMemoryRequest: {
        type: "string",
        default: "512Mi",
        schema: checked(v.checkMemory),
        description: "Memory request of the default template's jnlp container.",
    },
    agentMemoryLimit: {
        type: "string",
        default: "1Gi",
        schema: checked(v.checkMemory),
        description: "Memory limit of the default template's jnlp container.",
    },
    agentIdleMinutes: {
        type: "integer",
        default: 0,
        schema: int(0, 1440),
        description:
            "Minutes an idle pod of the default template is kept for the next build; 0 deletes it when its build ends.",
    },
    agentInstanceCap: {
        type: "integer",
        default: 10,
        schema: int(1, 1000),
        description: "Most agent pods of the default template at once (when podTemplates is unset).",
    },
    containerCap: {
        type: "integer",
        default: 10,
        schema: int(1, 1000),
        description: "Most agent pods of the whole cloud at once.",
    },
    podRetention: {
        type: "string",
        default: "never",
        schema: oneOf(POD_RETENTIONS),
        description: "When finished agent pods are kept: never, onFailure, always, default or evicted.",
    },
    agentPodMaxSeconds: {
        type: "integer",
        default: 21600,
        schema: int(300, 604800, "5 minutes to 7 days"),
        description:
            "Longest an agent pod may live, in seconds (its activeDeadlineSeconds): every template gets it unless it sets a shorter `activeDeadlineSeconds`, pipelines' own pods inherit it from their cloud, and the admission policy refuses an agent pod without one or with a longer one. A build still running then is stopped.",
    },
    agentMaxPriority: {
        type: "integer",
        default: 0,
        schema: int(-2147483648, 1000000000, "user PriorityClasses go up to 1000000000"),
        description:
            "Highest priority an agent pod may run at: the admission policy refuses a pod whose PriorityClass gives it more (system-node-critical and system-cluster-critical always), so no build preempts other workloads. Raise it to the value of your cluster's globalDefault PriorityClass if that is above 0.",
    },
    agentTolerations: {
        type: "object",
        schema: tolerationsSchema.optional(),
        docs: { type: "list of tolerations (stack file only)", default: "none" },
        description:
            "Tolerations every agent pod may carry besides those of its tier's templates: the ones your cluster adds itself (a RuntimeClass's scheduling tolerations, GKE's for Spot, Arm or compute classes), which the admission policy would otherwise refuse.",
    },
    agentResourceQuota: {
        type: "boolean",
        default: true,
        schema: bool,
        description:
            "A ResourceQuota and a LimitRange in each agent tier's namespace, sized by `agentQuota`: what a tier's pods may take at once, and one container or pod at most. False: none (a platform that sets its own).",
    },
    agentQuota: {
        type: "object",
        schema: agentQuotaSchema.optional(),
        docs: {
            type: "object (stack file only): pods, cpu, memory, ephemeralStorage, claims, claimStorage, containerCpu, containerMemory, podCpu, podMemory, containerEphemeralStorage",
            default: "containerCap pods the size of the tier's largest template; containerEphemeralStorage 10Gi",
        },
        description:
            "Sizes of each agent tier's ResourceQuota and LimitRange (an object, in the stack file): `pods`, `cpu`, `memory`, `ephemeralStorage`, `claims`, `claimStorage` for the whole namespace; `containerCpu`, `containerMemory`, `podCpu`, `podMemory` the most one container or pod may ask for; `containerEphemeralStorage` the limit a container that sets none gets. Unset fields are sized from the tier's templates. See docs/security.md.",
    },
    agentStuckMinutes: {
        type: "integer",
        default: 30,
        schema: int(0, 1440, "0: no reaper"),
        description:
            "The agent reaper (a CronJob every 5 minutes, with an account that may only list and delete pods in the agent namespaces) deletes agent pods Pending this long (unschedulable, an image that cannot be pulled, an agent that never connected) or finished this long (since their last container ended), and pods running past their deadline. 0: no reaper.",
    },
    agentReaperImage: {
        type: "string",
        default: CURL_IMAGE,
        schema: checked(v.checkImage),
        description: "Image of the agent reaper: a shell and curl (it talks to the API server with its own account).",
    },
    podTemplates: {
        type: "object",
        schema: templatesSchema.optional(),
        docs: { type: "list of objects (stack file only)", default: "the default set (see `podTemplates` below)" },
        description:
            "Agent pod templates (a list, in the stack file); unset: a plain agent on `agentLabel` and a kaniko image builder on `image-build`.",
    },
    deployNamespaces: {
        type: "array",
        default: [],
        schema: z.array(checked(v.checkDnsLabel), { error: () => "must be a list of namespace names" }),
        description:
            "Namespaces that templates with `deploy: true` may deploy to (a RoleBinding in each, nothing cluster-wide).",
    },
    deployClusterRole: {
        type: "string",
        default: "edit",
        schema: checked(v.checkRoleName),
        description:
            "ClusterRole the deployer account is bound to in each deploy namespace (built-in `edit`, or a narrower one).",
    },
    networkPolicy: {
        type: "boolean",
        default: true,
        schema: bool,
        description:
            "Restrict traffic to the controller: the agent port only from agent pods, the web port from `webAllowedCidrs`/`webAllowedNamespaces` (or anywhere when both are empty).",
    },
    webAllowedCidrs: {
        type: "array",
        default: [],
        schema: z.array(checked(v.checkCidr), { error: () => "must be a list of CIDRs" }),
        description: "With networkPolicy: source CIDRs (as the pod sees them) allowed to reach the web port.",
    },
    webAllowedNamespaces: {
        type: "array",
        default: [],
        schema: z.array(checked(v.checkDnsLabel), { error: () => "must be a list of namespace names" }),
        description:
            "With networkPolicy: namespaces (e.g. the ingress controller's) whose pods may reach the web port.",
    },
    disruptionBudget: {
        type: "boolean",
        default: false,
        schema: bool,
        description:
            "A PodDisruptionBudget (maxUnavailable 0) for the one controller pod. It blocks every voluntary eviction: `kubectl drain`, managed node-pool upgrades (EKS, AKS, GKE) and the cluster autoscaler wait on that node until an operator deletes the pod; running builds are spared. Off by default, as in the Helm chart.",
    },
    kanikoImage: {
        type: "string",
        default: "martizih/kaniko:v1.27.6-debug",
        schema: checked(v.checkImage),
        description:
            "Image of the default image-build template (when podTemplates is unset): kaniko, the maintained fork (osscontainertools/kaniko), its -debug variant with a shell.",
    },
    registrySecret: {
        type: "string",
        default: "",
        schema: optional(v.checkDnsSubdomain),
        description:
            "A kubernetes.io/dockerconfigjson Secret in the baseline tier's namespace that the default image-build template pushes with (mounted as kaniko's config.json); empty: none.",
    },
    allowPrivilegedAgents: {
        type: "boolean",
        default: false,
        schema: bool,
        description:
            "Add the privileged tier (namespace `<agentNamespace>-privileged`, cloud kubernetes-privileged, usage restricted) for templates with podSecurity: privileged. Its pods are root on the node.",
    },
    createDeployNamespaces: {
        type: "boolean",
        default: false,
        schema: bool,
        description:
            "Create the deployNamespaces (kept on destroy); false: they must exist, and preview fails naming any that does not.",
    },
    deployNamespacePodSecurity: {
        type: "string",
        default: "baseline",
        schema: oneOf(SECURITY_LEVELS),
        description:
            "Pod Security level the deployNamespaces must enforce, so that deploy rights are not node root: created ones are labelled so; preview warns about an existing one that enforces less (when it reads the cluster: adoptKeptObjects).",
    },
    admissionPolicy: {
        type: "boolean",
        default: true,
        schema: bool,
        description:
            "A ValidatingAdmissionPolicy (Kubernetes 1.30+) that pins the one ServiceAccount pods of each agent tier may run as.",
    },
    agentNetworkPolicy: {
        type: "boolean",
        default: true,
        schema: bool,
        description:
            "Limit agent pods' egress: DNS, the controller's ports, and agentEgressCidrs less agentEgressExcept (the deploy tier, which talks to the API server, loses only the link-local ranges).",
    },
    agentEgressCidrs: {
        type: "array",
        default: ["0.0.0.0/0", "::/0"],
        schema: z.array(checked(v.checkCidr), { error: () => "must be a list of CIDRs" }),
        description:
            "With agentNetworkPolicy: where agent pods may connect (registries, source hosts, package mirrors).",
    },
    agentEgressExcept: {
        type: "array",
        default: [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            v.LINK_LOCAL.v4,
            "fc00::/7",
            v.LINK_LOCAL.v6,
        ],
        schema: z.array(checked(v.checkCidr), { error: () => "must be a list of CIDRs" }),
        description:
            "With agentNetworkPolicy: ranges taken out of agentEgressCidrs (by default the private, shared and link-local ranges: the API server, cluster services, cloud metadata). List an internal registry in agentEgressCidrs with a longer prefix to allow it.",
    },
    pauseImage: {
        type: "string",
        default: "registry.k8s.io/pause:3.10",
        schema: checked(v.checkImage),
        description: "Image that keeps the pre-puller's pods (and so the pulled agent images) in place.",
    },
    prePullImages: {
        type: "boolean",
        default: false,
        schema: bool,
        description:
            "Pull every agent image ahead of the first build: one DaemonSet per placement of the templates (their nodeSelector and tolerations), so each image lands on the nodes its builds can run on, tainted ones included. Images need no shell.",
    },
    prePullToolImage: {
        type: "string",
        default: "busybox:1.37.0-musl",
        schema: checked(v.checkImage),
        description:
            "A statically linked busybox (the -musl variant) that the pre-puller copies into each pod as the no-op every image runs, so images without a shell (distroless) are pulled too.",
    },
} satisfies Record<string, KeySpec>;

export type KeyName = keyof typeof KEYS;
/** The validated values of every key, typed by the table. */
export type ValidValues = { [K in KeyName]: z.infer<(typeof KEYS)[K]["schema"]> };
