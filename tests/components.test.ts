// Each component's variants, under the mock runtime, through the real program.
// Long by design: one block per component, each switching its settings one at a time.
import { parse } from "yaml";
import { podScripts, posixZone, restartHash, restartParts } from "../components/master/workload";
import { settingsFrom } from "../config/settings";
import { runDefaults, runDefaultsWarned, withLock, withoutOfflineWarnings } from "./harness";

describe("JenkinsStorage", () => {
    it("nfs mode: a static PV like the original, but Retain, bound only to our claim", async () => {
        const s = await runDefaults({
            storageMode: "nfs",
            nfsServer: "10.0.0.5",
            nfsPath: "/exports/jenkins",
            storageAccessMode: "ReadWriteMany",
            storageSize: "3Gi",
        });
        const pv = s.object("PersistentVolume");
        expect(pv.metadata.name).toBe("jenkins-jenkins-home");
        expect(pv.spec).toMatchObject({
            capacity: { storage: "3Gi" },
            accessModes: ["ReadWriteMany"],
            persistentVolumeReclaimPolicy: "Retain",
            storageClassName: "",
            nfs: { server: "10.0.0.5", path: "/exports/jenkins" },
            claimRef: { namespace: "jenkins", name: "jenkins-home" },
        });
        const pvc = s.object("PersistentVolumeClaim", "jenkins-home");
        expect(pvc.spec).toMatchObject({ storageClassName: "", volumeName: "jenkins-jenkins-home" });
        expect(s.resource("kubernetes:core/v1:PersistentVolume", "jenkins-nfs").retainOnDelete).toBe(true);
        expect(s.resource("kubernetes:core/v1:PersistentVolumeClaim", "jenkins-home").retainOnDelete).toBe(true);
    });

    it("nfs mode: an init container fixes ownership, since fsGroup does not apply to NFS", async () => {
        const s = await runDefaults({ storageMode: "nfs", nfsServer: "nfs.example.com", nfsPath: "/exports/jenkins" });
        const fix = s.container("fix-home-ownership");
        expect(fix.securityContext).toMatchObject({
            runAsUser: 0,
            capabilities: { drop: ["ALL"], add: ["CHOWN", "DAC_OVERRIDE", "FOWNER"] },
        });
        expect(fix.command.join(" ")).toContain("chown -R 1000:1000 /var/jenkins_home");
        const order = s.controllerPod.initContainers.map((c: any) => c.name);
        expect(order).toEqual(["fix-home-ownership", "install-plugins"]);
    });

    it("dynamic mode with a class: the claim names it; no init container runs as root", async () => {
        const s = await runDefaults({ storageClass: "fast-ssd" });
        expect(s.object("PersistentVolumeClaim").spec.storageClassName).toBe("fast-ssd");
        for (const c of s.controllerPod.initContainers) {
            expect(c.securityContext.runAsNonRoot).toBe(true);
        }
    });

    it("existingClaim mode: creates no claim and mounts the named one", async () => {
        const s = await runDefaults({
            storageMode: "existingClaim",
            existingClaim: "old-jenkins-home",
            createNamespaces: false,
        });
        expect(s.objects("PersistentVolumeClaim")).toHaveLength(0);
        const home = s.controllerPod.volumes.find((v: any) => v.name === "jenkins-home");
        expect(home.persistentVolumeClaim.claimName).toBe("old-jenkins-home");
        expect(s.outputs.homeClaim).toBe("old-jenkins-home");
    });

    it("retainHomeOnDestroy false: pulumi destroy may delete the claim", async () => {
        const s = await runDefaults({ retainHomeOnDestroy: false });
        expect(s.resource("kubernetes:core/v1:PersistentVolumeClaim", "jenkins-home").retainOnDelete).toBe(false);
        expect(s.resource("kubernetes:core/v1:Namespace", "controller-namespace").retainOnDelete).toBe(false);
    });

    it("keeps the namespace that holds Jenkins home on pulumi destroy, since deleting it deletes the claim", async () => {
        const s = await runDefaults();
        expect(s.resource("kubernetes:core/v1:Namespace", "controller-namespace").retainOnDelete).toBe(true);
        expect(s.resource("kubernetes:core/v1:Namespace", "build-agent-namespace").retainOnDelete).toBe(false);
    });
});

describe("JenkinsRbac", () => {
    it("puts the build tier's Role in the agent namespace and binds the controller account from its own namespace", async () => {
        const s = await runDefaults({ namespace: "ci", agentNamespace: "ci-agents" });
        expect(
            s
                .objects("Namespace")
                .map((n) => n.metadata.name)
                .sort(),
        ).toEqual(["ci", "ci-agents", "ci-agents-baseline"]);
        const inBuild = (kind: string) => s.objects(kind).filter((o) => o.metadata.namespace === "ci-agents");
        // The controller's account launches there; the reaper may only list and delete (reaper.cluster.ts).
        expect(inBuild("Role").map((r) => r.metadata.name)).toEqual(["jenkins-agent-reaper", "jenkins-agent-manager"]);
        expect(inBuild("RoleBinding").find((b) => b.metadata.name === "jenkins-agent-manager")!.subjects).toEqual([
            { kind: "ServiceAccount", name: "jenkins", namespace: "ci" },
        ]);
        expect(s.object("ServiceAccount", "jenkins").metadata.namespace).toBe("ci");
        expect(inBuild("ServiceAccount").map((a) => a.metadata.name)).toEqual(["jenkins-agent"]);
        const cloud = parse(s.casc).jenkins.clouds[0].kubernetes;
        expect(cloud.namespace).toBe("ci-agents");
        expect(cloud.templates.map((t: any) => t.namespace ?? cloud.namespace)).toEqual(["ci-agents", "ci-agents"]);
    });

    it("createNamespaces false: uses namespaces that exist and creates none", async () => {
        const s = await runDefaults({ createNamespaces: false });
        expect(s.objects("Namespace")).toHaveLength(0);
        expect(s.object("Deployment").metadata.namespace).toBe("jenkins");
    });
});

describe("JenkinsMaster", () => {
    it("WebSocket agents: no agent Service, no agent port, inbound port disabled", async () => {
        const s = await runDefaults(
            withLock({
                agentConnection: "websocket",
                plugins: ["kubernetes:4540.v612369217f87", "configuration-as-code:2115.vf6de120eef70"],
            }),
        );
        expect(s.objects("Service").map((x) => x.metadata.name)).toEqual(["jenkins"]);
        expect(s.container("jenkins").ports.map((p: any) => p.name)).toEqual(["http"]);
        const casc = parse(s.casc);
        expect(casc.jenkins.slaveAgentPort).toBe(-1);
        expect(casc.jenkins.clouds[0].kubernetes.webSocket).toBe(true);
        expect(casc.jenkins.clouds[0].kubernetes.jenkinsTunnel).toBeUndefined();
    });

    it("LoadBalancer: source ranges applied and the external URL taken from the load balancer", async () => {
        const s = await runDefaults({ serviceType: "LoadBalancer", loadBalancerSourceRanges: ["10.0.0.0/8"] });
        const web = s.object("Service", "jenkins");
        expect(web.spec.type).toBe("LoadBalancer");
        expect(web.spec.loadBalancerSourceRanges).toEqual(["10.0.0.0/8"]);
        expect(s.outputs.externalUrl).toBe("http://203.0.113.10:8080/");
    });

    it("publicUrl: becomes the Jenkins location URL and the external URL", async () => {
        const s = await runDefaults({ publicUrl: "https://ci.example.com" });
        expect(parse(s.casc).unclassified.location.url).toBe("https://ci.example.com/");
        expect(s.outputs.externalUrl).toBe("https://ci.example.com/");
    });

    it("ClusterIP without a public URL: no external URL, and the location is the in-cluster URL", async () => {
        const s = await runDefaults();
        expect(s.outputs.externalUrl).toBeUndefined();
        expect(parse(s.casc).unclassified.location.url).toBe("http://jenkins.jenkins.svc:8080/");
    });

    it("NodePort without a fixed port lets the cluster pick one", async () => {
        const s = await runDefaults({ serviceType: "NodePort" });
        expect(s.object("Service", "jenkins").spec.ports[0].nodePort).toBeUndefined();
    });

    it("extra JVM options are appended after the program's", async () => {
        const s = await runDefaults({ javaOpts: "-Dhudson.model.DirectoryBrowserSupport.CSP=" });
        expect(s.env("jenkins").JAVA_OPTS).toMatch(
            /-XX:MaxRAMPercentage=50 .* -Dhudson\.model\.DirectoryBrowserSupport\.CSP=$/,
        );
    });

    it("a different plugin list, image, JVM option or download setting changes the restart hash; JCasC changes do not", async () => {
        const hash = async (o: Record<string, unknown>) =>
            (await runDefaults(withLock(o))).object("Deployment").spec.template.metadata.annotations[
                "jenkins-k8s/restart-hash"
            ];
        const base = await hash({});
        expect(await hash({})).toBe(base);
        expect(await hash({ controllerImage: "jenkins/jenkins:2.568.3-jdk21" })).not.toBe(base);
        expect(
            await hash({ plugins: ["kubernetes:1.0", "configuration-as-code:1.0", "instance-identity:1.0"] }),
        ).not.toBe(base);
        expect(await hash({ javaOpts: "-Dfoo=bar" })).not.toBe(base);
        // The init container's download settings: a change rolls the pod, so the hash says so
        // (and the backups take their restore point first).
        expect(await hash({ pluginMirror: "https://nexus.internal/jenkins" })).not.toBe(base);
        expect(await hash({ pluginDownloads: 4 })).not.toBe(base);
        // Applied by the reload sidecar, without killing running builds.
        expect(await hash({ agentLabel: "other", containerCap: 3 })).toBe(base);
        expect(await hash({ podTemplates: [{ name: "maven", labels: ["maven"] }] })).toBe(base);
    });

    it.each([
        ["Asia/Shanghai", "Asia/Shanghai"],
        ["UTC", "UTC"],
        ["GMT+08:00", "Etc/GMT-8"],
        ["GMT-5", "Etc/GMT+5"],
        ["GMT+0", "UTC"],
        ["GMT+05:30", undefined],
        ["PST", undefined],
        ["EST5EDT", "EST5EDT"],
    ])("the container's TZ for the JVM zone %s is %s (POSIX reads GMT+8 as UTC-8)", (zone, tz) => {
        expect(posixZone(zone)).toBe(tz);
    });

    it("a comment or whitespace edit in the pod's scripts keeps the restart hash; a changed command does not", () => {
        const { controller, plugins } = settingsFrom({});
        const scripts = podScripts("kubernetes 1.0 " + "0".repeat(64) + " plugins/kubernetes/1.0/kubernetes.hpi\n");
        const script = scripts["install-plugins.sh"];
        const edited = (text: string) =>
            restartHash(restartParts(controller, { ...scripts, "install-plugins.sh": text }, [], "tcp", plugins));
        const base = restartHash(restartParts(controller, scripts, [], "tcp", plugins));
        expect(edited(script.replace(/^# .*$/m, "# reworded comment"))).toBe(base);
        expect(edited(`${script}\n\n   # a trailing note\n`)).toBe(base);
        expect(edited(script.replace(/\n(\S)/, "\n    $1"))).toBe(base);
        expect(edited(`${script}\necho done\n`)).not.toBe(base);
        expect(edited(script.replace("#!/bin/sh", "#!/bin/bash"))).not.toBe(base);
    });
});

describe("hardening", () => {
    const psa = (ns: any) => ({
        enforce: ns.metadata.labels["pod-security.kubernetes.io/enforce"],
        warn: ns.metadata.labels["pod-security.kubernetes.io/warn"],
        audit: ns.metadata.labels["pod-security.kubernetes.io/audit"],
    });

    it("namespaces enforce the strictest Pod Security level what runs in them allows, and warn at restricted", async () => {
        const s = await runDefaults({ podTemplates: [{ name: "a", labels: ["a"] }] });
        expect(psa(s.object("Namespace", "jenkins"))).toEqual({
            enforce: "restricted",
            warn: "restricted",
            audit: "restricted",
        });
        expect(psa(s.object("Namespace", "jenkins-agents"))).toEqual({
            enforce: "restricted",
            warn: "restricted",
            audit: "restricted",
        });
    });

    it("each tier's namespace enforces and warns at its level, and audits at restricted", async () => {
        const s = await runDefaults();
        expect(psa(s.object("Namespace", "jenkins-agents"))).toEqual({
            enforce: "restricted",
            warn: "restricted",
            audit: "restricted",
        });
        // The default image builder (kaniko) needs baseline: it has a namespace of its own.
        expect(psa(s.object("Namespace", "jenkins-agents-baseline"))).toEqual({
            enforce: "baseline",
            warn: "baseline",
            audit: "restricted",
        });
        const privileged = await runDefaults({
            allowPrivilegedAgents: true,
            podTemplates: [
                { name: "a", labels: ["a"] },
                { name: "b", labels: ["b"], podSecurity: "privileged" },
            ],
        });
        expect(
            privileged
                .objects("Namespace")
                .map((n) => [n.metadata.name, psa(n).enforce])
                .sort(),
        ).toEqual([
            ["jenkins", "restricted"],
            ["jenkins-agents", "restricted"],
            ["jenkins-agents-privileged", "privileged"],
        ]);
    });

    it("NFS: the controller namespace enforces baseline, for the one root init container", async () => {
        const s = await runDefaults({
            storageMode: "nfs",
            nfsServer: "nfs",
            nfsPath: "/x",
            podTemplates: [{ name: "a", labels: ["a"] }],
        });
        expect(psa(s.object("Namespace", "jenkins")).enforce).toBe("baseline");
        expect(psa(s.object("Namespace", "jenkins-agents")).enforce).toBe("restricted");
    });

    it("the controller pod meets the restricted profile, field by field", async () => {
        const s = await runDefaults();
        const pod = s.controllerPod;
        expect(pod.securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            fsGroupChangePolicy: "OnRootMismatch",
            seccompProfile: { type: "RuntimeDefault" },
        });
        expect(pod.hostNetwork ?? false).toBe(false);
        expect(pod.volumes.filter((v: any) => v.hostPath)).toEqual([]);
        for (const c of [...pod.initContainers, ...pod.containers]) {
            expect([c.name, c.securityContext]).toEqual([
                c.name,
                {
                    runAsNonRoot: true,
                    runAsUser: 1000,
                    runAsGroup: 1000,
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"] },
                    seccompProfile: { type: "RuntimeDefault" },
                },
            ]);
        }
        // With a read-only root, Jenkins writes only where a volume is mounted.
        const mounts = s.container("jenkins").volumeMounts.map((m: any) => m.mountPath);
        expect(mounts).toEqual(expect.arrayContaining(["/tmp", "/var/jenkins_cache", "/var/jenkins_home"]));
        expect(s.env("jenkins").JENKINS_OPTS).toBe("--webroot=/var/jenkins_cache/war");
    });

    it("NetworkPolicy: the agent port only from agent pods; the web port from anywhere by default", async () => {
        const s = await runDefaults();
        const np = s.object("NetworkPolicy", "jenkins");
        const agents = {
            namespaceSelector: {
                matchExpressions: [
                    {
                        key: "kubernetes.io/metadata.name",
                        operator: "In",
                        values: ["jenkins-agents", "jenkins-agents-baseline"],
                    },
                ],
            },
            podSelector: {
                matchLabels: { "app.kubernetes.io/part-of": "jenkins-k8s", "app.kubernetes.io/component": "agent" },
            },
        };
        expect(np.spec).toEqual({
            podSelector: {
                matchLabels: { "app.kubernetes.io/name": "jenkins", "app.kubernetes.io/component": "controller" },
            },
            policyTypes: ["Ingress"],
            ingress: [
                { ports: [{ port: 8080, protocol: "TCP" }] },
                { ports: [{ port: 50000, protocol: "TCP" }], from: [agents] },
            ],
        });
        // Agent pods carry the labels the policy admits.
        const cloud = parse(s.casc).jenkins.clouds[0].kubernetes;
        expect(Object.fromEntries(cloud.podLabels.map((l: any) => [l.key, l.value]))).toEqual(
            agents.podSelector.matchLabels,
        );
    });

    it("NetworkPolicy: configured CIDRs and namespaces (plus agents) reach the web port; WebSocket has no agent-port rule", async () => {
        const s = await runDefaults({
            agentConnection: "websocket",
            webAllowedCidrs: ["10.0.0.0/8"],
            webAllowedNamespaces: ["ingress-nginx"],
        });
        const [web, ...rest] = s.object("NetworkPolicy", "jenkins").spec.ingress;
        expect(rest).toEqual([]);
        expect(web.from).toEqual([
            expect.objectContaining({ podSelector: expect.anything() }),
            { ipBlock: { cidr: "10.0.0.0/8" } },
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } },
        ]);
    });

    it("networkPolicy false: no policy; no PodDisruptionBudget unless asked, which then blocks eviction", async () => {
        expect((await runDefaults({ networkPolicy: false })).objects("NetworkPolicy", "jenkins")).toHaveLength(0);
        expect((await runDefaults()).objects("PodDisruptionBudget")).toHaveLength(0);
        const pdb = (await runDefaults({ disruptionBudget: true })).object("PodDisruptionBudget", "jenkins");
        expect(pdb.spec).toEqual({
            maxUnavailable: 0,
            selector: {
                matchLabels: { "app.kubernetes.io/name": "jenkins", "app.kubernetes.io/component": "controller" },
            },
        });
        expect((await runDefaults({ disruptionBudget: false })).objects("PodDisruptionBudget")).toHaveLength(0);
    });

    it("API tokens: mounted for the controller, never for plain agents or the pre-puller", async () => {
        const s = await runDefaults({ prePullImages: true });
        expect(s.controllerPod.automountServiceAccountToken).toBe(true);
        for (const account of s.objects("ServiceAccount", "jenkins-agent")) {
            expect(account.automountServiceAccountToken).toBe(false);
        }
        expect(s.object("DaemonSet").spec.template.spec.automountServiceAccountToken).toBe(false);
    });
});

describe("exposure and metrics", () => {
    it("Ingress: host, class, TLS and annotations; the Jenkins URL follows it", async () => {
        const s = await runDefaults({
            ingressHost: "ci.example.com",
            ingressClass: "nginx",
            ingressTlsSecret: "ci-tls",
            ingressAnnotations: { "cert-manager.io/cluster-issuer": "letsencrypt" },
        });
        const ing = s.object("Ingress", "jenkins");
        // No waiting for an address by default: many ingress controllers never publish one.
        expect(ing.metadata.annotations).toEqual({
            "cert-manager.io/cluster-issuer": "letsencrypt",
            "pulumi.com/skipAwait": "true",
        });
        expect(ing.spec).toEqual({
            ingressClassName: "nginx",
            tls: [{ hosts: ["ci.example.com"], secretName: "ci-tls" }],
            rules: [
                {
                    host: "ci.example.com",
                    http: {
                        paths: [
                            {
                                path: "/",
                                pathType: "Prefix",
                                backend: { service: { name: "jenkins", port: { name: "http" } } },
                            },
                        ],
                    },
                },
            ],
        });
        expect(parse(s.casc).unclassified.location.url).toBe("https://ci.example.com/");
        expect(s.outputs.externalUrl).toBe("https://ci.example.com/");
        expect(s.object("Service", "jenkins").spec.type).toBe("ClusterIP");
    });

    it("Ingress without TLS gives an http URL; no ingressHost, no Ingress", async () => {
        const s = await runDefaults({ ingressHost: "ci.internal" });
        expect(s.outputs.externalUrl).toBe("http://ci.internal/");
        expect(s.object("Ingress").spec.tls).toBeUndefined();
        expect((await runDefaults()).objects("Ingress")).toHaveLength(0);
    });

    it("metrics: the pinned Prometheus plugin joins the plugin list once, and a ServiceMonitor scrapes /prometheus/", async () => {
        const s = await runDefaults(withLock({ metrics: true, serviceMonitor: true }));
        expect(s.lockedPlugins.filter((p: string) => p.startsWith("prometheus:"))).toEqual([
            "prometheus:856.vc9e3d6e4b_b_9e",
        ]);
        const sm = s.object("ServiceMonitor", "jenkins");
        expect(sm.apiVersion).toBe("monitoring.coreos.com/v1");
        expect(sm.spec.endpoints).toEqual([{ port: "http", path: "/prometheus/", interval: "30s" }]);
        expect(s.object("Service", "jenkins").metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
        expect(s.object("Service", "jenkins-agent").metadata.labels).not.toMatchObject(sm.spec.selector.matchLabels);
    });

    it("metrics with the plugin already listed keeps the user's version; metrics off adds nothing", async () => {
        const listed = await runDefaults(
            withLock({
                metrics: true,
                plugins: ["kubernetes:1", "configuration-as-code:1", "instance-identity:1", "prometheus:900.v1"],
            }),
        );
        expect(listed.lockedPlugins).toContain("prometheus:900.v1");
        expect(listed.lockedPlugins.join()).not.toContain("856");
        const off = await runDefaults();
        expect(off.lockedPlugins.join()).not.toContain("prometheus");
        expect(off.objects("ServiceMonitor")).toHaveLength(0);
    });
});

describe("review findings", () => {
    const warnings = async (config: Record<string, unknown>): Promise<string[]> =>
        (await runDefaultsWarned(config)).warnings;

    it("a per-pod workspace claim is a generic ephemeral volume, so no launcher holds rights on claims", async () => {
        const s = await runDefaults({
            podTemplates: [
                { name: "a", labels: ["a"], workspaceVolume: { type: "genericEphemeralVolume", size: "10Gi" } },
            ],
        });
        const rules = s.objects("Role").flatMap((r) => r.rules as { resources: string[] }[]);
        expect(rules.filter((r) => r.resources.includes("persistentvolumeclaims"))).toEqual([]);
        const [template] = parse(s.casc).jenkins.clouds[0].kubernetes.templates.filter((t: any) => t.name === "a");
        expect(template.workspaceVolume).toEqual({
            genericEphemeralVolume: { requestsSize: "10Gi", accessModes: "ReadWriteOnce" },
        });
    });

    it("warns when a NodePort or LoadBalancer has no publicUrl, and not otherwise", async () => {
        expect((await warnings({ serviceType: "NodePort" })).join("\n")).toContain("publicUrl is empty");
        expect(
            (await warnings({ serviceType: "NodePort", publicUrl: "http://10.0.0.5:30002/" })).join("\n"),
        ).not.toContain("publicUrl");
        expect(withoutOfflineWarnings(await warnings({}))).toEqual([]);
    });

    it("warns at preview when the privileged tier is on, naming its cloud and namespace", async () => {
        const text = (
            await warnings({
                allowPrivilegedAgents: true,
                podTemplates: [{ name: "a", labels: ["a"], podSecurity: "privileged" }],
            })
        ).join("\n");
        expect(text).toContain("kubernetes-privileged");
        expect(text).toContain("jenkins-agents-privileged");
        expect(text).toContain("root on the node");
    });

    it("the NFS ownership fix says what to do when root cannot chown (root_squash)", async () => {
        const s = await runDefaults({ storageMode: "nfs", nfsServer: "nfs", nfsPath: "/x" });
        expect(s.container("fix-home-ownership").command[2]).toContain("no_root_squash");
    });

    it("the default image builder is kaniko in the baseline tier: root in its container, seven baseline capabilities, no Unconfined profile", async () => {
        const cloud = parse((await runDefaults()).casc).jenkins.clouds[1].kubernetes;
        expect(cloud.name).toBe("kubernetes-baseline");
        const t = cloud.templates.find((x: any) => x.name === "image-build");
        const kaniko = parse(t.yaml).spec.containers.find((c: any) => c.name === "kaniko");
        expect(kaniko.securityContext).toEqual({
            runAsUser: 0,
            runAsNonRoot: false,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: {
                drop: ["ALL"],
                add: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "SETFCAP", "KILL"],
            },
        });
        expect(t.yaml).not.toContain("Unconfined");
        expect(parse(t.yaml).metadata).toBeUndefined();
    });

    it("registrySecret: the default image builder gets its .dockerconfigjson as kaniko's config.json, in kaniko only, and its cloud is usage restricted", async () => {
        const cloud = parse((await runDefaults({ registrySecret: "regcred" })).casc).jenkins.clouds[1].kubernetes;
        expect(cloud).toMatchObject({
            name: "kubernetes-baseline",
            usageRestricted: true,
            credentialsId: "jenkins-baseline-launcher",
        });
        const t = cloud.templates.find((x: any) => x.name === "image-build");
        // Not a plugin secretVolume: its subPath becomes an item without a path, which the API server refuses.
        expect(t.volumes).toBeUndefined();
        const pod = parse(t.yaml).spec;
        expect(pod.volumes).toEqual([
            {
                name: "secret-0",
                secret: {
                    secretName: "regcred",
                    items: [{ key: ".dockerconfigjson", path: "config.json" }],
                    optional: false,
                },
            },
        ]);
        const mounts = Object.fromEntries(pod.containers.map((c: any) => [c.name, c.volumeMounts]));
        expect(mounts).toEqual({
            jnlp: undefined,
            kaniko: [{ name: "secret-0", mountPath: "/kaniko/.docker", readOnly: true }],
        });
    });
});

describe("more of what a user would notice", () => {
    it("agentLabels lists every label of every template", async () => {
        const s = await runDefaults({
            podTemplates: [
                { name: "a", labels: ["maven", "java"] },
                { name: "b", labels: ["node"] },
            ],
        });
        expect(s.outputs.agentLabels).toEqual(["maven", "java", "node"]);
    });

    it("gives the first start, which downloads plugins, 20 minutes instead of the provider's 10", async () => {
        const s = await runDefaults();
        expect(s.resource("kubernetes:apps/v1:Deployment", "jenkins-controller").customTimeouts).toEqual({
            create: "20m",
            update: "20m",
        });
    });

    it("makes a reload token that is safe in a URL query and on the java command line", async () => {
        const s = await runDefaults();
        expect(s.resource("random:index/randomPassword:RandomPassword", "jenkins-casc-reload-token").inputs).toEqual({
            length: 40,
            special: false,
        });
    });

    it("pre-pulls with the configured pause image", async () => {
        const s = await runDefaults({ prePullImages: true, pauseImage: "registry.example.com/pause:3.10" });
        expect(s.object("DaemonSet").spec.template.spec.containers[0].image).toBe("registry.example.com/pause:3.10");
    });
});
