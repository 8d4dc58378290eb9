// What `pulumi up` would apply, checked without a cluster, for every stack file in the repo (a
// user's own too): Kubernetes objects against the Kubernetes OpenAPI schemas, the JCasC against the
// plugin's keys, URNs and cross-references; and for the example stacks, the committed golden
// render and a preview that warns of nothing.
import Ajv from "ajv";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse } from "yaml";
import { settingsFrom } from "../config/settings";
import { cloudLauncher, crossReferenceProblems, serviceAddress } from "../tools/crossRefs";
import { evaluate, Evaluation } from "../tools/evaluate";
import { schemaProblems } from "../tools/kubeSchema";
import { realmSecrets } from "../config/access";
import { mountedSecrets } from "../jcasc/security";
import { credentialsWithPaths } from "../config/accessChecks";
import {
    CASC_OUT,
    GOLDEN_DIR,
    K8sObject,
    kubernetesObjects,
    REDACTED,
    RENDER_MARKER,
    renderDiff,
    renderFiles,
    writeRender,
} from "../tools/render";
import { EXAMPLE_STACKS, listStacks, readStackConfig, ROOT } from "../tools/stackConfig";
import { stackLock } from "../plugins/lock";
import { FIXTURE_ID } from "../plugins/metadata";
import { warningsOf, withoutOfflineWarnings } from "./harness";
import schema from "../schemas/jcasc.schema.json";

const validateCasc = new Ajv({ allErrors: true, strict: true }).compile(schema);
function cascProblems(doc: unknown): string[] {
    return validateCasc(doc)
        ? []
        : (validateCasc.errors ?? []).map(
              (e) => `JCasC ${e.instancePath || "(root)"} ${e.message} ${JSON.stringify(e.params)}`,
          );
}

const stacks = listStacks();

it("the repo has the example stacks", () => {
    expect(stacks).toEqual(expect.arrayContaining([...EXAMPLE_STACKS]));
});

/** A test of what only the example stacks promise (a user's own stack may warn, and has no golden). */
const example = (stack: string) => (EXAMPLE_STACKS.includes(stack) ? it : undefined);

describe.each(stacks)("stack %s", (stack) => {
    let evaluation: Evaluation;
    let objects: K8sObject[];
    let files: Map<string, string>;
    let casc: any;
    let warnings: string[];
    beforeAll(async () => {
        ({ result: evaluation, warnings } = await warningsOf(() =>
            evaluate(readStackConfig(stack), { stack, preview: true }),
        ));
        objects = kubernetesObjects(evaluation);
        files = renderFiles(evaluation);
        casc = parse(files.get(CASC_OUT)!);
    });

    example(stack)?.(
        "previews without a warning (but those of an offline render: a fixture-made plugin lock; Secrets, version, classes and the deployer's rights not checked)",
        () => {
            expect(withoutOfflineWarnings(warnings)).toEqual([]);
            // Those are real: a lock from the fixture's metadata holds checksums of no real archive, and
            // a stack whose credentials read Secrets cannot have them checked without a cluster.
            const s = settingsFrom(readStackConfig(stack));
            const lock = stackLock({ ...s.plugins, plugins: s.plugins.list }, ROOT, stack).lock!;
            // Nor can the cluster's Kubernetes version and StorageClasses be, or the deployer's rights.
            expect(warnings).toHaveLength(
                (lock.updateCenter.id === FIXTURE_ID ? 1 : 0) + (mountedSecrets(s.access).size > 0 ? 1 : 0) + 2,
            );
        },
    );

    it("every Kubernetes object validates against the Kubernetes schema", () => {
        expect(objects.length).toBeGreaterThan(10);
        expect(objects.flatMap((o) => schemaProblems(o))).toEqual([]);
    });

    it("the JCasC validates against the plugin's keys", () => {
        expect(cascProblems(casc)).toEqual([]);
    });

    it("no two resources share a type and name under one parent", () => {
        expect(evaluation.duplicateUrns).toEqual([]);
        const urns = evaluation.resources.map((r) => r.urn);
        expect(new Set(urns).size).toBe(urns.length);
    });

    it("no two Kubernetes objects share a kind, namespace and name", () => {
        const ids = objects.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);
        expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    });

    it("every reference resolves: accounts, ConfigMaps, Secrets, claims, Services and the JCasC addresses", () => {
        const s = settingsFrom(readStackConfig(stack));
        expect(
            crossReferenceProblems(objects, casc, {
                externalNamespaces: [
                    ...s.agents.deployNamespaces,
                    ...(s.createNamespaces ? [] : [s.namespace, s.agentNamespace]),
                ],
                externalClaims: s.storage.mode === "existingClaim" ? [s.storage.claimName] : [],
                // The user's own, which the preview checks in the cluster: the credentials' and sign-in's.
                externalSecrets: [
                    ...realmSecrets(s.access.realm).map((r) => r.ref.secret),
                    ...credentialsWithPaths(s.access).map((c) => c.credential.secret),
                ],
            }),
        ).toEqual([]);
    });

    it("shows no secret value: the Secret's keys are there, its values are redacted", () => {
        const secret = objects.find((o) => o.kind === "Secret")!;
        expect(Object.values(secret.stringData)).toEqual(expect.arrayContaining([REDACTED]));
        expect(new Set(Object.values(secret.stringData))).toEqual(new Set([REDACTED]));
        const password = evaluation.outputs.adminPassword as string;
        for (const [name, content] of files) {
            expect([name, content.includes(password)]).toEqual([name, false]);
        }
    });

    example(stack)?.("matches the committed golden render (npm run render:update after a deliberate change)", () => {
        const dir = path.join(GOLDEN_DIR, stack);
        const golden = new Map(
            (existsSync(dir) ? readdirSync(dir) : [])
                .filter((f) => f !== RENDER_MARKER)
                .map((f) => [f, readFileSync(path.join(dir, f), "utf8")]),
        );
        const diff = renderDiff(golden, files);
        if (diff !== "") {
            throw new Error(
                `the render of ${stack} differs from tests/__golden__/${stack} (a: golden, b: this change); ` +
                    `if the change is intended, run npm run render:update and review the diff:\n\n${diff}`,
            );
        }
    });
});

// The checks above would be worthless if they could not fail: break a field, see it named.
describe("the checks catch what a cluster or Jenkins would refuse", () => {
    let dev: Evaluation;
    let objects: K8sObject[];
    let casc: any;
    beforeAll(async () => {
        dev = await evaluate(readStackConfig("dev"), { stack: "dev", preview: true });
        objects = kubernetesObjects(dev);
        casc = parse(renderFiles(dev).get(CASC_OUT)!);
    });
    const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
    const deployment = (objs: K8sObject[]) => objs.find((o) => o.kind === "Deployment")!;

    it("a container port given as a string names the Deployment and the field", () => {
        const broken = clone(deployment(objects));
        broken.spec.template.spec.containers[0].ports[0].containerPort = "8080";
        expect(schemaProblems(broken)).toContainEqual(
            "Deployment kube-ops/jenkins: spec.template.spec.containers.0.ports.0.containerPort must be integer",
        );
    });

    it("a malformed memory limit names the Deployment and the field", () => {
        const broken = clone(deployment(objects));
        broken.spec.template.spec.containers[0].resources.limits.memory = "lots";
        expect(schemaProblems(broken).join("\n")).toContain(
            'Deployment kube-ops/jenkins: spec.template.spec.containers.0.resources.limits.memory must match format "quantity"',
        );
    });

    it("the original's removed RBAC version, and an unknown kind, are refused", () => {
        const broken = clone(objects.find((o) => o.kind === "Role" && o.metadata.name === "jenkins-agent-manager")!);
        broken.apiVersion = "rbac.authorization.k8s.io/v1beta1";
        expect(schemaProblems(broken)).toEqual([
            "Role kube-ops-agents/jenkins-agent-manager: rbac.authorization.k8s.io/v1beta1 was removed in Kubernetes 1.22; use the current version of Role",
        ]);
        broken.apiVersion = "rbac.authorization.k8s.io/v1";
        broken.kind = "Rol";
        expect(schemaProblems(broken)).toEqual([
            "Rol kube-ops-agents/jenkins-agent-manager: no schema for rbac.authorization.k8s.io/v1 Rol",
        ]);
    });

    it("an unknown JCasC key, a key the plugin does not have, and a missing image are refused", () => {
        const broken = clone(casc);
        // templates[0] is the cloud's defaults template; [1] the first configured one.
        const t = broken.jenkins.clouds[0].kubernetes.templates[1];
        t.agentConnectTimeout = 100;
        delete t.containers[0].image;
        const problems = cascProblems(broken).join("\n");
        expect(problems).toContain(
            '/jenkins/clouds/0/kubernetes/templates/1 must NOT have additional properties {"additionalProperty":"agentConnectTimeout"}',
        );
        expect(problems).toContain(
            "/jenkins/clouds/0/kubernetes/templates/1/containers/0 must have required property 'image'",
        );
    });

    it("WebSocket together with a tunnel is refused", () => {
        const broken = clone(casc);
        broken.jenkins.clouds[0].kubernetes.webSocket = true;
        expect(cascProblems(broken)).not.toEqual([]);
    });

    it("a pod that mounts a missing ConfigMap, a Service selecting nothing, and a tunnel to a missing port are named", () => {
        const objs = clone(objects);
        deployment(objs).spec.template.spec.volumes.find((v: any) => v.name === "casc").configMap.name =
            "jenkins-casc-old";
        objs.find((o) => o.kind === "Service" && o.metadata.name === "jenkins")!.spec.selector = { app: "jenkins" };
        const c = clone(casc);
        c.jenkins.clouds[0].kubernetes.jenkinsTunnel = "jenkins-agent.kube-ops.svc:50001";
        deployment(objs).spec.template.spec.volumes.find(
            (v: any) => v.name === "secrets",
        ).projected.sources[0].secret.items[0].key = "pass";
        const problems = crossReferenceProblems(objs, c);
        expect(problems).toEqual(
            expect.arrayContaining([
                "Deployment kube-ops/jenkins: volume secrets wants key pass of Secret jenkins-admin, which has no such key",
                "Deployment kube-ops/jenkins: volume casc mounts ConfigMap jenkins-casc-old, which does not exist in kube-ops",
                'Service kube-ops/jenkins: selector {"app":"jenkins"} matches no pod of the render',
                "JCasC clouds[0].jenkinsTunnel = jenkins-agent.kube-ops.svc:50001: Service jenkins-agent does not expose port 50001",
            ]),
        );
    });

    it("a binding to a missing account and a template account that does not exist are named", () => {
        const objs = clone(objects).filter(
            (o) => !(o.kind === "ServiceAccount" && o.metadata.name === "jenkins-agent"),
        );
        const problems = crossReferenceProblems(objs, casc);
        expect(problems).toContain(
            "JCasC clouds[0].templates[1].serviceAccount = jenkins-agent: does not exist in kube-ops-agents",
        );
    });

    it("a cloud whose credential is not a mounted ServiceAccount token, or whose account cannot create pods, is named", async () => {
        // prod's deploy tier has a launcher of its own; dev's clouds all use the controller's account.
        const prod = await evaluate(readStackConfig("prod"), { stack: "prod", preview: true });
        const prodObjects = kubernetesObjects(prod);
        const prodCasc = parse(renderFiles(prod).get(CASC_OUT)!);
        const c = clone(prodCasc);
        const deploy = c.jenkins.clouds[2].kubernetes;
        expect(cloudLauncher(prodObjects, c, deploy)).toEqual({ namespace: "ci", name: "jenkins-deploy-launcher" });
        expect(cloudLauncher(objects, casc, casc.jenkins.clouds[1].kubernetes)).toEqual({
            namespace: "kube-ops",
            name: "jenkins",
        });
        deploy.credentialsId = "nobody";
        expect(crossReferenceProblems(prodObjects, c)).toContain(
            "JCasC clouds[2] (kubernetes-deploy): credentialsId nobody: no System-scoped Secret-text credential read from a file",
        );
        const objs = clone(prodObjects).filter(
            (o) => !(o.kind === "RoleBinding" && o.metadata.namespace === "ci-agents-deploy"),
        );
        expect(crossReferenceProblems(objs, prodCasc)).toContain(
            "JCasC clouds[2].templates[1] (deploy): no Role bound to the cloud's account lets it create pods in ci-agents-deploy",
        );
    });

    it("parses in-cluster Service addresses", () => {
        expect(serviceAddress("http://jenkins.ci.svc:8080/")).toEqual({
            service: "jenkins",
            namespace: "ci",
            port: 8080,
        });
        expect(serviceAddress("jenkins-agent.ci.svc.cluster.local:50000")).toEqual({
            service: "jenkins-agent",
            namespace: "ci",
            port: 50000,
        });
        expect(serviceAddress("https://jenkins.example.com/")).toBeUndefined();
    });
});

describe("the render tool", () => {
    const scratch = () => mkdtempSync(path.join(tmpdir(), "render-test-"));
    const two = new Map([
        ["a.yaml", "a: 1\n"],
        ["b.yaml", "b: 1\n"],
    ]);

    it("refuses a non-empty folder it did not write, and writes nothing there", () => {
        const dir = scratch();
        writeFileSync(path.join(dir, "Pulumi.yaml"), "name: mine\n");
        expect(() => writeRender(two, dir)).toThrow(`refusing to render into ${dir}: it is not empty`);
        expect(readdirSync(dir)).toEqual(["Pulumi.yaml"]);
    });

    it("replaces its own files on the next render and leaves others' files alone", () => {
        const dir = scratch();
        writeRender(two, dir);
        writeFileSync(path.join(dir, "notes.txt"), "mine\n");
        writeRender(new Map([["a.yaml", "a: 2\n"]]), dir);
        expect(readdirSync(dir).sort()).toEqual([RENDER_MARKER, "a.yaml", "notes.txt"]);
        expect(readFileSync(path.join(dir, "a.yaml"), "utf8")).toBe("a: 2\n");
    });

    it("never overwrites a file it did not write, and ignores marker lines that are not plain file names", () => {
        const dir = scratch();
        writeRender(two, dir);
        rmSync(path.join(dir, "b.yaml"));
        writeFileSync(path.join(dir, "c.yaml"), "mine: true\n");
        writeFileSync(path.join(dir, RENDER_MARKER), ["..", "../outside.yaml", "a.yaml", "b.yaml", ""].join("\n"));
        expect(() => writeRender(new Map([["c.yaml", "c: 1\n"]]), dir)).toThrow("refusing to overwrite c.yaml");
        expect(readFileSync(path.join(dir, "c.yaml"), "utf8")).toBe("mine: true\n");
        writeRender(new Map([["d.yaml", "d: 1\n"]]), dir);
        expect(readdirSync(dir).sort()).toEqual([RENDER_MARKER, "c.yaml", "d.yaml"]);
    });

    it("describes a drift from the golden render as a unified diff, with added and gone files", () => {
        const after = new Map([
            ["a.yaml", "a: 2\n"],
            ["c.yaml", "c: 1\n"],
        ]);
        expect(renderDiff(two, two)).toBe("");
        expect(renderDiff(two, after)).toBe(
            [
                "--- a/a.yaml",
                "+++ b/a.yaml",
                "@@ -1,1 +1,1 @@",
                "-a: 1",
                "+a: 2",
                "--- a/b.yaml",
                "+++ /dev/null",
                "@@ -1,1 +0,0 @@",
                "-b: 1",
                "--- /dev/null",
                "+++ b/c.yaml",
                "@@ -0,0 +1,1 @@",
                "+c: 1",
                "",
            ].join("\n"),
        );
    });
});
