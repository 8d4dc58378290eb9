// What a first up needs of the cluster, asked of the real API server by the program as `pulumi
// up` runs it at preview (render --cluster reads the cluster KUBECONFIG names): its version, and
// the StorageClasses it really has, named in the refusal.
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { ADMISSION_POLICY_MINOR } from "../../preflight/clusterReady";
import { stringify } from "yaml";
import { Account, Cluster, TIER_LABEL, userOf } from "./kube";

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * The dev stack's preview against this cluster, in namespaces no stack uses (so no home claim
 * exists), as KUBECONFIG's user or, given a kubeconfig file, as its user.
 */
function preview(...sets: string[]): { status: number | null; stderr: string } {
    return previewWith(process.env.KUBECONFIG!, ...sets);
}

function previewWith(kubeconfig: string, ...sets: string[]): { status: number | null; stderr: string } {
    const out = mkdtempSync(path.join(tmpdir(), "jenkins-k8s-ready-"));
    try {
        const r = spawnSync(
            process.execPath,
            [
                "--require",
                "sucrase/register/ts",
                "tools/render.ts",
                "--stack",
                "dev",
                "--set",
                "namespace=jk8s-ready-check",
                "--set",
                "agentNamespace=jk8s-ready-check-agents",
                ...sets.flatMap((s) => ["--set", s]),
                "--cluster",
                "--out",
                out,
            ],
            { cwd: ROOT, encoding: "utf8", timeout: 100_000, env: { ...process.env, KUBECONFIG: kubeconfig } },
        );
        return { status: r.status, stderr: r.stderr };
    } finally {
        rmSync(out, { recursive: true, force: true });
    }
}

/** A namespace of this suite, made fresh (one a previous run left terminating is waited for first). */
async function freshNamespace(cluster: Cluster, name: string, labels: Record<string, string> = {}): Promise<void> {
    await cluster.settled({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    await cluster.apply({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { ...labels, [TIER_LABEL]: "true" } },
    });
}

describe("a first up's needs, asked of the API server", () => {
    let classes: { name: string; isDefault: boolean }[];
    let minor: number;
    beforeAll(async () => {
        const cluster = await Cluster.connect();
        const list = await cluster.api(cluster.k8s.StorageV1Api).listStorageClass();
        classes = list.items.map((c) => ({
            name: c.metadata!.name!,
            isDefault: c.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
        }));
        minor = Number.parseInt((await cluster.api(cluster.k8s.VersionApi).getCode()).minor, 10);
    });

    it("a StorageClass the cluster does not have is refused, naming the ones it has", () => {
        const r = preview("storageClass=no-such-class");
        expect(r.status).toBe(1);
        const names = classes.map((c) => c.name).sort();
        expect(r.stderr).toContain(
            `jenkins-k8s:storageClass = "no-such-class": the cluster has no such StorageClass (it has ${names.length > 0 ? names.join(", ") : "none"})`,
        );
    });

    it("with no class named, the cluster's default decides: refused without one, passed with one", () => {
        const r = preview();
        const refusal = "jenkins-k8s:storageClass is empty, and the cluster has no default StorageClass";
        if (classes.some((c) => c.isDefault)) {
            expect(r.stderr).not.toContain(refusal);
        } else {
            expect(r.status).toBe(1);
            expect(r.stderr).toContain(refusal);
        }
    });

    it("a deploy namespace it does not create must exist, and one that enforces less Pod Security is warned about", async () => {
        const cluster = await Cluster.connect();
        const weak = "jk8s-ready-deploy-weak";
        const missing = "jk8s-ready-deploy-missing";
        await freshNamespace(cluster, weak, { "pod-security.kubernetes.io/enforce": "privileged" });
        try {
            const r = preview(`deployNamespaces=${JSON.stringify([weak, missing])}`);
            expect(r.status).toBe(1);
            expect(r.stderr).toContain(
                `jenkins-k8s:deployNamespaces = ${JSON.stringify([weak, missing])}: the cluster has no namespace ${missing}; create it (labelled pod-security.kubernetes.io/enforce=baseline)`,
            );
            expect(r.stderr).not.toContain(`no namespace ${weak}`);
            // A refused preview still prints the warnings found so far.
            expect(r.stderr).toContain(`deploy namespace ${weak} enforces Pod Security privileged`);
            // On an NFS home, so that no StorageClass problem of this cluster refuses the preview.
            const ok = preview(
                `deployNamespaces=${JSON.stringify([weak])}`,
                "storageMode=nfs",
                "nfsServer=nfs.example.com",
                "nfsPath=/exports/jenkins",
            );
            expect(ok.status).toBe(0);
            expect(ok.stderr).toContain(
                `deploy namespace ${weak} enforces Pod Security privileged: jobs allowed to deploy there could run pods that are root on a node`,
            );
            expect(ok.stderr).not.toContain("jenkins-k8s:deployNamespaces =");
        } finally {
            await cluster.delete({ apiVersion: "v1", kind: "Namespace", metadata: { name: weak } });
        }
    });

    it("the version the API server reports serves the admission policy", () => {
        expect(minor).toBeGreaterThanOrEqual(ADMISSION_POLICY_MINOR);
        const r = preview("storageClass=no-such-class");
        expect(r.stderr).not.toContain("jenkins-k8s:admissionPolicy");
        // The cluster's admin may do everything the up does: not a word about rights.
        expect(r.stderr).not.toMatch(/the deployer.* may not/);
    });
});

describe("the deployer's rights, asked of the API server", () => {
    const NS = "jk8s-ready-check";
    const deployer: Account = { name: "deployer", namespace: NS };
    let cluster: Cluster;
    let dir: string;
    let kubeconfig: string;
    /** The deployer gets ClusterRole admin in `namespace`, through a RoleBinding there. */
    const adminIn = (namespace: string) =>
        cluster.apply({
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: "deployer-admin", namespace },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
            subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: NS }],
        });
    beforeAll(async () => {
        cluster = await Cluster.connect();
        for (const name of [NS, `${NS}-agents`]) await freshNamespace(cluster, name);
        await cluster.apply({
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name: "deployer", namespace: NS },
        });
        // A namespace admin, as a platform team often hands out: everything in one namespace, nothing else.
        await adminIn(NS);
        const { server } = cluster.kc.getCurrentCluster()!;
        dir = mkdtempSync(path.join(tmpdir(), "jenkins-k8s-deployer-"));
        kubeconfig = path.join(dir, "kubeconfig");
        const token = await cluster.tokenFor(deployer);
        writeFileSync(
            kubeconfig,
            stringify({
                apiVersion: "v1",
                kind: "Config",
                clusters: [
                    {
                        name: "c",
                        cluster: {
                            server,
                            "certificate-authority-data": Buffer.from(cluster.caPem()).toString("base64"),
                        },
                    },
                ],
                users: [{ name: "deployer", user: { token } }],
                contexts: [{ name: "deployer", context: { cluster: "c", user: "deployer" } }],
                "current-context": "deployer",
            }),
        );
    });
    afterAll(async () => {
        rmSync(dir, { recursive: true, force: true });
        for (const name of [NS, `${NS}-agents`]) {
            await cluster.delete({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
        }
    });

    it("a namespace admin is refused, each missing right named where it is missing", () => {
        const r = previewWith(kubeconfig);
        expect(r.status).toBe(1);
        const who = `the deployer (${userOf(deployer)}) may not`;
        expect(r.stderr).toContain(
            `${who} get, create, patch namespaces; get, create, patch validatingadmissionpolicies`,
        );
        expect(r.stderr).toMatch(
            new RegExp(
                `${who.replace(/[()]/g, "\\$&")} get, create, patch serviceaccounts; .* in namespace ${NS}-agents, which the up needs`,
            ),
        );
        // Its own namespace holds everything the up writes there.
        expect(r.stderr).not.toContain(`in namespace ${NS}, which the up needs`);
    });

    it("a deploy namespace the deployer administers is readable as the API server authorizes it: in that namespace", async () => {
        const deployNs = `${NS}-deploy`;
        const missingThere = new RegExp(`may not [^\\n]*in namespace ${deployNs},`);
        await freshNamespace(cluster, deployNs);
        try {
            const before = previewWith(kubeconfig, `deployNamespaces=${JSON.stringify([deployNs])}`);
            expect(before.stderr).toMatch(missingThere);
            expect(before.stderr).toContain(`get namespaces/${deployNs}`);
            await adminIn(deployNs);
            // The namespace's own GET included: the real read passes with that RoleBinding alone.
            const after = previewWith(kubeconfig, `deployNamespaces=${JSON.stringify([deployNs])}`);
            expect(after.stderr).not.toMatch(missingThere);
            expect(after.stderr).not.toContain(`namespaces/${deployNs}`);
            const read = await cluster.request(
                "read",
                { apiVersion: "v1", kind: "Namespace", metadata: { name: deployNs } },
                { as: deployer },
            );
            expect(read).toBeDefined();
        } finally {
            await cluster.delete({ apiVersion: "v1", kind: "Namespace", metadata: { name: deployNs } });
        }
    });

    it("what the preview says it may not do, the API server refuses; what it may, the API server admits", async () => {
        const sa = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "probe", namespace: `${NS}-agents` } };
        await expect(cluster.apply(sa, { dryRun: true, as: deployer })).rejects.toThrow(/forbidden/i);
        const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "probe", namespace: NS } };
        await expect(cluster.apply(cm, { dryRun: true, as: deployer })).resolves.toBeDefined();
    });
});
