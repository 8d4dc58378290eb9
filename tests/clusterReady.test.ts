// What a first up needs of the cluster, checked at preview against a reader of the cluster (the
// cluster tier asks a real API server the same): the Kubernetes version for the admission policy,
// the default PriorityClass, the deploy namespaces it does not create (there, and their Pod
// Security), and a StorageClass for Jenkins home. Each problem names the key, the value and what to do.
import { readinessProblems, ReadinessReader, StorageClassInfo } from "../preflight/clusterReady";
import type { KeptReader, Live } from "../preflight/kept";
import { EMPTY_CLUSTER } from "../preflight/cluster";
import { ConfigError } from "../config/reader";
import { evaluate } from "../tools/evaluate";
import { readStackConfig } from "../tools/stackConfig";
import { settingsOf, warningsOf } from "./harness";

const reader = (
    minor: number,
    classes: StorageClassInfo[] | undefined,
    priority: { name: string; value: number } | null | undefined = null,
    /** The namespaces there are, by name: their labels. */
    namespaces: Record<string, Record<string, string>> = {},
): ReadinessReader & Pick<KeptReader, "read"> => ({
    serverVersion: () => Promise.resolve({ major: 1, minor, gitVersion: `v1.${minor}.2` }),
    storageClasses: () => Promise.resolve(classes),
    defaultPriority: () => Promise.resolve(priority),
    read: (o) =>
        Promise.resolve(
            o.kind === "Namespace" && namespaces[o.name]
                ? { labels: namespaces[o.name], uid: "u", deleting: false }
                : undefined,
        ),
});
const DEFAULT = { "storageclass.kubernetes.io/is-default-class": "true" };
const settings = settingsOf;

describe("a first up's needs", () => {
    it("a cluster with a default class and a recent version: nothing to say", async () => {
        expect(await readinessProblems(settings(), reader(35, [{ name: "gp3", annotations: DEFAULT }]), false)).toEqual(
            { problems: [], warnings: [] },
        );
    });

    it("no default StorageClass (EKS 1.30 without the EBS CSI add-on): the claim would stay Pending", async () => {
        expect(
            (await readinessProblems(settings(), reader(31, [{ name: "gp2", annotations: {} }]), false)).problems,
        ).toEqual([
            "jenkins-k8s:storageClass is empty, and the cluster has no default StorageClass (it has gp2), so Jenkins home's claim would stay Pending: set storageClass to one of them, or mark one default (on EKS, the EBS CSI driver add-on's gp3 class)",
        ]);
        expect((await readinessProblems(settings(), reader(31, []), false)).problems).toEqual([
            expect.stringContaining("the cluster has no default StorageClass (it has none)"),
        ]);
    });

    it("a named StorageClass the cluster does not have", async () => {
        const s = settings({ storageClass: "csi-rbd" });
        expect(
            (await readinessProblems(s, reader(35, [{ name: "standard", annotations: DEFAULT }]), false)).problems,
        ).toEqual([
            'jenkins-k8s:storageClass = "csi-rbd": the cluster has no such StorageClass (it has standard), so Jenkins home\'s claim would stay Pending',
        ]);
    });

    it("a home claim that exists already settled its class: not asked again", async () => {
        expect((await readinessProblems(settings(), reader(35, []), true)).problems).toEqual([]);
    });

    it("Kubernetes 1.29 with the admission policy on: upgrade, or turn it off", async () => {
        const classes = [{ name: "standard", annotations: DEFAULT }];
        expect((await readinessProblems(settings(), reader(29, classes), false)).problems).toEqual([
            "jenkins-k8s:admissionPolicy = true: the cluster runs Kubernetes v1.29.2, and ValidatingAdmissionPolicy is served (GA) from 1.30; upgrade the cluster, or set admissionPolicy to false (the tiers then rest on Pod Security and RBAC alone)",
        ]);
        expect(
            (await readinessProblems(settings({ admissionPolicy: "false" }), reader(29, classes), false)).problems,
        ).toEqual([]);
    });

    it("a default PriorityClass above agentMaxPriority would have every agent pod refused: named, with the value to set", async () => {
        const classes = [{ name: "standard", annotations: DEFAULT }];
        expect(
            (await readinessProblems(settings(), reader(35, classes, { name: "normal", value: 1000 }), false)).problems,
        ).toEqual([
            "jenkins-k8s:agentMaxPriority = 0: the cluster's default PriorityClass normal gives every pod that names none 1000, so the admission policy would refuse every agent pod; set agentMaxPriority to 1000",
        ]);
        const raised = settings({ agentMaxPriority: "1000" });
        expect(
            (await readinessProblems(raised, reader(35, classes, { name: "normal", value: 1000 }), false)).problems,
        ).toEqual([]);
        const unreadable = { ...reader(35, classes), defaultPriority: () => Promise.resolve(undefined) };
        expect((await readinessProblems(settings(), unreadable, false)).warnings).toEqual([
            "the cluster's default PriorityClass was not checked: the deployer may not list PriorityClasses; if one has globalDefault and a value above jenkins-k8s:agentMaxPriority = 0, every agent pod is refused",
        ]);
        // Without the admission policy nothing holds the priority, so nothing is asked.
        const off = settings({ admissionPolicy: "false" });
        expect(await readinessProblems(off, reader(35, classes, { name: "normal", value: 1000 }), false)).toEqual({
            problems: [],
            warnings: [],
        });
    });

    it("a deployer that may not list StorageClasses: a warning, not a refusal", async () => {
        expect(await readinessProblems(settings(), reader(35, undefined), false)).toEqual({
            problems: [],
            warnings: [
                "the cluster's StorageClasses were not checked: the deployer may not list them; a default StorageClass must exist, or Jenkins home's claim stays Pending",
            ],
        });
    });

    it("with reads off, or offline, it says what it did not check", async () => {
        expect(
            (await readinessProblems(settings({ adoptKeptObjects: "false" }), reader(29, []), false)).warnings,
        ).toEqual([
            "the cluster's Kubernetes version and StorageClasses were not checked: jenkins-k8s:adoptKeptObjects is false, so the preview reads nothing",
        ]);
        const offline = { ...reader(35, []), serverVersion: () => Promise.resolve(null) };
        expect((await readinessProblems(settings(), offline, false)).warnings).toEqual([
            "the cluster's Kubernetes version and StorageClasses were not checked: no cluster was read (an offline render)",
        ]);
    });

    describe("the deploy namespaces the stack does not create", () => {
        const deployValues = {
            deployNamespaces: ["production", "staging"],
            podTemplates: [
                { name: "build", labels: ["build"] },
                { name: "deploy", labels: ["deploy"], deploy: true },
            ],
        };
        const deploy = (level?: string) =>
            settings({ ...deployValues, ...(level ? { deployNamespacePodSecurity: level } : {}) });
        const classes = [{ name: "standard", annotations: DEFAULT }];
        const enforcing = (level: string) => ({ "pod-security.kubernetes.io/enforce": level });

        it("one that does not exist is refused, naming it and both ways out", async () => {
            const r = await readinessProblems(
                deploy(),
                reader(35, classes, null, { production: enforcing("restricted") }),
                false,
            );
            expect(r.problems).toEqual([
                'jenkins-k8s:deployNamespaces = ["production","staging"]: the cluster has no namespace staging; create it (labelled pod-security.kubernetes.io/enforce=baseline), or set jenkins-k8s:createDeployNamespaces to true',
            ]);
        });

        it("one that enforces less Pod Security than deployNamespacePodSecurity, or none, is warned about: deploy rights there are root on a node", async () => {
            const r = await readinessProblems(
                deploy(),
                reader(35, classes, null, { production: enforcing("privileged"), staging: {} }),
                false,
            );
            expect(r.problems).toEqual([]);
            expect(r.warnings).toEqual([
                "deploy namespace production enforces Pod Security privileged: jobs allowed to deploy there could run pods that are root on a node. Label it pod-security.kubernetes.io/enforce=baseline (jenkins-k8s:deployNamespacePodSecurity).",
                "deploy namespace staging enforces Pod Security privileged (no label): jobs allowed to deploy there could run pods that are root on a node. Label it pod-security.kubernetes.io/enforce=baseline (jenkins-k8s:deployNamespacePodSecurity).",
            ]);
            const labelled = { production: enforcing("baseline"), staging: enforcing("restricted") };
            expect(await readinessProblems(deploy(), reader(35, classes, null, labelled), false)).toEqual({
                problems: [],
                warnings: [],
            });
            expect(
                (await readinessProblems(deploy("restricted"), reader(35, classes, null, labelled), false)).warnings,
            ).toEqual([
                expect.stringMatching(/^deploy namespace production enforces Pod Security baseline: .*=restricted/),
            ]);
        });

        it("one being deleted is refused as missing: the bindings there would fail", async () => {
            const r = reader(35, classes, null, { production: enforcing("baseline"), staging: enforcing("baseline") });
            const read = r.read;
            r.read = async (o) => {
                const found = await read(o);
                return found && o.name === "staging" ? { ...found, deleting: true } : found;
            };
            expect((await readinessProblems(deploy(), r, false)).problems).toEqual([
                expect.stringContaining("the cluster has no namespace staging (it is being deleted); create it"),
            ]);
        });

        it("without reads (adoptKeptObjects false, or offline) the warning says they were not checked", async () => {
            const off = await readinessProblems(
                settingsOf({ ...deployValues, adoptKeptObjects: "false" }),
                reader(35, classes),
                false,
            );
            expect(off).toEqual({
                problems: [],
                warnings: [
                    "the cluster's Kubernetes version and StorageClasses and the deploy namespaces (production, staging: that they exist and enforce Pod Security baseline) were not checked: jenkins-k8s:adoptKeptObjects is false, so the preview reads nothing",
                ],
            });
        });

        it("none is read when the stack creates them", async () => {
            const s = settings({
                deployNamespaces: ["production"],
                createDeployNamespaces: true,
                podTemplates: [{ name: "deploy", labels: ["deploy"], deploy: true }],
            });
            expect(await readinessProblems(s, reader(35, classes), false)).toEqual({ problems: [], warnings: [] });
        });
    });
});

describe("a refused preview", () => {
    it("still prints the warnings found so far: the user sees them with the refusal, not after fixing it", async () => {
        // The prod stack's deploy namespaces, one of them enforcing nothing, on a cluster without a default class.
        const cluster = {
            ...EMPTY_CLUSTER,
            serverVersion: () => Promise.resolve({ major: 1, minor: 35, gitVersion: "v1.35.0" }),
            storageClasses: () => Promise.resolve([]),
            defaultPriority: () => Promise.resolve(undefined),
            read: (o: { kind: string; name: string }): Promise<Live | undefined> => {
                const labels: Record<string, Record<string, string>> = {
                    production: { "pod-security.kubernetes.io/enforce": "baseline" },
                    staging: {},
                };
                const found = o.kind === "Namespace" ? labels[o.name] : undefined;
                return Promise.resolve(found && { labels: found, uid: "u", deleting: false });
            },
        };
        const { result, warnings } = await warningsOf(() =>
            evaluate(readStackConfig("prod"), { stack: "prod", cluster }).then(
                () => undefined,
                (err: unknown) => err,
            ),
        );
        expect(result).toBeInstanceOf(ConfigError);
        expect((result as ConfigError).problems).toEqual([
            expect.stringContaining('jenkins-k8s:storageClass = "csi-rbd": the cluster has no such StorageClass'),
        ]);
        expect(warnings).toEqual(
            expect.arrayContaining([
                expect.stringMatching(/^deploy namespace staging enforces Pod Security privileged \(no label\)/),
                expect.stringMatching(/^the cluster's default PriorityClass was not checked/),
            ]),
        );
    });
});
