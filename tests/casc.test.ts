// The JCasC builder as a pure function, and its output checked against the schema of what the
// Kubernetes plugin and JCasC accept (schemas/jcasc.schema.json).
// Long by design: every template field and cloud setting is followed into the document.
import Ajv from "ajv";
import { parse } from "yaml";
import { PROJECT } from "../config/metadata";
import { buildCasc, cascInput, renderCasc, templateId, templatePodYaml } from "../jcasc/jcasc";
import { deriveNames } from "../config/names";
import { settingsFrom } from "../config/settings";
import { prePullGroups } from "../components/cloudConfig";
import { templatesSchema } from "../config/podTemplates";
import { runDefaults, runDefaultsWarned } from "./harness";
import schema from "../schemas/jcasc.schema.json";

const validateCasc = new Ajv({ allErrors: true, strict: true }).compile(schema);

function cascErrors(doc: unknown): string[] {
    return validateCasc(doc)
        ? []
        : (validateCasc.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

function settings(values: Record<string, unknown> = {}) {
    return settingsFrom(
        Object.fromEntries(
            Object.entries(values).map(([k, v]) => [`${PROJECT}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
        ),
    );
}

function casc(values: Record<string, unknown> = {}): any {
    const s = settings(values);
    const names = deriveNames(s);
    return parse(renderCasc(buildCasc(cascInput(s, names))));
}

/** The cloud of a tier's name (kubernetes, kubernetes-baseline, ...) and a template of it, by name. */
function cloudOf(doc: any, name: string): any {
    return doc.jenkins.clouds.map((c: any) => c.kubernetes).find((c: any) => c.name === name);
}
function templateOf(doc: any, cloud: string, name: string): any {
    return cloudOf(doc, cloud).templates.find((t: any) => t.name === name);
}

const THREE_TEMPLATES = {
    deployNamespaces: ["staging", "production"],
    podTemplates: [
        {
            name: "maven",
            labels: ["maven", "java"],
            containers: [
                {
                    name: "maven",
                    image: "maven:3.9.9-eclipse-temurin-21",
                    cpuRequest: "1",
                    cpuLimit: "2",
                    memoryRequest: "1Gi",
                    memoryLimit: "2Gi",
                    env: { MAVEN_OPTS: "-Xmx1g" },
                },
            ],
            idleMinutes: 5,
            instanceCap: 4,
            nodeSelector: { "kubernetes.io/os": "linux", pool: "builds" },
            tolerations: [{ key: "dedicated", value: "ci", effect: "NoSchedule" }],
            workspaceVolume: { type: "genericEphemeralVolume", size: "10Gi", storageClass: "fast" },
            volumes: [{ type: "secret", secretName: "maven-settings", mountPath: "/home/jenkins/.m2" }],
        },
        {
            name: "node",
            labels: ["node"],
            containers: [{ name: "node", image: "node:22.11.0-bookworm", memoryLimit: "3Gi" }],
            volumes: [{ type: "emptyDir", mountPath: "/home/jenkins/.npm", memory: false }],
            env: { NPM_CONFIG_CACHE: "/home/jenkins/.npm" },
        },
        {
            name: "deploy",
            labels: ["deploy"],
            deploy: true,
            containers: [{ name: "kubectl", image: "alpine/k8s:1.31.3", command: ["sleep"], args: ["infinity"] }],
        },
    ],
};

describe("the JCasC document", () => {
    it("for the defaults: configured security, no wizard state, no controller executors", () => {
        const doc = casc();
        expect(cascErrors(doc)).toEqual([]);
        expect(doc.jenkins.numExecutors).toBe(0);
        expect(doc.jenkins.securityRealm.local.allowsSignup).toBe(false);
        // The generated admin administers; the automation user reads and builds; anonymous gets nothing.
        expect(doc.jenkins.authorizationStrategy).toEqual({
            projectMatrix: {
                entries: [
                    { user: { name: "admin", permissions: ["Overall/Administer"] } },
                    { user: { name: "automation", permissions: ["Job/Build", "Job/Read", "Overall/Read"] } },
                ],
            },
        });
        expect(doc.jenkins.slaveAgentPort).toBe(50000);
        expect(doc.unclassified.location.url).toBe("http://jenkins.jenkins.svc:8080/");
    });

    it("configures the cloud from the settings", () => {
        const cloud = casc({ containerCap: 25, podRetention: "onFailure" }).jenkins.clouds[0].kubernetes;
        expect(cloud).toMatchObject({
            name: "kubernetes",
            serverUrl: "https://kubernetes.default",
            namespace: "jenkins-agents",
            jenkinsUrl: "http://jenkins.jenkins.svc:8080/",
            jenkinsTunnel: "jenkins-agent.jenkins.svc:50000",
            containerCapStr: "25",
            podRetention: "onFailure",
        });
        expect(cloud.podLabels).toEqual(
            expect.arrayContaining([{ key: "app.kubernetes.io/component", value: "agent" }]),
        );
    });

    it("lets the cloud's client make two API requests for each pod at the cap, never fewer than the plugin's 32", () => {
        const limit = (containerCap: number) =>
            casc({ containerCap }).jenkins.clouds[0].kubernetes.maxRequestsPerHostStr;
        expect(limit(10)).toBe("32");
        expect(limit(16)).toBe("32");
        expect(limit(40)).toBe("80");
        // The plugin's own timeouts (also its minimums) stay; waitForPodSec, which it reads nowhere, is not written.
        const cloud = casc({ containerCap: 40 }).jenkins.clouds[0].kubernetes;
        for (const key of ["waitForPodSec", "connectTimeout", "readTimeout"]) expect(cloud).not.toHaveProperty(key);
    });

    it("the default template: stable id, label from config, agent account, jnlp without command or args", () => {
        const t = templateOf(casc({ agentLabel: "hwzx-cmp", agentIdleMinutes: 3 }), "kubernetes", "default");
        expect(t).toMatchObject({
            id: templateId("jenkins-agents", "default"),
            name: "default",
            label: "hwzx-cmp",
            nodeUsageMode: "NORMAL",
            serviceAccount: "jenkins-agent",
            idleMinutes: 3,
            instanceCap: 10,
        });
        expect(t.containers).toEqual([
            {
                name: "jnlp",
                image: "jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk21",
                resourceRequestCpu: "500m",
                resourceLimitCpu: "1",
                resourceRequestMemory: "512Mi",
                resourceLimitMemory: "1Gi",
            },
        ]);
    });

    it("template ids are stable across runs and differ across templates and namespaces", () => {
        expect(templateId("a", "default")).toBe(templateId("a", "default"));
        expect(templateId("a", "default")).not.toBe(templateId("b", "default"));
        expect(templateId("a", "default")).not.toBe(templateId("a", "maven"));
        expect(templateId("a", "default")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    });

    it("the default image-build template builds with kaniko in the baseline tier: no Docker socket, no privileged flag", () => {
        const t = templateOf(casc(), "kubernetes-baseline", "image-build");
        expect(t.label).toBe("image-build");
        expect(t.nodeUsageMode).toBe("EXCLUSIVE");
        expect(t.namespace).toBe("jenkins-agents-baseline");
        const kaniko = t.containers.find((c: any) => c.name === "kaniko");
        expect(kaniko).toMatchObject({
            image: "martizih/kaniko:v1.27.6-debug",
            command: "/busybox/cat",
            ttyEnabled: true,
        });
        const other = casc({ kanikoImage: "registry.example.com/kaniko:v1.27.6-debug" });
        expect(templateOf(other, "kubernetes-baseline", "image-build").containers[1].image).toBe(
            "registry.example.com/kaniko:v1.27.6-debug",
        );
        expect(kaniko.privileged).toBeUndefined();
        expect(JSON.stringify(t)).not.toContain("docker.sock");
        const sc = parse(t.yaml).spec.containers.find((c: any) => c.name === "kaniko").securityContext;
        expect(sc).toMatchObject({ runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false });
        expect(sc.seccompProfile).toBeUndefined();
    });

    it("WebSocket agents: webSocket instead of a tunnel, inbound port off", () => {
        const doc = casc({ agentConnection: "websocket" });
        expect(cascErrors(doc)).toEqual([]);
        expect(doc.jenkins.slaveAgentPort).toBe(-1);
        expect(doc.jenkins.clouds[0].kubernetes.webSocket).toBe(true);
        expect(doc.jenkins.clouds[0].kubernetes).not.toHaveProperty("jenkinsTunnel");
    });

    it("writes strings that YAML 1.1 (SnakeYAML, as JCasC and the plugin read) would take for another type as strings", () => {
        const tricky = {
            A: "yes",
            B: "on",
            C: "no",
            D: "2024-01-01",
            E: "0755",
            F: "~",
            G: "12:30:00",
            H: "y",
            I: "<<",
        };
        const s = settings({
            podTemplates: [
                {
                    name: "a",
                    labels: ["x"],
                    env: tricky,
                    yaml: "metadata:\n  annotations:\n    flag: 'off'\n    built: '2001-12-14'\n",
                },
            ],
        });
        const text = renderCasc(buildCasc(cascInput(s, deriveNames(s))));
        // SnakeYAML reads a plain << as its merge key, wherever it stands: it must be quoted.
        expect(text).toContain('value: "<<"');
        const doc = parse(text, { version: "1.1" });
        const template = templateOf(doc, "kubernetes", "a");
        const env = Object.fromEntries(template.envVars.map((e: any) => [e.envVar.key, e.envVar.value]));
        expect(env).toEqual(tricky);
        const pod = parse(template.yaml, { version: "1.1" });
        expect(pod.metadata.annotations).toEqual({ flag: "off", built: "2001-12-14" });
    });

    it("escapes ${...} in user text so JCasC takes it literally; only the passwords are references", () => {
        const s = settings({ podTemplates: [{ name: "a", labels: ["x"], env: { GREETING: "${HOME}" } }] });
        const names = deriveNames(s);
        const text = renderCasc(buildCasc(cascInput(s, names)));
        expect(text).toContain("^${HOME}");
        expect(text.match(/(?<!\^)\$\{[^}]*\}/g)).toEqual([
            "${controller/jenkins-admin-password}",
            "${controller/jenkins-automation-password}",
        ]);
    });
});

describe("three pod templates", () => {
    const doc = casc(THREE_TEMPLATES);
    // Every cloud's templates but the defaults template each cloud has first.
    const templates = doc.jenkins.clouds.flatMap((c: any) =>
        c.kubernetes.templates.filter((t: any) => t.name !== "jenkins-k8s-defaults"),
    );
    const byName = Object.fromEntries(templates.map((t: any) => [t.name, t]));

    it("validate against the plugin's keys", () => {
        expect(cascErrors(doc)).toEqual([]);
    });

    it("each has its labels, and only the first takes unlabelled jobs", () => {
        expect(templates.map((t: any) => [t.name, t.label, t.nodeUsageMode])).toEqual([
            ["maven", "maven java", "NORMAL"],
            ["node", "node", "EXCLUSIVE"],
            ["deploy", "deploy", "EXCLUSIVE"],
        ]);
    });

    it("each lists the jnlp agent first, then its tool containers with their resources", () => {
        expect(byName.maven.containers.map((c: any) => c.name)).toEqual(["jnlp", "maven"]);
        expect(byName.maven.containers[1]).toEqual({
            name: "maven",
            image: "maven:3.9.9-eclipse-temurin-21",
            command: "cat",
            args: "",
            ttyEnabled: true,
            resourceRequestCpu: "1",
            resourceLimitCpu: "2",
            resourceRequestMemory: "1Gi",
            resourceLimitMemory: "2Gi",
            // uid 1000 under the restricted profile: HOME where it can write.
            envVars: [
                { envVar: { key: "HOME", value: "/home/jenkins/agent" } },
                { envVar: { key: "MAVEN_OPTS", value: "-Xmx1g" } },
            ],
        });
        expect(byName.node.containers[1]).toMatchObject({ resourceRequestCpu: "250m", resourceLimitMemory: "3Gi" });
        expect(byName.deploy.containers[1]).toMatchObject({ command: "sleep", args: "infinity" });
    });

    it("volumes, workspace, node selector, tolerations and env reach the template", () => {
        expect(byName.maven.volumes).toEqual([
            { secretVolume: { secretName: "maven-settings", mountPath: "/home/jenkins/.m2", optional: false } },
        ]);
        expect(byName.maven.workspaceVolume).toEqual({
            genericEphemeralVolume: { requestsSize: "10Gi", accessModes: "ReadWriteOnce", storageClassName: "fast" },
        });
        expect(byName.maven.nodeSelector).toBe("kubernetes.io/os=linux,pool=builds");
        expect(parse(byName.maven.yaml).spec.tolerations).toEqual([
            { key: "dedicated", operator: "Equal", value: "ci", effect: "NoSchedule" },
        ]);
        expect(byName.node.volumes).toEqual([{ emptyDirVolume: { mountPath: "/home/jenkins/.npm", memory: false } }]);
        expect(byName.node.envVars).toEqual([{ envVar: { key: "NPM_CONFIG_CACHE", value: "/home/jenkins/.npm" } }]);
        expect(byName.node.workspaceVolume).toEqual({ emptyDirWorkspaceVolume: { memory: false } });
    });

    it("only the deploy template runs with the deployer account and an API token", () => {
        expect(
            templates.map((t: any) => [t.name, t.serviceAccount, parse(t.yaml).spec.automountServiceAccountToken]),
        ).toEqual([
            ["maven", "jenkins-agent", false],
            ["node", "jenkins-agent", false],
            ["deploy", "jenkins-deployer", true],
        ]);
    });

    it("restricted templates carry the restricted profile for every container, jnlp included", () => {
        for (const t of templates) {
            const pod = parse(t.yaml).spec;
            expect(pod.securityContext).toEqual({
                runAsNonRoot: true,
                runAsUser: 1000,
                runAsGroup: 1000,
                fsGroup: 1000,
                seccompProfile: { type: "RuntimeDefault" },
            });
            expect(pod.containers.map((c: any) => c.name)).toEqual(t.containers.map((c: any) => c.name));
            for (const c of pod.containers) {
                expect(c.securityContext).toEqual({
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ["ALL"] },
                    privileged: false,
                });
            }
        }
    });
});

describe("template pod YAML", () => {
    const base = {
        containers: [],
        idleMinutes: 0,
        instanceCap: 1,
        nodeSelector: {},
        tolerations: [],
        workspaceVolume: { type: "emptyDir" as const, memory: false },
        volumes: [],
        env: {},
        deploy: false,
        hostDockerSocket: false,
    };

    it("merges a template's own yaml over the profile, containers by name", () => {
        const pod = templatePodYaml({
            ...base,
            name: "a",
            labels: ["a"],
            podSecurity: "baseline",
            containers: [
                {
                    name: "jnlp",
                    image: "jenkins/inbound-agent:1",
                    cpuRequest: "1",
                    cpuLimit: "1",
                    memoryRequest: "1Gi",
                    memoryLimit: "1Gi",
                    env: {},
                    privileged: false,
                },
            ],
            yaml: "spec:\n  priorityClassName: ci\n  containers:\n    - name: jnlp\n      securityContext:\n        readOnlyRootFilesystem: true\n",
        });
        expect(pod.spec.priorityClassName).toBe("ci");
        expect(pod.spec.securityContext).toEqual({ seccompProfile: { type: "RuntimeDefault" } });
        expect(pod.spec.containers).toEqual([
            { name: "jnlp", securityContext: { privileged: false, readOnlyRootFilesystem: true } },
        ]);
    });
});

describe("under the mock runtime", () => {
    it("deploy rights: a RoleBinding in each listed namespace to the edit ClusterRole, and nowhere else", async () => {
        const s = await runDefaults(THREE_TEMPLATES);
        const bindings = s.objects("RoleBinding").filter((b) => b.metadata.name === "jenkins-deployer");
        expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual(["production", "staging"]);
        for (const b of bindings) {
            expect(b.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" });
            expect(b.subjects).toEqual([
                { kind: "ServiceAccount", name: "jenkins-deployer", namespace: "jenkins-agents-deploy" },
            ]);
        }
        expect(s.objects("ClusterRoleBinding")).toHaveLength(0);
        expect(s.object("ServiceAccount", "jenkins-deployer").automountServiceAccountToken).toBe(true);
    });

    it("no deploy namespaces: no deployer account and no deploy bindings", async () => {
        const s = await runDefaults();
        expect(s.objects("ServiceAccount", "jenkins-deployer")).toHaveLength(0);
        expect(new Set(s.objects("RoleBinding").map((b) => b.metadata.name))).toEqual(
            new Set(["jenkins-agent-manager", "jenkins-agent-reaper", "jenkins-casc-reload-events"]),
        );
    });

    it("the Docker socket opt-in mounts the socket and warns", async () => {
        const { stack: s, warnings } = await runDefaultsWarned({
            allowPrivilegedAgents: true,
            podTemplates: [{ name: "docker", labels: ["docker"], podSecurity: "privileged", hostDockerSocket: true }],
        });
        const t = templateOf(parse(s.casc), "kubernetes-privileged", "docker");
        expect(t.volumes).toEqual([
            {
                hostPathVolume: {
                    hostPath: "/var/run/docker.sock",
                    mountPath: "/var/run/docker.sock",
                    readOnly: false,
                },
            },
        ]);
        expect(warnings).toEqual(
            expect.arrayContaining([expect.stringContaining("'docker' mounts the node's Docker socket")]),
        );
        expect(parse(t.yaml).metadata.annotations).toEqual({ "jenkins-k8s/allow-host-path": "true" });
    });

    it("pre-pull: one DaemonSet per placement pulls its templates' images once each, without a shell, then idles on a pinned pause image", async () => {
        const s = await runDefaults({ ...THREE_TEMPLATES, prePullImages: true });
        expect(s.objects("DaemonSet")).toHaveLength(2);
        const anywhere = s.object("DaemonSet", "jenkins-agent-images");
        const tainted = s.objects("DaemonSet").find((d) => d !== anywhere)!;
        expect(anywhere.metadata).toMatchObject({ name: "jenkins-agent-images", namespace: "jenkins" });
        const pod = anywhere.spec.template.spec;
        // The tool copies a static busybox as `true`; every image then runs only that copy.
        expect(pod.initContainers.map((c: any) => [c.image, c.command])).toEqual([
            ["busybox:1.37.0-musl", ["/bin/busybox", "cp", "/bin/busybox", "/jenkins-k8s-noop/true"]],
            ["jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk21", ["/jenkins-k8s-noop/true"]],
            ["node:22.11.0-bookworm", ["/jenkins-k8s-noop/true"]],
            ["alpine/k8s:1.31.3", ["/jenkins-k8s-noop/true"]],
        ]);
        expect(pod).not.toHaveProperty("tolerations");
        expect(pod.containers.map((c: any) => c.image)).toEqual(["registry.k8s.io/pause:3.10"]);
        // The maven template runs only on tainted build nodes: its own DaemonSet goes there too.
        expect(tainted.metadata.name).toMatch(/^jenkins-agent-images-[0-9a-f]{8}$/);
        expect(tainted.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": tainted.metadata.name });
        const placed = tainted.spec.template.spec;
        expect(placed.nodeSelector).toEqual({ "kubernetes.io/os": "linux", pool: "builds" });
        expect(placed.tolerations).toEqual([
            { key: "dedicated", operator: "Equal", value: "ci", effect: "NoSchedule" },
        ]);
        expect(placed.initContainers.slice(1).map((c: any) => c.image)).toEqual([
            "jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk21",
            "maven:3.9.9-eclipse-temurin-21",
        ]);
        for (const c of [...pod.initContainers, ...pod.containers]) {
            expect(c.resources).toEqual({
                requests: { cpu: "1m", memory: "8Mi" },
                limits: { cpu: "50m", memory: "32Mi" },
            });
        }
        expect((await runDefaults()).objects("DaemonSet")).toHaveLength(0);
    });

    it("pre-pull: a toleration with tolerationSeconds is kept without it, so the pre-puller is not evicted and recreated in a loop", () => {
        const [template] = templatesSchema.parse([
            {
                name: "gpu",
                labels: ["gpu"],
                tolerations: [{ key: "gpu", operator: "Exists", effect: "NoExecute", tolerationSeconds: 60 }],
            },
        ]);
        expect(prePullGroups([template]).map((g) => g.tolerations)).toEqual([
            [{ key: "gpu", operator: "Exists", effect: "NoExecute" }],
        ]);
    });

    it("uses the default Kubernetes provider, so the stack's kubernetes:* settings apply", async () => {
        const s = await runDefaults();
        expect(s.resources.filter((r) => r.type.startsWith("pulumi:providers:"))).toEqual([]);
    });
});

describe("every template field reaches the JCasC in the plugin's form", () => {
    const doc = casc({
        allowPrivilegedAgents: true,
        podTemplates: [
            {
                name: "all",
                labels: ["all"],
                podSecurity: "privileged",
                env: { A: "${X}-${Y}" },
                containers: [
                    {
                        name: "jnlp",
                        image: "registry.example.com/agent:1.0",
                        cpuRequest: "100m",
                        cpuLimit: "1",
                        memoryRequest: "256Mi",
                        memoryLimit: "512Mi",
                    },
                    { name: "tool", image: "busybox:1.37.0", runAsUser: 2000, workingDir: "/work", privileged: true },
                ],
                volumes: [
                    { type: "emptyDir", mountPath: "/cache", memory: true },
                    { type: "secret", secretName: "s", mountPath: "/s" },
                    { type: "configMap", configMapName: "c", mountPath: "/c", optional: true },
                    { type: "pvc", claimName: "p", mountPath: "/p" },
                    { type: "nfs", server: "10.0.0.5", path: "/export", mountPath: "/n", readOnly: true },
                    { type: "hostPath", hostPath: "/var/cache", mountPath: "/h" },
                ],
            },
        ],
    });
    const t = templateOf(doc, "kubernetes-privileged", "all");

    it("validates against the plugin's keys", () => {
        expect(cascErrors(doc)).toEqual([]);
    });

    it("writes each volume kind with the plugin's field names; host paths are read-only unless asked", () => {
        expect(t.volumes).toEqual([
            { emptyDirVolume: { mountPath: "/cache", memory: true } },
            { secretVolume: { secretName: "s", mountPath: "/s", optional: false } },
            { configMapVolume: { configMapName: "c", mountPath: "/c", optional: true } },
            { persistentVolumeClaim: { claimName: "p", mountPath: "/p", readOnly: false } },
            { nfsVolume: { serverAddress: "10.0.0.5", serverPath: "/export", mountPath: "/n", readOnly: true } },
            { hostPathVolume: { hostPath: "/var/cache", mountPath: "/h", readOnly: true } },
        ]);
    });

    it("keeps a user's own jnlp container first, and a tool container's uid, working dir and privileged flag", () => {
        expect(t.containers[0]).toEqual({
            name: "jnlp",
            image: "registry.example.com/agent:1.0",
            resourceRequestCpu: "100m",
            resourceLimitCpu: "1",
            resourceRequestMemory: "256Mi",
            resourceLimitMemory: "512Mi",
        });
        expect(t.containers[1]).toMatchObject({
            name: "tool",
            runAsUser: "2000",
            workingDir: "/work",
            privileged: true,
        });
    });

    it("escapes every ${...} in user values, not only the first", () => {
        expect(t.envVars).toEqual([{ envVar: { key: "A", value: "^${X}-^${Y}" } }]);
    });

    it("marks the opt-ins on the pods: privileged containers and host paths", () => {
        expect(parse(t.yaml).metadata.annotations).toEqual({
            "jenkins-k8s/allow-privileged": "true",
            "jenkins-k8s/allow-host-path": "true",
        });
    });

    it("gives templates ids that do not change between releases", () => {
        // A changed id makes Jenkins see a new template; running agents of the old one are orphaned.
        expect(templateId("kube-ops-agents", "default")).toBe("c8d5566c-8fa3-e475-9382-6e5d9a93e0e8");
    });
});
