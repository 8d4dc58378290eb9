// Recreate after destroy: which kept objects a `pulumi up` adopts, when, and the preview's error
// otherwise; first as the pure plan, then through the program under mocks with a stand-in cluster.
import { ConfigError } from "../config/reader";
import { deriveNames } from "../config/names";
import { settingsFrom } from "../config/settings";
import { adoptionPlan, ClusterReader, Kept, keptByValue, keptObjects, KEPT_BY, Live } from "../components/kept";
import { readStackConfig } from "../tools/stackConfig";
import { runStack, Stack } from "./harness";
import { evaluate } from "../tools/evaluate";

const prod = settingsFrom(readStackConfig("prod"));
const names = deriveNames(prod);
const OURS = keptByValue("jenkins-k8s", "prod");
const set = keptObjects(prod, names);

const key = (o: Kept) => `${o.kind}/${o.namespace ? `${o.namespace}/` : ""}${o.name}`;

/** A live object as the API server would return it. */
function live(labels: Record<string, string>, spec?: Record<string, any>): Live {
    return { labels, uid: "uid-1", spec };
}

const keptClaimSpec = {
    accessModes: ["ReadWriteMany"],
    resources: { requests: { storage: "100Gi" } },
    storageClassName: "",
    volumeName: names.homeVolume,
};
const keptVolumeSpec = { nfs: { server: "nfs.internal.example.com", path: "/exports/jenkins" } };

/** The prod stack's kept objects, all present with this stack's label, and what to change. */
function cluster(changes: Partial<Record<"namespace" | "claim" | "volume", Live | undefined>> = {}) {
    return new Map<string, Live | undefined>([
        [key(set.controllerNamespace!), "namespace" in changes ? changes.namespace : live({ [KEPT_BY]: OURS })],
        [key(set.claim!), "claim" in changes ? changes.claim : live({ [KEPT_BY]: OURS }, keptClaimSpec)],
        [key(set.volume!), "volume" in changes ? changes.volume : live({ [KEPT_BY]: OURS }, keptVolumeSpec)],
    ]);
}

describe("what a stack keeps on destroy", () => {
    it("prod keeps its namespace, home claim and NFS volume; a stack that does not keep its home keeps none", () => {
        expect(set).toEqual({
            controllerNamespace: { kind: "Namespace", name: "ci" },
            claim: { kind: "PersistentVolumeClaim", name: "jenkins-home", namespace: "ci" },
            volume: { kind: "PersistentVolume", name: "ci-jenkins-home" },
            deployNamespaces: [],
        });
        const discard = settingsFrom({ ...readStackConfig("prod"), "jenkins-k8s:retainHomeOnDestroy": "false" });
        expect(keptObjects(discard, deriveNames(discard))).toEqual({ deployNamespaces: [] });
    });

    it("a label value per stack, within the 63 characters labels allow", () => {
        expect(keptByValue("jenkins-k8s", "prod")).toBe("jenkins-k8s.prod");
        expect(keptByValue("p", "org/stack")).toBe("p.org-stack");
        expect(keptByValue("p", "s".repeat(80))).toHaveLength(63);
    });
});

describe("the adoption plan", () => {
    const plan = (live: Map<string, Live | undefined>, keptClaims: (Kept & Live)[] = []) =>
        adoptionPlan(set, live, keptClaims, prod, names, OURS);

    it("a first up (nothing exists) creates everything: no import", () => {
        expect(plan(cluster({ namespace: undefined, claim: undefined, volume: undefined }))).toEqual({
            adopt: new Map(),
            problems: [],
            notes: [],
        });
    });

    it("after a destroy, adopts exactly the objects this stack kept, by the IDs the provider imports", () => {
        const p = plan(cluster());
        expect(p.problems).toEqual([]);
        expect([...p.adopt.values()]).toEqual(["ci", "ci/jenkins-home", "ci-jenkins-home"]);
    });

    it("a namespace of that name that no stack kept is not adopted: the preview says what collided and why", () => {
        const p = plan(cluster({ namespace: live({ team: "payments" }) }));
        expect(p.problems).toEqual([
            "the namespace ci already exists and is not one this stack kept (no jenkins-k8s/kept-by=jenkins-k8s.prod label): it is not adopted, since taking over an object this stack did not make would hide a name collision. Choose another jenkins-k8s:namespace, or set jenkins-k8s:createNamespaces to false to use it as it is.",
        ]);
        expect(p.adopt.has("Namespace/ci")).toBe(false);
    });

    it("another stack's kept home is never adopted", () => {
        const other = { [KEPT_BY]: "jenkins-k8s.staging" };
        const p = plan(cluster({ claim: live(other, keptClaimSpec) }));
        expect(p.problems).toEqual([
            expect.stringMatching(
                /^the claim ci\/jenkins-home exists and was kept by another stack \(jenkins-k8s\/kept-by=jenkins-k8s\.staging\), not this one \(jenkins-k8s\.prod\)/,
            ),
        ]);
        expect(p.adopt.has("PersistentVolumeClaim/ci/jenkins-home")).toBe(false);
    });

    it("an object an older release made (no kept-by label yet) is neither adopted nor refused, and the preview says why", () => {
        const p = plan(cluster({ namespace: live({ "app.kubernetes.io/part-of": "jenkins-k8s" }) }));
        expect(p.problems).toEqual([]);
        expect(p.adopt.has("Namespace/ci")).toBe(false);
        expect(p.notes).toEqual([expect.stringContaining("carries no jenkins-k8s/kept-by label")]);
    });

    it.each<[string, Partial<Record<"claim" | "volume", Live>>, string]>([
        [
            "a smaller size",
            { claim: live({ [KEPT_BY]: OURS }, { ...keptClaimSpec, resources: { requests: { storage: "200Gi" } } }) },
            'jenkins-k8s:storageSize is "100Gi", smaller than the claim\'s 200Gi',
        ],
        [
            "another access mode",
            { claim: live({ [KEPT_BY]: OURS }, { ...keptClaimSpec, accessModes: ["ReadWriteOnce"] }) },
            "jenkins-k8s:storageAccessMode is ReadWriteMany, the claim has ReadWriteOnce",
        ],
        [
            "a dynamic claim where the stack now has NFS",
            { claim: live({ [KEPT_BY]: OURS }, { ...keptClaimSpec, storageClassName: "fast", volumeName: "pvc-1" }) },
            "jenkins-k8s:storageMode is nfs (the static volume ci-jenkins-home), the claim has volume pvc-1",
        ],
        [
            "another NFS server",
            { volume: live({ [KEPT_BY]: OURS }, { nfs: { server: "old-nfs", path: "/exports/jenkins" } }) },
            'jenkins-k8s:nfsServer is "nfs.internal.example.com", the volume has "old-nfs"',
        ],
    ])(
        "a kept home the settings no longer describe (%s) fails the preview, naming the kept object",
        (_, change, drift) => {
            const p = plan(cluster(change));
            expect(p.problems).toEqual([expect.stringContaining(drift)]);
            expect(p.problems[0]).toMatch(
                /^the (claim ci\/jenkins-home|persistent volume ci-jenkins-home) holds the Jenkins home this stack kept/,
            );
        },
    );

    it("a bigger size is not drift: a claim grows in place", () => {
        const bigger = settingsFrom({ ...readStackConfig("prod"), "jenkins-k8s:storageSize": "200Gi" });
        expect(adoptionPlan(set, cluster(), [], bigger, names, OURS).problems).toEqual([]);
    });

    it("a home kept in another namespace fails the preview instead of starting a second, empty home", () => {
        const old = { kind: "PersistentVolumeClaim" as const, name: "jenkins-home", namespace: "ci-old" };
        const p = plan(cluster({ namespace: undefined, claim: undefined, volume: undefined }), [
            { ...old, ...live({ [KEPT_BY]: OURS }, keptClaimSpec) },
        ]);
        expect(p.problems).toEqual([
            "this stack kept its Jenkins home in the claim ci-old/jenkins-home on destroy, but the settings now put the home in the claim ci/jenkins-home, which would start an empty second home: set jenkins-k8s:namespace back to ci-old, or to move on from the old home delete that claim (and its data) first.",
        ]);
    });
});

describe("recreate after destroy, under mocks", () => {
    /** A stand-in for the cluster: these objects exist. */
    const standIn = (objects: Map<string, Live | undefined>): ClusterReader => ({
        read: (o) => Promise.resolve(objects.get(key(o))),
        keptClaims: (value) =>
            Promise.resolve(
                [...objects.entries()]
                    .filter(([k, l]) => k.startsWith("PersistentVolumeClaim/") && l?.labels[KEPT_BY] === value)
                    .map(([k, l]) => {
                        const [, namespace, name] = k.split("/");
                        return { kind: "PersistentVolumeClaim" as const, namespace, name, ...l! };
                    }),
            ),
    });

    it("a first up labels what it keeps, and imports nothing", async () => {
        const s = await runStack("prod");
        for (const [type, name] of [
            ["kubernetes:core/v1:Namespace", "controller-namespace"],
            ["kubernetes:core/v1:PersistentVolumeClaim", "jenkins-home"],
            ["kubernetes:core/v1:PersistentVolume", "jenkins-nfs"],
        ]) {
            const r = s.resource(type, name);
            expect([name, r.inputs.metadata.labels[KEPT_BY], r.retainOnDelete, r.importId]).toEqual([
                name,
                OURS,
                true,
                undefined,
            ]);
        }
        expect(s.resource("kubernetes:core/v1:PersistentVolumeClaim", "jenkins-home").ignoreChanges).toEqual([
            "spec.volumeName",
            "spec.storageClassName",
        ]);
    });

    it("after a destroy, the same objects are imported, and nothing else is", async () => {
        const s = new Stack(await evaluate(readStackConfig("prod"), { stack: "prod", cluster: standIn(cluster()) }));
        const imported = s.resources.filter((r) => r.importId).map((r) => [r.name, r.importId]);
        expect(imported).toEqual(
            expect.arrayContaining([
                ["controller-namespace", "ci"],
                ["jenkins-home", "ci/jenkins-home"],
                ["jenkins-nfs", "ci-jenkins-home"],
            ]),
        );
        expect(imported).toHaveLength(3);
    });

    it("a colliding namespace fails the preview before anything is registered", async () => {
        const error = await evaluate(readStackConfig("prod"), {
            stack: "prod",
            cluster: standIn(cluster({ namespace: live({}), claim: undefined, volume: undefined })),
        }).catch((e) => e);
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).problems).toEqual([expect.stringContaining("the namespace ci already exists")]);
    });
});

describe("the Ingress await", () => {
    it("is off by default (skipAwait), and on when the stack asks for it", async () => {
        const off = await runStack("prod");
        expect(off.object("Ingress").metadata.annotations["pulumi.com/skipAwait"]).toBe("true");
        const on = await runStack("prod", { ingressAwait: true });
        expect(on.object("Ingress").metadata.annotations["pulumi.com/skipAwait"]).toBeUndefined();
    });
});
