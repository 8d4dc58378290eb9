// Each component constructed on its own under the mock runtime, with typed args (as pulumi-eks
// tests createCore): what it makes follows from its args alone, with no stack config, plugin lock
// or pre-flight step in between. The whole-program suites (components.test.ts and the others)
// show the same components composed.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { JenkinsCloudConfig } from "../components/cloudConfig";
import { JenkinsMaster, type JenkinsMasterArgs } from "../components/master";
import { controllerRestart } from "../components/master/workload";
import { JenkinsRbac, type JenkinsRbacArgs } from "../components/rbac";
import { JenkinsStorage, type JenkinsStorageArgs } from "../components/storage";
import { KEPT_BY } from "../config/metadata";
import { deriveNames } from "../config/names";
import { cascInput } from "../jcasc/jcasc";
import { stackLock } from "../plugins/lock";
import { ROOT } from "../tools/stackConfig";
import { runProgram, settingsOf } from "./harness";

const settings = settingsOf({ namespace: "ci", agentNamespace: "ci-agents" });
const names = deriveNames(settings);

describe("JenkinsStorage on its own", () => {
    const storage = (args: Partial<JenkinsStorageArgs>) =>
        runProgram(() => {
            const s = new JenkinsStorage("home", {
                namespace: "ci",
                storage: settings.storage,
                names,
                keptBy: "org.jenkins-k8s.ci",
                adopt: {},
                ...args,
            });
            return { claimName: s.claimName };
        });

    it("a dynamic claim kept on destroy, labelled with the stack that may adopt it, adopted when an import ID is given", async () => {
        const fresh = await storage({});
        const claim = fresh.resource("kubernetes:core/v1:PersistentVolumeClaim", "home-home");
        expect([claim.retainOnDelete, claim.importId, claim.inputs.metadata.labels[KEPT_BY]]).toEqual([
            true,
            undefined,
            "org.jenkins-k8s.ci",
        ]);
        expect(fresh.outputs.claimName).toBe(names.homeClaim);
        const adopted = await storage({ adopt: { claim: "ci/jenkins-home" } });
        expect(adopted.resource("kubernetes:core/v1:PersistentVolumeClaim", "home-home").importId).toBe(
            "ci/jenkins-home",
        );
    });

    it("makes nothing for an existing claim, and names it", async () => {
        const s = await storage({ storage: { ...settings.storage, mode: "existingClaim", claimName: "team-home" } });
        expect(s.resources.filter((r) => r.custom)).toEqual([]);
        expect(s.outputs.claimName).toBe("team-home");
    });
});

describe("JenkinsRbac on its own", () => {
    const tiers = settingsOf({
        namespace: "ci",
        agentNamespace: "ci-agents",
        deployNamespaces: ["apps"],
        podTemplates: [
            { name: "build", labels: ["build"] },
            { name: "deploy", labels: ["deploy"], deploy: true },
        ],
    }).agents.tiers;
    const rbac = (args: Partial<JenkinsRbacArgs>) =>
        runProgram(() => {
            const ready = new k8s.core.v1.Namespace("apps", { metadata: { name: "apps" } });
            const r = new JenkinsRbac("rbac", {
                namespace: "ci",
                tierNamespaces: Object.fromEntries(tiers.map((t) => [t.name, t.namespace])),
                tiers,
                names,
                deployNamespaces: ["apps"],
                deployNamespacesReady: [ready],
                deployClusterRole: "edit",
                admissionPolicy: false,
                podBounds: { podMaxSeconds: 3600, maxPriority: 0, tolerations: [] },
                ...args,
            });
            return {
                controller: r.controllerServiceAccount.metadata.name,
                agent: r.agentServiceAccount.metadata.name,
                tokens: pulumi.all(r.launcherTokenSecretNames),
            };
        });

    it("binds the deploy ClusterRole in each deploy namespace only, once that namespace exists", async () => {
        const s = await rbac({});
        const binding = s.resource("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "rbac-deploy-apps");
        expect([binding.inputs.metadata.namespace, binding.inputs.roleRef]).toEqual([
            "apps",
            { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        ]);
        expect(binding.dependencies).toContain("urn:pulumi:test::jenkins-k8s::kubernetes:core/v1:Namespace::apps");
        expect(s.objects("ClusterRoleBinding")).toEqual([]);
    });

    it("gives the usage-restricted deploy tier a launcher whose token Secret it names; the build tier's pods run with no token", async () => {
        const s = await rbac({});
        expect(Object.keys(s.outputs.tokens)).toEqual(["deploy"]);
        const build = tiers.find((t) => t.name === "build")!;
        expect(s.object("ServiceAccount", build.podServiceAccount).automountServiceAccountToken).toBe(false);
        expect(s.outputs.agent).toBe(build.podServiceAccount);
    });

    it("makes the admission policy and its binding only when asked", async () => {
        expect((await rbac({})).objects("ValidatingAdmissionPolicy")).toEqual([]);
        const s = await rbac({ admissionPolicy: true });
        expect(s.object("ValidatingAdmissionPolicyBinding").spec.validationActions).toEqual(["Deny"]);
        expect(s.object("ValidatingAdmissionPolicy").spec.matchConstraints.namespaceSelector).toEqual({
            matchExpressions: [
                { key: "kubernetes.io/metadata.name", operator: "In", values: tiers.map((t) => t.namespace) },
            ],
        });
    });
});

describe("JenkinsCloudConfig on its own", () => {
    const cloud = (args: { egress?: boolean; after?: boolean }) =>
        runProgram(() => {
            const point = args.after ? [new k8s.core.v1.ConfigMap("restore-point", {})] : [];
            const c = new JenkinsCloudConfig("cloud", {
                namespace: "ci",
                names,
                casc: cascInput(settings, names),
                tierNamespaces: Object.fromEntries(settings.agents.tiers.map((t) => [t.name, t.namespace])),
                egress: args.egress ? [{ cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] }] : undefined,
                after: point,
            });
            return { configMap: c.configMapName, casc: c.casc };
        });

    it("stores the JCasC document and nothing else when no option asks for more", async () => {
        const s = await cloud({});
        expect(s.resources.filter((r) => r.custom).map((r) => r.inputs.kind)).toEqual(["ConfigMap"]);
        expect(s.object("ConfigMap", names.cascConfigMap).data["jenkins.yaml"]).toBe(s.outputs.casc);
    });

    it("limits each tier's egress with a policy of its own, and writes the document only after a restore point", async () => {
        const s = await cloud({ egress: true, after: true });
        expect(s.objects("NetworkPolicy").map((p) => p.metadata.namespace)).toEqual(
            expect.arrayContaining(settings.agents.tiers.map((t) => t.namespace)),
        );
        expect(s.objects("NetworkPolicy")).toHaveLength(settings.agents.tiers.length);
        expect(s.resource("kubernetes:core/v1:ConfigMap", "cloud-casc").dependencies).toContain(
            "urn:pulumi:test::jenkins-k8s::kubernetes:core/v1:ConfigMap::restore-point",
        );
    });
});

describe("JenkinsMaster on its own", () => {
    const { lock, file } = stackLock({ ...settings.plugins, plugins: settings.plugins.list }, ROOT);
    const restart = controllerRestart(settings.controller, lock!, file, [], "websocket", settings.plugins, undefined);
    const master = (args: Partial<JenkinsMasterArgs>) =>
        runProgram(() => {
            const m = new JenkinsMaster("controller", {
                namespace: "ci",
                names,
                controller: settings.controller,
                adminUsername: "admin",
                credentialSecrets: [],
                plugins: { lock: lock!, lockFile: file, downloads: 4 },
                agentConnection: "websocket",
                service: settings.service,
                serviceMonitor: false,
                disruptionBudget: false,
                nfsHome: false,
                agentNamespaces: ["ci-agents"],
                launcherTokens: [],
                homeClaimName: "jenkins-home",
                serviceAccountName: "jenkins",
                cascConfigMapName: "jenkins-casc",
                restart,
                ...args,
            });
            return { service: m.service.metadata.name, url: m.externalUrl };
        });

    it("runs the controller on the claim, account and JCasC it is given, with no NetworkPolicy, budget or route unasked", async () => {
        const s = await master({});
        const pod = s.object("Deployment").spec.template.spec;
        expect([pod.serviceAccountName, pod.volumes.find((v: any) => v.persistentVolumeClaim)]).toEqual([
            "jenkins",
            { name: "jenkins-home", persistentVolumeClaim: { claimName: "jenkins-home" } },
        ]);
        expect(pod.volumes.find((v: any) => v.configMap?.name === "jenkins-casc")).toBeDefined();
        for (const kind of ["NetworkPolicy", "PodDisruptionBudget", "Ingress", "HTTPRoute", "ServiceMonitor"]) {
            expect([kind, s.objects(kind)]).toEqual([kind, []]);
        }
        expect(s.outputs.service).toBe(names.service);
    });

    it("admits the web port from the given CIDRs and the agent namespaces only, when a NetworkPolicy is asked for", async () => {
        const s = await master({
            networkPolicy: { webAllowedCidrs: ["203.0.113.0/24"], webAllowedNamespaces: [] },
            disruptionBudget: true,
        });
        const from = s.object("NetworkPolicy").spec.ingress[0].from;
        expect(from.map((f: any) => f.ipBlock?.cidr ?? f.namespaceSelector.matchExpressions[0].values)).toEqual([
            ["ci-agents"],
            "203.0.113.0/24",
        ]);
        expect(s.object("PodDisruptionBudget").spec.maxUnavailable).toBe(0);
    });
});
