// Backups of Jenkins home: the CronJob and its account, the restore point that appears exactly
// when a change restarts a running controller, the restore, the preview's checks of the cluster,
// and the CronJob's script against a stand-in API server (the cluster tier runs it on the real one).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BACKUP_RULES } from "../components/rights";
import type { SnapshotReader } from "../preflight/backups";
import { EMPTY_CLUSTER } from "../preflight/cluster";
import type { ClusterReader } from "../preflight/reader";
import { ConfigError } from "../config/reader";
import { evaluate } from "../tools/evaluate";
import { readStackConfig } from "../tools/stackConfig";
import { Stack } from "./harness";

const prod = readStackConfig("prod");
const run = (overrides: Record<string, string> = {}, reader: Partial<ClusterReader> = {}) =>
    evaluate({ ...prod, ...overrides }, { stack: "prod", cluster: { ...EMPTY_CLUSTER, ...reader } }).then(
        (e) => new Stack(e),
    );
const hashOf = (s: Stack) =>
    s.object("Deployment", "jenkins").spec.template.metadata.annotations["jenkins-k8s/restart-hash"];
const restorePoints = (s: Stack) => s.objects("VolumeSnapshot");

describe("scheduled snapshots", () => {
    it("a CronJob on the schedule, with an account that may only create, list and delete VolumeSnapshots here", async () => {
        const s = await run();
        const cron = s.object("CronJob", "jenkins-backup");
        expect(cron.spec).toMatchObject({ schedule: "30 2 * * *", concurrencyPolicy: "Forbid" });
        const pod = cron.spec.jobTemplate.spec.template.spec;
        expect(pod.serviceAccountName).toBe("jenkins-backup");
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
        expect(env).toMatchObject({
            CLAIM: "jenkins-home",
            CLASS: "csi-rbd-snapclass",
            RETENTION: "14",
            MAX_AGE_DAYS: "30",
            KEPT_BY: "organization.jenkins-k8s.prod",
        });
        expect(pod.containers[0].image).toBe("curlimages/curl:8.11.1");
        expect(s.object("Role", "jenkins-backup").rules).toEqual(BACKUP_RULES);
        expect(s.object("RoleBinding", "jenkins-backup").subjects).toEqual([
            { kind: "ServiceAccount", name: "jenkins-backup", namespace: "ci" },
        ]);
        expect(Object.keys(s.object("ConfigMap", "jenkins-backup-script").data).sort()).toEqual([
            "backup-home.sh",
            "k8s-event.sh",
            "k8s-request.sh",
        ]);
    });

    it("none without backups: no CronJob, no account, no restore point", async () => {
        const s = await run(
            { "jenkins-k8s:backups": "false" },
            { controller: () => Promise.resolve({ hash: "old", generation: 4 }) },
        );
        expect(s.objects("CronJob", "jenkins-backup")).toHaveLength(0);
        expect(s.objects("ServiceAccount").map((a) => a.metadata.name)).not.toContain("jenkins-backup");
        expect(restorePoints(s)).toHaveLength(0);
    });
});

describe("a restore point before every restart", () => {
    let current: string;
    beforeAll(async () => {
        current = hashOf(await run());
    });
    const liveAt = (hash: string | undefined): Partial<SnapshotReader> => ({
        controller: () => Promise.resolve(hash === undefined ? undefined : { hash, generation: 7 }),
    });

    it("appears when the running controller's hash differs, named after the new one; the controller waits for it", async () => {
        const s = await run({ "jenkins-k8s:javaOpts": "-Dfoo=bar" }, liveAt(current));
        const next = hashOf(s);
        expect(next).not.toBe(current);
        const [point] = restorePoints(s);
        expect(point.metadata.name).toBe(`jenkins-home-pre-${next.slice(0, 16)}-g7`);
        expect(point.metadata.labels["jenkins-k8s/snapshot"]).toBe("pre-upgrade");
        expect(point.metadata.annotations["pulumi.com/waitFor"]).toBe("jsonpath={.status.readyToUse}=true");
        expect(point.spec).toEqual({
            volumeSnapshotClassName: "csi-rbd-snapclass",
            source: { persistentVolumeClaimName: "jenkins-home" },
        });
        const snapshot = s.resource("kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshot", "jenkins-restore-point");
        expect(snapshot.retainOnDelete).toBe(true);
        expect(s.resource("kubernetes:apps/v1:Deployment", "jenkins-controller").dependencies).toContain(snapshot.urn);
        // Nor is a changed JCasC document applied before it: the reload sidecar would change the home first.
        expect(s.resource("kubernetes:core/v1:ConfigMap", "jenkins-casc").dependencies).toContain(snapshot.urn);
    });

    it.each<[string, Record<string, string>]>([
        ["nothing changed", {}],
        ["only the pod templates changed (the JCasC reloads, no restart)", { "jenkins-k8s:agentLabel": "other" }],
    ])("does not appear when %s", async (_, overrides) => {
        expect(restorePoints(await run(overrides, liveAt(current)))).toHaveLength(0);
    });

    it("does not appear on a first up (no controller yet)", async () => {
        expect(restorePoints(await run({ "jenkins-k8s:javaOpts": "-Dfoo=bar" }, liveAt(undefined)))).toHaveLength(0);
    });
});

describe("what the preview asks of the cluster", () => {
    const problems = (overrides: Record<string, string>, reader: Partial<ClusterReader>) =>
        run(overrides, reader).then(
            () => [],
            (e: unknown) => {
                if (e instanceof ConfigError) return e.problems;
                throw e;
            },
        );

    it("backups on a cluster without the snapshot API fail the preview, saying what to install", async () => {
        expect(await problems({}, { servesSnapshots: () => Promise.resolve(false) })).toEqual([
            "jenkins-k8s:backups: the cluster does not serve snapshot.storage.k8s.io/v1 (VolumeSnapshot): install the external-snapshotter CRDs and snapshot controller, and a CSI driver that takes snapshots",
        ]);
    });

    it("a snapshot class the cluster lacks fails the preview, naming it", async () => {
        expect(await problems({}, { snapshotClass: () => Promise.resolve(undefined) })).toEqual([
            'jenkins-k8s:volumeSnapshotClass = "csi-rbd-snapclass": the cluster has no VolumeSnapshotClass of that name',
        ]);
    });

    it("a restore needs the snapshot to exist and be ready to use", async () => {
        const restore = { "jenkins-k8s:restoreFromSnapshot": "jenkins-home-scheduled-20261101023000" };
        expect(await problems(restore, {})).toEqual([
            'jenkins-k8s:restoreFromSnapshot = "jenkins-home-scheduled-20261101023000": there is no VolumeSnapshot ci/jenkins-home-scheduled-20261101023000',
        ]);
        expect(await problems(restore, { snapshot: () => Promise.resolve({ readyToUse: false }) })).toEqual([
            expect.stringContaining("is not ready to use yet"),
        ]);
    });
});

describe("a restore, and after it", () => {
    const snapshot = "jenkins-home-scheduled-20261101023000";
    const restored = { kind: "PersistentVolumeClaim", name: `jenkins-home-from-${snapshot}`, namespace: "ci" };

    it("once the restored claim exists: no snapshot checks (the retention keeps its source anyway), restore points again", async () => {
        const reader: Partial<ClusterReader> = {
            read: (o) =>
                Promise.resolve(
                    o.kind === "PersistentVolumeClaim" && o.name === restored.name
                        ? {
                              labels: { "jenkins-k8s/kept-by": "organization.jenkins-k8s.prod" },
                              uid: "u",
                              spec: { storageClassName: "csi-rbd", accessModes: ["ReadWriteOnce"] },
                          }
                        : undefined,
                ),
            keptClaims: () =>
                Promise.resolve([{ ...restored, kind: "PersistentVolumeClaim" as const, labels: {}, uid: "u" }]),
            controller: () => Promise.resolve({ hash: "old", generation: 3 }),
        };
        const s = await run({ "jenkins-k8s:restoreFromSnapshot": snapshot }, reader);
        const env = Object.fromEntries(
            s
                .object("CronJob", "jenkins-backup")
                .spec.jobTemplate.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]),
        );
        expect(env.KEEP).toBe(snapshot);
        expect(restorePoints(s).map((p) => p.spec.source.persistentVolumeClaimName)).toEqual([restored.name]);
    });

    it("the up that restores takes no restore point (its new claim is not the home being left)", async () => {
        const s = await run(
            { "jenkins-k8s:restoreFromSnapshot": snapshot, "jenkins-k8s:javaOpts": "-Dx=1" },
            {
                snapshot: () => Promise.resolve({ readyToUse: true }),
                controller: () => Promise.resolve({ hash: "old", generation: 3 }),
            },
        );
        expect(restorePoints(s)).toHaveLength(0);
        // The restored claim is a resource of its own: nothing of the old claim's state is carried over.
        expect(
            s.resource("kubernetes:core/v1:PersistentVolumeClaim", `jenkins-home-from-${snapshot}`).ignoreChanges,
        ).toEqual(["spec.volumeName", "spec.storageClassName"]);
        expect(s.resources.some((r) => r.name === "jenkins-home")).toBe(false);
    });
});

describe("a restore", () => {
    it("creates the home claim anew from the snapshot, and leaves the current one as it is", async () => {
        const snapshot = "jenkins-home-scheduled-20261101023000";
        const s = await run(
            { "jenkins-k8s:restoreFromSnapshot": snapshot },
            { snapshot: () => Promise.resolve({ readyToUse: true, claim: "jenkins-home" }) },
        );
        const claim = s.object("PersistentVolumeClaim");
        expect(claim.metadata.name).toBe(`jenkins-home-from-${snapshot}`);
        expect(claim.spec.dataSource).toEqual({
            apiGroup: "snapshot.storage.k8s.io",
            kind: "VolumeSnapshot",
            name: snapshot,
        });
        expect(
            s.controllerPod.volumes.find((v: any) => v.name === "jenkins-home").persistentVolumeClaim.claimName,
        ).toBe(claim.metadata.name);
        // The current claim is no longer a resource of the stack; its retainOnDelete leaves it in the cluster.
        expect(s.resources.some((r) => r.name === "jenkins-home")).toBe(false);
    });
});

describe("backup-home.sh", () => {
    const SCRIPT = path.resolve(__dirname, "..", "controller", "backup-home.sh");
    let tmp: string;
    beforeEach(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "backup-home-"));
        fs.mkdirSync(path.join(tmp, "bin"));
        fs.writeFileSync(path.join(tmp, "token"), "sa-token");
        fs.writeFileSync(path.join(tmp, "ca.crt"), "ca");
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    /** One item as the API server lists it: compact JSON, metadata's keys in order. */
    const item = (name: string, created: string, kind: string, ready = true) =>
        `{"apiVersion":"snapshot.storage.k8s.io/v1","kind":"VolumeSnapshot","metadata":{"annotations":{"x":"{\\"name\\":\\"not-this\\"}"},"creationTimestamp":"${created}","generation":1,"labels":{"jenkins-k8s/kept-by":"o.p.s","jenkins-k8s/snapshot":"${kind}"},"managedFields":[{"apiVersion":"snapshot.storage.k8s.io/v1","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{"f:jenkins-k8s/snapshot":{}}}},"manager":"curl","operation":"Update","time":"${created}"}],"name":"${name}","namespace":"ci","resourceVersion":"1","uid":"u"},"spec":{"source":{"persistentVolumeClaimName":"jenkins-home"}},"status":{"readyToUse":${ready}}}`;

    function runScript(items: string[], env: Record<string, string> = {}) {
        const list = `{"apiVersion":"snapshot.storage.k8s.io/v1","items":[${items.join(",")}],"kind":"VolumeSnapshotList","metadata":{"continue":"","resourceVersion":"9"}}`;
        fs.writeFileSync(path.join(tmp, "list.json"), list);
        // curl as the script calls it: -X METHOD -o FILE ... URL; records each request.
        fs.writeFileSync(
            path.join(tmp, "bin", "curl"),
            `#!/bin/sh
method= out= url= data=
while [ $# -gt 0 ]; do
  case $1 in
    -X) method=$2; shift ;; -o) out=$2; shift ;; --data-binary) data=\${2#@}; shift ;;
    -K) cat >/dev/null ;; -w|-H|--cacert|--max-time) shift ;; -*) ;; *) url=$1 ;;
  esac
  shift
done
printf '%s %s\\n' "$method" "$url" >>"${tmp}/requests"
case $method in
  POST) cp "$data" "${tmp}/created.json"; echo '{}' >"$out"; printf 201 ;;
  GET) cp "${tmp}/list.json" "$out"; printf 200 ;;
  DELETE) echo '{}' >"$out"; printf 200 ;;
esac
`,
            { mode: 0o755 },
        );
        const r = spawnSync("sh", [SCRIPT], {
            env: {
                PATH: `${path.join(tmp, "bin")}${path.delimiter}${process.env.PATH}`,
                NAMESPACE: "ci",
                CLAIM: "jenkins-home",
                KEPT_BY: "o.p.s",
                RETENTION: "2",
                WAIT_SECONDS: "0",
                KUBE_API: "https://api",
                KUBE_DIR: tmp,
                WORK: tmp,
                ...env,
            },
            encoding: "utf8",
        });
        const requests = fs.existsSync(path.join(tmp, "requests"))
            ? fs.readFileSync(path.join(tmp, "requests"), "utf8").trim().split("\n")
            : [];
        return { ...r, requests };
    }

    const api = "https://api/apis/snapshot.storage.k8s.io/v1/namespaces/ci/volumesnapshots";

    it("takes a labelled snapshot of the claim, then keeps the newest RETENTION of each kind", () => {
        const r = runScript([
            item("jenkins-home-scheduled-1", "2026-11-01T02:30:00Z", "scheduled"),
            item("jenkins-home-scheduled-3", "2026-11-03T02:30:00Z", "scheduled"),
            item("jenkins-home-scheduled-2", "2026-11-02T02:30:00Z", "scheduled"),
            item("jenkins-home-pre-aaaa", "2026-10-01T10:00:00Z", "pre-upgrade"),
            item("jenkins-home-pre-bbbb", "2026-10-05T10:00:00Z", "pre-upgrade"),
        ]);
        expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
        const created = JSON.parse(fs.readFileSync(path.join(tmp, "created.json"), "utf8"));
        expect(created.metadata.name).toMatch(/^jenkins-home-scheduled-\d{14}$/);
        expect(created.metadata.labels).toEqual({
            "jenkins-k8s/snapshot": "scheduled",
            "jenkins-k8s/kept-by": "o.p.s",
        });
        expect(created.spec).toEqual({ source: { persistentVolumeClaimName: "jenkins-home" } });
        expect(r.requests).toEqual([
            `POST ${api}`,
            `GET ${api}?labelSelector=jenkins-k8s/snapshot,jenkins-k8s/kept-by=o.p.s`,
            `DELETE ${api}/jenkins-home-scheduled-1`,
        ]);
    });

    it("only ready snapshots count: a failing driver never rotates the good ones out; KEEP is never deleted", () => {
        const r = runScript(
            [
                item("jenkins-home-scheduled-5", "2026-11-05T02:30:00Z", "scheduled", false),
                item("jenkins-home-scheduled-4", "2026-11-04T02:30:00Z", "scheduled", false),
                item("jenkins-home-scheduled-3", "2026-11-03T02:30:00Z", "scheduled"),
                item("jenkins-home-scheduled-2", "2026-11-02T02:30:00Z", "scheduled"),
                item("jenkins-home-scheduled-1", "2026-11-01T02:30:00Z", "scheduled"),
                item("jenkins-home-scheduled-0", "2026-10-01T02:30:00Z", "scheduled"),
            ],
            { KEEP: "jenkins-home-scheduled-0" },
        );
        expect(r.status).toBe(0);
        expect(r.requests.filter((q) => q.startsWith("DELETE"))).toEqual([`DELETE ${api}/jenkins-home-scheduled-1`]);
    });

    it("waits for the new snapshot; one the driver fails fails the Job before the retention runs", () => {
        const failed = `{"apiVersion":"snapshot.storage.k8s.io/v1","kind":"VolumeSnapshot","metadata":{"name":"x"},"status":{"error":{"message":"quota exceeded","time":"2026-11-26T00:00:00Z"},"readyToUse":false}}`;
        const r = runScript([failed.replace(/^\{"apiVersion":"snapshot.storage.k8s.io\/v1",/, "{")], {
            WAIT_SECONDS: "600",
        });
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('failed: "message":"quota exceeded"');
        expect(r.requests.filter((q) => q.startsWith("DELETE"))).toEqual([]);
    });

    it("with MAX_AGE_DAYS, also deletes what is older, of either kind; with a class, snapshots with it", () => {
        const r = runScript(
            [
                item("jenkins-home-scheduled-new", new Date().toISOString().replace(/\.\d+Z$/, "Z"), "scheduled"),
                item("jenkins-home-pre-newer", "2020-02-01T00:00:00Z", "pre-upgrade"),
                item("jenkins-home-pre-old", "2020-01-01T00:00:00Z", "pre-upgrade"),
            ],
            { MAX_AGE_DAYS: "30", CLASS: "csi-snap" },
        );
        expect(r.status).toBe(0);
        expect(JSON.parse(fs.readFileSync(path.join(tmp, "created.json"), "utf8")).spec.volumeSnapshotClassName).toBe(
            "csi-snap",
        );
        expect(r.requests.filter((q) => q.startsWith("DELETE"))).toEqual([`DELETE ${api}/jenkins-home-pre-old`]);
    });
});
