// Backups of Jenkins home as CSI VolumeSnapshots (snapshot.storage.k8s.io/v1): a CronJob that
// takes one on a schedule and applies the retention, with an account that may only create, list
// and delete VolumeSnapshots in the controller's namespace; a restore point before every change
// that restarts the controller; and a restore that creates the home claim from a snapshot. What
// the cluster must offer for that is checked at preview (preflight/backups.ts).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Names } from "../config/names";
import type { Settings } from "../config/settings";
import { component, KEPT_ANNOTATIONS, KEPT_BY } from "../config/metadata";
import { scriptCronJob } from "./scriptJob";
import { BACKUP_RULES, grant, SNAPSHOT_GROUP } from "./rights";

export const SNAPSHOT_API = `${SNAPSHOT_GROUP}/v1`;
/** What each snapshot this stack takes is labelled with: scheduled or pre-upgrade. */
export const SNAPSHOT_KIND = "jenkins-k8s/snapshot";

/**
 * A restore point's name: the home's prefix, the new restart hash, and the generation of the
 * Deployment it is taken before (so a return to an earlier hash takes a snapshot of its own).
 */
export function restorePointName(names: Names, restartHash: string, generation: number): string {
    return `${names.homeClaim}-pre-${restartHash.slice(0, 16)}-g${generation}`;
}

export interface BackupsArgs {
    namespace: pulumi.Input<string>;
    names: Names;
    claimName: pulumi.Input<string>;
    backups: NonNullable<Settings["backups"]>;
    keptBy: string;
    /** Set when this update restarts a running controller: the hash it restarts to, from which generation. */
    restartTo?: { hash: string; generation: number };
    /** A snapshot the retention never deletes: the one the home was restored from. */
    pinned?: string;
    labels: Record<string, string>;
}

/** The backup CronJob and its account, and the restore point of this update, if any. */
export function backupResources(name: string, args: BackupsArgs, parent: pulumi.Resource) {
    const child = { parent };
    const account = `${name}-backup`;
    const labels = { ...args.labels, ...component("backup") };
    const meta = (metaName: string) => ({ name: metaName, namespace: args.namespace, labels });
    const sa = new k8s.core.v1.ServiceAccount(`${name}-backup`, { metadata: meta(account) }, child);
    grant(
        `${name}-backup`,
        {
            metadata: meta(account),
            rules: BACKUP_RULES,
            account: { name: sa.metadata.name, namespace: args.namespace },
        },
        child,
    );
    const { backups } = args;
    scriptCronJob(
        `${name}-backup`,
        {
            account,
            namespace: args.namespace,
            labels,
            script: "backup-home.sh",
            container: "backup",
            schedule: backups.schedule,
            image: backups.image,
            serviceAccountName: sa.metadata.name,
            env: [
                { name: "NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                { name: "CLAIM", value: args.claimName },
                { name: "KEPT_BY", value: args.keptBy },
                { name: "CLASS", value: backups.snapshotClass ?? "" },
                { name: "RETENTION", value: String(backups.retention) },
                { name: "MAX_AGE_DAYS", value: String(backups.maxAgeDays) },
                { name: "PREFIX", value: args.names.homeClaim },
                { name: "KEEP", value: args.pinned ?? "" },
            ],
            // One try: a retry after a created snapshot would take another.
            backoffLimit: 0,
            // The snapshot's wait (backup-home.sh WAIT_SECONDS, 600) and the retention, with room.
            deadlineSeconds: 3600,
        },
        child,
    );

    // Before a restart, a snapshot of the home as it is: the Deployment waits for it to be ready.
    const restorePoint = args.restartTo
        ? new k8s.apiextensions.CustomResource(
              `${name}-restore-point`,
              {
                  apiVersion: SNAPSHOT_API,
                  kind: "VolumeSnapshot",
                  metadata: {
                      name: restorePointName(args.names, args.restartTo.hash, args.restartTo.generation),
                      namespace: args.namespace,
                      labels: { ...labels, [SNAPSHOT_KIND]: "pre-upgrade", [KEPT_BY]: args.keptBy },
                      annotations: { ...KEPT_ANNOTATIONS, "pulumi.com/waitFor": "jsonpath={.status.readyToUse}=true" },
                  },
                  spec: {
                      ...(backups.snapshotClass ? { volumeSnapshotClassName: backups.snapshotClass } : {}),
                      source: { persistentVolumeClaimName: args.claimName },
                  },
              },
              // Kept on destroy, and when the next upgrade takes its own: the retention prunes it.
              // A large volume can take long to be ready on some drivers: an hour before the up fails.
              { parent, retainOnDelete: true, customTimeouts: { create: "60m", update: "60m" } },
          )
        : undefined;
    return { restorePoint };
}
