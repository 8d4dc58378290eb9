// The agent reaper (controller/reap-agents.sh) against the real API server, as its own account
// with the rights the stack gives it (components/reaper.ts): pods stuck Pending, finished pods and
// pods past their deadline are deleted; a fresh pending pod and a pod within its deadline are
// left alone; and the account can do nothing else. kwok holds a pod Pending (no node fits), runs
// one on a fake node (with a start time), and lets the test mark one Failed.
import { readFileSync } from "fs";
import * as path from "path";
import { REAPER_RULES } from "../../components/rights";
import { Account, Cluster, KubeObject, TIER_LABEL, waitFor } from "./kube";
import { runPodScript } from "./reloadScript";

jest.setTimeout(180_000);

const NS = "jk8s-reaper-check";
const AGENTS = `${NS}-agents`;
const reaper: Account = { name: "jenkins-agent-reaper", namespace: NS };
const script = (f: string) => readFileSync(path.join(__dirname, "..", "..", "controller", f), "utf8");

type Obj = Record<string, any>;

function pod(name: string, spec: Obj = {}): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: AGENTS },
        spec: {
            restartPolicy: "Never",
            activeDeadlineSeconds: 3600,
            containers: [{ name: "agent", image: "registry.k8s.io/pause:3.10" }],
            ...spec,
        },
    };
}
/** Held Pending: no node has this label. */
const NOWHERE = { nodeSelector: { "jenkins-k8s.test/no-such-node": "true" } };

describe("the agent reaper, as its own account", () => {
    let cluster: Cluster;
    const names = (pods: Obj[]) => pods.map((p) => p.metadata.name).sort();
    const live = async () =>
        (await cluster.api(cluster.k8s.CoreV1Api).listNamespacedPod({ namespace: AGENTS })).items.filter(
            (p) => !p.metadata?.deletionTimestamp,
        );

    beforeAll(async () => {
        cluster = await Cluster.connect();
        for (const name of [NS, AGENTS]) {
            await cluster.settled({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
            await cluster.apply({
                apiVersion: "v1",
                kind: "Namespace",
                metadata: { name, labels: { [TIER_LABEL]: "true" } },
            });
        }
        await cluster.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: reaper });
        await cluster.apply({
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "Role",
            metadata: { name: reaper.name, namespace: AGENTS },
            rules: REAPER_RULES,
        });
        await cluster.apply({
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: reaper.name, namespace: AGENTS },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: reaper.name },
            subjects: [{ kind: "ServiceAccount", ...reaper }],
        });
    });
    afterAll(async () => {
        for (const name of [AGENTS, NS]) {
            await cluster.delete({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
        }
    });

    it("may list and delete pods in the agent namespaces, and nothing else", async () => {
        expect(await cluster.can(reaper, { verb: "list", resource: "pods", namespace: AGENTS })).toBe(true);
        expect(await cluster.can(reaper, { verb: "delete", resource: "pods", namespace: AGENTS })).toBe(true);
        for (const [verb, resource, namespace] of [
            ["create", "pods", AGENTS],
            ["get", "secrets", AGENTS],
            ["delete", "pods", NS],
            ["delete", "pods", "kube-system"],
            ["create", "pods", "exec"],
        ]) {
            expect([verb, resource, namespace, await cluster.can(reaper, { verb, resource, namespace })]).toEqual([
                verb,
                resource,
                namespace,
                false,
            ]);
        }
    });

    it("deletes what is stuck, finished or past its deadline; leaves a fresh pending pod and a pod within its deadline", async () => {
        await cluster.create(pod("stuck-pending", NOWHERE));
        // Labels a pipeline can set, named like the fields the reaper reads: they change nothing.
        const spoof = pod("spoofing-pending", NOWHERE);
        spoof.metadata.labels = { phase: "Running", startTime: "soon", activeDeadlineSeconds: "99999999" };
        await cluster.create(spoof);
        await cluster.create(pod("finished", NOWHERE));
        // Failed, as the kubelet leaves a pod past its deadline (DeadlineExceeded).
        // Read, change, replace, again while the scheduler changes its status too (409 Conflict).
        const core = cluster.api(cluster.k8s.CoreV1Api);
        await waitFor("the finished pod's status to be Failed", 30_000, async () => {
            const finished = await core.readNamespacedPod({ name: "finished", namespace: AGENTS });
            finished.status = { ...finished.status, phase: "Failed", reason: "DeadlineExceeded" };
            try {
                await core.replaceNamespacedPodStatus({ name: "finished", namespace: AGENTS, body: finished });
                return true;
            } catch (err) {
                if ((err as { code?: number }).code === 409) return "a conflict; again";
                throw err;
            }
        });
        await cluster.create(pod("overdue", { activeDeadlineSeconds: 1 }));
        await cluster.create(pod("running"));
        await waitFor("the fake node to run overdue and running", 60_000, async () => {
            const pods = await live();
            const running = pods.filter((p) => p.status?.phase === "Running" && p.status?.startTime);
            return running.length === 2 || `running: ${running.map((p) => p.metadata?.name).join(", ")}`;
        });
        // Older than the stuck time below; then a pending pod that is not.
        await new Promise((r) => setTimeout(r, 4000));
        await cluster.create(pod("fresh-pending", NOWHERE));

        const run = await runPodScript({
            scripts: Object.fromEntries(
                ["reap-agents.sh", "k8s-event.sh", "k8s-request.sh"].map((f) => [f, script(f)]),
            ),
            script: "reap-agents.sh",
            apiServer: cluster.server,
            token: await cluster.tokenFor(reaper),
            caPem: cluster.caPem(),
            pod: { name: "reaper-test", namespace: NS, uid: "" },
            env: { NAMESPACES: AGENTS, STUCK_SECONDS: "3", GRACE_SECONDS: "0" },
        });
        expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
        expect(run.stdout).toMatch(
            new RegExp(`deleted ${AGENTS}/stuck-pending: Pending for \\d+ s \\(Unschedulable\\)`),
        );
        expect(run.stdout).toMatch(new RegExp(`deleted ${AGENTS}/spoofing-pending: Pending for \\d+ s`));
        expect(run.stdout).toMatch(new RegExp(`deleted ${AGENTS}/finished: Failed for \\d+ s`));
        expect(run.stdout).toMatch(
            new RegExp(`deleted ${AGENTS}/overdue: Running \\d+ s past its activeDeadlineSeconds \\(1\\)`),
        );
        expect(run.stdout).toContain("4 pod(s) deleted");
        await waitFor("the deleted pods to be gone", 60_000, async () => {
            const left = names(await live());
            return left.join(",") === "fresh-pending,running" || `left: ${left.join(", ")}`;
        });
    });
});
