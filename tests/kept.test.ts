// Recreate after destroy: which kept objects a `pulumi up` adopts, when, and the preview's error
// otherwise; first as the pure plan, then through the program under mocks with a stand-in cluster.
import { deriveNames } from "../config/names";
import { settingsFrom } from "../config/settings";
import { adoptionPlan, Kept, keptByValue, KeptObjectsError, keptObjects, Live } from "../preflight/kept";
import { KEPT_BY } from "../config/metadata";
import type { ClusterReader } from "../preflight/reader";
import { readStackConfig } from "../tools/stackConfig";
import { EMPTY_CLUSTER, kubeconfigSource, proxyFor } from "../preflight/cluster";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { homedir, tmpdir } from "os";
import * as path from "path";
import { runStack, Stack } from "./harness";
import { NFS_HOME } from "./cluster/renders";
import { evaluate } from "../tools/evaluate";

/** The prod stack with Jenkins home on NFS, as the original had it (prod itself uses a CSI class). */
const prodNfs = (): Record<string, string> => ({ ...readStackConfig("prod"), ...NFS_HOME });
const prod = settingsFrom(prodNfs());
const names = deriveNames(prod);
const OURS = keptByValue("organization", "jenkins-k8s", "prod");
const set = keptObjects(prod, names);

const key = (o: Kept) => `${o.kind}/${o.namespace ? `${o.namespace}/` : ""}${o.name}`;

/** A live object as the API server would return it. */
function live(labels: Record<string, string>, spec?: Record<string, any>, uid = "uid-1"): Live {
    return { labels, uid, spec };
}

const keptClaimSpec = {
    accessModes: ["ReadWriteMany"],
    resources: { requests: { storage: "100Gi" } },
    storageClassName: "",
    volumeName: names.homeVolume,
};
const keptVolumeSpec = {
    nfs: { server: "nfs.internal.example.com", path: "/exports/jenkins" },
    claimRef: { namespace: "ci", name: "jenkins-home", uid: "uid-1" },
};

/** The prod stack's kept objects, all present with this stack's label, and what to change. */
function cluster(changes: Partial<Record<"namespace" | "claim" | "volume", Live | undefined>> = {}) {
    return new Map<string, Live | undefined>([
        [key(set.controllerNamespace!), "namespace" in changes ? changes.namespace : live({ [KEPT_BY]: OURS })],
        [key(set.claim!), "claim" in changes ? changes.claim : live({ [KEPT_BY]: OURS }, keptClaimSpec)],
        [key(set.volume!), "volume" in changes ? changes.volume : live({ [KEPT_BY]: OURS }, keptVolumeSpec)],
    ]);
}

describe("what a stack keeps on destroy", () => {
    it("prod may have kept its namespace, home claim and NFS volume (each read at preview); an existing claim is the user's", () => {
        expect(set).toEqual({
            controllerNamespace: { kind: "Namespace", name: "ci" },
            claim: { kind: "PersistentVolumeClaim", name: "jenkins-home", namespace: "ci" },
            volume: { kind: "PersistentVolume", name: "ci-jenkins-home" },
            deployNamespaces: [],
        });
        const existing = settingsFrom({
            ...readStackConfig("dev"),
            "jenkins-k8s:storageMode": "existingClaim",
            "jenkins-k8s:existingClaim": "home",
            "jenkins-k8s:createNamespaces": "false",
        });
        expect(keptObjects(existing, deriveNames(existing))).toEqual({ deployNamespaces: [] });
    });

    it.each([
        [["organization", "jenkins-k8s", "prod"], "organization.jenkins-k8s.prod"],
        [["acme", "p", "team/stack"], /^acme\.p\.team-stack-[0-9a-f]{10}$/],
        [["acme", "p", "s".repeat(80)], /^acme\.p\.s{45}-[0-9a-f]{10}$/],
        [["acme", "p", "stack_"], /^acme\.p\.stack-[0-9a-f]{10}$/],
    ])("the stack %j is labelled %s: a valid label value, one per stack", (args, value) => {
        const v = keptByValue(...(args as [string, string, string]));
        expect(v).toMatch(value);
        expect(v).toMatch(/^[a-zA-Z0-9]([-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/);
    });

    it("two stacks whose names differ only where a label cannot show it get different labels", () => {
        expect(keptByValue("a", "p", "x/y")).not.toBe(keptByValue("a", "p", "x-y"));
        expect(keptByValue("a", "p", `${"s".repeat(70)}1`)).not.toBe(keptByValue("a", "p", `${"s".repeat(70)}2`));
        expect(keptByValue("org1", "p", "dev")).not.toBe(keptByValue("org2", "p", "dev"));
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
            "the namespace ci already exists and is not one this stack kept (no jenkins-k8s/kept-by=organization.jenkins-k8s.prod label): it is not adopted, since taking over an object this stack did not make would hide a name collision. Choose another jenkins-k8s:namespace, or set jenkins-k8s:createNamespaces to false to use it as it is.",
        ]);
        expect(p.adopt.has("Namespace/ci")).toBe(false);
    });

    it("another stack's kept home is never adopted", () => {
        const other = { [KEPT_BY]: "jenkins-k8s.staging" };
        const p = plan(cluster({ claim: live(other, keptClaimSpec) }));
        expect(p.problems).toEqual([
            expect.stringMatching(
                /^the claim ci\/jenkins-home exists and was kept by another stack \(jenkins-k8s\/kept-by=jenkins-k8s\.staging\), not this one \(organization\.jenkins-k8s\.prod\)/,
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
            'jenkins-k8s:storageSize is "100Gi", the claim has 200Gi (a static claim cannot be resized)',
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
                /^the (claim ci\/jenkins-home|persistent volume ci-jenkins-home) holds the Jenkins home this stack keeps/,
            );
        },
    );

    it("a static (NFS) claim cannot change size at all: a bigger storageSize is drift too", () => {
        const bigger = settingsFrom({ ...prodNfs(), "jenkins-k8s:storageSize": "200Gi" });
        expect(adoptionPlan(set, cluster(), [], bigger, names, OURS).problems).toEqual([
            expect.stringContaining(
                'jenkins-k8s:storageSize is "200Gi", the claim has 100Gi (a static claim cannot be resized)',
            ),
        ]);
    });

    it("a dynamic claim may grow (where its class allows), and keeps its storage class", () => {
        const dev = settingsFrom({ ...readStackConfig("dev"), "jenkins-k8s:storageClass": "fast" });
        const devNames = deriveNames(dev);
        const devSet = keptObjects(dev, devNames);
        const ours = keptByValue("organization", "jenkins-k8s", "dev");
        const claim = (spec: Record<string, any>) =>
            new Map([[key(devSet.claim!), live({ [KEPT_BY]: ours }, { accessModes: ["ReadWriteOnce"], ...spec })]]);
        const size = (storage: string) => ({ resources: { requests: { storage } } });
        expect(
            adoptionPlan(devSet, claim({ ...size("1Gi"), storageClassName: "fast" }), [], dev, devNames, ours).problems,
        ).toEqual([]);
        expect(
            adoptionPlan(devSet, claim({ ...size("3Gi"), storageClassName: "slow" }), [], dev, devNames, ours).problems,
        ).toEqual([expect.stringContaining('jenkins-k8s:storageClass is "fast", the claim has "slow"')]);
        const noClass = settingsFrom(readStackConfig("dev"));
        expect(
            adoptionPlan(
                devSet,
                claim({ ...size("3Gi"), storageClassName: "", volumeName: "nfs-pv" }),
                [],
                noClass,
                devNames,
                ours,
            ).problems,
        ).toEqual([expect.stringContaining("jenkins-k8s:storageMode is dynamic, the claim is bound statically")]);
    });

    it("an NFS volume at another path, or reserved for a claim that is gone, is not adopted", () => {
        const moved = live({ [KEPT_BY]: OURS }, { ...keptVolumeSpec, nfs: { ...keptVolumeSpec.nfs, path: "/old" } });
        expect(plan(cluster({ volume: moved })).problems).toEqual([
            expect.stringContaining('jenkins-k8s:nfsPath is "/exports/jenkins", the volume has "/old"'),
        ]);
        const orphaned = plan(cluster({ claim: undefined }));
        expect(orphaned.problems).toEqual([
            expect.stringContaining(
                `it is reserved for a claim (uid uid-1) that no longer exists, so a new claim would never bind to it: free it with kubectl patch pv ci-jenkins-home --type json -p '[{"op":"remove","path":"/spec/claimRef/uid"}]'`,
            ),
        ]);
    });

    it("an object being deleted is not adopted: the preview says to wait", () => {
        expect(plan(cluster({ namespace: { ...live({ [KEPT_BY]: OURS }), deleting: true } })).problems).toEqual([
            "the namespace ci is being deleted: wait until it is gone (kubectl get namespace), then preview again",
        ]);
    });

    it("a deploy namespace the stack creates: its own is adopted; someone else's is refused, naming the setting to use it", () => {
        const withDeploy = settingsFrom({
            ...prodNfs(),
            "jenkins-k8s:createDeployNamespaces": "true",
        });
        const deploySet = keptObjects(withDeploy, names);
        const [staging, production] = deploySet.deployNamespaces;
        const state = new Map([
            ...cluster(),
            [key(staging), live({ [KEPT_BY]: OURS })],
            [key(production), live({ team: "apps" })],
        ]);
        const p = adoptionPlan(deploySet, state, [], withDeploy, names, OURS);
        expect(p.adopt.get(key(staging))).toBe("staging");
        expect(p.problems).toEqual([
            expect.stringContaining(
                "the namespace production already exists and is not one this stack kept (no jenkins-k8s/kept-by=organization.jenkins-k8s.prod label): it is not adopted, since taking over an object this stack did not make would hide a name collision. Set jenkins-k8s:createDeployNamespaces to false to deploy into it as it is.",
            ),
        ]);
    });

    it("a home this stack keeps is never orphaned: not by an existing claim elsewhere, nor by a stack that stopped keeping it", () => {
        const keptHome = {
            kind: "PersistentVolumeClaim" as const,
            name: "jenkins-home",
            namespace: "ci",
            ...live({ [KEPT_BY]: OURS }, keptClaimSpec),
        };
        const elsewhere = settingsFrom({
            ...prodNfs(),
            "jenkins-k8s:storageMode": "existingClaim",
            "jenkins-k8s:existingClaim": "other-home",
            "jenkins-k8s:createNamespaces": "false",
            "jenkins-k8s:nfsServer": "",
            "jenkins-k8s:nfsPath": "",
            "jenkins-k8s:storageAccessMode": "ReadWriteOnce",
        });
        const otherSet = keptObjects(elsewhere, deriveNames(elsewhere));
        expect(adoptionPlan(otherSet, new Map(), [keptHome], elsewhere, deriveNames(elsewhere), OURS).problems).toEqual(
            [
                expect.stringContaining(
                    "this stack's Jenkins home is the claim ci/jenkins-home (it carries jenkins-k8s/kept-by=",
                ),
            ],
        );
        // Pointing existingClaim at the kept home is a way back to it.
        const back = settingsFrom({
            ...prodNfs(),
            "jenkins-k8s:storageMode": "existingClaim",
            "jenkins-k8s:existingClaim": "jenkins-home",
            "jenkins-k8s:createNamespaces": "false",
            "jenkins-k8s:nfsServer": "",
            "jenkins-k8s:nfsPath": "",
            "jenkins-k8s:storageAccessMode": "ReadWriteOnce",
        });
        expect(
            adoptionPlan(keptObjects(back, deriveNames(back)), new Map(), [keptHome], back, deriveNames(back), OURS)
                .problems,
        ).toEqual([]);
    });

    it("a home kept in another namespace fails the preview instead of starting a second, empty home", () => {
        const old = { kind: "PersistentVolumeClaim" as const, name: "jenkins-home", namespace: "ci-old" };
        const p = plan(cluster({ namespace: undefined, claim: undefined, volume: undefined }), [
            { ...old, ...live({ [KEPT_BY]: OURS }, keptClaimSpec) },
        ]);
        expect(p.problems).toEqual([
            "this stack's Jenkins home is the claim ci-old/jenkins-home (it carries jenkins-k8s/kept-by=organization.jenkins-k8s.prod), but the settings put the home in the claim ci/jenkins-home, which would start Jenkins on another, empty home: set jenkins-k8s:namespace and the storage settings back to that claim's (or jenkins-k8s:storageMode: existingClaim with jenkins-k8s:existingClaim: jenkins-home in ci-old), or to move on from the old home delete that claim (and its data) first.",
        ]);
    });
});

describe("recreate after destroy, under mocks", () => {
    /** A stand-in for the cluster: these objects exist. */
    const standIn = (objects: Map<string, Live | undefined>): ClusterReader => ({
        ...EMPTY_CLUSTER,
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
        const s = new Stack(await evaluate(prodNfs(), { stack: "prod" }));
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
        const s = new Stack(await evaluate(prodNfs(), { stack: "prod", cluster: standIn(cluster()) }));
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
        const error = await evaluate(prodNfs(), {
            stack: "prod",
            cluster: standIn(cluster({ namespace: live({}), claim: undefined, volume: undefined })),
        }).catch((e) => e);
        expect(error).toBeInstanceOf(KeptObjectsError);
        expect((error as KeptObjectsError).problems).toEqual([
            expect.stringContaining("the namespace ci already exists"),
        ]);
    });
});

describe("where the program reads the kept objects: the provider's kubeconfig", () => {
    let dir: string;
    beforeAll(() => {
        dir = mkdtempSync(path.join(tmpdir(), "kubeconfig-"));
        writeFileSync(path.join(dir, "a"), "apiVersion: v1\nkind: Config\n");
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("kubernetes:kubeconfig as a path (with ~), or as the document itself; a path that does not exist is named", () => {
        expect(kubeconfigSource({ kubeconfig: path.join(dir, "a"), context: "prod" }, {})).toEqual({
            files: [path.join(dir, "a")],
            from: "kubernetes:kubeconfig",
            context: "prod",
            cluster: undefined,
        });
        const home = path.relative(homedir(), path.join(dir, "a"));
        if (!home.startsWith("..")) {
            expect(kubeconfigSource({ kubeconfig: `~/${home}` }, {}).files).toEqual([path.join(dir, "a")]);
        }
        const text = "apiVersion: v1\nkind: Config\nclusters: []\n";
        expect(kubeconfigSource({ kubeconfig: text, cluster: "east" }, {})).toMatchObject({
            files: [],
            text,
            cluster: "east",
        });
        expect(() => kubeconfigSource({ kubeconfig: "~/.kube/missing-prod.yaml" }, {})).toThrow(
            "kubernetes:kubeconfig names ~/.kube/missing-prod.yaml, which does not exist",
        );
    });

    it("else KUBECONFIG's files in order (those that exist), else the client's defaults", () => {
        const env = {
            KUBECONFIG: [path.join(dir, "a"), path.join(dir, "missing"), path.join(dir, "a")].join(path.delimiter),
        };
        expect(kubeconfigSource({}, env)).toMatchObject({
            files: [path.join(dir, "a"), path.join(dir, "a")],
            from: "KUBECONFIG",
        });
        expect(kubeconfigSource({}, {})).toEqual({
            files: [],
            from: expect.stringContaining("default kubeconfig"),
            context: undefined,
            cluster: undefined,
        });
    });
});

describe("the kept claim's options", () => {
    it("ignores changes to its volume and class only where it is kept (or adopted): elsewhere a change still replaces it", async () => {
        const kept = await runStack("dev");
        expect(kept.resource("kubernetes:core/v1:PersistentVolumeClaim", "jenkins-home").ignoreChanges).toEqual([
            "spec.volumeName",
            "spec.storageClassName",
        ]);
        const discarded = await runStack("dev", { retainHomeOnDestroy: false });
        const claim = discarded.resource("kubernetes:core/v1:PersistentVolumeClaim", "jenkins-home");
        expect([claim.ignoreChanges, claim.retainOnDelete, claim.inputs.metadata.labels[KEPT_BY]]).toEqual([
            [],
            false,
            undefined,
        ]);
    });

    it("is read by the program at preview: a home kept in another namespace fails it, found by label", async () => {
        const old = { kind: "PersistentVolumeClaim" as const, name: "jenkins-home", namespace: "ci-old" };
        const reader: ClusterReader = {
            ...EMPTY_CLUSTER,
            keptClaims: (value, namespaces) =>
                Promise.resolve(
                    value === OURS && namespaces.includes("ci") ? [{ ...old, ...live({ [KEPT_BY]: OURS }) }] : [],
                ),
        };
        const error = await evaluate(prodNfs(), { stack: "prod", cluster: reader }).catch((e) => e);
        expect(error).toBeInstanceOf(KeptObjectsError);
        expect((error as KeptObjectsError).problems).toEqual([
            expect.stringContaining("this stack's Jenkins home is the claim ci-old/jenkins-home"),
        ]);
        // Told not to read the cluster, it does not.
        await expect(
            evaluate({ ...prodNfs(), "jenkins-k8s:adoptKeptObjects": "false" }, { stack: "prod", cluster: reader }),
        ).resolves.toBeDefined();
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

describe("the proxy the reader takes: client-go's (golang.org/x/net/http/httpproxy)", () => {
    const env = {
        HTTPS_PROXY: "proxy.corp:3128",
        HTTP_PROXY: "http://plain:80",
        NO_PROXY: "internal.example.com,.svc,10.0.0.0/8,api.other:6443",
    };
    it.each([
        ["https://api.example.com:6443", "http://proxy.corp:3128"],
        ["http://api.example.com", "http://plain:80"],
        ["https://internal.example.com", undefined],
        ["https://k8s.internal.example.com", undefined],
        ["https://kubernetes.default.svc", undefined],
        ["https://10.1.2.3:6443", undefined],
        ["https://11.1.2.3:6443", "http://proxy.corp:3128"],
        ["https://api.other:6443", undefined],
        ["https://api.other:443", "http://proxy.corp:3128"],
        ["https://127.0.0.1:6443", undefined],
        ["https://localhost:6443", undefined],
    ])("%s: %s", (server, proxy) => {
        expect(proxyFor(server, env)).toBe(proxy);
    });

    it("none without a proxy variable, and none for anything with NO_PROXY=*", () => {
        expect(proxyFor("https://api.example.com", {})).toBeUndefined();
        expect(proxyFor("https://api.example.com", { https_proxy: "http://p:1", no_proxy: "*" })).toBeUndefined();
        expect(proxyFor("https://api.example.com", { https_proxy: "http://p:1" })).toBe("http://p:1");
    });
});
