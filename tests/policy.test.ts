// The policy pack (policy/), run without the Pulumi CLI: each policy on objects that pass and
// objects that violate it, then on what the real program registers for every stack.
// Long by design: one block per policy (eleven), each with objects that pass and that violate it.
import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { parse, stringify } from "yaml";
import { policies } from "../policy/policies";
import { checkResources, mandatory, PolicyInput, Violation } from "../policy/run";
import { EXAMPLE_STACKS, listStacks } from "../tools/stackConfig";
import { runDefaults, runStack, Stack } from "./harness";

type Obj = Record<string, any>;

const POLICY_DIR = path.join(__dirname, "..", "policy");
const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);

const good = (name = "app", extra: Obj = {}): Obj => ({
    name,
    image: "nginx:1.27.3",
    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "128Mi" } },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    ...extra,
});

function workload(type: string, pod: Obj, metadata: Obj = {}, templateMeta: Obj = {}): PolicyInput {
    const kind = type.split(":")[2];
    const template = { metadata: templateMeta, spec: pod };
    const spec =
        kind === "Pod"
            ? pod
            : kind === "CronJob"
              ? { schedule: "@daily", jobTemplate: { spec: { template } } }
              : { template };
    return { type, name: `my-${kind.toLowerCase()}`, inputs: { kind, metadata: { name: "x", ...metadata }, spec } };
}

const deployment = (pod: Obj, metadata: Obj = {}, templateMeta: Obj = {}) =>
    workload("kubernetes:apps/v1:Deployment", pod, metadata, templateMeta);

/** A ConfigMap holding a JCasC document with one agent pod template. */
function casc(template: Obj, metadata: Obj = {}): PolicyInput {
    const doc = {
        jenkins: { clouds: [{ kubernetes: { name: "kubernetes", templates: [{ name: "agents", ...template }] } }] },
    };
    return {
        type: "kubernetes:core/v1:ConfigMap",
        name: "casc",
        inputs: {
            kind: "ConfigMap",
            metadata: { name: "casc", ...metadata },
            data: { "jenkins.yaml": stringify(doc) },
        },
    };
}

const agentContainer = (extra: Obj = {}): Obj => ({
    name: "jnlp",
    image: "jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk21",
    resourceRequestCpu: "500m",
    resourceRequestMemory: "512Mi",
    resourceLimitMemory: "1Gi",
    ...extra,
});

function of(policy: string, resources: PolicyInput[]): Violation[] {
    return checkResources(resources).filter((v) => v.policy === policy);
}

function messages(policy: string, resources: PolicyInput[]): string[] {
    return of(policy, resources).map((v) => v.message);
}

/** A ConfigMap holding a JCasC document with these clouds. */
function clouds(...list: Obj[]): PolicyInput {
    return {
        type: "kubernetes:core/v1:ConfigMap",
        name: "casc",
        inputs: {
            kind: "ConfigMap",
            metadata: { name: "casc" },
            data: { "jenkins.yaml": stringify({ jenkins: { clouds: list.map((kubernetes) => ({ kubernetes })) } }) },
        },
    };
}

describe("agent-pod-bounds", () => {
    const cloud = (...templates: Obj[]) =>
        clouds({ name: "kubernetes", namespace: "agents", defaultsProviderTemplate: "defaults", templates });
    const ok = { name: "default", activeDeadlineSeconds: 3600 };

    it("passes templates with a deadline and nothing that reaches past their pods", () => {
        expect(messages("agent-pod-bounds", [cloud({ ...ok, name: "defaults" }, ok)])).toEqual([]);
    });

    it("names a template without a deadline, and says pipelines' own pods inherit the defaults'", () => {
        expect(messages("agent-pod-bounds", [cloud({ name: "defaults" }, { name: "maven" })])).toEqual([
            'template "defaults" of cloud "kubernetes" (data["jenkins.yaml"]) has no activeDeadlineSeconds: its pods, and every pipeline\'s own pod of the cloud, would run until someone deletes them',
            'template "maven" of cloud "kubernetes" (data["jenkins.yaml"]) has no activeDeadlineSeconds: its pods would run until someone deletes them',
        ]);
    });

    it("names a system PriorityClass, a toleration of every taint, a restarting pod and a host port", () => {
        const yaml = stringify({
            spec: {
                priorityClassName: "system-node-critical",
                tolerations: [{ operator: "Exists" }, { key: "dedicated", operator: "Exists" }],
                restartPolicy: "Always",
                containers: [{ name: "web", ports: [{ containerPort: 80, hostPort: 8080 }] }],
            },
        });
        expect(messages("agent-pod-bounds", [cloud({ ...ok, yaml })])).toEqual([
            'template "default" of cloud "kubernetes" (data["jenkins.yaml"]) asks for PriorityClass system-node-critical: its builds would preempt cluster workloads',
            'template "default" of cloud "kubernetes" (data["jenkins.yaml"]) tolerates every taint (operator Exists, no key): its builds would land on control-plane and dedicated nodes',
            'template "default" of cloud "kubernetes" (data["jenkins.yaml"]) sets restartPolicy Always: an agent that ends would be started again, for ever',
            'template "default" of cloud "kubernetes" (data["jenkins.yaml"]): container "web" opens port 8080 on the node (hostPort)',
        ]);
    });
});

describe("agent-trust-tiers", () => {
    const build = {
        name: "kubernetes",
        namespace: "agents",
        restrictedPssSecurityContext: true,
        garbageCollection: { timeout: 300 },
        templates: [{ name: "default" }],
    };
    const dind = {
        name: "docker",
        yaml: stringify({ metadata: { annotations: { "jenkins-k8s/allow-privileged": "true" } } }),
    };
    const privileged = {
        name: "kubernetes-privileged",
        namespace: "agents-privileged",
        usageRestricted: true,
        garbageCollection: { timeout: 300 },
        templates: [dind],
    };

    it("passes a restricted default cloud and a usage-restricted privileged cloud in a namespace of its own", () => {
        expect(messages("agent-trust-tiers", [clouds(build, privileged)])).toEqual([]);
    });

    it("names a default cloud that leaves pipelines' pods without the restricted securityContext", () => {
        expect(messages("agent-trust-tiers", [clouds({ ...build, restrictedPssSecurityContext: false })])).toEqual([
            'cloud "kubernetes" (data["jenkins.yaml"]) is the cloud pipelines\' own pod templates get: set restrictedPssSecurityContext: true',
        ]);
    });

    it("names privileged templates in the default cloud, or in a cloud every job may use", () => {
        expect(messages("agent-trust-tiers", [clouds({ ...build, templates: [dind] })])).toEqual([
            expect.stringContaining(
                "(docker): they belong to a usage-restricted cloud of their own, not the default cloud",
            ),
        ]);
        expect(messages("agent-trust-tiers", [clouds(build, { ...privileged, usageRestricted: false })])).toEqual([
            expect.stringContaining("not an unrestricted one"),
        ]);
    });

    it("names two clouds in one namespace, and a cloud without garbage collection", () => {
        expect(
            messages("agent-trust-tiers", [
                clouds(build, { ...privileged, namespace: "agents", garbageCollection: undefined }),
            ]),
        ).toEqual([
            'cloud "kubernetes-privileged" (data["jenkins.yaml"]) launches into agents, as cloud "kubernetes" does: each tier needs a namespace of its own',
            'cloud "kubernetes-privileged" (data["jenkins.yaml"]) has no garbageCollection: orphaned agent pods would stay',
        ]);
    });
});

describe("the pack", () => {
    it("has one uniquely named policy per rule, all mandatory but the wildcard and visibility advisories", () => {
        const levels = Object.fromEntries(policies.map((p) => [p.name, p.enforcementLevel]));
        expect(Object.keys(levels)).toHaveLength(policies.length);
        expect(levels).toEqual({
            "no-privileged-containers": "mandatory",
            "no-host-path": "mandatory",
            "container-resources": "mandatory",
            "pinned-images": "mandatory",
            "no-cluster-admin-binding": "mandatory",
            "no-secrets-list-watch": "mandatory",
            "no-wildcard-rbac": "advisory",
            "jenkins-home-protected": "mandatory",
            "jenkins-home-retain-unverified": "advisory",
            "restricted-controller": "mandatory",
            "agent-trust-tiers": "mandatory",
            "agent-pod-bounds": "mandatory",
        });
    });

    it("is a nodejs policy pack whose package.json declares a version and every package the pack imports", () => {
        expect(parse(readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8")).runtime).toBe("nodejs");
        const pkg = JSON.parse(readFileSync(path.join(POLICY_DIR, "package.json"), "utf8"));
        // PolicyPack refuses to start without a version in the package.json of its directory.
        expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(pkg.dependencies["@pulumi/policy"]).toBe("1.21.0");
        const imported = new Set<string>();
        for (const file of readdirSync(POLICY_DIR).filter((f) => f.endsWith(".ts"))) {
            for (const m of readFileSync(path.join(POLICY_DIR, file), "utf8").matchAll(
                /from "([^".][^"]*)"|require\("([^".][^"]*)"\)/g,
            )) {
                const spec = m[1] ?? m[2];
                imported.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
            }
        }
        const builtins = new Set(["fs", "path"]);
        const missing = [...imported].filter((p) => !builtins.has(p) && !pkg.dependencies[p]);
        expect(missing).toEqual([]);
    });

    it("imports nothing from outside its folder, so it runs (and publishes) on its own", () => {
        const outside = readdirSync(POLICY_DIR)
            .filter((f) => f.endsWith(".ts"))
            .flatMap((file) =>
                [
                    ...readFileSync(path.join(POLICY_DIR, file), "utf8").matchAll(
                        /(?:from |require\(|import\()"(\.\.\/[^"]*)"/g,
                    ),
                ].map((m) => `${file}: ${m[1]}`),
            );
        expect(outside).toEqual([]);
    });
});

describe("no-privileged-containers", () => {
    it("passes containers that are neither privileged nor allowed to escalate", () => {
        expect(of("no-privileged-containers", [deployment({ containers: [good()] })])).toEqual([]);
    });

    it("names a privileged init container of a StatefulSet", () => {
        const sts = workload("kubernetes:apps/v1:StatefulSet", {
            initContainers: [good("setup", { securityContext: { privileged: true } })],
            containers: [good()],
        });
        const found = of("no-privileged-containers", [sts]);
        expect(found).toHaveLength(1);
        expect(found[0]).toMatchObject({
            level: "mandatory",
            resource: "kubernetes:apps/v1:StatefulSet::my-statefulset",
        });
        expect(found[0].message).toContain('container "setup"');
        expect(found[0].message).toContain("spec.template.spec.initContainers[0]");
        expect(found[0].message).toContain("securityContext.privileged: true");
    });

    it("finds allowPrivilegeEscalation in a CronJob's job template", () => {
        const cron = workload("kubernetes:batch/v1:CronJob", {
            containers: [good("backup", { securityContext: { allowPrivilegeEscalation: true } })],
        });
        expect(messages("no-privileged-containers", [cron])).toEqual([
            'container "backup" (spec.jobTemplate.spec.template.spec.containers[0]) sets securityContext.allowPrivilegeEscalation: true',
        ]);
    });

    it("accepts the explicit allow annotation on the object or its pod template", () => {
        const pod = { containers: [good("dind", { securityContext: { privileged: true } })] };
        expect(
            of("no-privileged-containers", [
                deployment(pod, { annotations: { "jenkins-k8s/allow-privileged": "true" } }),
            ]),
        ).toEqual([]);
        expect(
            of("no-privileged-containers", [
                deployment(pod, {}, { annotations: { "jenkins-k8s/allow-privileged": "true" } }),
            ]),
        ).toEqual([]);
        expect(
            of("no-privileged-containers", [
                deployment(pod, { annotations: { "jenkins-k8s/allow-privileged": "yes" } }),
            ]),
        ).toHaveLength(1);
    });

    it("finds a privileged container in a JCasC agent pod template, and honours the template's own allow", () => {
        const template = { containers: [agentContainer({ name: "docker", privileged: true })] };
        const [message] = messages("no-privileged-containers", [casc(template)]);
        expect(message).toContain('agent pod template "agents"');
        expect(message).toContain('container "docker"');
        expect(message).toContain("templates[0].containers[0]");
        const allowed = { ...template, annotations: [{ key: "jenkins-k8s/allow-privileged", value: "true" }] };
        expect(of("no-privileged-containers", [casc(allowed)])).toEqual([]);
    });

    it("finds privilege escalation that an agent template asks for in its raw pod yaml", () => {
        const yaml = stringify({
            spec: { containers: [{ name: "jnlp", securityContext: { allowPrivilegeEscalation: true } }] },
        });
        const [message] = messages("no-privileged-containers", [casc({ containers: [agentContainer()], yaml })]);
        expect(message).toContain('container "jnlp"');
        expect(message).toContain("merged with its yaml");
        expect(message).toContain("allowPrivilegeEscalation");
    });
});

describe("no-host-path", () => {
    it("passes a pod with only emptyDir, configMap and claim volumes", () => {
        const pod = {
            containers: [good()],
            volumes: [
                { name: "tmp", emptyDir: {} },
                { name: "home", persistentVolumeClaim: { claimName: "h" } },
            ],
        };
        expect(of("no-host-path", [deployment(pod)])).toEqual([]);
    });

    it("names a hostPath volume of a DaemonSet and a Pod on the host network", () => {
        const ds = workload("kubernetes:apps/v1:DaemonSet", {
            containers: [good()],
            volumes: [
                { name: "tmp", emptyDir: {} },
                { name: "docker-sock", hostPath: { path: "/var/run/docker.sock" } },
            ],
        });
        expect(messages("no-host-path", [ds])).toEqual([
            `volume "docker-sock" (spec.template.spec.volumes[1]) is a hostPath volume of the node's /var/run/docker.sock`,
        ]);
        const pod = workload("kubernetes:core/v1:Pod", { containers: [good()], hostNetwork: true, hostPID: true });
        const found = messages("no-host-path", [pod]);
        expect(found).toHaveLength(2);
        expect(found[0]).toContain("hostNetwork: true (spec)");
        expect(found[1]).toContain("hostPID: true");
    });

    it("accepts the explicit allow annotation", () => {
        const pod = { containers: [good()], volumes: [{ name: "logs", hostPath: { path: "/var/log" } }] };
        expect(
            of("no-host-path", [deployment(pod, { annotations: { "jenkins-k8s/allow-host-path": "true" } })]),
        ).toEqual([]);
    });

    it("finds the original's docker.sock mount in a JCasC agent template, unless the ConfigMap allows it", () => {
        const template = {
            containers: [agentContainer()],
            volumes: [
                { emptyDirVolume: { mountPath: "/cache" } },
                { hostPathVolume: { hostPath: "/var/run/docker.sock", mountPath: "/var/run/docker.sock" } },
            ],
        };
        const [message] = messages("no-host-path", [casc(template)]);
        expect(message).toContain('volume "/var/run/docker.sock"');
        expect(message).toContain('agent pod template "agents"');
        expect(message).toContain("templates[0].volumes[1]");
        expect(
            of("no-host-path", [casc(template, { annotations: { "jenkins-k8s/allow-host-path": "true" } })]),
        ).toEqual([]);
    });
});

describe("container-resources", () => {
    it("passes containers with cpu and memory requests and a memory limit (no cpu limit needed)", () => {
        expect(
            of("container-resources", [deployment({ initContainers: [good("init")], containers: [good()] })]),
        ).toEqual([]);
    });

    it("names each container of a Job and the fields it lacks", () => {
        const job = workload("kubernetes:batch/v1:Job", {
            initContainers: [{ name: "fetch", image: "busybox:1.37.0" }],
            containers: [good("run", { resources: { requests: { cpu: "1", memory: "1Gi" } } })],
        });
        expect(messages("container-resources", [job])).toEqual([
            'container "fetch" (spec.template.spec.initContainers[0]) has no resources.requests.cpu, resources.requests.memory, resources.limits.memory',
            'container "run" (spec.template.spec.containers[0]) has no resources.limits.memory',
        ]);
    });

    it("counts a JCasC agent container's resources from its fields and its raw yaml together", () => {
        const partial = agentContainer({ resourceLimitMemory: "" });
        const [message] = messages("container-resources", [casc({ containers: [partial] })]);
        expect(message).toContain('container "jnlp"');
        expect(message).toContain("resources.limits.memory");
        const yaml = stringify({ spec: { containers: [{ name: "jnlp", resources: { limits: { memory: "1Gi" } } }] } });
        expect(of("container-resources", [casc({ containers: [partial], yaml })])).toEqual([]);
    });
});

describe("pinned-images", () => {
    const withImage = (image: string) => deployment({ containers: [good("app", { image })] });

    it.each([
        "jenkins/jenkins:2.568.2-jdk21",
        "jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk21",
        "registry.example.com:5000/team/app:1.4.2",
        `jenkins/jenkins@${DIGEST}`,
        `jenkins/jenkins:lts@${DIGEST}`,
    ])("passes %s", (image) => {
        expect(of("pinned-images", [withImage(image)])).toEqual([]);
    });

    it.each([
        ["jenkins/jenkins", "has no tag"],
        ["registry.example.com:5000/team/app", "has no tag"],
        ["nginx:latest", 'floating tag "latest"'],
        ["jenkins/jenkins:lts", 'floating tag "lts"'],
        ["jenkins/jenkins:lts-jdk21", 'floating tag "lts-jdk21"'],
        ["jenkins/jenkins:weekly", 'floating tag "weekly"'],
        ["debian:stable-slim", 'floating tag "stable-slim"'],
        ["nginx:Latest", 'floating tag "latest"'],
        ["jenkins/jenkins@sha256:abc", "malformed digest"],
    ])("refuses %s", (image, why) => {
        const [message] = messages("pinned-images", [withImage(image)]);
        expect(message).toContain('container "app" (spec.template.spec.containers[0])');
        expect(message).toContain(why);
    });

    it("refuses a container without an image and a floating agent image in JCasC", () => {
        expect(messages("pinned-images", [deployment({ containers: [{ name: "noimage" }] })])).toEqual([
            'container "noimage" (spec.template.spec.containers[0]) has no image',
        ]);
        const [message] = messages("pinned-images", [
            casc({ containers: [agentContainer({ image: "jenkins/inbound-agent:latest-jdk21" })] }),
        ]);
        expect(message).toContain('agent pod template "agents"');
        expect(message).toContain('"jenkins/inbound-agent:latest-jdk21"');
    });
});

const binding = (type: string, roleRef: Obj): PolicyInput => ({
    type,
    name: "binding",
    inputs: {
        metadata: { name: "b" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", ...roleRef },
        subjects: [{ kind: "ServiceAccount", name: "jenkins", namespace: "ci" }],
    },
});

describe("no-cluster-admin-binding", () => {
    it("passes bindings to other roles", () => {
        expect(
            of("no-cluster-admin-binding", [
                binding("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", {
                    kind: "ClusterRole",
                    name: "view",
                }),
                binding("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", { kind: "Role", name: "cluster-admin" }),
            ]),
        ).toEqual([]);
    });

    it("refuses cluster-admin through a ClusterRoleBinding, a RoleBinding, and the original's v1beta1", () => {
        const found = of("no-cluster-admin-binding", [
            binding("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", {
                kind: "ClusterRole",
                name: "cluster-admin",
            }),
            binding("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", {
                kind: "ClusterRole",
                name: "cluster-admin",
            }),
            binding("kubernetes:rbac.authorization.k8s.io/v1beta1:ClusterRoleBinding", {
                kind: "ClusterRole",
                name: "cluster-admin",
            }),
        ]);
        expect(found).toHaveLength(3);
        for (const v of found) {
            expect(v.message).toBe("roleRef is ClusterRole cluster-admin (bound to ServiceAccount jenkins)");
        }
    });
});

const role = (type: string, rules: Obj[]): PolicyInput => ({
    type,
    name: "role",
    inputs: { metadata: { name: "r" }, rules },
});
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";

describe("no-secrets-list-watch", () => {
    it("passes a role that reads one secret by name and lists pods", () => {
        expect(
            of("no-secrets-list-watch", [
                role(ROLE, [
                    { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["jenkins-admin"] },
                    { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
                    { apiGroups: ["apps"], resources: ["*"], verbs: ["list"] },
                ]),
            ]),
        ).toEqual([]);
    });

    it("names the rule that lists or watches secrets, directly or through * in the core group", () => {
        expect(
            messages("no-secrets-list-watch", [
                role(CLUSTER_ROLE, [
                    { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
                    { apiGroups: [""], resources: ["secrets", "configmaps"], verbs: ["get", "list"] },
                    { apiGroups: ["*"], resources: ["*"], verbs: ["watch"] },
                    { apiGroups: [""], resources: ["secrets"], verbs: ["*"] },
                ]),
            ]),
        ).toEqual([
            "rules[1] grants list on secrets",
            "rules[2] grants watch on * in the core group",
            "rules[3] grants * on secrets",
        ]);
    });
});

describe("no-wildcard-rbac (advisory)", () => {
    it("passes named verbs, resources and groups", () => {
        expect(
            of("no-wildcard-rbac", [role(ROLE, [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }])]),
        ).toEqual([]);
    });

    it("reports each * at advisory level", () => {
        const found = of("no-wildcard-rbac", [
            role(CLUSTER_ROLE, [{ apiGroups: ["apps"], resources: ["*"], verbs: ["*"] }]),
        ]);
        expect(found.map((v) => [v.level, v.message])).toEqual([
            ["advisory", 'rules[0].verbs contains "*"'],
            ["advisory", 'rules[0].resources contains "*"'],
        ]);
    });
});

const HOME_LABELS = { "app.kubernetes.io/component": "home" };
const pvc = (labels: Obj, opts: { retainOnDelete?: boolean; protect?: boolean }): PolicyInput => ({
    type: "kubernetes:core/v1:PersistentVolumeClaim",
    name: "home",
    inputs: { metadata: { name: "jenkins-home", labels }, spec: { accessModes: ["ReadWriteOnce"] } },
    ...opts,
});
const pv = (labels: Obj, reclaim?: string): PolicyInput => ({
    type: "kubernetes:core/v1:PersistentVolume",
    name: "home-pv",
    inputs: {
        metadata: { name: "jenkins-home", labels },
        spec: { ...(reclaim ? { persistentVolumeReclaimPolicy: reclaim } : {}) },
    },
});

describe("jenkins-home-protected", () => {
    it("passes a home claim with retainOnDelete or protect, and a home volume with Retain or no policy", () => {
        expect(
            of("jenkins-home-protected", [
                pvc(HOME_LABELS, { retainOnDelete: true }),
                pvc(HOME_LABELS, { retainOnDelete: false, protect: true }),
                pvc({ "app.kubernetes.io/component": "cache" }, { retainOnDelete: false }),
                pv(HOME_LABELS, "Retain"),
                pv(HOME_LABELS),
                pv({}, "Delete"),
            ]),
        ).toEqual([]);
    });

    it("refuses a home claim that pulumi destroy would delete", () => {
        const found = of("jenkins-home-protected", [pvc(HOME_LABELS, { retainOnDelete: false, protect: false })]);
        expect(found).toHaveLength(1);
        expect(found[0].level).toBe("mandatory");
        expect(found[0].message).toContain("neither retainOnDelete nor protect");
    });

    it("refuses a home volume whose reclaim policy wipes or deletes the data", () => {
        expect(messages("jenkins-home-protected", [pv(HOME_LABELS, "Recycle"), pv(HOME_LABELS, "Delete")])).toEqual([
            "PersistentVolume holding Jenkins home has spec.persistentVolumeReclaimPolicy: Recycle; use Retain",
            "PersistentVolume holding Jenkins home has spec.persistentVolumeReclaimPolicy: Delete; use Retain",
        ]);
    });
});

describe("jenkins-home-retain-unverified (advisory)", () => {
    it("says nothing when retainOnDelete is visible or the claim is protected", () => {
        expect(
            of("jenkins-home-retain-unverified", [
                pvc(HOME_LABELS, { retainOnDelete: true }),
                pvc(HOME_LABELS, { protect: true }),
            ]),
        ).toEqual([]);
    });

    it("warns, without blocking, when retainOnDelete is hidden from the policy as the CLI hides it", () => {
        const all = checkResources([pvc(HOME_LABELS, {})]);
        expect(mandatory(all)).toEqual([]);
        expect(all.map((v) => [v.policy, v.level])).toEqual([["jenkins-home-retain-unverified", "advisory"]]);
        expect(all[0].message).toContain("retainOnDelete");
    });
});

describe("restricted-controller", () => {
    const CONTROLLER = { "app.kubernetes.io/component": "controller" };
    const restrictedPod = (container: Obj, extra: Obj = {}) => ({
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        initContainers: [
            good("chown", {
                securityContext: { runAsNonRoot: false, runAsUser: 0, capabilities: { drop: ["ALL"], add: ["CHOWN"] } },
            }),
        ],
        containers: [container],
        ...extra,
    });

    it("passes a non-root, RuntimeDefault controller that drops ALL (a root init container is allowed)", () => {
        expect(
            of("restricted-controller", [deployment(restrictedPod(good("jenkins")), { labels: CONTROLLER })]),
        ).toEqual([]);
    });

    it("names the controller container and each missing setting", () => {
        const loose = good("jenkins", { securityContext: { capabilities: { drop: ["NET_RAW"] } } });
        const pod = restrictedPod(loose, { securityContext: {} });
        expect(messages("restricted-controller", [deployment(pod, {}, { labels: CONTROLLER })])).toEqual([
            'container "jenkins" (spec.template.spec.containers[0]) may run as root: set runAsNonRoot: true on the pod or container',
            'container "jenkins" (spec.template.spec.containers[0]) has seccompProfile unset; set RuntimeDefault on the pod or container',
            'container "jenkins" (spec.template.spec.containers[0].securityContext.capabilities.drop) does not drop ALL',
        ]);
    });

    it("leaves Deployments other than the controller to the other policies", () => {
        expect(of("restricted-controller", [deployment({ containers: [{ ...good(), securityContext: {} }] })])).toEqual(
            [],
        );
    });
});

describe("the runner", () => {
    it("unwraps secret inputs before the policies see them", () => {
        const secret = {
            "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
            value: "nginx:latest",
        };
        const [message] = messages("pinned-images", [deployment({ containers: [good("app", { image: secret })] })]);
        expect(message).toContain('"nginx:latest"');
    });

    it("gives policies isType, asType and notApplicable as the analyzer does", () => {
        const seen: string[] = [];
        const probe: ResourceValidationPolicy = {
            name: "probe",
            description: "records what it sees",
            enforcementLevel: "mandatory",
            validateResource: (args, report) => {
                const d = args.asType(k8s.apps.v1.Deployment);
                if (!d) {
                    args.notApplicable("deployments only");
                }
                seen.push(
                    `${args.isType(k8s.apps.v1.Deployment)} ${args.isType(k8s.core.v1.Pod)} ${d!.metadata?.name}`,
                );
                report("seen");
            },
        };
        const found = checkResources(
            [deployment({ containers: [good()] }), workload("kubernetes:core/v1:Pod", { containers: [good()] })],
            [probe],
        );
        expect(seen).toEqual(["true false x"]);
        expect(found).toEqual([
            {
                policy: "probe",
                resource: "kubernetes:apps/v1:Deployment::my-deployment",
                message: "seen",
                level: "mandatory",
            },
        ]);
    });
});

describe("the runner agrees with @pulumi/policy's own analyzer", () => {
    // The handler the CLI's gRPC calls reach, driven with a request built like the engine's; no
    // server is started. What the engine sends is a plain Struct of inputs plus these options.
    const server = require("@pulumi/policy/server");
    const analyzer = require("@pulumi/pulumi/proto/analyzer_pb");
    const { Struct } = require("google-protobuf/google/protobuf/struct_pb");

    const handler = server.makeAnalyzeRpcFun("jenkins-k8s", "0.1.0", "advisory", policies);

    function analyze(r: PolicyInput): Promise<{ policy: string; message: string }[]> {
        const req = new analyzer.AnalyzeRequest();
        req.setType(r.type);
        req.setName(r.name);
        req.setUrn(`urn:pulumi:test::jenkins-k8s::${r.type}::${r.name}`);
        req.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(r.inputs))));
        const opts = new analyzer.AnalyzerResourceOptions();
        opts.setProtect(r.protect ?? false);
        req.setOptions(opts);
        return new Promise((resolve, reject) =>
            handler({ request: req }, (err: unknown, res: any) =>
                err
                    ? reject(err instanceof Error ? err : new Error(JSON.stringify(err)))
                    : resolve(
                          res.getDiagnosticsList().map((d: any) => ({
                              policy: d.getPolicyname(),
                              // The server prefixes the policy's description to what the policy reported.
                              message: d.getMessage().slice(d.getDescription().length + 1),
                          })),
                      ),
            ),
        );
    }

    it("reports the same violations for workloads, JCasC, RBAC and a hidden-retain home claim", async () => {
        const resources = [
            deployment({
                containers: [good("app", { image: "nginx:latest", securityContext: { privileged: true } })],
                hostPID: true,
            }),
            casc({
                containers: [agentContainer({ resourceLimitMemory: "" })],
                volumes: [{ hostPathVolume: { hostPath: "/root/.kube", mountPath: "/k" } }],
            }),
            role(CLUSTER_ROLE, [{ apiGroups: [""], resources: ["secrets"], verbs: ["*"] }]),
            binding("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", {
                kind: "ClusterRole",
                name: "cluster-admin",
            }),
            pvc(HOME_LABELS, {}),
        ];
        for (const r of resources) {
            const ours = checkResources([r]).map(({ policy, message }) => ({ policy, message }));
            expect(ours.length).toBeGreaterThan(0);
            expect(await analyze(r)).toEqual(ours);
        }
    });

    it.each([...EXAMPLE_STACKS])(
        "finds only the retainOnDelete advisory in stack %s, as the CLI would",
        async (name) => {
            const stack = await runStack(name);
            const found: string[] = [];
            for (const r of stack.resources) {
                found.push(...(await analyze(r)).map((d) => d.policy));
            }
            expect(found).toEqual(["jenkins-home-retain-unverified"]);
        },
    );
});

describe("the real program", () => {
    const cases: [string, () => Promise<Stack>][] = [
        ["default settings", () => runDefaults()],
        ...listStacks().map((s): [string, () => Promise<Stack>] => [`stack ${s}`, () => runStack(s)]),
        [
            "NFS home (static PV, root chown init container)",
            () => runDefaults({ storageMode: "nfs", nfsServer: "10.0.0.5", nfsPath: "/exports/jenkins" }),
        ],
    ];

    it.each(cases)("passes every policy for %s", async (_label, run) => {
        const stack = await run();
        // Not vacuous: the objects the policies are about are there.
        const types = stack.resources.map((r) => r.type);
        expect(types).toEqual(
            expect.arrayContaining([
                "kubernetes:apps/v1:Deployment",
                "kubernetes:core/v1:PersistentVolumeClaim",
                "kubernetes:core/v1:ConfigMap",
            ]),
        );
        expect(mandatory(checkResources(stack.resources))).toEqual([]);
    });

    it("is stopped by jenkins-home-protected when Jenkins home is not kept on destroy", async () => {
        const stack = await runDefaults({ retainHomeOnDestroy: false });
        const found = mandatory(checkResources(stack.resources));
        expect(found.map((v) => [v.policy, v.resource.split("::").pop()])).toEqual([
            ["jenkins-home-protected", "jenkins-home"],
        ]);
    });
});
