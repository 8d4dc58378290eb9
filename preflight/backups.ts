// What backups and a restore need of the cluster, checked at preview before anything is composed:
// the snapshot API, the named VolumeSnapshotClass, and a restore's snapshot and its readiness.
import { configKey } from "../config/keys";
import type { Settings } from "../config/settings";
import { SNAPSHOT_API } from "../components/backups";

/** What the program reads of the cluster for backups and restores. */
export interface SnapshotReader {
    /** Whether the API server serves snapshot.storage.k8s.io/v1 (the external-snapshotter CRDs). */
    servesSnapshots(): Promise<boolean>;
    snapshotClass(name: string): Promise<object | undefined>;
    snapshot(namespace: string, name: string): Promise<{ readyToUse?: boolean; claim?: string } | undefined>;
    /** The live controller Deployment's restart hash (and its parts) and generation, if it exists. */
    controller(
        namespace: string,
        name: string,
    ): Promise<{ hash?: string; parts?: string; generation: number } | undefined>;
}

/**
 * What the cluster lacks for the stack's backups or restore, each naming the setting: the snapshot
 * API, the named class, a restore's snapshot (or its readiness); and what the preview reports.
 */
export async function backupProblems(
    s: Settings,
    reader: SnapshotReader,
    /** Whether the restored claim exists already (the restore happened at an earlier up). */
    restored: boolean,
): Promise<{ problems: string[]; notes: string[] }> {
    const problems: string[] = [];
    const notes: string[] = [];
    if (!s.backups && !(s.restoreFromSnapshot && !restored)) return { problems, notes };
    if (!(await reader.servesSnapshots())) {
        problems.push(
            `${configKey(s.backups ? "backups" : "restoreFromSnapshot")}: the cluster does not serve ${SNAPSHOT_API} (VolumeSnapshot): ` +
                "install the external-snapshotter CRDs and snapshot controller, and a CSI driver that takes snapshots",
        );
        return { problems, notes };
    }
    const cls = s.backups?.snapshotClass;
    if (cls && !(await reader.snapshotClass(cls))) {
        problems.push(
            `${configKey("volumeSnapshotClass")} = "${cls}": the cluster has no VolumeSnapshotClass of that name`,
        );
    }
    const restore = restored ? undefined : s.restoreFromSnapshot;
    if (restore) {
        const snapshot = await reader.snapshot(s.namespace, restore);
        if (!snapshot) {
            problems.push(
                `${configKey("restoreFromSnapshot")} = "${restore}": there is no VolumeSnapshot ${s.namespace}/${restore}`,
            );
        } else if (snapshot.readyToUse !== true) {
            problems.push(
                `${configKey("restoreFromSnapshot")} = "${restore}": the VolumeSnapshot ${s.namespace}/${restore} is not ready to use yet`,
            );
        } else {
            notes.push(
                `restoring Jenkins home from the VolumeSnapshot ${s.namespace}/${restore}${snapshot.claim ? ` (of claim ${snapshot.claim})` : ""}: ` +
                    "the controller moves to a new claim created from it; the current claim stays in the cluster as it is, unmounted " +
                    "(no longer in the stack's state): delete it yourself once the restored home is verified. Keep restoreFromSnapshot set while this home is in use.",
            );
        }
    }
    return { problems, notes };
}
