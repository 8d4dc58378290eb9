// What a stack needs from a cluster that the stack does not create, set up as labelled fixtures,
// and the clean-up that removes exactly what the tier made. The tier refuses to touch an object
// it did not make: it deletes namespaces, so it runs only where they are its own.
import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { Cluster, describe, KubeObject, TIER_LABEL, waitFor } from "./kube";
import { Render } from "./renders";

type Obj = Record<string, any>;

const CRD_DIR = path.join(__dirname, "fixtures", "crds");

/** The object with the tier's label added, so clean-up (and the next run) knows it is the tier's. */
export function tagged<T extends KubeObject>(o: T): T {
    return { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, [TIER_LABEL]: "true" } } };
}

const ns = (name: string): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });

/** Namespaces the render's objects live in, created by it or not. */
export function namespacesOf(r: Render): string[] {
    const names = new Set<string>();
    for (const o of r.objects) {
        if (o.kind === "Namespace") {
            names.add(o.metadata.name);
        } else if (o.metadata.namespace) {
            names.add(o.metadata.namespace);
        }
    }
    return [...names];
}

/** Cluster-scoped objects of the render besides namespaces (a static PersistentVolume). */
function clusterScoped(r: Render): KubeObject[] {
    return r.objects.filter((o) => o.kind !== "Namespace" && !o.metadata.namespace);
}

function fixtureCrds(): KubeObject[] {
    return readdirSync(CRD_DIR)
        .filter((f) => f.endsWith(".yaml"))
        .map((f) => parse(readFileSync(path.join(CRD_DIR, f), "utf8")) as KubeObject);
}

export class StackFixtures {
    private readonly made: KubeObject[] = [];

    constructor(
        private readonly cluster: Cluster,
        private readonly render: Render,
        /** The Pod Security level the stack expects of namespaces it deploys to but does not create. */
        private readonly deployLevel: string,
    ) {}

    /** The namespaces the stack uses but does not create (e.g. deploy namespaces): fixtures. */
    get fixtureNamespaces(): string[] {
        const created = new Set(this.render.objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name));
        return namespacesOf(this.render).filter((n) => !created.has(n));
    }

    /** Fresh namespaces, the CRDs and storage the stack's objects need. */
    async prepare(): Promise<void> {
        await this.removeLeftovers();
        // The applications' namespaces, as the stack expects them: enforcing a Pod Security level.
        for (const name of this.fixtureNamespaces) {
            const namespace = ns(name);
            namespace.metadata.labels = { "pod-security.kubernetes.io/enforce": this.deployLevel };
            await this.make(tagged(namespace));
        }
        await this.crds();
        await this.storage();
        for (const cls of this.snapshotClasses()) {
            if (!(await this.cluster.read(cls))) await this.make(cls);
        }
    }

    /** The VolumeSnapshotClass the stack's backups name (a CSI driver's, on a real cluster). */
    private snapshotClasses(): KubeObject[] {
        return this.render.objects
            .filter((o) => o.kind === "CronJob")
            .flatMap((o) => o.spec.jobTemplate.spec.template.spec.containers as Obj[])
            .flatMap((c) => (c.env ?? []) as Obj[])
            .filter((e) => e.name === "CLASS" && e.value)
            .map((e) =>
                tagged({
                    apiVersion: "snapshot.storage.k8s.io/v1",
                    kind: "VolumeSnapshotClass",
                    metadata: { name: e.value },
                    driver: "fixture.jenkins-k8s.test",
                    deletionPolicy: "Retain",
                }),
            );
    }

    /**
     * Deletes what a previous run of the tier left (it carries the tier's label) and refuses to go
     * on where the stack's namespaces or cluster-scoped objects exist without it.
     */
    private async removeLeftovers(): Promise<void> {
        const targets = [
            ...namespacesOf(this.render).map(ns),
            ...clusterScoped(this.render),
            ...(await this.fixtureVolumes()),
        ];
        for (const o of targets) {
            const live = await this.cluster.read(o);
            if (!live) {
                continue;
            }
            if (live.metadata?.labels?.[TIER_LABEL] !== "true") {
                throw new Error(
                    `${describe(o)} exists and was not made by the cluster tier; it deletes what it makes, ` +
                        "so run it on a throwaway cluster (or delete that object first)",
                );
            }
            await this.cluster.delete(o);
        }
        await Promise.all(targets.map((o) => this.cluster.gone(o)));
    }

    /** CRDs for kinds the render uses that the cluster does not serve, from tests/cluster/fixtures/crds. */
    private async crds(): Promise<void> {
        for (const crd of fixtureCrds()) {
            const { group, names } = crd.spec as Obj;
            // The kinds the render holds, and those its objects work with (the backup CronJob's snapshots).
            const used = this.render.objects.some(
                (o) =>
                    (o.kind === names.kind && o.apiVersion.startsWith(`${group}/`)) ||
                    (o.kind === "Role" && (o.rules ?? []).some((r: Obj) => (r.apiGroups ?? []).includes(group))),
            );
            if (!used) {
                continue;
            }
            const live = await this.cluster.read(crd);
            if (live?.metadata?.labels?.[TIER_LABEL] === "true") {
                this.made.push(crd); // a previous run's: cleaned up with this run's
            } else if (!live) {
                await this.make(tagged(crd));
            }
            await waitFor(`${describe(crd)} to be Established`, 60_000, async () => {
                const live = await this.cluster.read(crd);
                return (live?.status?.conditions ?? []).some(
                    (c: Obj) => c.type === "Established" && c.status === "True",
                );
            });
        }
    }

    private defaultClass?: Promise<boolean>;

    /** Whether the cluster provisions claims on a default class; asked once per stack. */
    private hasDefaultStorageClass(): Promise<boolean> {
        this.defaultClass ??= this.cluster
            .api(this.cluster.k8s.StorageV1Api)
            .listStorageClass()
            .then((classes) =>
                classes.items.some(
                    (c) => c.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
                ),
            );
        return this.defaultClass;
    }

    /**
     * A hostPath PV bound to each claim no provisioner here serves: one on the default class when
     * the cluster has none, and one naming a class (a CSI class of a real cluster, as prod's).
     */
    private async fixtureVolumes(): Promise<KubeObject[]> {
        const defaultClass = await this.hasDefaultStorageClass();
        return this.render.objects
            .filter(
                (o) =>
                    o.kind === "PersistentVolumeClaim" &&
                    !o.spec?.volumeName &&
                    (o.spec?.storageClassName === undefined ? !defaultClass : o.spec.storageClassName !== ""),
            )
            .map((claim) =>
                volumeFor(
                    claim.metadata.namespace!,
                    claim.metadata.name,
                    claim.spec.resources.requests.storage,
                    claim.spec.accessModes,
                    claim.spec.storageClassName ?? "",
                ),
            );
    }

    private async storage(): Promise<void> {
        for (const pv of await this.fixtureVolumes()) {
            await this.make(pv);
        }
    }

    /** A PersistentVolume for a claim the plugin or a test creates (an agent's workspace). */
    async volumeForClaim(namespace: string, claim: string, size: string, accessModes: string[]): Promise<void> {
        if (!(await this.hasDefaultStorageClass())) {
            await this.make(volumeFor(namespace, claim, size, accessModes));
        }
    }

    /**
     * A Secret the stack reads but does not create (a credential's), as its owner would make it:
     * an Opaque Secret with these keys; replaced when it exists (a later step adds a key).
     */
    async secret(namespace: string, name: string, data: Record<string, string>): Promise<void> {
        const secret = tagged({
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name, namespace },
            type: "Opaque",
            stringData: data,
        });
        if (await this.cluster.read(secret)) {
            await this.cluster.delete(secret);
            await this.cluster.gone(secret);
        } else {
            this.made.push(secret);
        }
        await this.cluster.create(secret);
    }

    private async make(o: KubeObject): Promise<void> {
        await this.cluster.create(o);
        this.made.push(o);
    }

    /** Removes the stack's namespaces and cluster-scoped objects and every fixture; waits until gone. */
    async cleanup(): Promise<void> {
        const targets = [
            ...namespacesOf(this.render).map(ns),
            ...clusterScoped(this.render),
            ...this.made.filter((o) => o.kind !== "Namespace"),
        ];
        // Objects of a fixture CRD's kind (a VolumeSnapshotClass) before the CRDs: once a CRD is
        // gone, its kind cannot even be asked about.
        const isCrd = (o: KubeObject) => o.kind === "CustomResourceDefinition";
        for (const phase of [targets.filter((o) => !isCrd(o)), targets.filter(isCrd)]) {
            for (const o of phase) {
                const live = await this.cluster.read(o);
                if (live?.metadata?.labels?.[TIER_LABEL] === "true") {
                    await this.cluster.delete(o);
                }
            }
            await Promise.all(phase.map((o) => this.cluster.gone(o)));
        }
    }
}

/** A fixture PersistentVolume (hostPath, the claim's class) pre-bound to one claim. */
function volumeFor(
    namespace: string,
    claim: string,
    size: string,
    accessModes: string[],
    storageClassName = "",
): KubeObject {
    return tagged({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: `tier-fixture-${namespace}-${claim}`.slice(0, 253) },
        spec: {
            capacity: { storage: size },
            accessModes,
            persistentVolumeReclaimPolicy: "Retain",
            storageClassName,
            claimRef: { namespace, name: claim },
            hostPath: { path: `/tmp/jenkins-k8s-cluster-tier/${namespace}/${claim}`, type: "DirectoryOrCreate" },
        },
    });
}
