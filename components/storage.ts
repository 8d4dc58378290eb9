import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Names } from "../config/names";
import { Settings, Storage } from "../config/settings";
import { backupResources } from "./backups";
import { SNAPSHOT_GROUP } from "./rights";
import { component, KEPT_ANNOTATIONS, KEPT_BY } from "../config/metadata";
import { HOME_COMPONENT } from "../policy/facts";

export interface JenkinsStorageArgs {
    /** Namespace of the claim; pass the Namespace's output so the claim waits for it. */
    namespace: pulumi.Input<string>;
    /** dynamic (a claim on a StorageClass), nfs (a static PV, Retain, and its claim) or existingClaim (nothing made). */
    storage: Storage;
    /** Names shared with the other components (the claim's, the PV's, the labels). */
    names: Names;
    /** The stack's KEPT_BY label value, put on the claim and volume kept on destroy. */
    keptBy: string;
    /** The kept claim and volume to adopt (preflight/kept.ts): their `import` IDs. */
    adopt: { claim?: string; volume?: string };
    /** Scheduled snapshots and restore points (backups.ts); none when unset. */
    backups?: Settings["backups"];
    /** This update restarts a running controller to this hash: take a restore point first. */
    restartTo?: { hash: string; generation: number };
    /** Create the home claim from this VolumeSnapshot (a restore). */
    restoreFrom?: string;
}

/**
 * Jenkins home. Build history, credentials and plugins live here, so it outlives the stack by
 * default: the claim (and a static PV) are left in the cluster on `pulumi destroy`
 * (`retainOnDelete`), and a static PV's reclaim policy is Retain, never Recycle.
 */
export class JenkinsStorage extends pulumi.ComponentResource {
    /** Name of the PersistentVolumeClaim the controller mounts. */
    public readonly claimName: pulumi.Output<string>;
    /** The static NFS PersistentVolume, in nfs mode. */
    public readonly volume?: k8s.core.v1.PersistentVolume;
    public readonly claim?: k8s.core.v1.PersistentVolumeClaim;
    /** The snapshot taken before this update's restart, which the controller must wait for. */
    public readonly restorePoint?: pulumi.Resource;

    constructor(name: string, args: JenkinsStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jenkins:index:JenkinsStorage", name, {}, opts);
        const { storage, names } = args;

        if (storage.mode === "existingClaim") {
            this.claimName = pulumi.output(storage.claimName);
        } else {
            const retained = { parent: this, retainOnDelete: storage.retainOnDestroy };
            const labels = {
                ...names.labels,
                ...component(HOME_COMPONENT),
                ...(storage.retainOnDestroy ? { [KEPT_BY]: args.keptBy } : {}),
            };
            const adopt = (id: string | undefined) => (id ? { import: id } : {});
            const annotations = storage.retainOnDestroy ? { annotations: KEPT_ANNOTATIONS } : {};
            if (storage.mode === "nfs") {
                this.volume = new k8s.core.v1.PersistentVolume(
                    `${name}-nfs`,
                    {
                        metadata: { name: names.homeVolume, labels, ...annotations },
                        spec: {
                            capacity: { storage: storage.size },
                            accessModes: [storage.accessMode],
                            persistentVolumeReclaimPolicy: "Retain",
                            // Empty class plus a claimRef: this PV binds to our claim and to no other.
                            storageClassName: "",
                            claimRef: { namespace: args.namespace, name: names.homeClaim },
                            nfs: { server: storage.server, path: storage.path },
                        },
                    },
                    { ...retained, ...adopt(args.adopt.volume) },
                );
            }
            this.claim = new k8s.core.v1.PersistentVolumeClaim(
                args.restoreFrom ? `${name}-home-from-${args.restoreFrom}` : `${name}-home`,
                {
                    metadata: {
                        name: names.homeClaim,
                        namespace: args.namespace,
                        labels,
                        ...annotations,
                    },
                    spec: {
                        accessModes: [storage.accessMode],
                        resources: { requests: { storage: storage.size } },
                        ...(args.restoreFrom
                            ? {
                                  dataSource: {
                                      apiGroup: SNAPSHOT_GROUP,
                                      kind: "VolumeSnapshot",
                                      name: args.restoreFrom,
                                  },
                              }
                            : {}),
                        ...(storage.mode === "nfs"
                            ? { storageClassName: "", volumeName: names.homeVolume }
                            : storage.storageClass !== undefined
                              ? { storageClassName: storage.storageClass }
                              : {}),
                    },
                },
                {
                    ...retained,
                    ...adopt(args.adopt.claim),
                    dependsOn: this.volume ? [this.volume] : [],
                    // An adopted claim's state comes from the cluster, with the volume and class the
                    // provisioner filled in; both fields force a replacement, which must never
                    // happen to a kept home. A change the settings ask for is refused at preview
                    // instead (preflight/kept.ts), from the live claim.
                    ...(storage.retainOnDestroy || args.adopt.claim
                        ? { ignoreChanges: ["spec.volumeName", "spec.storageClassName"] }
                        : {}),
                },
            );
            this.claimName = this.claim.metadata.name;
        }

        if (args.backups) {
            ({ restorePoint: this.restorePoint } = backupResources(
                name,
                {
                    namespace: args.namespace,
                    names,
                    claimName: this.claimName,
                    backups: args.backups,
                    keptBy: args.keptBy,
                    restartTo: args.restartTo,
                    pinned: args.restoreFrom,
                    labels: names.labels,
                },
                this,
            ));
        }

        this.registerOutputs({
            claimName: this.claimName,
            restorePoint: this.restorePoint?.urn,
        });
    }
}
