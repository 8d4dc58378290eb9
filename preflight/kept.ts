// What a stack keeps on `pulumi destroy` (the controller's namespace when it holds the home, the
// home claim, the static NFS volume, the deploy namespaces it created), and how the next
// `pulumi up` of the same stack gets them back: each kept object carries a label naming the
// stack; one that exists with this stack's label is adopted (the `import` resource option), so
// the same home is mounted with no config change and no manual import. Anything else in the way
// is not adopted: an object of another stack, or of no stack, fails the preview saying what
// collided and why. A kept home that no longer fits the settings fails the preview too, rather
// than silently starting a second, empty home. The decisions are pure (adoptionPlan); the cluster
// is read through a KeptReader (the ClusterReader of cluster.ts).
import { configKey } from "../config/keys";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { parseQuantity } from "../config/checks";
import type { Names } from "../config/names";
import type { Settings } from "../config/settings";
import { KEPT_BY, PART_OF, PART_OF_LABEL } from "../config/metadata";

/** What stands in the way of adopting a kept object: the cluster's state, not a bad setting. */
export class KeptObjectsError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(
            `The cluster holds objects in this stack's way (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "KeptObjectsError";
    }
}

export type KeptKind = "Namespace" | "PersistentVolumeClaim" | "PersistentVolume";

export interface Kept {
    kind: KeptKind;
    name: string;
    namespace?: string;
}

/** What the reader returns of a live object. */
export interface Live {
    labels: Record<string, string>;
    uid: string;
    /** It has a deletionTimestamp: going away (finalizers still running). */
    deleting?: boolean;
    spec?: Record<string, any>;
    status?: Record<string, any>;
}

/** Reads the kept objects of a stack from the cluster the stack deploys to. */
export interface KeptReader {
    /** The object, or undefined when it does not exist. */
    read(object: Kept): Promise<Live | undefined>;
    /** Every claim that carries `KEPT_BY=value`: in any namespace, or (without the right to list them all) in these. */
    keptClaims(value: string, namespaces: string[]): Promise<(Kept & Live)[]>;
}

/**
 * The label value for a stack: `organization.project.stack` as a label value allows (at most 63
 * characters of [-._a-zA-Z0-9], starting and ending with a letter or digit); a longer one keeps
 * its start and ends with a hash of the whole, so two stacks never share one.
 */
export function keptByValue(organization: string, project: string, stack: string): string {
    const full = `${organization}.${project}.${stack}`;
    const value = full.replace(/[^-._a-zA-Z0-9]/g, "-").replace(/^[-._]+|[-._]+$/g, "");
    if (value.length <= 63 && value === full) return value;
    const hash = createHash("sha256").update(full).digest("hex").slice(0, 10);
    return `${value.slice(0, 52).replace(/[-._]+$/, "")}-${hash}`;
}

export function describeKept(o: Kept): string {
    const kind = { Namespace: "namespace", PersistentVolumeClaim: "claim", PersistentVolume: "persistent volume" }[
        o.kind
    ];
    return `${kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`;
}

/** The `import` ID the Kubernetes provider takes: namespace/name, or the name of a cluster-wide object. */
export function importId(o: Kept): string {
    return o.namespace ? `${o.namespace}/${o.name}` : o.name;
}

const key = (o: Kept) => `${o.kind}/${importId(o)}`;

/** What the stack keeps on destroy, by role, from its settings. */
export interface KeptSet {
    controllerNamespace?: Kept;
    claim?: Kept;
    volume?: Kept;
    deployNamespaces: Kept[];
}

/**
 * What the stack makes that a destroy of it may have kept: its namespace, home claim and NFS
 * volume (kept when it keeps its home, now or at an earlier destroy), the deploy namespaces it
 * creates. Each is read, so that one this stack kept is adopted whatever the settings keep today.
 */
export function keptObjects(s: Settings, names: Names): KeptSet {
    const storage = s.storage;
    const ownsHome = storage.mode !== "existingClaim";
    return {
        controllerNamespace: s.createNamespaces ? { kind: "Namespace", name: s.namespace } : undefined,
        claim: ownsHome ? { kind: "PersistentVolumeClaim", name: names.homeClaim, namespace: s.namespace } : undefined,
        volume: storage.mode === "nfs" ? { kind: "PersistentVolume", name: names.homeVolume } : undefined,
        deployNamespaces: s.agents.createDeployNamespaces
            ? s.agents.deployNamespaces.map((name) => ({ kind: "Namespace" as const, name }))
            : [],
    };
}

export function allKept(set: KeptSet): Kept[] {
    return [set.controllerNamespace, set.claim, set.volume, ...set.deployNamespaces].filter(
        (o): o is Kept => o !== undefined,
    );
}

export interface AdoptionPlan {
    /** Import IDs of the kept objects to adopt, by kind/id. */
    adopt: Map<string, string>;
    /** What fails the preview. */
    problems: string[];
    /** What the preview reports. */
    notes: string[];
}

/** Where the home claim's spec differs from what the settings would create. */
function claimDrift(live: Live, storage: Settings["storage"], volumeName: string): string[] {
    if (storage.mode === "existingClaim") return [];
    const spec = live.spec ?? {};
    const drift: string[] = [];
    // A dynamic claim can grow in place (where its class allows expansion), never shrink; a
    // statically bound one (nfs) cannot change size at all.
    const size: string | undefined = spec.resources?.requests?.storage;
    if (size !== undefined && storage.mode === "nfs" && parseQuantity(storage.size) !== parseQuantity(size)) {
        drift.push(
            `${configKey("storageSize")} is "${storage.size}", the claim has ${size} (a static claim cannot be resized)`,
        );
    } else if (size !== undefined && parseQuantity(storage.size) < parseQuantity(size)) {
        drift.push(`${configKey("storageSize")} is "${storage.size}", smaller than the claim's ${size}`);
    }
    const modes: string[] = spec.accessModes ?? [];
    if (modes.length > 0 && !modes.includes(storage.accessMode)) {
        drift.push(`${configKey("storageAccessMode")} is ${storage.accessMode}, the claim has ${modes.join(", ")}`);
    }
    if (storage.mode === "nfs") {
        if ((spec.volumeName ?? "") !== volumeName || (spec.storageClassName ?? "") !== "") {
            drift.push(
                `${configKey("storageMode")} is nfs (the static volume ${volumeName}), the claim has ${spec.volumeName ? `volume ${spec.volumeName}` : "no fixed volume"} and storage class "${spec.storageClassName ?? ""}"`,
            );
        }
    } else if (storage.storageClass !== undefined && spec.storageClassName !== storage.storageClass) {
        drift.push(
            `${configKey("storageClass")} is "${storage.storageClass}", the claim has "${spec.storageClassName ?? ""}"`,
        );
    } else if (storage.storageClass === undefined && spec.storageClassName === "") {
        drift.push(`${configKey("storageMode")} is dynamic, the claim is bound statically (storage class "")`);
    }
    return drift;
}

function volumeDrift(live: Live, storage: Settings["storage"]): string[] {
    if (storage.mode !== "nfs") return [];
    const nfs = live.spec?.nfs ?? {};
    const drift: string[] = [];
    if (nfs.server !== storage.server)
        drift.push(`${configKey("nfsServer")} is "${storage.server}", the volume has "${nfs.server}"`);
    if (nfs.path !== storage.path)
        drift.push(`${configKey("nfsPath")} is "${storage.path}", the volume has "${nfs.path}"`);
    return drift;
}

/**
 * What `pulumi up` does with each kept object that already exists: adopt it (it carries this
 * stack's label and fits the settings), or refuse at preview (another stack's, no stack's, or a
 * kept home the settings no longer describe). `keptClaims` are the claims anywhere that carry this
 * stack's label: one that is not where the settings put the home is a home they would orphan.
 */
export function adoptionPlan(
    set: KeptSet,
    live: Map<string, Live | undefined>,
    keptClaims: (Kept & Live)[],
    s: Settings,
    names: Names,
    stackValue: string,
): AdoptionPlan {
    const plan: AdoptionPlan = { adopt: new Map(), problems: [], notes: [] };
    const claim = set.claim ? live.get(key(set.claim)) : undefined;
    for (const o of allKept(set)) {
        const found = live.get(key(o));
        if (!found) continue;
        const owner = found.labels[KEPT_BY];
        const what = describeKept(o);
        if (found.deleting) {
            plan.problems.push(
                `the ${what} is being deleted: wait until it is gone (kubectl get ${o.kind.toLowerCase()}), then preview again`,
            );
        } else if (owner === stackValue) {
            const drift =
                o === set.claim
                    ? claimDrift(found, s.storage, names.homeVolume)
                    : o === set.volume
                      ? [...volumeDrift(found, s.storage), ...bindingDrift(found, o.name, claim, set.claim!)]
                      : [];
            if (drift.length > 0) {
                plan.problems.push(
                    `the ${what} holds the Jenkins home this stack keeps, and the settings no longer describe it: ` +
                        `${drift.join("; ")}. Re-creating it would start an empty home, and its storage cannot change in place: ` +
                        `set these back to the ${o.kind === "PersistentVolume" ? "volume" : "claim"}'s values to adopt it, or delete it (and its data) to start anew.`,
                );
                continue;
            }
            // In the stack's state (an ordinary update) the engine sees the same ID and updates it;
            // after a destroy it imports it, and the preview shows "= import" for it.
            plan.adopt.set(key(o), importId(o));
        } else if (owner !== undefined) {
            plan.problems.push(
                `the ${what} exists and was kept by another stack (${KEPT_BY}=${owner}), not this one (${stackValue}): ` +
                    `it is not adopted, so that one stack never takes over another's Jenkins home. ${fixFor(o, set)}, or destroy that stack's kept objects first. ` +
                    "(Renamed this stack? Relabel its objects: kubectl label --overwrite ... " +
                    `${KEPT_BY}=${stackValue}.)`,
            );
        } else if (found.labels[PART_OF_LABEL] === PART_OF[PART_OF_LABEL]) {
            // Made by an older release (before the label), by this stack or another: an update
            // of a stack that manages it adds the label; a create would fail as a collision.
            plan.notes.push(
                `the ${what} exists and was made by jenkins-k8s but carries no ${KEPT_BY} label: if this stack manages it, ` +
                    "this update labels it; if it does not (an older release's destroy kept it), creating it fails (already exists) " +
                    `unless you label it first: kubectl label ${o.kind.toLowerCase()} ${o.namespace ? `-n ${o.namespace} ` : ""}${o.name} ${KEPT_BY}=${stackValue}.`,
            );
        } else {
            plan.problems.push(
                `the ${what} already exists and is not one this stack kept (no ${KEPT_BY}=${stackValue} label): ` +
                    `it is not adopted, since taking over an object this stack did not make would hide a name collision. ${fixFor(o, set)}.`,
            );
        }
    }
    // A home this stack keeps that the settings do not put Jenkins on: another namespace, another
    // storage mode, or no longer kept. Starting an empty second home silently is what this stops.
    const home: Kept | undefined =
        s.storage.mode === "existingClaim"
            ? { kind: "PersistentVolumeClaim", namespace: s.namespace, name: s.storage.claimName }
            : set.claim;
    for (const other of keptClaims) {
        if (home && other.namespace === home.namespace && other.name === home.name) continue;
        if (s.restoreFromSnapshot && other.namespace === s.namespace) {
            // The home before a restore, or an earlier restore's: left as it was, for the user to delete.
            plan.notes.push(
                `the ${describeKept(other)} held Jenkins home before the restore from ${s.restoreFromSnapshot}: it stays as it is, unmounted; delete it once the restored home is verified`,
            );
            continue;
        }
        const restoredFrom = /-home-from-(.+)$/.exec(other.name)?.[1];
        if (restoredFrom) {
            plan.problems.push(
                `the ${describeKept(other)} is the home restored from the snapshot ${restoredFrom} (it carries ${KEPT_BY}=${stackValue}); ` +
                    `the settings no longer name it: set ${configKey("restoreFromSnapshot")} back to ${restoredFrom} to keep using it. ` +
                    "Without it the stack would go back to the home from before the restore, or to an empty one.",
            );
            continue;
        }
        plan.problems.push(
            `this stack's Jenkins home is the ${describeKept(other)} (it carries ${KEPT_BY}=${stackValue}), but the settings put the home ` +
                (home ? `in the ${describeKept(home)}` : "elsewhere") +
                `, which would start Jenkins on another, empty home: set ${configKey("namespace")} and the storage settings back to ` +
                `that claim's (or ${configKey("storageMode")}: existingClaim with ${configKey("existingClaim")}: ${other.name} in ${other.namespace}), ` +
                "or to move on from the old home delete that claim (and its data) first.",
        );
    }
    return plan;
}

/** The setting that resolves a collision on this object. */
function fixFor(o: Kept, set: KeptSet): string {
    if (o === set.controllerNamespace) {
        return `Choose another ${configKey("namespace")}, or set ${configKey("createNamespaces")} to false to use it as it is`;
    }
    if (set.deployNamespaces.includes(o)) {
        return `Set ${configKey("createDeployNamespaces")} to false to deploy into it as it is`;
    }
    return `Choose another ${configKey("namespace")} (the home's claim and volume are named after it)`;
}

/** A kept NFS volume whose claim is gone, or another claim's: the claim would never bind to it. */
function bindingDrift(volume: Live, volumeName: string, claim: Live | undefined, claimObject: Kept): string[] {
    const bound = volume.spec?.claimRef?.uid as string | undefined;
    if (bound === undefined || bound === claim?.uid) return [];
    return [
        `it is reserved for a claim (uid ${bound}) that ${claim ? `is not the ${describeKept(claimObject)} (uid ${claim.uid})` : "no longer exists"}, ` +
            `so a new claim would never bind to it: free it with kubectl patch pv ${volumeName} --type json -p '[{"op":"remove","path":"/spec/claimRef/uid"}]'`,
    ];
}

/** Reads the kept objects and plans their adoption. */
export async function planAdoption(
    set: KeptSet,
    reader: KeptReader,
    s: Settings,
    names: Names,
    stackValue: string,
): Promise<AdoptionPlan & { live: Map<Kept, Live | undefined> }> {
    const objects = allKept(set);
    const [found, claims] = await Promise.all([
        Promise.all(objects.map((o) => reader.read(o))),
        reader.keptClaims(stackValue, [s.namespace]),
    ]);
    const live = new Map(objects.map((o, i) => [key(o), found[i]]));
    // What was read of each object (undefined: not there), for what else needs to know.
    return {
        ...adoptionPlan(set, live, claims, s, names, stackValue),
        live: new Map(objects.map((o, i) => [o, found[i]])),
    };
}

/** The `import` option for a kept object the plan adopts; none otherwise. */
export function adoptOption(plan: AdoptionPlan, o: Kept | undefined): { import?: string } {
    const id = o ? plan.adopt.get(key(o)) : undefined;
    return id ? { import: id } : {};
}
