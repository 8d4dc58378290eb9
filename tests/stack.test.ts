// The whole dev stack under the mock runtime: what `pulumi up` would create, field by field.
// Long by design: the dev stack object by object, as a reviewer reads a preview.
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { DEFAULT_PLUGINS, KEYS, KeySpec } from "../config/keys";
import { projectFile } from "../tools/docs";
import { grants, grantsOf, LAUNCHER_NEEDS } from "./cluster/access";
import { runStack, Stack } from "./harness";

let dev: Stack;
beforeAll(async () => {
    dev = await runStack("dev");
});

describe("the dev stack (mirrors the original)", () => {
    it("creates the namespace kube-ops for the controller, kube-ops-agents for its build tier, kube-ops-agents-baseline for image builds", () => {
        expect(
            dev
                .objects("Namespace")
                .map((n) => n.metadata.name)
                .sort(),
        ).toEqual(["kube-ops", "kube-ops-agents", "kube-ops-agents-baseline"]);
    });

    it("keeps Jenkins home on a claim on the default StorageClass that survives pulumi destroy", () => {
        const pvc = dev.object("PersistentVolumeClaim", "jenkins-home");
        expect(pvc.metadata.namespace).toBe("kube-ops");
        expect(pvc.spec.resources.requests.storage).toBe("3Gi");
        expect(pvc.spec.accessModes).toEqual(["ReadWriteOnce"]);
        expect(pvc.spec.storageClassName).toBeUndefined();
        expect(dev.resource("kubernetes:core/v1:PersistentVolumeClaim", "jenkins-home").retainOnDelete).toBe(true);
        expect(dev.objects("PersistentVolume")).toHaveLength(0);
    });

    it("has a controller account, which launches both tiers every job may use, and agent accounts without an API token", () => {
        const accounts = dev
            .objects("ServiceAccount")
            .map((a) => [`${a.metadata.namespace}/${a.metadata.name}`, a.automountServiceAccountToken]);
        expect(accounts).toHaveLength(4);
        expect(accounts).toEqual(
            expect.arrayContaining([
                ["kube-ops/jenkins", true],
                // The agent reaper's: it lists and deletes agent pods, and nothing else.
                ["kube-ops/jenkins-agent-reaper", true],
                ["kube-ops-agents/jenkins-agent", false],
                ["kube-ops-agents-baseline/jenkins-agent", false],
            ]),
        );
    });

    it("grants the controller pod management in the build tier's namespace only, with rbac v1", () => {
        const inBuild = (kind: string) => dev.objects(kind).filter((o) => o.metadata.namespace === "kube-ops-agents");
        const role = inBuild("Role").find((r) => r.metadata.name === "jenkins-agent-manager")!;
        expect(role.apiVersion).toBe("rbac.authorization.k8s.io/v1");
        expect(role.metadata.namespace).toBe("kube-ops-agents");
        // Exactly what the plugin uses the account for (the same list the cluster tier asks the API server).
        expect(grants(role.rules)).toEqual(grantsOf(LAUNCHER_NEEDS));
        const verbs = role.rules.flatMap((r: any) => [...r.verbs, ...r.resources, ...r.apiGroups]);
        expect(verbs).not.toContain("*");
        expect(verbs).not.toContain("secrets");
        const binding = inBuild("RoleBinding").find((b) => b.metadata.name === "jenkins-agent-manager")!;
        expect(binding.roleRef).toEqual({
            apiGroup: "rbac.authorization.k8s.io",
            kind: "Role",
            name: "jenkins-agent-manager",
        });
        expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "jenkins", namespace: "kube-ops" }]);
        expect(dev.objects("ClusterRole")).toHaveLength(0);
        expect(dev.objects("ClusterRoleBinding")).toHaveLength(0);
    });

    it("stores the JCasC in a ConfigMap without the admin password", () => {
        const cm = dev.object("ConfigMap", "jenkins-casc");
        expect(cm.metadata.namespace).toBe("kube-ops");
        const casc = parse(dev.casc);
        expect(casc.jenkins.securityRealm.local.users[0]).toEqual({
            id: "admin",
            name: "admin",
            password: "${controller/jenkins-admin-password}",
        });
        expect(dev.casc).not.toContain(dev.outputs.adminPassword);
        const cloud = casc.jenkins.clouds[0].kubernetes;
        expect(cloud.namespace).toBe("kube-ops-agents");
        expect(cloud.jenkinsUrl).toBe("http://jenkins.kube-ops.svc:8080/");
        expect(cloud.jenkinsTunnel).toBe("jenkins-agent.kube-ops.svc:50000");
        expect(cloud.templates.map((t: any) => [t.label, t.serviceAccount])).toEqual([
            [undefined, "jenkins-agent"],
            ["hwzx-cmp", "jenkins-agent"],
        ]);
    });

    it("keeps the generated admin and automation passwords in a Secret", () => {
        const secret = dev.object("Secret", "jenkins-admin");
        expect(secret.stringData.value).toEqual({
            username: "admin",
            password: dev.outputs.adminPassword,
            "automation-password": dev.outputs.automationPassword,
            "casc-reload-token": expect.stringMatching(/^.{40}$/),
        });
        expect(dev.outputs.automationPassword).toHaveLength(32);
        expect(dev.outputs.adminPassword).toHaveLength(32);
        const random = dev.resource("random:index/randomPassword:RandomPassword", "jenkins-admin-password");
        expect(random.inputs.length).toBe(32);
    });

    describe("the controller workload", () => {
        it("never runs two controllers on one home", () => {
            const d = dev.object("Deployment", "jenkins");
            expect(d.spec.replicas).toBe(1);
            expect(d.spec.strategy).toEqual({ type: "Recreate" });
        });

        it("runs a pinned image, never a floating tag", () => {
            expect(dev.container("jenkins").image).toBe("jenkins/jenkins:2.568.2-jdk21");
        });

        it("sizes the heap as a share of the limit, and keeps of the original's provisioning flags only the one that still acts (initialDelay)", () => {
            const opts = dev.env("jenkins").JAVA_OPTS;
            expect(opts).toContain("-XX:MaxRAMPercentage=50");
            expect(opts).not.toMatch(/-Xmx/);
            expect(opts).toContain("-Dhudson.slaves.NodeProvisioner.initialDelay=0");
            expect(opts).not.toContain("MARGIN");
            expect(opts).toContain("-Duser.timezone=Asia/Shanghai");
            expect(opts).toContain("-Djenkins.install.runSetupWizard=false");
        });

        it("has the original's resources", () => {
            expect(dev.container("jenkins").resources).toEqual({
                requests: { cpu: "500m", memory: "1Gi" },
                limits: { cpu: "1", memory: "1Gi" },
            });
        });

        it("probes /login, with a startup probe for slow starts instead of a long initial delay", () => {
            const c = dev.container("jenkins");
            for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
                expect(probe.httpGet).toEqual({ path: "/login", port: "http" });
                expect(probe.initialDelaySeconds).toBeUndefined();
            }
            expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBeGreaterThanOrEqual(300);
        });

        it("runs as uid 1000 with fsGroup 1000", () => {
            const pod = dev.controllerPod;
            expect(pod.securityContext).toMatchObject({
                runAsUser: 1000,
                runAsGroup: 1000,
                fsGroup: 1000,
                runAsNonRoot: true,
            });
            expect(pod.serviceAccountName).toBe("jenkins");
        });

        it("reads JCasC from the mounted ConfigMap and the password from the mounted Secret", () => {
            const env = dev.env("jenkins");
            expect(env.CASC_JENKINS_CONFIG).toBe("/var/jenkins_casc/jenkins.yaml");
            expect(env.SECRETS).toBe("/run/secrets/jenkins-k8s");
            // A reference JCasC cannot resolve stops the load rather than becoming an empty password.
            expect(env.CASC_STRICT_SECRET_RESOLUTION).toBe("true");
            const volumes = Object.fromEntries(dev.controllerPod.volumes.map((v: any) => [v.name, v]));
            expect(volumes.casc.configMap.name).toBe("jenkins-casc");
            expect(volumes.secrets.projected.sources).toEqual([
                {
                    secret: {
                        name: "jenkins-admin",
                        items: [
                            { key: "password", path: "jenkins-admin-password" },
                            { key: "automation-password", path: "jenkins-automation-password" },
                            { key: "casc-reload-token", path: "casc-reload-token" },
                        ],
                    },
                },
            ]);
            // dev names no credential: no other Secret is mounted.
            expect(
                dev.controllerPod.volumes.filter((v: any) => v.secret || v.projected).map((v: any) => v.name),
            ).toEqual(["secrets", "reload-token"]);
            // The reload sidecar sees the reload token and nothing else.
            expect(volumes["reload-token"].secret.items).toEqual([
                { key: "casc-reload-token", path: "casc-reload-token" },
            ]);
            expect(volumes["jenkins-home"].persistentVolumeClaim.claimName).toBe("jenkins-home");
            const mounts = Object.fromEntries(
                dev.container("jenkins").volumeMounts.map((m: any) => [m.name, m.mountPath]),
            );
            expect(mounts).toMatchObject({
                casc: "/var/jenkins_casc",
                secrets: "/run/secrets/jenkins-k8s/controller",
                "jenkins-home": "/var/jenkins_home",
            });
            expect(JSON.stringify(env)).not.toContain(dev.outputs.adminPassword);
        });

        it("installs its committed plugin lock from the update center, with no resolution at pod start", () => {
            const init = dev.container("install-plugins");
            expect(init.image).toBe("jenkins/jenkins:2.568.2-jdk21");
            expect(init.command).toEqual(["sh", "/var/jenkins_scripts/install-plugins.sh"]);
            expect(dev.env("install-plugins")).toMatchObject({
                LOCK_FILE: "/var/jenkins_scripts/plugins.lock",
                PLUGIN_SOURCES: "https://updates.jenkins.io/download https://archives.jenkins.io",
                PARALLEL: "8",
            });
            // The listed plugins at their pins, and what they need: the lock's closure, not the list.
            expect(dev.lockedPlugins).toEqual(expect.arrayContaining(DEFAULT_PLUGINS));
            expect(dev.lockedPlugins.length).toBeGreaterThan(DEFAULT_PLUGINS.length);
            const scripts = dev.object("ConfigMap", "jenkins-scripts").data;
            expect(scripts["install-plugins.sh"]).not.toContain("jenkins-plugin-cli");
            expect(scripts["plugins.lock"]).toMatch(/^# plugin-locks\/\w+\.json: \d+ plugins for Jenkins 2\.568\.2/);
        });

        it("runs the JCasC reload sidecar with the token from the Secret, on no command line, reporting on its pod", () => {
            const reload = dev.container("casc-reload");
            expect(reload.command).toEqual(["sh", "/var/jenkins_scripts/casc-reload.sh"]);
            expect(dev.env("casc-reload")).toMatchObject({
                CASC_FILE: "/var/jenkins_casc/jenkins.yaml",
                TOKEN_FILE: "/run/secrets/jenkins-k8s/controller/casc-reload-token",
                JENKINS_URL: "http://localhost:8080",
            });
            const token = dev.container("jenkins").env.find((e: any) => e.name === "CASC_RELOAD_TOKEN");
            expect(token.valueFrom.secretKeyRef).toEqual({ name: "jenkins-admin", key: "casc-reload-token" });
            // JCasC reads the variable itself; a -Dcasc.reload.token would put it in /proc/1/cmdline.
            expect(dev.env("jenkins").JAVA_OPTS).not.toContain("casc.reload.token");
            expect(
                Object.fromEntries(
                    reload.env
                        .filter((e: any) => e.valueFrom)
                        .map((e: any) => [e.name, e.valueFrom.fieldRef.fieldPath]),
                ),
            ).toEqual({ POD_NAME: "metadata.name", POD_NAMESPACE: "metadata.namespace", POD_UID: "metadata.uid" });
        });

        it("carries a hash annotation so a change that needs a restart rolls the controller", () => {
            const annotations = dev.object("Deployment", "jenkins").spec.template.metadata.annotations;
            expect(annotations["jenkins-k8s/restart-hash"]).toMatch(/^[0-9a-f]{64}$/);
        });
    });

    it("exposes the web UI on NodePort 30002 and the agent port on a ClusterIP Service", () => {
        const web = dev.object("Service", "jenkins");
        expect(web.spec.type).toBe("NodePort");
        expect(web.spec.ports).toEqual([{ name: "http", port: 8080, targetPort: "http", nodePort: 30002 }]);
        const agent = dev.object("Service", "jenkins-agent");
        expect(agent.spec.type).toBe("ClusterIP");
        expect(agent.spec.ports).toEqual([{ name: "agent", port: 50000, targetPort: "agent" }]);
        const podLabels = dev.object("Deployment", "jenkins").spec.template.metadata.labels;
        for (const svc of [web, agent]) {
            expect(podLabels).toMatchObject(svc.spec.selector);
        }
    });

    it("exports every output other stacks consume, with the password as a secret", () => {
        expect(dev.outputs).toMatchObject({
            namespace: "kube-ops",
            agentNamespace: "kube-ops-agents",
            agentNamespaces: { build: "kube-ops-agents", baseline: "kube-ops-agents-baseline" },
            agentClouds: { build: "kubernetes", baseline: "kubernetes-baseline" },
            serviceName: "jenkins",
            jenkinsUrl: "http://jenkins.kube-ops.svc:8080/",
            adminUsername: "admin",
            automationUsername: "automation",
            teams: [],
            agentLabels: ["hwzx-cmp", "image-build"],
            controllerServiceAccount: "jenkins",
            agentServiceAccount: "jenkins-agent",
            cascConfigMap: "jenkins-casc",
            homeClaim: "jenkins-home",
        });
        expect(Object.keys(dev.outputs)).toContain("externalUrl");
        expect(dev.evaluation.secretOutputs).toEqual(["adminPassword", "automationPassword"]);
    });

    it("registers no URN twice", () => {
        expect(dev.evaluation.duplicateUrns).toEqual([]);
    });
});

describe("Pulumi.yaml", () => {
    const project = parse(readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8"));

    it("names the project and the TypeScript runtime", () => {
        expect(project.name).toBe("jenkins-k8s");
        expect(project.runtime).toMatchObject({ name: "nodejs" });
    });

    it("declares every key the program reads, as the config table says (npm run docs:update)", () => {
        expect(readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")).toBe(projectFile());
        const own = Object.keys(project.config).filter((key) => !key.includes(":"));
        const typed = Object.entries(KEYS as Record<string, KeySpec>).filter(([, spec]) => spec.type !== "object");
        expect(own).toEqual(typed.map(([key]) => key));
    });

    it("sets the Kubernetes provider to patch ConfigMaps in place, so a JCasC change does not replace one", () => {
        const provider = Object.fromEntries(Object.entries(project.config).filter(([key]) => key.includes(":")));
        expect(provider).toEqual({ "kubernetes:enableConfigMapMutable": true });
    });

    it("uses only the types Pulumi's project config schema knows", () => {
        for (const decl of Object.entries<any>(project.config)
            .filter(([k]) => !k.includes(":"))
            .map(([, d]) => d)) {
            expect(["string", "integer", "boolean", "array"]).toContain(decl.type);
            if (decl.type === "array") {
                expect(["string", "integer", "boolean"]).toContain(decl.items.type);
            }
        }
    });
});
