// The typed settings object every component is built from, made in one direction: stack config
// -> values checked key by key (reader.ts) -> checked across keys (crossChecks.ts) -> shaped here,
// with the warnings a preview prints. Nothing downstream reads the raw values.
import { isIP } from "net";
import { cidrWithin, imageJenkinsVersion, pluginId } from "./checks";
import { crossChecks } from "./crossChecks";
import { AgentConnection, configKey, PodRetention, ServiceType, ValidValues } from "./keys";
import { Access, accessPlugins } from "./access";
import type { CascDocument } from "./jobs";
import { accessWarnings } from "./accessChecks";
import type { AccessMode } from "./checks";
import {
    AgentContainer,
    defaultTemplates,
    JNLP,
    PodTemplate,
    SecurityLevel,
    templatesSchema,
    Toleration,
} from "./podTemplates";
import { ConfigError, readValues } from "./reader";
import { deriveTiers, mountsSecret, Tier } from "./tiers";
import { agentLimitsFor, TierLimits } from "./agentLimits";

export type { AgentContainer, PodTemplate };

import type { Resources } from "./checks";
export type { Resources };

export type Storage =
    | { mode: "dynamic"; size: string; storageClass?: string; accessMode: AccessMode; retainOnDestroy: boolean }
    | { mode: "nfs"; size: string; server: string; path: string; accessMode: AccessMode; retainOnDestroy: boolean }
    | { mode: "existingClaim"; claimName: string };

export interface Settings {
    namespace: string;
    agentNamespace: string;
    createNamespaces: boolean;
    controller: {
        image: string;
        resources: Resources;
        heapPercent: number;
        javaOpts: string;
        timezone: string;
    };
    adminUsername: string;
    /** Sign-in, permissions, teams and credentials inside Jenkins (config/access.ts). */
    access: Access;
    /** Jobs the stack makes besides the teams' repositories, and extra JCasC (config/jobs.ts). */
    jobs: {
        /** The original's test job, restricted to this label (the build tier's first template's). */
        testJob?: { label: string };
        extraCasc: CascDocument[];
    };
    plugins: {
        /** `artifactId:version`: the stack's list, with the plugins the features in use need (keys.ts FEATURE_PLUGINS). */
        list: string[];
        /** The Jenkins core of the controller image, which the lock is resolved for. */
        jenkins: string;
        /** Folder of the plugin locks, relative to the project. */
        lockDir: string;
        /** Download base for the plugin archives; none: the update center's. */
        mirror?: string;
        /** Archives downloaded at once (install-plugins.sh PARALLEL). */
        downloads: number;
        /** Security warning ids the stack deploys anyway. */
        acknowledged: string[];
    };
    service: {
        type: ServiceType;
        nodePort?: number;
        loadBalancerSourceRanges: string[];
    };
    /** The URL users reach Jenkins at: publicUrl, else the Ingress's, else none. */
    publicUrl?: string;
    ingress?: {
        host: string;
        className?: string;
        tlsSecret?: string;
        annotations: Record<string, string>;
        /** Wait for the controller to publish an address (the provider's await); off: skipAwait. */
        await: boolean;
    };
    /** An HTTPRoute for the web UI, attached to a Gateway API Gateway; none when unset. */
    gateway?: { namespace: string; name: string; sectionName?: string; hostnames: string[] };
    metrics: { serviceMonitor: boolean };
    storage: Storage;
    network: {
        policy: boolean;
        webAllowedCidrs: string[];
        webAllowedNamespaces: string[];
    };
    disruptionBudget: boolean;
    /** An HTTP proxy for the controller's and the agents' outside requests; none when unset. */
    proxy?: Proxy;
    /** CSI snapshots of Jenkins home: scheduled, and before each restart (components/backups.ts). */
    backups?: { schedule: string; retention: number; maxAgeDays: number; snapshotClass?: string; image: string };
    /** A VolumeSnapshot to create the home claim from (a new claim; the current one stays). */
    restoreFromSnapshot?: string;
    /** Read the cluster at preview and adopt what a destroy of this stack kept (preflight/kept.ts). */
    adoptKeptObjects: boolean;
    agents: {
        connection: AgentConnection;
        containerCap: number;
        podRetention: PodRetention;
        /** Every template lists its jnlp container first. */
        templates: PodTemplate[];
        /** The agent trust tiers: build always, the others when something needs them (tiers.ts). */
        tiers: Tier[];
        /** Namespaces the deployer account may deploy to, and the ClusterRole it gets there. */
        deployNamespaces: string[];
        deployClusterRole: string;
        /** Create the deploy namespaces (kept on destroy) instead of requiring them. */
        createDeployNamespaces: boolean;
        /** The Pod Security level the deploy namespaces must enforce. */
        deployNamespacePodSecurity: SecurityLevel;
        /** Pin each agent tier's pods to its one ServiceAccount with a ValidatingAdmissionPolicy. */
        admissionPolicy: boolean;
        /** Egress of agent pods: on/off, and the CIDRs (each with the excepts inside it). */
        egress?: { cidr: string; except: string[] }[];
        prePullImages: boolean;
        pauseImage: string;
        prePullToolImage: string;
        /** The longest an agent pod lives (activeDeadlineSeconds), and the default of every template. */
        podMaxSeconds: number;
        /** The highest priority an agent pod may run at. */
        maxPriority: number;
        /** Tolerations every agent pod may carry besides its tier's templates' (the cluster's own). */
        tolerations: Toleration[];
        /** Each tier's ResourceQuota and LimitRange; none when agentResourceQuota is false. */
        limits?: TierLimits[];
        /** The agent reaper: after how long a Pending or finished pod is deleted; none when 0. */
        reaper?: { stuckSeconds: number; image: string };
    };
}

/** An HTTP proxy, and what goes around it (the cluster's own addresses first). */
export interface Proxy {
    url: string;
    host: string;
    port: number;
    noProxy: string[];
}

/** What never goes through the proxy: this pod, and the cluster's names (the API server's included). */
export const CLUSTER_NO_PROXY = ["localhost", "127.0.0.1", "::1", ".svc", ".cluster.local", "kubernetes.default"];

/** The variables curl, git, npm, pip and most tools read, in both spellings they are read in. */
export function proxyVariables(p: Proxy): Record<string, string> {
    const none = p.noProxy.join(",");
    return {
        HTTP_PROXY: p.url,
        HTTPS_PROXY: p.url,
        NO_PROXY: none,
        http_proxy: p.url,
        https_proxy: p.url,
        no_proxy: none,
    };
}

function proxyOf(url: string, noProxy: string[]): Proxy | undefined {
    if (url === "") return undefined;
    const u = new URL(url);
    return {
        url: `${u.protocol}//${u.host}`,
        host: u.hostname.replace(/^\[|\]$/g, ""),
        port: u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80,
        noProxy: [...new Set([...CLUSTER_NO_PROXY, ...noProxy])],
    };
}

/** The templates from config (or the default set), each with its jnlp container first. */
function resolveTemplates(v: ValidValues): PodTemplate[] {
    const templates =
        v.podTemplates ??
        templatesSchema.parse(
            defaultTemplates({
                label: v.agentLabel,
                idleMinutes: v.agentIdleMinutes,
                instanceCap: v.agentInstanceCap,
                kanikoImage: v.kanikoImage,
                registrySecret: v.registrySecret || undefined,
            }),
        );
    const jnlp: AgentContainer = {
        name: JNLP,
        image: v.agentImage,
        cpuRequest: v.agentCpuRequest,
        cpuLimit: v.agentCpuLimit,
        memoryRequest: v.agentMemoryRequest,
        memoryLimit: v.agentMemoryLimit,
        env: {},
        privileged: false,
    };
    return templates.map((t) => {
        const own = t.containers.find((c) => c.name === JNLP);
        return { ...t, containers: [own ?? jnlp, ...t.containers.filter((c) => c !== own)] };
    });
}

/** Settings, and what a preview should warn about them. */
export interface LoadedSettings {
    settings: Settings;
    warnings: string[];
}

/** Reads raw stack config (full key -> string) into settings and warnings, or throws a ConfigError. */
export function readSettings(raw: Record<string, string | undefined>): LoadedSettings {
    // Every problem at once: each key's own, then every rule across keys whose keys all passed.
    const { values: v, problems, partial } = readValues(raw);
    let templates: PodTemplate[] | undefined;
    const templatesOf = () => (templates ??= resolveTemplates(v));
    problems.push(...crossChecks(v, templatesOf, partial));
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    const settings = shape(v, templatesOf());
    return { settings, warnings: warningsAbout(settings) };
}

/** The settings alone (the tests' and tools' entry). */
export function settingsFrom(raw: Record<string, string | undefined>): Settings {
    return readSettings(raw).settings;
}

/** The agent trust tiers of these settings (tiers.ts). */
export function tiersOf(v: ValidValues, templates: PodTemplate[]): Tier[] {
    return deriveTiers({
        agentNamespace: v.agentNamespace,
        templates,
        deployNamespaces: v.deployNamespaces,
        allowPrivilegedAgents: v.allowPrivilegedAgents,
    });
}

function shape(v: ValidValues, templates: PodTemplate[]): Settings {
    const tiers = tiersOf(v, templates);
    const local = (v.securityRealm ?? { type: "local" }).type === "local";
    const access: Access = {
        realm: v.securityRealm ?? { type: "local" },
        administrators: v.administrators ?? { users: [], groups: [] },
        readers: v.readers ?? { users: [], groups: [] },
        // With sign-in elsewhere the default user is simply not made (a set one is refused).
        automationUser: local && v.automationUser !== "" ? v.automationUser : undefined,
        teams: v.teams ?? [],
        deletedTeams: v.deletedTeams,
        credentials: v.credentials ?? [],
    };
    const s: Settings = {
        namespace: v.namespace,
        agentNamespace: v.agentNamespace,
        createNamespaces: v.createNamespaces,
        controller: {
            image: v.controllerImage,
            resources: {
                cpuRequest: v.controllerCpuRequest,
                cpuLimit: v.controllerCpuLimit,
                memoryRequest: v.controllerMemoryRequest,
                memoryLimit: v.controllerMemoryLimit,
            },
            heapPercent: v.heapPercent,
            javaOpts: v.javaOpts.trim(),
            timezone: v.timezone,
        },
        adminUsername: v.adminUsername,
        access,
        jobs: {
            testJob: undefined,
            extraCasc: v.extraCasc ?? [],
        },
        // A feature's plugin (the Prometheus plugin when metrics are on) joins the list when the
        // feature is used, unless the list names it already (then its version is the list's).
        plugins: {
            list: [
                ...v.plugins,
                ...[...(v.metrics ? [v.metricsPlugin] : []), ...accessPlugins(access)].filter(
                    (feature) => !v.plugins.some((p) => pluginId(p) === pluginId(feature)),
                ),
            ],
            jenkins: v.jenkinsVersion || imageJenkinsVersion(v.controllerImage)!,
            lockDir: v.pluginLockDir,
            mirror: v.pluginMirror || undefined,
            downloads: v.pluginDownloads,
            acknowledged: v.pluginSecurityWarnings,
        },
        service: {
            type: v.serviceType,
            nodePort: v.nodePort === 0 ? undefined : v.nodePort,
            loadBalancerSourceRanges: v.loadBalancerSourceRanges,
        },
        proxy: proxyOf(v.httpProxy, v.noProxy),
        publicUrl:
            v.publicUrl !== ""
                ? v.publicUrl.replace(/\/?$/, "/")
                : v.ingressHost !== ""
                  ? `${v.ingressTlsSecret !== "" ? "https" : "http"}://${v.ingressHost}/`
                  : v.gateway !== "" && v.gatewayHostnames.length > 0
                    ? `https://${v.gatewayHostnames[0]}/`
                    : undefined,
        ingress:
            v.ingressHost === ""
                ? undefined
                : {
                      host: v.ingressHost,
                      className: v.ingressClass || undefined,
                      tlsSecret: v.ingressTlsSecret || undefined,
                      annotations: v.ingressAnnotations ?? {},
                      await: v.ingressAwait,
                  },
        gateway:
            v.gateway === ""
                ? undefined
                : {
                      namespace: v.gateway.split("/")[0],
                      name: v.gateway.split("/")[1],
                      sectionName: v.gatewaySection || undefined,
                      hostnames: v.gatewayHostnames,
                  },
        metrics: { serviceMonitor: v.serviceMonitor },
        storage:
            v.storageMode === "existingClaim"
                ? { mode: "existingClaim", claimName: v.existingClaim }
                : v.storageMode === "nfs"
                  ? {
                        mode: "nfs",
                        size: v.storageSize,
                        server: v.nfsServer,
                        path: v.nfsPath,
                        accessMode: v.storageAccessMode,
                        retainOnDestroy: v.retainHomeOnDestroy,
                    }
                  : {
                        mode: "dynamic",
                        size: v.storageSize,
                        storageClass: v.storageClass === "" ? undefined : v.storageClass,
                        accessMode: v.storageAccessMode,
                        retainOnDestroy: v.retainHomeOnDestroy,
                    },
        network: {
            policy: v.networkPolicy,
            webAllowedCidrs: v.webAllowedCidrs,
            // The Gateway's namespace too, where its proxies run in most implementations (with
            // neither list set the web port is open to all, the Gateway included).
            webAllowedNamespaces:
                v.gateway !== "" && (v.webAllowedCidrs.length > 0 || v.webAllowedNamespaces.length > 0)
                    ? [...new Set([...v.webAllowedNamespaces, v.gateway.split("/")[0]])]
                    : v.webAllowedNamespaces,
        },
        disruptionBudget: v.disruptionBudget,
        adoptKeptObjects: v.adoptKeptObjects,
        backups: v.backups
            ? {
                  schedule: v.backupSchedule,
                  retention: v.backupRetention,
                  maxAgeDays: v.backupMaxAgeDays,
                  snapshotClass: v.volumeSnapshotClass || undefined,
                  image: v.backupImage,
              }
            : undefined,
        restoreFromSnapshot: v.restoreFromSnapshot || undefined,
        agents: {
            connection: v.agentConnection,
            containerCap: v.containerCap,
            podRetention: v.podRetention,
            templates,
            tiers,
            deployNamespaces: v.deployNamespaces,
            deployClusterRole: v.deployClusterRole,
            createDeployNamespaces: v.createDeployNamespaces,
            deployNamespacePodSecurity: v.deployNamespacePodSecurity,
            admissionPolicy: v.admissionPolicy,
            egress: v.agentNetworkPolicy
                ? v.agentEgressCidrs.map((cidr) => ({
                      cidr,
                      except: v.agentEgressExcept.filter((e) => e !== cidr && cidrWithin(e, cidr)),
                  }))
                : undefined,
            prePullImages: v.prePullImages,
            pauseImage: v.pauseImage,
            prePullToolImage: v.prePullToolImage,
            podMaxSeconds: v.agentPodMaxSeconds,
            maxPriority: v.agentMaxPriority,
            tolerations: v.agentTolerations ?? [],
            limits: agentLimitsFor(v, tiers),
            reaper:
                v.agentStuckMinutes > 0
                    ? { stuckSeconds: v.agentStuckMinutes * 60, image: v.agentReaperImage }
                    : undefined,
        },
    };
    // The test job asks for the label of the build tier's first template, which also takes jobs
    // that ask for none (crossChecks refuses testJob without one).
    const first = s.agents.tiers.find((t) => t.name === "build")!.templates[0];
    s.jobs.testJob = v.testJob && first ? { label: first.labels[0] } : undefined;
    return s;
}

/**
 * Whether the agents' egress policy lets pods reach this address: inside one of its CIDRs and
 * outside that CIDR's exceptions; undefined for a host name (its address is not known here).
 */
export function egressAllows(egress: { cidr: string; except: string[] }[], host: string): boolean | undefined {
    const family = isIP(host);
    if (family === 0) return undefined;
    const cidr = `${host}/${family === 4 ? 32 : 128}`;
    return egress.some((e) => cidrWithin(cidr, e.cidr) && !e.except.some((x) => cidrWithin(cidr, x)));
}

/**
 * What agent pods can reach, as the preview says it: each tier's egress in one line (the deploy
 * tier talks to the API server; the others get DNS, the controller and agentEgressCidrs less
 * agentEgressExcept).
 */
export function egressNote(s: Settings): string {
    const egress = s.agents.egress;
    if (!egress) {
        return `agents' egress is not limited (${configKey("agentNetworkPolicy")} is false): agent pods reach any address, the cluster's and the cloud's metadata included`;
    }
    const rules = egress.map((e) => (e.except.length > 0 ? `${e.cidr} but ${e.except.join(", ")}` : e.cidr)).join("; ");
    return (
        `agent pods reach DNS, the controller, and ${rules} (${configKey("agentEgressCidrs")} less agentEgressExcept)` +
        `${s.agents.tiers.some((t) => t.apiAccess) ? "; the deploy tier reaches anything but the link-local ranges (the API server included)" : ""}. ` +
        "An internal Git server, registry or package mirror in an excepted range is unreachable until agentEgressCidrs lists its address with a longer prefix (docs/security.md)"
    );
}

/** What is allowed but deserves a line in the preview. */
function warningsAbout(s: Settings): string[] {
    const warnings: string[] = [];
    const egress = s.agents.egress;
    if (s.proxy && egress && egressAllows(egress, s.proxy.host) !== true) {
        warnings.push(
            `agents reach ${configKey("httpProxy")} (${s.proxy.host}:${s.proxy.port}) only where their egress policy allows its address: ${
                isIP(s.proxy.host)
                    ? `${s.proxy.host} is in agentEgressExcept's ranges`
                    : "a proxy inside the network is in agentEgressExcept's private ranges"
            }; list it in ${configKey("agentEgressCidrs")} (its address with a longer prefix, such as ${isIP(s.proxy.host) ? s.proxy.host : "10.1.2.3"}/32)`,
        );
    }
    for (const tier of s.agents.tiers.filter((t) => t.level === "privileged")) {
        warnings.push(
            `the privileged agent tier is on (${configKey("allowPrivilegedAgents")}): pods of the cloud ${tier.cloud} in ` +
                `${tier.namespace} can be root on the node. Only the teams whose clouds list it can use that cloud.`,
        );
    }
    const build = s.agents.tiers.find((t) => t.name === "build")!;
    for (const t of build.templates.filter(mountsSecret)) {
        warnings.push(
            `pod template '${t.name}' mounts a Secret in the build tier (${build.namespace}), whose cloud every job ` +
                "may use: any Jenkinsfile can read that Secret with a pod of its own. Keep it in a Jenkins credential " +
                "(withCredentials), or give the template podSecurity: baseline to put it in a usage-restricted tier.",
        );
    }
    for (const t of s.agents.templates.filter((x) => x.hostDockerSocket)) {
        warnings.push(
            `pod template '${t.name}' mounts the node's Docker socket (hostDockerSocket: true): every build on it ` +
                "is root on the node, and the socket does not exist on containerd nodes (Kubernetes 1.24+). " +
                "Prefer the image-build template (kaniko, in the baseline tier).",
        );
    }
    if (s.publicUrl === undefined && s.service.type !== "ClusterIP") {
        warnings.push(
            `the web UI is exposed as a ${s.service.type} Service but publicUrl is empty: Jenkins will call itself ` +
                `its in-cluster URL, so links in e-mails and the reverse-proxy check will be wrong; set ` +
                `${configKey("publicUrl")} to the address users open`,
        );
    }
    warnings.push(...accessWarnings(s.access.teams, s.agents.tiers));
    return warnings;
}
