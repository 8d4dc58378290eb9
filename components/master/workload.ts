// The controller's workload: the pod Jenkins runs in (its init containers, the jenkins and
// casc-reload containers, mounts and probes), the JVM options, and the restart hash. Pure
// builders; JenkinsMaster (index.ts) turns them into resources.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AGENT_PORT, HTTP_PORT, Names } from "../../config/names";
import { RESTART_HASH, RESTART_PARTS } from "../../config/metadata";
import type { AgentConnection } from "../../config/keys";
import { proxyVariables, type Proxy, type Settings } from "../../config/settings";
import { CASC_FILE, SECRET_FILES, sha256 } from "../../jcasc/jcasc";
import { CONTROLLER_SECRETS_DIR, CREDENTIALS_DIR, SECRETS_DIR } from "../../jcasc/security";
import { installList, Lock } from "../../plugins/lock";
import { DEFAULT_SOURCES } from "../../plugins/metadata";
import { controllerScript } from "../scriptJob";
import {
    DROP_ALL,
    NO_ESCALATION,
    restrictedContainer as restrictedContainerOf,
    RUNTIME_DEFAULT_SECCOMP,
} from "../../config/podSecurity";

const HOME = "/var/jenkins_home";
const CASC_DIR = "/var/jenkins_casc";
const SCRIPTS_DIR = "/var/jenkins_scripts";
const WAR_CACHE = "/var/jenkins_cache";
/** The jenkins image's user. */
const UID = 1000;

/** The admin Secret's key of the automation user's password. */
export const AUTOMATION_PASSWORD_KEY = "automation-password";

const POD_SCRIPTS = {
    "install-plugins.sh": controllerScript("install-plugins.sh"),
    "casc-reload.sh": controllerScript("casc-reload.sh"),
    // Sourced by both: records what they did as Events on the pod.
    "k8s-event.sh": controllerScript("k8s-event.sh"),
};

/** The scripts ConfigMap's data: the plugin lock as the init container reads it, and the pod's scripts. */
export function podScripts(pluginLock: string): Record<string, string> {
    return { "plugins.lock": pluginLock, ...POD_SCRIPTS };
}

/**
 * JVM options. The heap is a share of the container limit: -Xmx equal to the limit (as in the
 * original) leaves no room for metaspace, threads and native memory, and the kernel kills the JVM.
 */
export function javaOpts(controller: Settings["controller"]): string {
    return [
        `-XX:MaxRAMPercentage=${controller.heapPercent}`,
        `-XX:InitialRAMPercentage=${Math.min(controller.heapPercent, 25)}`,
        "-XX:+ExitOnOutOfMemoryError",
        // Configuration comes from JCasC; the wizard would lock the instance until someone clicks.
        "-Djenkins.install.runSetupWizard=false",
        // Agent pods are asked for as soon as a build is queued by the kubernetes plugin's own
        // strategy (NoDelayProvisionerStrategy, ordinal 100, consulted before core's, and its
        // FastProvisioning queue listener). What it could not place is retried only by core's
        // periodic NodeProvisionerInvoker, whose first run is initialDelay after a start: 10 load
        // clocks, 100 s, by default (core 2.568.2 hudson/slaves/NodeProvisioner.java), so the builds
        // a restart resumes would wait that long. The original's MARGIN and MARGIN0 tune only core's
        // StandardStrategyImpl, which runs when the plugin's strategy found no capacity left on any
        // cloud: nothing is left for it to provision, so they are not set.
        "-Dhudson.slaves.NodeProvisioner.initialDelay=0",
        `-Duser.timezone=${controller.timezone}`,
        controller.javaOpts,
    ]
        .filter((o) => o !== "")
        .join(" ");
}

/**
 * The container's TZ (for the shell tools and logs beside the JVM) for a zone the JVM takes: the
 * same tz database name; a whole-hour GMT+h as Etc/GMT-h (POSIX counts west as positive, so TZ=GMT+8
 * would be UTC-8); none for what glibc would misread (GMT+05:30, the JVM's three-letter IDs), which
 * then leaves the shell tools in UTC.
 */
export function posixZone(zone: string): string | undefined {
    const offset = /^GMT([+-])(\d{1,2})(?::?00)?$/.exec(zone);
    if (offset) {
        return Number(offset[2]) === 0 ? "UTC" : `Etc/GMT${offset[1] === "+" ? "-" : "+"}${Number(offset[2])}`;
    }
    if (/^GMT[+-]/.test(zone)) {
        return undefined;
    }
    return zone.includes("/") || /^(UTC|UCT|GMT|Zulu|Universal|Greenwich|[A-Z]{3}\d[A-Z]{3})$/.test(zone)
        ? zone
        : undefined;
}

/**
 * A shell script as far as it runs: without comment lines, blank lines and the indentation
 * around each line (the scripts have no here-documents, where that would matter).
 */
export function scriptBehaviour(text: string): string {
    return text
        .split("\n")
        .map((line) => line.trim())
        .filter((line, i) => line !== "" && !(line.startsWith("#") && !(i === 0 && line.startsWith("#!"))))
        .join("\n");
}

/** Where the plugin archives come from, and how many are downloaded at once. */
export type PluginDownloads = Pick<Settings["plugins"], "mirror" | "downloads">;

/** install-plugins.sh's download settings: the sources, tried in order, and PARALLEL. */
function downloadEnv(d: PluginDownloads): { name: string; value: string }[] {
    return [
        { name: "PLUGIN_SOURCES", value: (d.mirror ? [d.mirror] : DEFAULT_SOURCES).join(" ") },
        { name: "PARALLEL", value: String(d.downloads) },
    ];
}

/** The proxy's variables as a container's env. */
const proxyEnv = (p: Proxy | undefined) =>
    Object.entries(p ? proxyVariables(p) : {}).map(([name, value]) => ({ name, value }));

/** What only a restart applies, part by part, each as a short hash; the JCasC is not among them. */
export const RESTART_PART_NAMES = {
    image: "the controller image",
    jvm: "the JVM options",
    resources: "the controller's resources",
    ports: "the agent connection",
    plugins: "the plugin lock",
    scripts: "the pod's scripts",
    secrets: "the mounted Secrets",
    downloads: "the plugin downloads (pluginMirror, pluginDownloads)",
    proxy: "the proxy (httpProxy, noProxy)",
} as const;
export type RestartParts = Record<keyof typeof RESTART_PART_NAMES, string>;

/**
 * What only a restart applies, every setting the controller's pod is made from: the image, JVM
 * options, resources, the agent connection (its ports), the plugin lock, what the pod's scripts do
 * (not their comments), which Secrets are mounted (`mounts`: names, the launchers' tokens
 * included) and where and how plugins are downloaded. The JCasC is not in it: the reload sidecar
 * applies a changed document without a restart.
 */
export function restartParts(
    controller: Settings["controller"],
    scripts: Record<string, string>,
    mounts: string[],
    connection: AgentConnection,
    downloads: PluginDownloads,
    proxy?: Proxy,
): RestartParts {
    const part = (value: unknown) => sha256(JSON.stringify(value)).slice(0, 12);
    const { "plugins.lock": lock, ...rest } = scripts;
    return {
        image: part(controller.image),
        jvm: part(javaOpts(controller)),
        resources: part(controller.resources),
        ports: part(connection),
        plugins: part(lock ?? ""),
        scripts: part(Object.fromEntries(Object.entries(rest).map(([name, text]) => [name, scriptBehaviour(text)]))),
        secrets: part([...mounts].sort()),
        downloads: part(downloadEnv(downloads)),
        proxy: part(proxy ?? null),
    };
}

export function restartHash(parts: RestartParts): string {
    return sha256(JSON.stringify(parts));
}

/** How parts read in the annotation: `image=…,jvm=…`. */
export function formatParts(parts: RestartParts): string {
    return Object.entries(parts)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
}

/**
 * What a preview says when the update restarts a running controller (its annotation's parts differ
 * from these): which parts changed, or only that it restarts when the live pods carry no parts.
 */
export function restartNotice(
    live: { hash?: string; parts?: string } | undefined,
    next: RestartParts,
): string | undefined {
    if (!live?.hash || live.hash === restartHash(next)) return undefined;
    const before = Object.fromEntries((live.parts ?? "").split(",").map((kv) => kv.split("=", 2)));
    const changed = (Object.keys(RESTART_PART_NAMES) as (keyof RestartParts)[])
        .filter((k) => before[k] !== next[k])
        .map((k) => RESTART_PART_NAMES[k]);
    return (
        `this update restarts the Jenkins controller (${live.parts ? `${changed.join(", ")} changed` : "its pod changed"}): ` +
        "Jenkins is down until it has started again, and running builds are interrupted (pipelines resume)"
    );
}

/** The restart parts of a controller with this lock and these mounted Secrets: what its pods' annotations will say. */
export function controllerRestart(
    controller: Settings["controller"],
    lock: Lock,
    lockFile: string,
    mounts: string[],
    connection: AgentConnection,
    downloads: PluginDownloads,
    proxy: Proxy | undefined,
): { hash: string; parts: RestartParts } {
    const parts = restartParts(
        controller,
        podScripts(installList(lock, lockFile)),
        mounts,
        connection,
        downloads,
        proxy,
    );
    return { hash: restartHash(parts), parts };
}

const restrictedContainer: k8s.types.input.core.v1.SecurityContext = restrictedContainerOf(UID);

export interface WorkloadInput {
    names: Names;
    /** Labels of the Deployment and its pods. */
    labels: Record<string, string>;
    /** The controller container: image, resources, heap share, extra JVM options, time zone. */
    controller: Settings["controller"];
    /** tcp: the container also listens on the inbound agent port. */
    agentConnection: AgentConnection;
    /** Jenkins home is on NFS, whose export may belong to root: an init container fixes ownership. */
    nfsHome: boolean;
    /** Download bases for the plugin archives, tried in order (a mirror, or the update center's). */
    pluginDownloads: PluginDownloads;
    /** The proxy for the plugin downloads and Jenkins' own requests; none when unset. */
    proxy?: Proxy;
    /** The pod's annotations that change when a restart is needed (controllerRestart). */
    restart: { hash: string; parts: RestartParts };
    serviceAccountName: pulumi.Input<string>;
    homeClaimName: pulumi.Input<string>;
    cascConfigMapName: pulumi.Input<string>;
    scriptsConfigMapName: pulumi.Input<string>;
    adminSecretName: pulumi.Input<string>;
    /** Launchers' token Secrets, mounted as the files JCasC reads their credentials from. */
    launcherTokens: { secretName: pulumi.Input<string>; file: string }[];
    /** The admin Secret holds the automation user's password (local sign-in with an automation user). */
    automationUser: boolean;
    /**
     * Secrets the credentials and the sign-in read, each mounted whole as a folder under
     * CREDENTIALS_DIR (a changed key mapping then needs no restart); no other Secret is mounted.
     */
    credentialSecrets: string[];
}

/**
 * The controller Deployment's spec: one replica with the Recreate strategy, so two controllers
 * never share one Jenkins home during a rollout.
 */
export function workloadSpec(i: WorkloadInput): k8s.types.input.apps.v1.DeploymentSpec {
    const { names, controller } = i;
    const tcp = i.agentConnection === "tcp";
    const credentialVolumes = i.credentialSecrets.map((secret, n) => ({ volume: `credentials-${n}`, secret }));
    const tz = posixZone(controller.timezone);
    const homeMount = { name: "jenkins-home", mountPath: HOME };
    const tmpMount = { name: "tmp", mountPath: "/tmp" };
    const warCacheMount = { name: "war-cache", mountPath: WAR_CACHE };
    const scriptsMount = { name: "scripts", mountPath: SCRIPTS_DIR, readOnly: true };
    const cascMount = { name: "casc", mountPath: CASC_DIR, readOnly: true };
    // Jenkins reads the admin password, the reload token and the launchers' tokens here (JCasC
    // resolves `${file}` from SECRETS); the sidecar sees only the reload token.
    const secretMount = { name: "secrets", mountPath: CONTROLLER_SECRETS_DIR, readOnly: true };
    const reloadTokenMount = { name: "reload-token", mountPath: CONTROLLER_SECRETS_DIR, readOnly: true };
    // The pod the scripts' Events are about (kubectl describe pod shows every install and reload).
    const podEnv = (["name", "namespace", "uid"] as const).map((field) => ({
        name: `POD_${field.toUpperCase()}`,
        valueFrom: { fieldRef: { fieldPath: `metadata.${field}` } },
    }));
    const initContainers: k8s.types.input.core.v1.Container[] = [];
    if (i.nfsHome) {
        // fsGroup is not applied to NFS volumes, so the export may belong to root. This is the
        // one container that runs as root, with only the capabilities chown needs.
        initContainers.push({
            name: "fix-home-ownership",
            image: controller.image,
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
                ...NO_ESCALATION,
                readOnlyRootFilesystem: true,
                capabilities: { ...DROP_ALL, add: ["CHOWN", "DAC_OVERRIDE", "FOWNER"] },
                seccompProfile: RUNTIME_DEFAULT_SECCOMP,
            },
            resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
            volumeMounts: [homeMount],
        });
    }
    initContainers.push({
        name: "install-plugins",
        image: controller.image,
        command: ["sh", `${SCRIPTS_DIR}/install-plugins.sh`],
        env: [
            { name: "LOCK_FILE", value: `${SCRIPTS_DIR}/plugins.lock` },
            { name: "JENKINS_HOME", value: HOME },
            ...downloadEnv(i.pluginDownloads),
            ...proxyEnv(i.proxy),
            ...podEnv,
        ],
        securityContext: restrictedContainer,
        // curl and sha256sum only: no JVM runs here any more.
        resources: {
            requests: { cpu: "50m", memory: "32Mi" },
            limits: { cpu: controller.resources.cpuLimit, memory: "256Mi" },
        },
        volumeMounts: [homeMount, tmpMount, scriptsMount],
    });

    const probe = (failureThreshold: number): k8s.types.input.core.v1.Probe => ({
        httpGet: { path: "/login", port: "http" },
        periodSeconds: 10,
        timeoutSeconds: 5,
        failureThreshold,
    });

    return {
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: names.controllerSelector },
        template: {
            metadata: {
                labels: { ...i.labels, ...names.controllerSelector },
                annotations: { [RESTART_HASH]: i.restart.hash, [RESTART_PARTS]: formatParts(i.restart.parts) },
            },
            spec: {
                serviceAccountName: i.serviceAccountName,
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
                    seccompProfile: RUNTIME_DEFAULT_SECCOMP,
                },
                initContainers,
                containers: [
                    {
                        name: "jenkins",
                        image: controller.image,
                        env: [
                            // JCasC reads its reload token from this variable, before any system
                            // property; so the token is on no command line (/proc/1/cmdline).
                            {
                                name: "CASC_RELOAD_TOKEN",
                                valueFrom: { secretKeyRef: { name: i.adminSecretName, key: SECRET_FILES.reloadToken } },
                            },
                            { name: "JAVA_OPTS", value: javaOpts(controller) },
                            { name: "JENKINS_OPTS", value: `--webroot=${WAR_CACHE}/war` },
                            { name: "JENKINS_HOME", value: HOME },
                            { name: "CASC_JENKINS_CONFIG", value: `${CASC_DIR}/${CASC_FILE}` },
                            { name: "SECRETS", value: SECRETS_DIR },
                            // A reference JCasC cannot resolve stops the load instead of becoming
                            // "" (an empty password is an open account), at a start and a reload.
                            { name: "CASC_STRICT_SECRET_RESOLUTION", value: "true" },
                            // For what Jenkins runs outside its JVM (git, curl); the JVM's own
                            // requests take the JCasC's proxy.
                            ...proxyEnv(i.proxy),
                            ...(tz !== undefined ? [{ name: "TZ", value: tz }] : []),
                        ],
                        ports: [
                            { name: "http", containerPort: HTTP_PORT },
                            ...(tcp ? [{ name: "agent", containerPort: AGENT_PORT }] : []),
                        ],
                        resources: {
                            requests: {
                                cpu: controller.resources.cpuRequest,
                                memory: controller.resources.memoryRequest,
                            },
                            limits: { cpu: controller.resources.cpuLimit, memory: controller.resources.memoryLimit },
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
                            warCacheMount,
                            cascMount,
                            secretMount,
                            ...credentialVolumes.map(({ volume, secret }) => ({
                                name: volume,
                                mountPath: `${CREDENTIALS_DIR}/${secret}`,
                                readOnly: true,
                            })),
                        ],
                    },
                    {
                        name: "casc-reload",
                        image: controller.image,
                        command: ["sh", `${SCRIPTS_DIR}/casc-reload.sh`],
                        env: [
                            { name: "CASC_FILE", value: `${CASC_DIR}/${CASC_FILE}` },
                            { name: "TOKEN_FILE", value: `${CONTROLLER_SECRETS_DIR}/${SECRET_FILES.reloadToken}` },
                            { name: "JENKINS_URL", value: `http://localhost:${HTTP_PORT}` },
                            // Once more after a start, with the items loaded (the team folders' script).
                            { name: "RELOAD_AT_START", value: "1" },
                            ...podEnv,
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
                    { name: homeMount.name, persistentVolumeClaim: { claimName: i.homeClaimName } },
                    { name: tmpMount.name, emptyDir: {} },
                    { name: warCacheMount.name, emptyDir: {} },
                    { name: cascMount.name, configMap: { name: i.cascConfigMapName } },
                    { name: scriptsMount.name, configMap: { name: i.scriptsConfigMapName, defaultMode: 0o555 } },
                    {
                        name: secretMount.name,
                        projected: {
                            defaultMode: 0o440,
                            sources: [
                                {
                                    secret: {
                                        name: i.adminSecretName,
                                        items: [
                                            { key: "password", path: SECRET_FILES.adminPassword },
                                            ...(i.automationUser
                                                ? [
                                                      {
                                                          key: AUTOMATION_PASSWORD_KEY,
                                                          path: SECRET_FILES.automationPassword,
                                                      },
                                                  ]
                                                : []),
                                            { key: SECRET_FILES.reloadToken, path: SECRET_FILES.reloadToken },
                                        ],
                                    },
                                },
                                ...i.launcherTokens.map((t) => ({
                                    secret: { name: t.secretName, items: [{ key: "token", path: t.file }] },
                                })),
                            ],
                        },
                    },
                    ...credentialVolumes.map(({ volume, secret }) => ({
                        name: volume,
                        secret: { secretName: secret, defaultMode: 0o440 },
                    })),
                    {
                        name: reloadTokenMount.name,
                        secret: {
                            secretName: i.adminSecretName,
                            defaultMode: 0o440,
                            items: [{ key: SECRET_FILES.reloadToken, path: SECRET_FILES.reloadToken }],
                        },
                    },
                ],
            },
        },
    };
}
