// The settings reader: every key's refused values name the key and the value, cross-key rules,
// pod templates, and the shaped settings. Long by design: table-driven, one row per refusal.
import { KEYS } from "../config/keys";
import { PROJECT } from "../config/metadata";
import { ConfigError, readValues } from "../config/reader";
import { defaultTemplates, templateProblems, templatesSchema } from "../config/podTemplates";
import { settingsFrom } from "../config/settings";
import * as v from "../config/checks";

const raw = (values: Record<string, unknown>): Record<string, string> =>
    Object.fromEntries(
        Object.entries(values).map(([k, val]) => [
            `${PROJECT}:${k}`,
            typeof val === "string" ? val : JSON.stringify(val),
        ]),
    );

function problemsOf(values: Record<string, unknown>): string[] {
    try {
        settingsFrom(raw(values));
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems;
    }
    throw new Error(`settings ${JSON.stringify(values)} were accepted`);
}

describe("defaults", () => {
    it("every key's default passes its own check", () => {
        expect(() => settingsFrom({})).not.toThrow();
    });

    it("the default pod templates pass the checks a user's templates get", () => {
        expect(
            templateProblems(
                templatesSchema.parse(
                    defaultTemplates({
                        label: "jenkins-agent",
                        idleMinutes: 0,
                        instanceCap: 10,
                        kanikoImage: "martizih/kaniko:v1.27.6-debug",
                        registrySecret: "registry-credentials",
                    }),
                ),
            ),
        ).toEqual([]);
    });

    it("builds the documented default settings", () => {
        const s = settingsFrom({});
        expect(s.namespace).toBe("jenkins");
        expect(s.agentNamespace).toBe("jenkins-agents");
        expect(s.controller.image).toBe("jenkins/jenkins:2.568.2-jdk21");
        expect(s.storage).toEqual({
            mode: "dynamic",
            size: "8Gi",
            storageClass: undefined,
            accessMode: "ReadWriteOnce",
            retainOnDestroy: true,
        });
        expect(s.service).toEqual({ type: "ClusterIP", nodePort: undefined, loadBalancerSourceRanges: [] });
        expect(s.agents.connection).toBe("tcp");
        expect(s.agents.templates.map((t) => [t.name, t.labels])).toEqual([
            ["default", ["jenkins-agent"]],
            ["image-build", ["image-build"]],
        ]);
        expect(s.plugins.list.map((p) => p.split(":")[0])).toEqual(
            expect.arrayContaining([
                "kubernetes",
                "configuration-as-code",
                "workflow-aggregator",
                "git",
                "instance-identity",
            ]),
        );
    });

    it("reads typed values the way the engine passes them: as strings", () => {
        const s = settingsFrom(
            raw({
                serviceType: "NodePort",
                nodePort: "30002",
                createNamespaces: "false",
                plugins: JSON.stringify(["kubernetes:1.0", "configuration-as-code:2.0", "instance-identity:3.0"]),
            }),
        );
        expect(s.service.nodePort).toBe(30002);
        expect(s.createNamespaces).toBe(false);
        // The stack's three, and what the permissions and team folders need (keys.ts FEATURE_PLUGINS).
        expect(s.plugins.list).toEqual([
            "kubernetes:1.0",
            "configuration-as-code:2.0",
            "instance-identity:3.0",
            "matrix-auth:3.2.8",
            "job-dsl:3654.vdf58f53e2d15",
        ]);
    });

    it("normalises the public URL to end in a slash", () => {
        expect(settingsFrom(raw({ publicUrl: "https://ci.example.com" })).publicUrl).toBe("https://ci.example.com/");
    });
});

// Each row: the settings, the key the message must name, and a fragment of what is allowed.
// Together they are the bad-input matrix: every key, and the cross-key conflicts.
/** An OIDC sign-in that passes; bad inputs change one part of it. */
const OIDC = {
    type: "oidc",
    wellKnown: "https://sso.example.com/.well-known/openid-configuration",
    clientId: "jenkins",
    clientSecret: { secret: "jenkins-oidc", key: "client-secret" },
};

const BAD: [string, Record<string, unknown>, string, string][] = [
    ["namespace with capitals", { namespace: "Kube-Ops" }, "namespace", "RFC 1123 label"],
    ["namespace with underscore", { namespace: "kube_ops" }, "namespace", "RFC 1123 label"],
    ["namespace too long", { namespace: "a".repeat(64) }, "namespace", "at most 63"],
    ["namespace ending in dash", { namespace: "ops-" }, "namespace", "RFC 1123 label"],
    ["empty namespace", { namespace: "" }, "namespace", "RFC 1123 label"],
    ["agent namespace with a dot", { agentNamespace: "a.b" }, "agentNamespace", "RFC 1123 label"],
    ["createNamespaces not a boolean", { createNamespaces: "yes" }, "createNamespaces", "true or false"],
    ["floating controller tag", { controllerImage: "jenkins/jenkins:lts" }, "controllerImage", "floats"],
    ["floating lts-jdk tag", { controllerImage: "jenkins/jenkins:lts-jdk21" }, "controllerImage", "floats"],
    ["floating tag in capitals", { controllerImage: "jenkins/jenkins:LTS" }, "controllerImage", "floats"],
    ["untagged controller image", { controllerImage: "jenkins/jenkins" }, "controllerImage", "pin a version"],
    ["image with spaces", { controllerImage: "jenkins/jenkins: 2.5" }, "controllerImage", "image reference"],
    ["uppercase repository", { agentImage: "Jenkins/inbound-agent:1" }, "agentImage", "image reference"],
    ["latest agent image", { agentImage: "jenkins/inbound-agent:latest" }, "agentImage", "floats"],
    [
        "agent image without its Java version",
        { agentImage: "jenkins/inbound-agent:3385.vf1123fb_515da_-1" },
        "agentImage",
        "must name its Java version",
    ],
    [
        "template's jnlp container without its Java version",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    containers: [{ name: "jnlp", image: "jenkins/inbound-agent:3385.vf1123fb_515da_-1" }],
                },
            ],
        },
        "podTemplates[0].containers[0].image",
        "Java 21",
    ],
    ["cpu in memory units", { controllerCpuRequest: "1Gi" }, "controllerCpuRequest", "CPU quantity"],
    ["malformed cpu", { controllerCpuLimit: "two" }, "controllerCpuLimit", "CPU quantity"],
    ["negative cpu", { agentCpuRequest: "-1" }, "agentCpuRequest", "CPU quantity"],
    ["zero cpu", { agentCpuLimit: "0" }, "agentCpuLimit", "positive"],
    ["memory in millis", { controllerMemoryLimit: "512m" }, "controllerMemoryLimit", "memory quantity"],
    ["memory with a bad unit", { controllerMemoryRequest: "2GB" }, "controllerMemoryRequest", "memory quantity"],
    ["tiny memory", { agentMemoryLimit: "1Mi" }, "agentMemoryLimit", "at least 4Mi"],
    ["memory without a unit (bytes)", { agentMemoryRequest: 512 }, "agentMemoryRequest", "at least 4Mi"],
    [
        "request above limit (cpu)",
        { controllerCpuRequest: "4", controllerCpuLimit: "2" },
        "controllerCpuRequest",
        "must not exceed",
    ],
    [
        "request above limit (memory)",
        { agentMemoryRequest: "2Gi", agentMemoryLimit: "1Gi" },
        "agentMemoryRequest",
        "must not exceed",
    ],
    ["heap share too high", { heapPercent: 95 }, "heapPercent", "10 to 80"],
    ["heap share not a number", { heapPercent: "half" }, "heapPercent", "whole number"],
    ["heap share fractional", { heapPercent: 50.5 }, "heapPercent", "whole number"],
    ["unknown time zone", { timezone: "Mars/Olympus" }, "timezone", "must be a time zone ID"],
    [
        "time zone in the wrong case",
        { timezone: "asia/shanghai" },
        "timezone",
        "exactly as Java writes it, Asia/Shanghai",
    ],
    ["time zone link in the wrong case", { timezone: "us/eastern" }, "timezone", "case-sensitive"],
    ["admin id with spaces", { adminUsername: "the admin" }, "adminUsername", "Jenkins user id"],
    [
        "plugin without version",
        { plugins: ["kubernetes", "configuration-as-code:1", "instance-identity:1"] },
        "plugins[0]",
        "artifactId:version",
    ],
    [
        "plugin pinned to latest",
        { plugins: ["kubernetes:latest", "configuration-as-code:1", "instance-identity:1"] },
        "plugins[0]",
        "pinned version",
    ],
    ["plugins not a list", { plugins: "kubernetes:1" }, "plugins", "list"],
    ["empty plugin list", { plugins: [] }, "plugins", "at least"],
    [
        "duplicate plugin",
        { plugins: ["kubernetes:1", "kubernetes:2", "configuration-as-code:1", "instance-identity:1"] },
        "plugins",
        "more than once",
    ],
    [
        "required plugin missing",
        { plugins: ["git:5.10.1", "instance-identity:1"] },
        "plugins",
        "must include kubernetes, configuration-as-code",
    ],
    [
        "TCP agents without instance-identity",
        { plugins: ["kubernetes:1", "configuration-as-code:1"] },
        "plugins",
        "instance-identity",
    ],
    ["Jenkins version not a release", { jenkinsVersion: "2.568.2-jdk21" }, "jenkinsVersion", "2.568.2"],
    [
        "Jenkins version the image's tag contradicts",
        { jenkinsVersion: "2.568.3" },
        "jenkinsVersion",
        "runs Jenkins 2.568.2; leave jenkinsVersion empty",
    ],
    [
        "custom controller image without a Jenkins version",
        { controllerImage: "registry.example.com/ci/jenkins:7" },
        "controllerImage",
        "set jenkins-k8s:jenkinsVersion",
    ],
    ["plugin lock folder outside the project", { pluginLockDir: "../locks" }, "pluginLockDir", "relative path"],
    ["plugin mirror not a URL", { pluginMirror: "nexus.internal/jenkins" }, "pluginMirror", "http:// or https://"],
    ["no plugin downloads at once", { pluginDownloads: 0 }, "pluginDownloads", "from 1 to 32"],
    [
        "a proxy with a password",
        { httpProxy: "http://ci:secret@proxy.example.com:3128" },
        "httpProxy",
        "must not hold credentials",
    ],
    [
        "a proxy that is not a URL",
        { httpProxy: "proxy.example.com:3128" },
        "httpProxy",
        "http://proxy.example.com:3128",
    ],
    ["a proxy with a path", { httpProxy: "http://proxy.example.com:3128/pac" }, "httpProxy", "no path or query"],
    ["a no-proxy entry with a scheme", { noProxy: ["https://git.internal"] }, "noProxy[0]", "a domain (.example.com)"],
    ["too many plugin downloads at once", { pluginDownloads: 100 }, "pluginDownloads", "from 1 to 32"],
    [
        "plugin mirror with a query",
        { pluginMirror: "https://nexus.internal/jenkins?x=1" },
        "pluginMirror",
        "query string",
    ],
    [
        "security warning acknowledged by title",
        { pluginSecurityWarnings: ["XSS in git"] },
        "pluginSecurityWarnings[0]",
        "SECURITY-2004",
    ],
    ["ingressAwait not a boolean", { ingressAwait: "no" }, "ingressAwait", "true or false"],
    ["adoptKeptObjects not a boolean", { adoptKeptObjects: "maybe" }, "adoptKeptObjects", "true or false"],
    ["backups not a boolean", { backups: "nightly" }, "backups", "true or false"],
    ["backup schedule of four fields", { backupSchedule: "0 3 * *" }, "backupSchedule", "5 fields"],
    ["backup retention of none", { backupRetention: 0 }, "backupRetention", "1 to 1000"],
    ["backup age below zero", { backupMaxAgeDays: -1 }, "backupMaxAgeDays", "0 to 3650"],
    ["snapshot class with a space", { volumeSnapshotClass: "fast class" }, "volumeSnapshotClass", "RFC 1123"],
    ["floating backup image", { backupImage: "curlimages/curl:latest" }, "backupImage", "floats"],
    ["restore from a name with a slash", { restoreFromSnapshot: "ci/snap" }, "restoreFromSnapshot", "RFC 1123"],
    [
        "backups of an NFS home",
        {
            backups: true,
            storageMode: "nfs",
            nfsServer: "nfs.example.com",
            nfsPath: "/x",
            storageAccessMode: "ReadWriteMany",
        },
        "backups",
        "snapshot the export on the NFS server",
    ],
    [
        "a restore into an existing claim",
        { restoreFromSnapshot: "snap-1", storageMode: "existingClaim", existingClaim: "home", createNamespaces: false },
        "restoreFromSnapshot",
        "needs jenkins-k8s:storageMode dynamic",
    ],
    [
        "a restore that would delete the current home",
        { restoreFromSnapshot: "snap-1", retainHomeOnDestroy: false },
        "restoreFromSnapshot",
        "needs jenkins-k8s:retainHomeOnDestroy = true",
    ],
    [
        "skipAwait set by hand on the Ingress",
        { ingressHost: "ci.example.com", ingressAnnotations: { "pulumi.com/skipAwait": "false" } },
        "ingressAnnotations",
        "set jenkins-k8s:ingressAwait instead",
    ],
    ["unknown service type", { serviceType: "Ingress" }, "serviceType", "ClusterIP, NodePort, LoadBalancer"],
    ["lowercase service type", { serviceType: "nodeport" }, "serviceType", "one of"],
    ["nodePort below range", { serviceType: "NodePort", nodePort: 8080 }, "nodePort", "30000 to 32767"],
    ["nodePort above range", { serviceType: "NodePort", nodePort: 40000 }, "nodePort", "30000 to 32767"],
    ["nodePort not a number", { serviceType: "NodePort", nodePort: "high" }, "nodePort", "30000 to 32767"],
    ["nodePort with ClusterIP", { nodePort: 30002 }, "nodePort", "only applies when"],
    [
        "source ranges without LoadBalancer",
        { loadBalancerSourceRanges: ["10.0.0.0/8"] },
        "loadBalancerSourceRanges",
        "only applies when",
    ],
    [
        "malformed CIDR",
        { serviceType: "LoadBalancer", loadBalancerSourceRanges: ["10.0.0.0/33"] },
        "loadBalancerSourceRanges[0]",
        "CIDR",
    ],
    ["public URL without scheme", { publicUrl: "jenkins.example.com" }, "publicUrl", "http:// or https://"],
    ["public URL with ftp", { publicUrl: "ftp://jenkins.example.com/" }, "publicUrl", "http:// or https://"],
    ["public URL with a query", { publicUrl: "https://ci.example.com/?a=b" }, "publicUrl", "query string"],
    ["unknown storage mode", { storageMode: "hostPath" }, "storageMode", "dynamic, nfs, existingClaim"],
    ["storage size in millis", { storageSize: "8000m" }, "storageSize", "storage quantity"],
    ["storage too small", { storageSize: "100Mi" }, "storageSize", "at least 1Gi"],
    ["storage class with capitals", { storageClass: "Fast_SSD" }, "storageClass", "RFC 1123 subdomain"],
    ["unknown access mode", { storageAccessMode: "ReadOnlyMany" }, "storageAccessMode", "one of"],
    ["NFS without a server", { storageMode: "nfs", nfsPath: "/exports/jenkins" }, "nfsServer", "required when"],
    ["NFS without a path", { storageMode: "nfs", nfsServer: "10.0.0.5" }, "nfsPath", "required when"],
    [
        "NFS relative path",
        { storageMode: "nfs", nfsServer: "10.0.0.5", nfsPath: "exports/jenkins" },
        "nfsPath",
        "absolute path",
    ],
    [
        "NFS path with ..",
        { storageMode: "nfs", nfsServer: "10.0.0.5", nfsPath: "/exports/../etc" },
        "nfsPath",
        "absolute path",
    ],
    [
        "NFS server with a bad name",
        { storageMode: "nfs", nfsServer: "nfs_server!", nfsPath: "/x" },
        "nfsServer",
        "host name or an IP address",
    ],
    ["NFS server in dynamic mode", { nfsServer: "10.0.0.5" }, "nfsServer", "only applies when"],
    ["existingClaim mode without a claim", { storageMode: "existingClaim" }, "existingClaim", "required when"],
    [
        "bad claim name",
        { storageMode: "existingClaim", existingClaim: "Home_Claim" },
        "existingClaim",
        "RFC 1123 subdomain",
    ],
    [
        "storage class with NFS",
        { storageMode: "nfs", nfsServer: "nfs", nfsPath: "/x", storageClass: "fast" },
        "storageClass",
        "only applies when",
    ],
    ["retainHomeOnDestroy not a boolean", { retainHomeOnDestroy: "keep" }, "retainHomeOnDestroy", "true or false"],
    ["unknown agent connection", { agentConnection: "jnlp" }, "agentConnection", "tcp, websocket"],
    ["label with spaces", { agentLabel: "linux docker" }, "agentLabel", "Jenkins label"],
    ["label expression operator", { agentLabel: "linux&&docker" }, "agentLabel", "Jenkins label"],
    ["empty label", { agentLabel: "" }, "agentLabel", "Jenkins label"],
    ["negative idle minutes", { agentIdleMinutes: -1 }, "agentIdleMinutes", "0 to 1440"],
    ["zero instance cap", { agentInstanceCap: 0 }, "agentInstanceCap", "1 to 1000"],
    ["container cap too big", { containerCap: 5000 }, "containerCap", "1 to 1000"],
    ["unknown pod retention", { podRetention: "sometimes" }, "podRetention", "never, onFailure"],
    ["agent pods that live a minute", { agentPodMaxSeconds: 60 }, "agentPodMaxSeconds", "300 to 604800"],
    ["agent priority of the system classes", { agentMaxPriority: 2000000000 }, "agentMaxPriority", "up to 1000000000"],
    ["agentResourceQuota not a boolean", { agentResourceQuota: "no" }, "agentResourceQuota", "true or false"],
    ["stuck agents kept a week", { agentStuckMinutes: 10080 }, "agentStuckMinutes", "0 to 1440"],
    ["a Gateway without its namespace", { gateway: "public" }, "gateway", "<namespace>/<name>"],
    [
        "a listener name with capitals",
        { gateway: "gw/public", gatewaySection: "HTTPS" },
        "gatewaySection",
        "RFC 1123 subdomain",
    ],
    [
        "a route host name with a scheme",
        { gateway: "gw/public", gatewayHostnames: ["https://x.example.com"] },
        "gatewayHostnames[0]",
        "RFC 1123 subdomain",
    ],
    [
        "an allowed toleration without a key for Equal",
        { agentTolerations: [{ operator: "Equal", value: "x" }] },
        "agentTolerations[0].key",
        "is required when operator is Equal",
    ],
    ["a floating reaper image", { agentReaperImage: "curlimages/curl:latest" }, "agentReaperImage", "floats"],
    ["a quota of no pods", { agentQuota: { pods: 0 } }, "agentQuota.pods", "1 to 10000"],
    ["a quota's cpu in Gi", { agentQuota: { cpu: "4Gi" } }, "agentQuota.cpu", "CPU quantity"],
    ["a quota field that does not exist", { agentQuota: { gpus: 2 } }, "agentQuota.gpus", "not a field here"],
    [
        "a template's deadline past the maximum",
        { agentPodMaxSeconds: 3600, podTemplates: [{ name: "x", labels: ["x"], activeDeadlineSeconds: 7200 }] },
        "podTemplates[0].activeDeadlineSeconds",
        "above jenkins-k8s:agentPodMaxSeconds = 3600",
    ],
    [
        "a container above the most one container may ask for",
        {
            agentQuota: { containerCpu: "1" },
            podTemplates: [
                { name: "x", labels: ["x"], containers: [{ name: "m", image: "maven:3.9.9", cpuLimit: "4" }] },
            ],
        },
        "podTemplates[0]",
        'container m cpuLimit = "4": above jenkins-k8s:agentQuota.containerCpu = "1" of the build tier',
    ],
    ["misspelt key", { namesapce: "kube-ops" }, "namesapce", "did you mean jenkins-k8s:namespace"],
    ["unknown key", { replicas: 2 }, "replicas", "not a setting of this program"],
    ["deploy namespace with capitals", { deployNamespaces: ["Staging"] }, "deployNamespaces[0]", "RFC 1123 label"],
    [
        "deploy into the controller namespace",
        { deployNamespaces: ["jenkins"] },
        "deployNamespaces",
        "builds could read the admin Secret there",
    ],
    ["deploy role with a space", { deployClusterRole: "cluster admin" }, "deployClusterRole", "ClusterRole name"],
    [
        "deploy into the agent namespace",
        { deployNamespaces: ["jenkins-agents"] },
        "deployNamespaces",
        "exec into other builds' agents",
    ],
    [
        "existing claim in a namespace the program creates",
        { storageMode: "existingClaim", existingClaim: "home" },
        "storageMode",
        "set jenkins-k8s:createNamespaces to false",
    ],
    ["public URL with a path", { publicUrl: "https://ci.example.com/jenkins/" }, "publicUrl", "must have no path"],
    [
        "command word with spaces",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    containers: [{ name: "m", image: "maven:3.9.9", command: ["sh", "-c", "sleep 1 && cat"] }],
                },
            ],
        },
        "podTemplates[0].containers[0].command[2]",
        "one word without spaces or quotes",
    ],
    [
        "toleration Exists with a value",
        { podTemplates: [{ name: "a", labels: ["x"], tolerations: [{ key: "k", operator: "Exists", value: "v" }] }] },
        "podTemplates[0].tolerations[0].value",
        "must be empty when operator is Exists",
    ],
    [
        "toleration Equal without a key",
        { podTemplates: [{ name: "a", labels: ["x"], tolerations: [{ value: "v" }] }] },
        "podTemplates[0].tolerations[0].key",
        "podTemplates[0].tolerations[0].key: is required when operator is Equal",
    ],
    [
        "node selector value with a comma",
        { podTemplates: [{ name: "a", labels: ["x"], nodeSelector: { pool: "a,b" } }] },
        "podTemplates[0].nodeSelector.pool",
        "must not contain ','",
    ],
    [
        "NFS volume in a restricted template",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    volumes: [{ type: "nfs", server: "nfs", path: "/x", mountPath: "/cache" }],
                },
            ],
        },
        "podTemplates[0].volumes[0].type",
        "restricted profile refuses nfs volumes",
    ],
    ["prePullImages not a boolean", { prePullImages: "sometimes" }, "prePullImages", "true or false"],
    ["podTemplates not a list", { podTemplates: { name: "x" } }, "podTemplates", "list of pod templates"],
    [
        "template without labels",
        { podTemplates: [{ name: "maven", labels: [] }] },
        "podTemplates[0].labels",
        "at least one label",
    ],
    [
        "template with an unknown key",
        { podTemplates: [{ name: "maven", labels: ["maven"], agentConnectTimeout: 100 }] },
        "podTemplates[0].agentConnectTimeout",
        "podTemplates[0].agentConnectTimeout: not a field here",
    ],
    [
        "misspelt template field",
        { podTemplates: [{ name: "maven", lables: ["maven"] }] },
        "podTemplates[0].lables",
        "podTemplates[0].lables: not a field here; did you mean labels?",
    ],
    [
        "misspelt container field",
        {
            podTemplates: [
                { name: "a", labels: ["x"], containers: [{ name: "m", image: "maven:3.9.9", memoryLimt: "1Gi" }] },
            ],
        },
        "podTemplates[0].containers[0].memoryLimt",
        "did you mean memoryLimit?",
    ],
    [
        "misspelt field of a secret volume",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    volumes: [{ type: "secret", secretName: "s", mountPath: "/s", optonal: true }],
                },
            ],
        },
        "podTemplates[0].volumes[0].optonal",
        "did you mean optional?",
    ],
    [
        "template name with capitals",
        { podTemplates: [{ name: "Maven", labels: ["maven"] }] },
        "podTemplates[0].name",
        "RFC 1123 label",
    ],
    [
        "duplicate template names",
        {
            podTemplates: [
                { name: "a", labels: ["x"] },
                { name: "a", labels: ["y"] },
            ],
        },
        "podTemplates[1].name",
        "must be unique",
    ],
    [
        "duplicate labels across templates",
        {
            podTemplates: [
                { name: "a", labels: ["x"] },
                { name: "b", labels: ["x"] },
            ],
        },
        "podTemplates[1].labels",
        "also a label of podTemplates[0]",
    ],
    [
        "container without image",
        { podTemplates: [{ name: "a", labels: ["x"], containers: [{ name: "maven" }] }] },
        "podTemplates[0].containers[0].image",
        "podTemplates[0].containers[0].image: is required",
    ],
    [
        "container with a floating image",
        { podTemplates: [{ name: "a", labels: ["x"], containers: [{ name: "maven", image: "maven:latest" }] }] },
        "podTemplates[0].containers[0].image",
        "floats",
    ],
    [
        "container request above limit",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    containers: [{ name: "m", image: "maven:3.9.9", cpuRequest: "4", cpuLimit: "1" }],
                },
            ],
        },
        "podTemplates[0].containers[0].cpuRequest",
        "must not exceed cpuLimit",
    ],
    [
        "command on the jnlp container",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    containers: [
                        { name: "jnlp", image: "jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21", command: ["sh"] },
                    ],
                },
            ],
        },
        "podTemplates[0].containers[0].command",
        "agent never connects",
    ],
    [
        "privileged container without opt-in",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    containers: [{ name: "d", image: "docker:27.3.1-dind", privileged: true }],
                },
            ],
        },
        "podTemplates[0].containers[0].privileged",
        "podSecurity: privileged",
    ],
    [
        "Docker socket without opt-in",
        { podTemplates: [{ name: "a", labels: ["x"], hostDockerSocket: true }] },
        "podTemplates[0].hostDockerSocket",
        "root on the node",
    ],
    [
        "hostPath volume without opt-in",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    volumes: [{ type: "hostPath", hostPath: "/root/.kube", mountPath: "/root/.kube" }],
                },
            ],
        },
        "podTemplates[0].volumes[0].type",
        "podSecurity: privileged",
    ],
    [
        "unknown volume type",
        { podTemplates: [{ name: "a", labels: ["x"], volumes: [{ type: "gitRepo", mountPath: "/src" }] }] },
        "podTemplates[0].volumes[0].type",
        "emptyDir, secret, configMap, pvc, nfs or hostPath",
    ],
    [
        "unknown pod security level",
        { podTemplates: [{ name: "a", labels: ["x"], podSecurity: "open" }] },
        "podTemplates[0].podSecurity",
        "restricted, baseline, privileged",
    ],
    [
        "root container under restricted",
        {
            podTemplates: [
                { name: "a", labels: ["x"], containers: [{ name: "m", image: "maven:3.9.9", runAsUser: 0 }] },
            ],
        },
        "podTemplates[0].containers[0].runAsUser",
        "podSecurity: baseline",
    ],
    [
        "bad env var name",
        { podTemplates: [{ name: "a", labels: ["x"], env: { "MY-VAR": "1" } }] },
        "podTemplates[0].env.MY-VAR",
        "environment variable name",
    ],
    [
        "deploy template without deploy namespaces",
        { podTemplates: [{ name: "a", labels: ["x"], deploy: true }] },
        "podTemplates[0].deploy",
        "deployNamespaces",
    ],
    [
        "ephemeral workspace without a size",
        { podTemplates: [{ name: "a", labels: ["x"], workspaceVolume: { type: "genericEphemeralVolume" } }] },
        "podTemplates[0].workspaceVolume.size",
        "podTemplates[0].workspaceVolume.size: is required",
    ],
    [
        "the plugin's dynamicPVC workspace, which needs claim rights",
        { podTemplates: [{ name: "a", labels: ["x"], workspaceVolume: { type: "dynamicPVC", size: "10Gi" } }] },
        "podTemplates[0].workspaceVolume.type",
        "is replaced by genericEphemeralVolume",
    ],
    ["web CIDR without a prefix length", { webAllowedCidrs: ["10.0.0.1"] }, "webAllowedCidrs[0]", "CIDR"],
    ["web namespace with capitals", { webAllowedNamespaces: ["Ingress"] }, "webAllowedNamespaces[0]", "RFC 1123 label"],
    [
        "web CIDRs with the policy off",
        { networkPolicy: false, webAllowedCidrs: ["10.0.0.0/8"] },
        "webAllowedCidrs",
        "only applies when",
    ],
    ["networkPolicy not a boolean", { networkPolicy: "on" }, "networkPolicy", "true or false"],
    ["disruptionBudget not a boolean", { disruptionBudget: 1 }, "disruptionBudget", "true or false"],
    ["ingress host with a scheme", { ingressHost: "https://jenkins.example.com" }, "ingressHost", "RFC 1123 subdomain"],
    ["ingress class without a host", { ingressClass: "nginx" }, "ingressClass", "only applies with"],
    ["TLS secret without a host", { ingressTlsSecret: "tls" }, "ingressTlsSecret", "only applies with"],
    [
        "bad TLS secret name",
        { ingressHost: "ci.example.com", ingressTlsSecret: "TLS_Secret" },
        "ingressTlsSecret",
        "RFC 1123 subdomain",
    ],
    [
        "ingress annotations without a host",
        { ingressAnnotations: { a: "b" } },
        "ingressAnnotations",
        "only applies with",
    ],
    [
        "ingress annotation with a number",
        { ingressHost: "ci.example.com", ingressAnnotations: { "nginx.ingress.kubernetes.io/proxy-body-size": 64 } },
        "ingressAnnotations.nginx.ingress.kubernetes.io/proxy-body-size",
        "string value",
    ],
    [
        "public URL on another host than the ingress",
        { ingressHost: "ci.example.com", publicUrl: "https://jenkins.example.com/" },
        "publicUrl",
        "its host must be",
    ],
    ["metrics not a boolean", { metrics: "yes" }, "metrics", "true or false"],
    ["metrics plugin unpinned", { metrics: true, metricsPlugin: "prometheus" }, "metricsPlugin", "artifactId:version"],
    ["ServiceMonitor without metrics", { serviceMonitor: true }, "serviceMonitor", "needs jenkins-k8s:metrics"],
    ["javaOpts sizing the heap", { javaOpts: "-Xss1m -Xmx1g" }, "javaOpts", "set heapPercent instead"],
    [
        "javaOpts with a word that is not an option",
        { javaOpts: "-Dfile.encoding=UTF-8 Dsun.jnu.encoding=UTF-8" },
        "javaOpts",
        "'Dsun.jnu.encoding=UTF-8', which is not a JVM option",
    ],
    ["javaOpts with an unmatched quote", { javaOpts: "-Dgreeting='hello world" }, "javaOpts", "unmatched ' quote"],
    ["bad kaniko image", { kanikoImage: "martizih/kaniko" }, "kanikoImage", "pin a version"],
    ["registry Secret with capitals", { registrySecret: "RegCred" }, "registrySecret", "RFC 1123 subdomain"],
    ["allowPrivilegedAgents not a boolean", { allowPrivilegedAgents: "yes" }, "allowPrivilegedAgents", "true or false"],
    ["createDeployNamespaces not a boolean", { createDeployNamespaces: 1 }, "createDeployNamespaces", "true or false"],
    ["admissionPolicy not a boolean", { admissionPolicy: "on" }, "admissionPolicy", "true or false"],
    [
        "deploy namespace level unknown",
        { deployNamespacePodSecurity: "strict" },
        "deployNamespacePodSecurity",
        "restricted, baseline, privileged",
    ],
    [
        "secret volume for a container the template does not have",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    podSecurity: "baseline",
                    volumes: [{ type: "secret", secretName: "s", mountPath: "/s", containers: ["kaniko"] }],
                },
            ],
        },
        "podTemplates[0].volumes[0].containers",
        "names no container of this template",
    ],
    [
        "secret item path that climbs out",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    volumes: [
                        { type: "secret", secretName: "s", mountPath: "/s", items: [{ key: "k", path: "../k" }] },
                    ],
                },
            ],
        },
        "podTemplates[0].volumes[0].items[0].path",
        "relative path without '..'",
    ],
    ["agentNetworkPolicy not a boolean", { agentNetworkPolicy: "on" }, "agentNetworkPolicy", "true or false"],
    ["agent egress that is no CIDR", { agentEgressCidrs: ["registry.example.com"] }, "agentEgressCidrs[0]", "CIDR"],
    ["agent egress except that is no CIDR", { agentEgressExcept: ["10.0.0.0"] }, "agentEgressExcept[0]", "CIDR"],
    [
        "agent egress except outside every egress CIDR",
        { agentEgressCidrs: ["203.0.113.0/24"], agentEgressExcept: ["10.0.0.0/8"] },
        "agentEgressExcept",
        "lies in none of",
    ],
    [
        "agent egress with the agent policy off",
        { agentNetworkPolicy: false, agentEgressCidrs: ["203.0.113.0/24"] },
        "agentEgressCidrs",
        "only applies when",
    ],
    [
        "agents in the controller's namespace",
        { agentNamespace: "jenkins" },
        "agentNamespace",
        "could mount its Secrets",
    ],
    [
        "agent namespace too long for its tiers",
        { agentNamespace: "a".repeat(60) },
        "agentNamespace",
        "must be at most 52 characters",
    ],
    [
        "a tier namespace that is the controller's",
        { namespace: "ci-agents-baseline", agentNamespace: "ci-agents" },
        "agentNamespace",
        "its baseline tier's namespace",
    ],
    [
        "a tier namespace that is a deploy namespace",
        { agentNamespace: "ci", deployNamespaces: ["ci-deploy"] },
        "deployNamespaces",
        'must not include "ci-deploy"',
    ],
    [
        "privileged template without the privileged tier",
        { podTemplates: [{ name: "a", labels: ["x"], podSecurity: "privileged" }] },
        "podTemplates[0].podSecurity",
        "allowPrivilegedAgents",
    ],
    [
        "deploy template above restricted",
        {
            deployNamespaces: ["staging"],
            podTemplates: [{ name: "a", labels: ["x"], deploy: true, podSecurity: "baseline" }],
        },
        "podTemplates[0].podSecurity",
        "deploy tier's namespace enforces restricted",
    ],
    ["floating pause image", { pauseImage: "registry.k8s.io/pause:latest" }, "pauseImage", "floats"],
    ["untagged pre-pull tool image", { prePullToolImage: "busybox" }, "prePullToolImage", "must pin a version"],
    [
        "duplicate container names in a template",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    containers: [
                        { name: "m", image: "maven:3.9.9" },
                        { name: "m", image: "maven:3.9.9" },
                    ],
                },
            ],
        },
        "podTemplates[0].containers[1].name",
        "used twice in this template",
    ],
    [
        "container memory request above limit",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    containers: [{ name: "m", image: "maven:3.9.9", memoryRequest: "4Gi", memoryLimit: "1Gi" }],
                },
            ],
        },
        "podTemplates[0].containers[0].memoryRequest",
        "must not exceed memoryLimit",
    ],
    [
        "toleration seconds without NoExecute",
        {
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    tolerations: [{ key: "k", value: "v", effect: "NoSchedule", tolerationSeconds: 60 }],
                },
            ],
        },
        "podTemplates[0].tolerations[0].tolerationSeconds",
        "only applies with effect NoExecute",
    ],
    [
        "node selector key with '='",
        { podTemplates: [{ name: "a", labels: ["x"], nodeSelector: { "pool=x": "a" } }] },
        "podTemplates[0].nodeSelector.pool=x",
        "must not contain",
    ],
    [
        "web namespaces with the policy off",
        { networkPolicy: false, webAllowedNamespaces: ["ingress"] },
        "webAllowedNamespaces",
        "only applies when",
    ], // Inside Jenkins: sign-in, grants, teams and credentials (config/access.ts, accessChecks.ts).
    ["sign-in of no known type", { securityRealm: { type: "saml" } }, "securityRealm.type", "local, oidc or ldap"],
    [
        "OIDC discovery over http",
        { securityRealm: { ...OIDC, wellKnown: "http://sso.example.com/.well-known/openid-configuration" } },
        "securityRealm.wellKnown",
        "https",
    ],
    [
        "OIDC issuer over http",
        {
            securityRealm: {
                ...OIDC,
                wellKnown: undefined,
                manual: {
                    issuer: "http://sso.example.com",
                    authorizationUrl: "https://sso.example.com/auth",
                    tokenUrl: "https://sso.example.com/token",
                },
            },
        },
        "securityRealm.manual.issuer",
        "https",
    ],
    [
        "OIDC with both wellKnown and manual",
        {
            securityRealm: {
                ...OIDC,
                manual: {
                    issuer: "https://sso.example.com",
                    authorizationUrl: "https://sso.example.com/auth",
                    tokenUrl: "https://sso.example.com/token",
                    jwksUrl: "https://sso.example.com/keys",
                },
            },
        },
        "securityRealm.manual",
        "not both",
    ],
    [
        "OIDC with neither wellKnown nor manual",
        { securityRealm: { ...OIDC, wellKnown: undefined } },
        "securityRealm.wellKnown",
        "is required",
    ],
    [
        "OIDC client secret without its key",
        { securityRealm: { ...OIDC, clientSecret: { secret: "x" } } },
        "securityRealm.clientSecret.key",
        "is required",
    ],
    [
        "LDAP server without ldap(s)://",
        {
            securityRealm: { type: "ldap", server: "ldap.example.com:389", rootDN: "dc=example" },
            administrators: { groups: ["a"] },
        },
        "securityRealm.server",
        "ldap:// or ldaps://",
    ],
    [
        "LDAP manager DN without its password",
        {
            securityRealm: { type: "ldap", server: "ldaps://ldap.example.com", rootDN: "dc=x", managerDN: "cn=ci" },
            administrators: { groups: ["a"] },
        },
        "securityRealm.managerPassword",
        "is required with managerDN",
    ],
    [
        "OIDC endpoints without the provider's keys",
        {
            securityRealm: {
                ...OIDC,
                wellKnown: undefined,
                manual: {
                    issuer: "https://sso.example.com",
                    authorizationUrl: "https://sso.example.com/auth",
                    tokenUrl: "https://sso.example.com/token",
                },
            },
        },
        "securityRealm.manual.jwksUrl",
        "is required",
    ],
    [
        "a grant to the visitors who are not signed in",
        { securityRealm: OIDC, administrators: { groups: ["a"] }, readers: { groups: ["anonymous"] } },
        "readers.groups[0]",
        "visitors who are not signed in",
    ],
    ["no administrator under OIDC (a lock-out)", { securityRealm: OIDC }, "administrators", "lock-out"],
    ["administrators misspelt", { administrators: { group: ["ops"] } }, "administrators.group", "did you mean groups?"],
    [
        "a group local sign-in cannot return",
        { administrators: { groups: ["platform-admins"] } },
        "administrators.groups[0]",
        "local sign-in has no groups",
    ],
    [
        "a group OIDC would split",
        { securityRealm: OIDC, administrators: { groups: ["platform admins"] } },
        "administrators.groups[0]",
        "can never be returned whole",
    ],
    ["a reserved user name", { readers: { users: ["anonymous"] } }, "readers.users[0]", "reserves"],
    ["a user name with a trailing blank", { readers: { users: ["bob "] } }, "readers.users[0]", "trailing blanks"],
    [
        "automation user under OIDC",
        { securityRealm: OIDC, administrators: { groups: ["a"] }, automationUser: "relay" },
        "automationUser",
        "only applies with local sign-in",
    ],
    [
        "automation user that is the admin",
        { automationUser: "Admin" },
        "automationUser",
        "is also jenkins-k8s:adminUsername",
    ],
    ["automation user id with a space", { automationUser: "ci bot" }, "automationUser", "Jenkins user id"],
    ["team name with a slash", { teams: [{ name: "web/api" }] }, "teams[0].name", "characters Jenkins refuses"],
    ["team name ending in a dot", { teams: [{ name: "web." }] }, "teams[0].name", "does not end in '.'"],
    [
        "two teams of one name",
        { teams: [{ name: "web" }, { name: "Web" }] },
        "teams[1].name",
        "is also the name of teams[0]",
    ],
    [
        "a team granted a cloud that does not exist",
        { teams: [{ name: "web", clouds: ["kubernetes-gpu"] }] },
        "teams[0].clouds[0]",
        "is not a cloud of this Jenkins",
    ],
    [
        "a team granted a cloud that is not enabled",
        { teams: [{ name: "web", clouds: ["kubernetes-privileged"] }] },
        "teams[0].clouds[0]",
        "allowPrivilegedAgents is false",
    ],
    [
        "a team granted a tier instead of its cloud",
        { deployNamespaces: ["staging"], teams: [{ name: "web", clouds: ["deploy"] }] },
        "teams[0].clouds[0]",
        'name the cloud, "kubernetes-deploy"',
    ],
    [
        "a team both kept and deleted",
        { teams: [{ name: "web" }], deletedTeams: ["web"] },
        "deletedTeams",
        "either kept or deleted",
    ],
    ["a deleted team name with a colon", { deletedTeams: ["a:b"] }, "deletedTeams[0]", "characters Jenkins refuses"],
    [
        "a credential of no known type",
        { credentials: [{ id: "x", type: "token", secret: "s" }] },
        "credentials[0].type",
        "usernamePassword, secretText, sshPrivateKey, file",
    ],
    [
        "a credential id with a space",
        { credentials: [{ id: "git hub", type: "secretText", secret: "s" }] },
        "credentials[0].id",
        "credential id",
    ],
    [
        "a credential id used twice",
        {
            credentials: [{ id: "git", type: "secretText", secret: "s" }],
            teams: [{ name: "web", credentials: [{ id: "git", type: "secretText", secret: "t" }] }],
        },
        "teams[0].credentials[0].id",
        "is also the id of jenkins-k8s:credentials[0]",
    ],
    [
        "a credential id of a cloud's launcher",
        {
            deployNamespaces: ["staging"],
            credentials: [{ id: "jenkins-deploy-launcher", type: "secretText", secret: "s" }],
        },
        "credentials[0].id",
        "launcher credential",
    ],
    [
        "a user name both written and read from the Secret",
        {
            credentials: [
                { id: "git", type: "usernamePassword", secret: "s", username: "bot", keys: { username: "user" } },
            ],
        },
        "credentials[0].username",
        "not both",
    ],
    [
        "a file credential without its key",
        { credentials: [{ id: "kube", type: "file", secret: "s" }] },
        "credentials[0].keys",
        "is required",
    ],
    [
        "a credential key Kubernetes refuses",
        { credentials: [{ id: "t", type: "secretText", secret: "s", keys: { text: "a/b" } }] },
        "credentials[0].keys.text",
        "key of a Secret",
    ],
    [
        "a team credential with a scope",
        { teams: [{ name: "web", credentials: [{ id: "t", type: "secretText", secret: "s", scope: "system" }] }] },
        "teams[0].credentials[0].scope",
        "not a field here",
    ],
    // Jobs as code (config/jobs.ts, accessChecks.ts repositoryProblems).
    [
        "a repository over http",
        { teams: [{ name: "a", repositories: [{ url: "http://git.example.com/x.git" }] }] },
        "teams[0].repositories[0].url",
        "https:// or ssh:// with a host",
    ],
    [
        "a repository over git:// (clear text, unauthenticated)",
        { teams: [{ name: "a", repositories: [{ url: "git://git.example.com/x.git" }] }] },
        "teams[0].repositories[0].url",
        "authenticated, encrypted connection",
    ],
    [
        "a repository URL holding a password",
        { teams: [{ name: "a", repositories: [{ url: "https://ci:ghp_token@github.com/acme/x.git" }] }] },
        "teams[0].repositories[0].url",
        "holds a password",
    ],
    [
        "a repository URL with a variable the git plugin would expand",
        { teams: [{ name: "a", repositories: [{ url: "https://g.example.com/${ORG}/x.git" }] }] },
        "teams[0].repositories[0].url",
        "holds ${..., which Jenkins' git plugin replaces from the build's environment",
    ],
    [
        "a branch with a variable",
        { teams: [{ name: "a", repositories: [{ url: "https://g.example.com/x.git", branch: "release-$VERSION" }] }] },
        "teams[0].repositories[0].branch",
        "holds $V...",
    ],
    [
        "a branch written as a ref",
        { teams: [{ name: "a", repositories: [{ url: "https://g.example.com/x.git", branch: "refs/heads/main" }] }] },
        "teams[0].repositories[0].branch",
        "without refs/heads/",
    ],
    [
        "a Jenkinsfile path with a variable",
        {
            teams: [
                {
                    name: "a",
                    repositories: [{ url: "https://g.example.com/x.git", jenkinsfile: "ci/$${x}/Jenkinsfile" }],
                },
            ],
        },
        "teams[0].repositories[0].jenkinsfile",
        "holds $$...",
    ],
    [
        "a repository's credential git does not use (secret text)",
        {
            teams: [
                {
                    name: "a",
                    credentials: [{ id: "tok", type: "secretText", secret: "a" }],
                    repositories: [{ url: "https://g.example.com/x.git", credentialsId: "tok" }],
                },
            ],
        },
        "teams[0].repositories[0].credentialsId",
        "is a secretText credential, which git does not use",
    ],
    [
        "an SSH key for an https repository",
        {
            credentials: [{ id: "key", type: "sshPrivateKey", secret: "k", username: "git" }],
            teams: [{ name: "a", repositories: [{ url: "https://g.example.com/x.git", credentialsId: "key" }] }],
        },
        "teams[0].repositories[0].credentialsId",
        "is an SSH key, which git uses over ssh only",
    ],
    [
        "a username and password for an ssh repository",
        {
            credentials: [{ id: "up", type: "usernamePassword", secret: "s" }],
            teams: [{ name: "a", repositories: [{ url: "git@g.example.com:x/y.git", credentialsId: "up" }] }],
        },
        "teams[0].repositories[0].credentialsId",
        "is a username and password, which git uses over https only",
    ],
    [
        "a team named as the test job, in another case",
        { testJob: true, teams: [{ name: "Agent-Test" }] },
        "teams[0].name",
        "is the test job's name",
    ],
    [
        "a repository on the controller's disk",
        { teams: [{ name: "a", repositories: [{ url: "file:///var/repo.git" }] }] },
        "teams[0].repositories[0].url",
        "Git URL",
    ],
    [
        "a repository without a scheme",
        { teams: [{ name: "a", repositories: [{ url: "github.com/acme/x" }] }] },
        "teams[0].repositories[0].url",
        "Git URL",
    ],
    [
        "a repository's credential no one defines",
        { teams: [{ name: "a", repositories: [{ url: "https://g.example.com/x.git", credentialsId: "nope" }] }] },
        "teams[0].repositories[0].credentialsId",
        "no credential has this id",
    ],
    [
        "a repository's credential of another team",
        {
            teams: [
                { name: "a", repositories: [{ url: "https://g.example.com/x.git", credentialsId: "b-token" }] },
                { name: "b", credentials: [{ id: "b-token", type: "secretText", secret: "b" }] },
            ],
        },
        "teams[0].repositories[0].credentialsId",
        'is a credential of team "b"',
    ],
    [
        "a repository's credential for Jenkins alone",
        {
            credentials: [{ id: "sys", type: "secretText", secret: "s", scope: "system" }],
            teams: [{ name: "a", repositories: [{ url: "https://g.example.com/x.git", credentialsId: "sys" }] }],
        },
        "teams[0].repositories[0].credentialsId",
        "scope system",
    ],
    [
        "two repositories making one job",
        {
            teams: [
                {
                    name: "a",
                    repositories: [
                        { url: "https://g.example.com/x/app.git" },
                        { url: "ssh://git@g.example.com/y/app.git" },
                    ],
                },
            ],
        },
        "teams[0].repositories[1].url",
        "makes the job a/app, as teams[0].repositories[0] does",
    ],
    [
        "a repository whose URL makes no job name",
        { teams: [{ name: "a", repositories: [{ url: "https://g.example.com/x/a@b.git" }] }] },
        "teams[0].repositories[0].url",
        'makes the job name "a@b"',
    ],
    [
        "a branch git refuses",
        { teams: [{ name: "a", repositories: [{ url: "https://g.example.com/x.git", branch: "a..b" }] }] },
        "teams[0].repositories[0].branch",
        "Git branch name",
    ],
    [
        "a Jenkinsfile by absolute path",
        {
            teams: [
                { name: "a", repositories: [{ url: "https://g.example.com/x.git", jenkinsfile: "/ci/Jenkinsfile" }] },
            ],
        },
        "teams[0].repositories[0].jenkinsfile",
        "relative path",
    ],
    [
        "a scan interval the trigger misreads",
        { teams: [{ name: "a", repositories: [{ url: "https://g.example.com/x.git", scanInterval: "1w" }] }] },
        "teams[0].repositories[0].scanInterval",
        "one of 1m",
    ],
    ["an extra document that is not YAML", { extraCasc: ["unclassified: [a"] }, "extraCasc[0]", "is not YAML"],
    [
        "an extra document that is not a mapping",
        { extraCasc: [["unclassified"]] },
        "extraCasc[0]",
        "must be a JCasC document",
    ],
    [
        "the test job with no build-tier template",
        { testJob: true, podTemplates: [{ name: "b", labels: ["b"], podSecurity: "baseline" }] },
        "testJob",
        "no template is in the build tier",
    ],
];

describe("bad settings fail before any resource, naming the key and the value", () => {
    it.each(BAD)("%s", (_title, values, key, allowed) => {
        const problems = problemsOf(values);
        const problem = problems.find((p) => p.startsWith(`${PROJECT}:${key}`));
        expect(problem).toBeDefined();
        expect(problem).toContain(allowed);
        const value = values[key.replace(/\[\d+\]$/, "")];
        if (value !== undefined && typeof value !== "object") {
            expect(problem).toContain(String(value as string | number | boolean));
        } else if (/: (is required|not a field here)/.test(problem!)) {
            // Nothing there, or a field that does not exist: the path itself names it.
            expect(problem!.startsWith(`${PROJECT}:${key}: `)).toBe(true);
        } else {
            // Lists and objects: the message shows the offending part after " = ".
            expect(problem).toMatch(/ = \S/);
        }
    });

    it("covers at least 30 distinct bad settings across the keys", () => {
        expect(BAD.length).toBeGreaterThanOrEqual(30);
        const keys = new Set(BAD.map(([, , key]) => key.split(/[.[]/)[0]));
        for (const key of Object.keys(KEYS)) {
            expect([key, keys.has(key)]).toEqual([key, true]);
        }
    });

    it("reports every problem at once, a key's own and those across keys, in one preview", () => {
        const problems = problemsOf({
            heapPercent: 99,
            controllerCpuRequest: "4",
            controllerCpuLimit: "1",
            serviceType: "ClusterIP",
            nodePort: 30002,
        });
        expect(problems).toEqual([
            expect.stringContaining(`${PROJECT}:heapPercent = 99: must be a whole number from 10 to 80`),
            `${PROJECT}:controllerCpuRequest = "4": must not exceed ${PROJECT}:controllerCpuLimit ("1")`,
            expect.stringContaining(
                `${PROJECT}:nodePort = 30002: only applies when ${PROJECT}:serviceType is NodePort`,
            ),
        ]);
    });

    it("skips a rule across keys when one of its keys was refused, instead of judging a value nobody gave", () => {
        // agentNamespace equal to namespace is a problem between keys, but namespace is refused on its own.
        const problems = problemsOf({ namespace: "Bad_Name", agentNamespace: "Bad_Name" });
        expect(problems).toHaveLength(2);
        expect(problems.every((p) => p.includes("must be an RFC 1123 label"))).toBe(true);
    });

    it.each([
        [
            "a key that only applies with another, beside a refused one the same rule reads next",
            { ingressClass: "nginx", ingressTlsSecret: "Bad_Name" },
            "ingressClass",
        ],
        [
            "a plugin listed twice, beside a refused agent connection",
            { plugins: ["kubernetes:4540.v612369217f87", "kubernetes:4540.v612369217f87"], agentConnection: "udp" },
            "plugins",
        ],
        [
            "an NFS server without NFS, beside a refused path",
            { nfsServer: "nfs.example.com", nfsPath: "relative" },
            "nfsServer",
        ],
    ])("keeps what a rule across keys found before it read a refused key: %s", (_, values, key) => {
        const problems = problemsOf(values);
        expect(problems.filter((p) => p.startsWith(`${PROJECT}:${key} `))).toHaveLength(1);
        expect(problems.length).toBeGreaterThanOrEqual(2);
    });

    it("the error message lists the problems the way pulumi preview prints them", () => {
        expect(() => settingsFrom(raw({ serviceType: "Ingress" }))).toThrow(
            /Invalid configuration \(1 problem\):\n {2}- jenkins-k8s:serviceType = "Ingress": must be one of: ClusterIP, NodePort, LoadBalancer/,
        );
    });

    // Messages a new user met and was misled by (each seen), now in their words.
    it.each([
        [
            "a workspace under 1Gi is a workspace, not Jenkins home",
            {
                podTemplates: [
                    { name: "a", labels: ["a"], workspaceVolume: { type: "genericEphemeralVolume", size: "500Mi" } },
                ],
            },
            'jenkins-k8s:podTemplates[0].workspaceVolume.size = "500Mi": must be at least 1Gi (a workspace holds the checkout and what the build makes; block-storage CSI drivers such as EBS provision 1Gi at the least)',
        ],
        [
            "an agent image on Java 17 names its Java",
            { agentImage: "jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk17" },
            'jenkins-k8s:agentImage = "jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk17": runs Java 17 (its tag\'s -jdk17), and Jenkins 2.555 and later need Java 21 or later on agents: use the -jdk21 tag of the same release',
        ],
        [
            "tolerations written as a string",
            { podTemplates: [{ name: "a", labels: ["a"], tolerations: "key=value:NoSchedule" }] },
            'jenkins-k8s:podTemplates[0].tolerations = "key=value:NoSchedule": must be a list of tolerations such as [{key: dedicated, operator: Equal, value: ci, effect: NoSchedule}]',
        ],
        [
            "a mapping where a list goes, in the stack file's words, not the validation library's",
            { podTemplates: [{ name: "a", labels: ["a"], containers: { name: "m" } }] },
            'jenkins-k8s:podTemplates[0].containers = {"name":"m"}: must be a list (- item, or [a, b]), not a mapping',
        ],
        [
            "a backup schedule the API server would refuse at up",
            { backups: true, backupSchedule: "99 * * * *" },
            'jenkins-k8s:backupSchedule = "99 * * * *": is not a schedule the API server takes: minute 99: outside 0-59',
        ],
        [
            "a day of week 7 (robfig/cron takes 0-6)",
            { backups: true, backupSchedule: "0 3 * * 7" },
            'jenkins-k8s:backupSchedule = "0 3 * * 7": is not a schedule the API server takes: day of week 7: outside 0-6',
        ],
    ])("%s", (_what, values, message) => {
        expect(problemsOf(values)).toContain(message);
    });

    it("a type error in one template hides no problem of another (every problem at once)", () => {
        expect(
            problemsOf({
                podTemplates: [
                    { name: "a", labels: ["a"], containers: [{ name: "m", image: "maven:3.9.9", memoryLimit: 3072 }] },
                    {
                        name: "b",
                        labels: ["b"],
                        containers: [{ name: "m", image: "maven:3.9.9", memoryRequest: "4Gi", memoryLimit: "1Gi" }],
                    },
                ],
            }),
        ).toEqual([
            'jenkins-k8s:podTemplates[0].containers[0].memoryLimit = 3072: must be a string: write it in quotes ("3072"), at least 4Mi',
            'jenkins-k8s:podTemplates[1].containers[0].memoryRequest = "4Gi": must not exceed memoryLimit ("1Gi")',
        ]);
    });

    it("schedules the API server takes pass: lists, ranges, steps, names, ?, macros", () => {
        for (const schedule of ["0 3 * * *", "*/15 0-6,22-23 ? jan-mar mon-fri", "5 4 1 1 SUN", "@weekly"]) {
            expect([schedule, v.checkCron(schedule)]).toEqual([schedule, undefined]);
        }
        expect(v.checkCron("0 0 L * *")).toBe("is not a schedule the API server takes: day of month L: not a number");
        expect(v.checkCron("0 0 5-1 * *")).toBe(
            "is not a schedule the API server takes: day of month 5-1: the range runs backwards",
        );
        expect(v.checkCron("0/0 * * * *")).toBe(
            "is not a schedule the API server takes: minute 0/0: the step must be a positive number",
        );
    });

    it("ignores other projects' keys (provider settings such as kubernetes:context)", () => {
        expect(readValues({ "kubernetes:context": "kind-dev" }).problems).toEqual([]);
    });
});

describe("value checks", () => {
    it.each([
        ["", []],
        ["  -Da=1   -Db=2 ", ["-Da=1", "-Db=2"]],
        ['-Dgreeting="hello world" -Dx', ["-Dgreeting=hello world", "-Dx"]],
        ["-Dq='a \"b\"' -Dz", ['-Dq=a "b"', "-Dz"]],
        ["-Dpath=a\\ b\\\\c", ["-Dpath=a b\\c"]],
        ['-Dempty=""', ["-Dempty="]],
        ["-Da\n-Db\t-Dc", ["-Da", "-Db", "-Dc"]],
    ])("splits javaOpts %j as xargs does", (text, words) => {
        expect(v.javaOptsWords(text)).toEqual({ words });
    });
    it.each([
        ['-Da="x', '"'],
        ["-Da='x", "'"],
        ['-Da="x\ny"', '"'],
    ])("finds the unmatched quote in %j", (text, quote) => {
        expect(v.javaOptsWords(text)).toEqual({ unmatched: quote });
    });
    it.each([
        "-Dfile.encoding=UTF-8 -Dsun.jnu.encoding=UTF-8",
        "--add-opens java.base/java.lang=ALL-UNNAMED -Xss2m",
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-exports java.base/sun.nio.ch=ALL-UNNAMED --enable-native-access ALL-UNNAMED",
    ])("passes the JVM options %j", (opts) => {
        expect(v.checkJavaOpts(opts)).toBeUndefined();
    });
    it("refuses a word after an option that takes none", () => {
        expect(v.checkJavaOpts("-Xss2m java.base/java.lang=ALL-UNNAMED")).toContain("not a JVM option");
    });
    it.each([
        "UTC",
        "GMT",
        "Asia/Shanghai",
        "America/Port-au-Prince",
        "US/Eastern",
        "Europe/Kyiv",
        "Etc/GMT+8",
        "GMT+08:00",
        "GMT-0530",
        "GMT+8",
    ])("accepts the time zone %s, as the JVM does", (zone) => expect(v.checkTimezone(zone)).toBeUndefined());
    it.each(["utc", "Asia/shanghai", "US/EASTERN", "Europe/KYIV", "GMT+24:00", "+08:00", "CST6", "Mars/Olympus", ""])(
        "refuses the time zone %s",
        (zone) => expect(v.checkTimezone(zone)).toBeDefined(),
    );
    it.each(["100m", "1", "2.5", "0.5"])("accepts CPU %s", (q) => expect(v.checkCpu(q)).toBeUndefined());
    it.each(["512Mi", "2Gi", "1G", "1500M", "4Mi"])("accepts memory %s", (q) =>
        expect(v.checkMemory(q)).toBeUndefined(),
    );
    it("parses quantities to numbers", () => {
        expect(v.parseQuantity("500m")).toBeCloseTo(0.5);
        expect(v.parseQuantity("2Gi")).toBe(2 * 2 ** 30);
        expect(v.parseQuantity("1e3")).toBe(1000);
        expect(v.parseQuantity("abc")).toBeNaN();
    });
    it.each([
        "jenkins/jenkins:2.568.2-jdk21",
        "registry.example.com:5000/team/agent:1.0",
        "jenkins/inbound-agent:3385.vf1123fb_515da_-1",
        `jenkins/jenkins@sha256:${"a".repeat(64)}`,
        `jenkins/jenkins:lts@sha256:${"b".repeat(64)}`,
    ])("accepts image %s", (image) => expect(v.checkImage(image)).toBeUndefined());
    it.each([
        "jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk21",
        "jenkins/inbound-agent:3385.vf1123fb_515da_-1-alpine-jdk21",
        "docker.io/jenkins/agent:3355.v388858a_47b_33-2-jdk25",
        "registry.example.com/team/agent:1.0",
        `jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk21@sha256:${"d".repeat(64)}`,
    ])("accepts agent image %s", (image) => expect(v.checkAgentImage(image)).toBeUndefined());
    it.each([
        "jenkins/inbound-agent:3385.vf1123fb_515da_-1",
        "jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk17",
        `jenkins/inbound-agent@sha256:${"c".repeat(64)}`,
    ])("refuses agent image %s, whose Java is not named 21 or later", (image) =>
        expect(v.checkAgentImage(image)).toContain("Java"),
    );
    it.each(["linux", "hwzx-cmp", "maven_3.9", "x86-64"])("accepts label %s", (l) =>
        expect(v.checkAgentLabel(l)).toBeUndefined(),
    );
    it.each(["10.0.0.5", "nfs.example.com", "NFS-1"])("accepts NFS server %s", (h) =>
        expect(v.checkHostOrIp(h)).toBeUndefined(),
    );
});
