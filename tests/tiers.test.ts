// Agent trust tiers: which tiers a stack has, and what each puts in the cluster and the JCasC.
// What the cluster does with them (refusals, admissions, RBAC) is proven by npm run test:cluster.
// Long by design: each tier, and each way a template lands in one, asserted in cluster terms.
import { parse } from "yaml";
import { agentPodRules } from "../components/admission";
import { deriveTiers, tierNamespace } from "../config/tiers";
import { PodTemplate, templatesSchema } from "../config/podTemplates";
import { cidrWithin } from "../config/checks";
import { runDefaults, runDefaultsWarned, withLock } from "./harness";

const templates = (list: object[]): PodTemplate[] => templatesSchema.parse(list);

describe("deriveTiers", () => {
    it("always has the build tier, and the others only when something needs them", () => {
        const only = deriveTiers({
            agentNamespace: "a",
            templates: templates([{ name: "x", labels: ["x"] }]),
            deployNamespaces: [],
            allowPrivilegedAgents: false,
        });
        expect(only.map((t) => [t.name, t.namespace, t.level, t.cloud])).toEqual([
            ["build", "a", "restricted", "kubernetes"],
        ]);
        const all = deriveTiers({
            agentNamespace: "a",
            templates: templates([
                { name: "x", labels: ["x"] },
                { name: "k", labels: ["k"], podSecurity: "baseline" },
                { name: "d", labels: ["d"], deploy: true },
            ]),
            deployNamespaces: ["staging"],
            allowPrivilegedAgents: true,
        });
        expect(all.map((t) => [t.name, t.namespace, t.level, t.cloud, t.podServiceAccount, t.usageRestricted])).toEqual(
            [
                ["build", "a", "restricted", "kubernetes", "jenkins-agent", false],
                ["baseline", "a-baseline", "baseline", "kubernetes-baseline", "jenkins-agent", false],
                ["privileged", "a-privileged", "privileged", "kubernetes-privileged", "jenkins-agent", true],
                ["deploy", "a-deploy", "restricted", "kubernetes-deploy", "jenkins-deployer", true],
            ],
        );
        expect(all.map((t) => t.templates.map((x) => x.name))).toEqual([["x"], ["k"], [], ["d"]]);
        // Tiers every job may use are launched with the controller's own account; only the
        // usage-restricted ones have a launcher; only deploy talks to the API server.
        expect(all.map((t) => [t.launcher?.serviceAccount, t.apiAccess])).toEqual([
            [undefined, false],
            [undefined, false],
            ["jenkins-privileged-launcher", false],
            ["jenkins-deploy-launcher", true],
        ]);
        expect(tierNamespace("a", "build")).toBe("a");
    });

    it("restricts a tier whose templates mount a Secret (every pod of its cloud could read it), and gives it a launcher", () => {
        const [, baseline] = deriveTiers({
            agentNamespace: "a",
            templates: templates([
                { name: "x", labels: ["x"] },
                {
                    name: "k",
                    labels: ["k"],
                    podSecurity: "baseline",
                    volumes: [{ type: "secret", secretName: "regcred", mountPath: "/r" }],
                },
            ]),
            deployNamespaces: [],
            allowPrivilegedAgents: false,
        });
        expect([baseline.usageRestricted, baseline.launcher?.serviceAccount]).toEqual([
            true,
            "jenkins-baseline-launcher",
        ]);
    });
});

describe("the admission policy's rules", () => {
    it("map each tier namespace to its one account, its token rule, its shared claims and its workspace classes", () => {
        const rules = agentPodRules(
            [
                {
                    namespace: "a",
                    podServiceAccount: "jenkins-agent",
                    apiAccess: false,
                    templates: templates([
                        {
                            name: "x",
                            labels: ["x"],
                            volumes: [{ type: "pvc", claimName: "m2-cache", mountPath: "/m2" }],
                        },
                        {
                            name: "y",
                            labels: ["y"],
                            workspaceVolume: { type: "genericEphemeralVolume", size: "5Gi", storageClass: "fast" },
                            // A GPU: ExtendedResourceToleration gives its pods the GPU taint's toleration.
                            yaml: "spec:\n  containers:\n    - name: jnlp\n      resources: {limits: {nvidia.com/gpu: 1}}\n",
                        },
                    ]),
                },
                { namespace: "a-deploy", podServiceAccount: "jenkins-deployer", apiAccess: true, templates: [] },
            ],
            {
                podMaxSeconds: 3600,
                maxPriority: 0,
                tolerations: [
                    { key: "sandbox.gke.io/runtime", operator: "Equal", value: "gvisor", effect: "NoSchedule" },
                ],
            },
        );
        expect(rules.variables).toEqual([
            {
                name: "allowed",
                expression: "{'a': 'jenkins-agent', 'a-deploy': 'jenkins-deployer'}[namespaceObject.metadata.name]",
            },
            { name: "tokenless", expression: "{'a': true, 'a-deploy': false}[namespaceObject.metadata.name]" },
            { name: "claims", expression: "{'a': ['m2-cache'], 'a-deploy': []}[namespaceObject.metadata.name]" },
            {
                name: "tolerations",
                expression:
                    "{'a': ['node.kubernetes.io/not-ready|Exists||NoExecute', 'node.kubernetes.io/unreachable|Exists||NoExecute', 'sandbox.gke.io/runtime|Equal|gvisor|NoSchedule', 'nvidia.com/gpu|Exists||NoSchedule'], 'a-deploy': ['node.kubernetes.io/not-ready|Exists||NoExecute', 'node.kubernetes.io/unreachable|Exists||NoExecute', 'sandbox.gke.io/runtime|Equal|gvisor|NoSchedule']}[namespaceObject.metadata.name]",
            },
            { name: "runtimeClasses", expression: "{'a': [], 'a-deploy': []}[namespaceObject.metadata.name]" },
            { name: "classes", expression: "{'a': ['fast'], 'a-deploy': []}[namespaceObject.metadata.name]" },
        ]);
        // What each rule refuses is proven on the API server (npm run test:cluster).
        expect(rules.validations.map((v) => v.reason)).toEqual(Array(12).fill("Forbidden"));
    });
});

describe("CIDR containment for the egress excepts", () => {
    it("puts an except under the egress CIDR of its family that contains it", () => {
        expect(cidrWithin("10.0.0.0/8", "0.0.0.0/0")).toBe(true);
        expect(cidrWithin("fc00::/7", "::/0")).toBe(true);
        expect(cidrWithin("fc00::/7", "0.0.0.0/0")).toBe(false);
        expect(cidrWithin("10.0.0.0/8", "10.1.2.0/24")).toBe(false);
        expect(cidrWithin("10.1.2.0/24", "10.0.0.0/8")).toBe(true);
    });
});

describe("the tiers under the mock runtime", () => {
    it("the deploy tier: its namespace, the deployer there, a launcher beside the controller, bindings in the deploy namespaces", async () => {
        const s = await runDefaults({
            deployNamespaces: ["staging"],
            podTemplates: [
                { name: "a", labels: ["a"] },
                { name: "d", labels: ["d"], deploy: true },
            ],
        });
        expect(s.object("ServiceAccount", "jenkins-deployer").metadata.namespace).toBe("jenkins-agents-deploy");
        const launcher = s.object("ServiceAccount", "jenkins-deploy-launcher");
        expect(launcher.metadata.namespace).toBe("jenkins");
        expect(launcher.automountServiceAccountToken).toBe(false);
        const token = s.object("Secret", "jenkins-deploy-launcher-token");
        expect(token.type).toBe("kubernetes.io/service-account-token");
        expect(token.metadata.annotations).toEqual({ "kubernetes.io/service-account.name": "jenkins-deploy-launcher" });
        const roleBinding = s
            .objects("RoleBinding")
            .find(
                (b) => b.metadata.namespace === "jenkins-agents-deploy" && b.roleRef.name === "jenkins-agent-manager",
            );
        expect(roleBinding!.subjects).toEqual([
            { kind: "ServiceAccount", name: "jenkins-deploy-launcher", namespace: "jenkins" },
        ]);
        expect(s.object("RoleBinding", "jenkins-deployer").subjects).toEqual([
            { kind: "ServiceAccount", name: "jenkins-deployer", namespace: "jenkins-agents-deploy" },
        ]);
        // The tier that talks to the API server loses only the link-local ranges (cloud metadata).
        const deployEgress = s.objects("NetworkPolicy").find((n) => n.metadata.namespace === "jenkins-agents-deploy")!;
        expect(deployEgress.spec.egress.slice(2)).toEqual([
            { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.0.0/16"] } }] },
            { to: [{ ipBlock: { cidr: "::/0", except: ["fe80::/10", "fd00:ec2::254/128"] } }] },
        ]);
    });

    it("deploy namespaces: read (so preview fails on a missing one) unless the stack creates them, and then kept", async () => {
        const read = await runDefaults({ deployNamespaces: ["staging", "production"] });
        expect(read.evaluation.reads).toEqual([
            { type: "kubernetes:core/v1:Namespace", name: "deploy-namespace-staging", id: "staging" },
            { type: "kubernetes:core/v1:Namespace", name: "deploy-namespace-production", id: "production" },
        ]);
        expect(read.objects("Namespace").map((n) => n.metadata.name)).not.toContain("staging");
        const created = await runDefaults({ deployNamespaces: ["staging"], createDeployNamespaces: true });
        expect(created.evaluation.reads).toEqual([]);
        // Deploy rights (edit: create any pod) are not node root: the namespace enforces baseline.
        expect(created.object("Namespace", "staging").metadata.labels).toMatchObject({
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "baseline",
        });
        expect(created.resource("kubernetes:core/v1:Namespace", "deploy-namespace-staging").retainOnDelete).toBe(true);
    });

    it("the JCasC: one cloud per tier; a usage-restricted tier's launcher as a System-scoped credential read from a mounted file", async () => {
        const s = await runDefaults({ deployNamespaces: ["staging"] });
        const casc = parse(s.casc);
        const clouds = casc.jenkins.clouds.map((c: any) => c.kubernetes);
        expect(
            clouds.map((c: any) => [
                c.name,
                c.namespace,
                c.credentialsId,
                c.usageRestricted,
                c.restrictedPssSecurityContext,
            ]),
        ).toEqual([
            ["kubernetes", "jenkins-agents", undefined, false, true],
            ["kubernetes-baseline", "jenkins-agents-baseline", undefined, false, true],
            ["kubernetes-deploy", "jenkins-agents-deploy", "jenkins-deploy-launcher", true, true],
        ]);
        for (const c of clouds) {
            expect(c.garbageCollection).toEqual({ timeout: 300 });
            expect(c.defaultsProviderTemplate).toBe("jenkins-k8s-defaults");
            // No label, EXCLUSIVE: no job can be given a pod of it. A pipeline's own pod inherits its deadline.
            expect(c.templates[0]).toEqual({
                id: expect.any(String),
                name: "jenkins-k8s-defaults",
                nodeUsageMode: "EXCLUSIVE",
                activeDeadlineSeconds: 21600,
                serviceAccount: c.name === "kubernetes-deploy" ? "jenkins-deployer" : "jenkins-agent",
                runAsUser: "1000",
                runAsGroup: "1000",
            });
        }
        expect(casc.credentials.system.domainCredentials[0].credentials).toEqual([
            {
                string: {
                    scope: "SYSTEM",
                    id: "jenkins-deploy-launcher",
                    description: "ServiceAccount token the kubernetes-deploy cloud launches agents with (jenkins-k8s)",
                    secret: "${controller/deploy-launcher-token}",
                },
            },
        ]);
        // JCasC replaces the system store whole on every load (JCasC 2115 has no merge setting):
        // with no usage-restricted tier and no credential of its own the stack leaves it alone.
        expect(s.env("jenkins").CASC_CREDENTIALS_MERGE_STRATEGY).toBeUndefined();
        expect(parse((await runDefaults()).casc).credentials).toBeUndefined();
    });

    it("the privileged tier: only on request, without the restricted fill-in, usage restricted, and preview says so", async () => {
        const { stack: s, warnings } = await runDefaultsWarned({
            allowPrivilegedAgents: true,
            podTemplates: [
                { name: "a", labels: ["a"] },
                {
                    name: "dind",
                    labels: ["dind"],
                    podSecurity: "privileged",
                    containers: [{ name: "docker", image: "docker:27.3.1-dind", privileged: true }],
                },
            ],
        });
        const cloud = parse(s.casc).jenkins.clouds[1].kubernetes;
        expect(cloud).toMatchObject({
            name: "kubernetes-privileged",
            namespace: "jenkins-agents-privileged",
            usageRestricted: true,
        });
        expect(cloud.restrictedPssSecurityContext).toBeUndefined();
        expect(cloud.templates[0]).toEqual(expect.not.objectContaining({ runAsUser: expect.anything() }));
        expect(warnings.join("\n")).toContain("can be root on the node");
    });

    it("the admission policy covers every tier namespace, and can be turned off", async () => {
        const s = await runDefaults({ deployNamespaces: ["staging"] });
        const vap = s.object("ValidatingAdmissionPolicy");
        expect(vap.metadata.name).toBe("jenkins-k8s.jenkins.agent-accounts");
        expect(vap.spec.matchConstraints.namespaceSelector.matchExpressions[0].values).toEqual([
            "jenkins-agents",
            "jenkins-agents-baseline",
            "jenkins-agents-deploy",
        ]);
        expect(vap.spec.failurePolicy).toBe("Fail");
        expect(s.object("ValidatingAdmissionPolicyBinding").spec).toEqual({
            policyName: "jenkins-k8s.jenkins.agent-accounts",
            validationActions: ["Deny"],
        });
        const off = await runDefaults({ admissionPolicy: false });
        expect(off.objects("ValidatingAdmissionPolicy")).toHaveLength(0);
        expect(off.objects("ValidatingAdmissionPolicyBinding")).toHaveLength(0);
    });

    it("agent egress: DNS, the controller's ports, the internet without private ranges, each except under its family", async () => {
        const s = await runDefaults(
            withLock({
                agentConnection: "websocket",
                plugins: ["kubernetes:1", "configuration-as-code:1"],
            }),
        );
        const np = s
            .objects("NetworkPolicy")
            .find((n) => n.metadata.name === "jenkins-agent-egress" && n.metadata.namespace === "jenkins-agents")!;
        expect(np.spec.podSelector).toEqual({});
        expect(np.spec.policyTypes).toEqual(["Egress"]);
        expect(np.spec.egress).toEqual([
            {
                ports: [
                    { port: 53, protocol: "UDP" },
                    { port: 53, protocol: "TCP" },
                ],
            },
            {
                to: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "jenkins" } },
                        podSelector: {
                            matchLabels: {
                                "app.kubernetes.io/name": "jenkins",
                                "app.kubernetes.io/component": "controller",
                            },
                        },
                    },
                ],
                ports: [{ port: 8080, protocol: "TCP" }],
            },
            {
                to: [
                    {
                        ipBlock: {
                            cidr: "0.0.0.0/0",
                            except: [
                                "10.0.0.0/8",
                                "172.16.0.0/12",
                                "192.168.0.0/16",
                                "100.64.0.0/10",
                                "169.254.0.0/16",
                            ],
                        },
                    },
                ],
            },
            { to: [{ ipBlock: { cidr: "::/0", except: ["fc00::/7", "fe80::/10"] } }] },
        ]);
        const registry = await runDefaults({
            agentEgressCidrs: ["0.0.0.0/0", "10.20.0.5/32"],
            agentEgressExcept: ["10.0.0.0/8"],
        });
        const rules = registry.objects("NetworkPolicy").find((n) => n.metadata.name === "jenkins-agent-egress")!.spec
            .egress;
        expect(rules.slice(2)).toEqual([
            { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }] },
            { to: [{ ipBlock: { cidr: "10.20.0.5/32" } }] },
        ]);
        expect(
            (await runDefaults({ agentNetworkPolicy: false })).objects("NetworkPolicy").map((n) => n.metadata.name),
        ).toEqual(["jenkins"]);
    });
});
