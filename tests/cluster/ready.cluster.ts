// What a first up needs of the cluster, asked of the real API server by the program as `pulumi
// up` runs it at preview (render --cluster reads the cluster KUBECONFIG names): its version, and
// the StorageClasses it really has, named in the refusal.
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { ADMISSION_POLICY_MINOR } from "../../components/clusterReady";
import { Cluster } from "./kube";

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, "..", "..");

/** The dev stack's preview against this cluster, in namespaces no stack uses (so no home claim exists). */
function preview(...sets: string[]): { status: number | null; stderr: string } {
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
            { cwd: ROOT, encoding: "utf8", timeout: 100_000 },
        );
        return { status: r.status, stderr: r.stderr };
    } finally {
        rmSync(out, { recursive: true, force: true });
    }
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

    it("the version the API server reports serves the admission policy", () => {
        expect(minor).toBeGreaterThanOrEqual(ADMISSION_POLICY_MINOR);
        expect(preview("storageClass=no-such-class").stderr).not.toContain("jenkins-k8s:admissionPolicy");
    });
});
