// What an agent tier's namespace may hold and one pod or container there may ask for
// (config/agentLimits.ts): sized from the tier's templates, set by the stack, and every template
// that could not run within them refused at preview naming both. The cluster tier proves the
// API server enforces them (npm run test:cluster).
import { spawnSync } from "child_process";
import * as path from "path";
import { REAPER_GRACE_SECONDS, REAPER_SCHEDULE } from "../components/reaper";
import { REAPER_RULES } from "../components/rights";
import { bytesQuantity, cpuQuantity } from "../config/agentLimits";
import { settingsFrom } from "../config/settings";
import { readStackConfig } from "../tools/stackConfig";
import { problemsOf, runDefaults, settingsOf } from "./harness";

const settings = settingsOf;

const MAVEN = { name: "maven", image: "maven:3.9.9-eclipse-temurin-21", cpuLimit: "3", memoryLimit: "6Gi" };

describe("sizes", () => {
    it("quantities are written as Kubernetes writes them", () => {
        expect([cpuQuantity(10), cpuQuantity(0.5), cpuQuantity(2.25)]).toEqual(["10", "500m", "2250m"]);
        expect([bytesQuantity(2 ** 30), bytesQuantity(1.5 * 2 ** 30), bytesQuantity(0)]).toEqual([
            "1Gi",
            "1536Mi",
            "0",
        ]);
    });

    it("unset: containerCap pods the size of the largest template; a container twice the default; a pod four of those", () => {
        const s = settings({
            containerCap: 5,
            podTemplates: [{ name: "maven", labels: ["maven"], containers: [MAVEN] }],
        });
        const build = s.agents.limits!.find((l) => l.tier.name === "build")!;
        // The template's pod: jnlp 1 CPU / 1Gi (the agent defaults) and maven 3 / 6Gi.
        expect(build.quota).toEqual({
            pods: "5",
            "requests.cpu": "20",
            "limits.cpu": "20",
            "requests.memory": "35Gi",
            "limits.memory": "35Gi",
            "requests.ephemeral-storage": "100Gi",
            "limits.ephemeral-storage": "100Gi",
            persistentvolumeclaims: "0",
            "requests.storage": "0",
        });
        expect(build.container.max).toEqual({ cpu: "3", memory: "6Gi", "ephemeral-storage": "10Gi" });
        // A container that sets no limit gets the most, so one that sets only a request up to it is valid.
        expect(build.container.default).toEqual(build.container.max);
        expect(build.container.defaultRequest).toEqual({ cpu: "500m", memory: "512Mi", "ephemeral-storage": "256Mi" });
        expect(build.pod.max).toEqual({ cpu: "12", memory: "24Gi" });
    });

    it("workspace claims: one per pod, their storage bounded unless the tier mounts shared claims", () => {
        const claim = { type: "genericEphemeralVolume", size: "20Gi" };
        const own = settings({ podTemplates: [{ name: "a", labels: ["a"], workspaceVolume: claim }] }).agents
            .limits![0];
        expect([own.quota.persistentvolumeclaims, own.quota["requests.storage"]]).toEqual(["10", "200Gi"]);
        const shared = settings({
            podTemplates: [
                {
                    name: "a",
                    labels: ["a"],
                    workspaceVolume: claim,
                    volumes: [{ type: "pvc", claimName: "m2-cache", mountPath: "/m2" }],
                },
            ],
        }).agents.limits![0];
        expect([shared.quota.persistentvolumeclaims, shared.quota["requests.storage"]]).toEqual(["11", undefined]);
    });

    it("set by the stack: every tier gets the stack's numbers", () => {
        const s = settings({ agentQuota: { pods: 3, cpu: "6", memory: "12Gi", containerCpu: "2" } });
        for (const l of s.agents.limits!) {
            expect([l.quota.pods, l.quota["limits.cpu"], l.quota["requests.memory"], l.container.max.cpu]).toEqual([
                "3",
                "6",
                "12Gi",
                "2",
            ]);
        }
    });

    it("agentResourceQuota false: no quota and no LimitRange in any tier namespace", async () => {
        expect(settings({ agentResourceQuota: false }).agents.limits).toBeUndefined();
        const stack = await runDefaults({ agentResourceQuota: false });
        expect([stack.objects("ResourceQuota"), stack.objects("LimitRange")]).toEqual([[], []]);
    });

    it("one ResourceQuota and one LimitRange in each tier's namespace, and none elsewhere", async () => {
        const stack = await runDefaults();
        const tiers = settings()
            .agents.tiers.map((t) => t.namespace)
            .sort();
        expect(
            stack
                .objects("ResourceQuota")
                .map((q) => q.metadata.namespace)
                .sort(),
        ).toEqual(tiers);
        expect(
            stack
                .objects("LimitRange")
                .map((q) => q.metadata.namespace)
                .sort(),
        ).toEqual(tiers);
    });

    it("each example stack's templates fit their tiers", () => {
        for (const stack of ["dev", "prod"]) {
            expect(() => settingsFrom(readStackConfig(stack))).not.toThrow();
        }
    });
});

describe("a template that cannot run within its tier's limits fails at preview, naming both", () => {
    it("a container above the most one container may ask for", () => {
        expect(
            problemsOf({
                agentQuota: { containerCpu: "2" },
                podTemplates: [{ name: "m", labels: ["m"], containers: [MAVEN] }],
            }),
        ).toEqual([
            'jenkins-k8s:podTemplates[0] (m) container maven cpuLimit = "3": above jenkins-k8s:agentQuota.containerCpu = "2" of the build tier (namespace jenkins-agents), the most one container there may ask for',
        ]);
    });

    it("a pod above the most one pod may ask for, and a pod above the whole quota", () => {
        expect(
            problemsOf({
                agentQuota: { podMemory: "4Gi" },
                podTemplates: [{ name: "m", labels: ["m"], containers: [MAVEN] }],
            }),
        ).toEqual([
            'jenkins-k8s:podTemplates[0] (m) containers: its pod\'s memory limits add up to 7Gi, above jenkins-k8s:agentQuota.podMemory = "4Gi" of the build tier (namespace jenkins-agents), the most one pod there may ask for',
        ]);
        expect(
            problemsOf({ agentQuota: { cpu: "2" }, podTemplates: [{ name: "m", labels: ["m"], containers: [MAVEN] }] }),
        ).toEqual([
            'jenkins-k8s:podTemplates[0] (m) containers: its pod\'s cpu limits add up to 4, above jenkins-k8s:agentQuota.cpu = "2", the quota of the build tier (namespace jenkins-agents): no pod of it could start',
        ]);
    });

    it("a workspace claim where the quota allows no claim, or more storage than it allows", () => {
        const t = { name: "w", labels: ["w"], workspaceVolume: { type: "genericEphemeralVolume", size: "50Gi" } };
        expect(problemsOf({ agentQuota: { claims: 0 }, podTemplates: [t] })).toEqual([
            "jenkins-k8s:podTemplates[0] (w) workspaceVolume: a claim per pod, and jenkins-k8s:agentQuota.claims = 0 allows none in the build tier (namespace jenkins-agents)",
        ]);
        expect(problemsOf({ agentQuota: { claimStorage: "20Gi" }, podTemplates: [t] })).toEqual([
            'jenkins-k8s:podTemplates[0] (w) workspaceVolume.size = "50Gi": above jenkins-k8s:agentQuota.claimStorage = "20Gi" of the build tier (namespace jenkins-agents)',
        ]);
    });

    it("a container its yaml adds, and ephemeral storage its yaml sets, are sized too", () => {
        const yaml = [
            "spec:",
            "  containers:",
            "    - name: jnlp",
            "      resources: {limits: {ephemeral-storage: 50Gi}}",
            "    - name: sidecar",
            "      image: redis:7.4.1",
            "      resources: {limits: {cpu: '6', memory: 2Gi}}",
        ].join("\n");
        expect(
            problemsOf({ agentQuota: { containerCpu: "4" }, podTemplates: [{ name: "y", labels: ["y"], yaml }] }),
        ).toEqual([
            'jenkins-k8s:podTemplates[0] (y) yaml container sidecar limits.cpu = "6": above jenkins-k8s:agentQuota.containerCpu = "4" of the build tier (namespace jenkins-agents), the most one container there may ask for',
            'jenkins-k8s:podTemplates[0] (y) container jnlp yaml limits.ephemeral-storage = "50Gi": above jenkins-k8s:agentQuota.containerEphemeralStorage = "10Gi" of the build tier (namespace jenkins-agents), the most one container there may ask for',
        ]);
        // Unset, the sizes follow it: the sidecar's 6 CPUs are the most a container may ask for.
        const build = settings({ podTemplates: [{ name: "y", labels: ["y"], yaml: yaml.replace("50Gi", "5Gi") }] })
            .agents.limits![0];
        expect([build.container.max.cpu, build.pod.max.cpu, build.quota["limits.cpu"]]).toEqual(["6", "24", "70"]);
    });

    it("every problem at once, across tiers and templates", () => {
        const problems = problemsOf({
            agentQuota: { containerCpu: "2", pods: 1, cpu: "1" },
            podTemplates: [
                { name: "m", labels: ["m"], containers: [MAVEN] },
                { name: "k", labels: ["k"], podSecurity: "baseline", containers: [{ ...MAVEN, name: "kaniko" }] },
            ],
        });
        expect(problems.map((p) => p.slice(0, p.indexOf(":", 12)))).toEqual([
            'jenkins-k8s:podTemplates[0] (m) container maven cpuLimit = "3"',
            "jenkins-k8s:podTemplates[0] (m) containers",
            'jenkins-k8s:podTemplates[1] (k) container kaniko cpuLimit = "3"',
            "jenkins-k8s:podTemplates[1] (k) containers",
        ]);
    });
});

describe("pod lifetimes", () => {
    it("every template gets agentPodMaxSeconds unless it sets less; the cloud's defaults carry it to pipelines' own pods", async () => {
        const stack = await runDefaults({
            agentPodMaxSeconds: 7200,
            podTemplates: [
                { name: "a", labels: ["a"] },
                { name: "b", labels: ["b"], activeDeadlineSeconds: 900 },
            ],
        });
        const { parse } = await import("yaml");
        const templates = parse(stack.casc).jenkins.clouds[0].kubernetes.templates;
        expect(templates.map((t: any) => [t.name, t.activeDeadlineSeconds])).toEqual([
            ["jenkins-k8s-defaults", 7200],
            ["a", 7200],
            ["b", 900],
        ]);
    });

    it("a template's own deadline past the stack's maximum is refused", () => {
        expect(
            problemsOf({
                agentPodMaxSeconds: 3600,
                podTemplates: [{ name: "a", labels: ["a"], activeDeadlineSeconds: 7200 }],
            }),
        ).toEqual([
            "jenkins-k8s:podTemplates[0].activeDeadlineSeconds = 7200: above jenkins-k8s:agentPodMaxSeconds = 3600, which the admission policy refuses",
        ]);
    });
});

describe("the agent reaper", () => {
    it("a CronJob every 5 minutes over every tier's namespace, its account limited to listing and deleting pods there", async () => {
        const stack = await runDefaults({ agentStuckMinutes: 20 });
        const cron = stack.object("CronJob", "jenkins-agent-reaper");
        expect(cron.metadata.namespace).toBe("jenkins");
        expect(cron.spec.schedule).toBe(REAPER_SCHEDULE);
        const env = Object.fromEntries(
            cron.spec.jobTemplate.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]),
        );
        expect(env).toEqual({
            NAMESPACES: settings()
                .agents.tiers.map((t) => t.namespace)
                .join(" "),
            STUCK_SECONDS: "1200",
            GRACE_SECONDS: String(REAPER_GRACE_SECONDS),
        });
        const roles = stack.objects("Role", "jenkins-agent-reaper");
        expect(roles.map((r) => [r.metadata.namespace, r.rules]).sort()).toEqual(
            settings()
                .agents.tiers.map((t) => [t.namespace, REAPER_RULES])
                .sort(),
        );
        expect(stack.object("ConfigMap", "jenkins-agent-reaper-script").data["reap-agents.sh"]).toContain(
            "reap-agents:",
        );
    });

    it("agentStuckMinutes 0: no reaper", async () => {
        const stack = await runDefaults({ agentStuckMinutes: 0 });
        expect(stack.objects("CronJob", "jenkins-agent-reaper")).toEqual([]);
        expect(stack.objects("ServiceAccount", "jenkins-agent-reaper")).toEqual([]);
    });

    it("its script passes sh -n", () => {
        expect(spawnSync("sh", ["-n", path.join(__dirname, "..", "controller", "reap-agents.sh")]).status).toBe(0);
    });
});
