// The cluster tier: every stack's render applied to a real API server (KUBECONFIG), and every
// security and behaviour claim of the README asked of the real thing: admission (Pod Security,
// RBAC), the controllers (a Deployment goes Available, a claim binds, endpoints get ready), and
// what each ServiceAccount may do, asked by SubjectAccessReview as the account itself.
//   npm run test:cluster            (CLUSTER_STACKS=dev to run one stack)
// Long by design: the tests are declared per stack from its render, so one file walks a stack from
// apply to hostile pods; the client, the plugin's pod model and the expectations live beside it.
import { createHash } from "crypto";
import { parseQuantity } from "../../config/checks";
import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse } from "yaml";
import { Account, Cluster, describe as what, KubeObject, Refused, userOf, waitFor } from "./kube";
import {
    BACKUP_NEEDS,
    REAPER_NEEDS,
    grants,
    grantsOf,
    LAUNCHER_NEEDS,
    minus,
    NEVER,
    NEVER_CLUSTER,
    RELOAD_REPORT_NEEDS,
    show,
} from "./access";
import { runPodScript, runReloadScript, withLoopbackServer } from "./reloadScript";
import { agentPod } from "./agentPod";
import { launcherOf, podAccountOf, same } from "./launchers";
import { namespacesOf, StackFixtures, tagged } from "./fixtures";
import {
    cloudGrants,
    clouds,
    configOf,
    namedSecrets,
    ofKind,
    readRender,
    Render,
    stacksUnderTest,
    VARIANTS,
} from "./renders";
import { callsAt, runJobDsl } from "../jobdsl/runner";
import { KEPT_BY } from "../../config/metadata";
import { RESOURCES_OUT } from "../../tools/render";
import { ROOT } from "../../tools/stackConfig";

type Obj = Record<string, any>;

/** How long to wait for a controller to act; a cluster whose kubelets pull and run images needs more. */
const WAIT_MS = Number(process.env.CLUSTER_WAIT_SECONDS ?? 120) * 1000;
jest.setTimeout(WAIT_MS + 60_000);

/**
 * Escapes or warnings the real API server shows today, as `<stack> <namespace>: <probe>` or
 * `<stack> objects` / `<stack> agent pod <template>`: each a known failure (test.failing), so CI
 * stays green while the defect stays visible, and its fix turns it into an ordinary test (a known
 * failure that starts passing fails the run). Empty since the agent trust tiers (#11).
 */
const KNOWN_FAILURES = new Set<string>([]);

/** A test, or a known failure (named so in the output, where jest marks it passed while it fails). */
const known =
    (id: string) =>
    (name: string, fn: () => Promise<void>): void =>
        KNOWN_FAILURES.has(id) ? test.failing(`KNOWN FAILURE: ${name}`, fn) : test(name, fn);

/** Namespaces every check of "nowhere else" asks about, besides the stack's own. */
const ELSEWHERE = ["default", "kube-system"];

/** A pod that meets the restricted profile, so that a probe's one hostile field is what is judged. */
function probePod(namespace: string, name: string): Obj {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace, labels: { "jenkins-k8s.test/probe": "true" } },
        spec: {
            automountServiceAccountToken: false,
            // As the plugin makes every agent pod: never restarted, with a deadline.
            restartPolicy: "Never",
            activeDeadlineSeconds: 600,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
                {
                    name: "probe",
                    image: "registry.k8s.io/pause:3.10",
                    resources: { limits: { cpu: "10m", memory: "16Mi" } },
                    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                },
            ],
        },
    };
}

/** The hostile fields a pipeline's own pod template can ask for. */
const PROBES: { what: string; make: (pod: Obj) => void }[] = [
    {
        what: "a privileged container",
        make: (pod) => {
            pod.spec.containers[0].securityContext = { privileged: true };
        },
    },
    {
        what: "a hostPath mount of /",
        make: (pod) => {
            pod.spec.volumes = [{ name: "host", hostPath: { path: "/" } }];
            pod.spec.containers[0].volumeMounts = [{ name: "host", mountPath: "/host" }];
        },
    },
    {
        what: "the host's network and PID namespaces",
        make: (pod) => {
            pod.spec.hostNetwork = true;
            pod.spec.hostPID = true;
        },
    },
];

let cluster: Cluster;
beforeAll(async () => {
    cluster = await Cluster.connect();
});

for (const stack of stacksUnderTest()) {
    const render = readRender(stack);
    describeStack(stack, render);
}

function describeStack(stack: string, render: Render): void {
    const deployment = ofKind(render, "Deployment").find((d) => d.metadata.name === "jenkins")!;
    const controllerAccount: Account = {
        namespace: deployment.metadata.namespace!,
        name: deployment.spec.template.spec.serviceAccountName,
    };
    const controllerSelector = Object.entries(deployment.spec.selector.matchLabels as Record<string, string>)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    const accounts: Account[] = ofKind(render, "ServiceAccount").map((sa) => ({
        namespace: sa.metadata.namespace!,
        name: sa.metadata.name,
    }));
    const bindings = [...ofKind(render, "RoleBinding"), ...ofKind(render, "ClusterRoleBinding")];
    const boundTo = (a: Account) =>
        bindings.filter((b) =>
            (b.subjects ?? []).some(
                (s: Obj) => s.kind === "ServiceAccount" && s.name === a.name && s.namespace === a.namespace,
            ),
        );
    const stackNamespaces = namespacesOf(render);
    const backupJob = ofKind(render, "CronJob").find((c) => c.metadata.name.endsWith("-backup"));
    const reaperJob = ofKind(render, "CronJob").find((c) => c.metadata.name.endsWith("-agent-reaper"));
    const reaperAccount: Account | undefined = reaperJob && {
        namespace: reaperJob.metadata.namespace!,
        name: reaperJob.spec.jobTemplate.spec.template.spec.serviceAccountName,
    };
    const backupAccount: Account | undefined = backupJob && {
        namespace: backupJob.metadata.namespace!,
        name: backupJob.spec.jobTemplate.spec.template.spec.serviceAccountName,
    };
    const everywhere = [...stackNamespaces, ...ELSEWHERE];
    // Each cloud with the account Jenkins launches its pods as, and the account its pods run as.
    const cloudList = clouds(render.casc).map((cloud) => ({
        cloud,
        launcher: launcherOf(render, cloud),
        podAccount: podAccountOf(cloud),
    }));
    const launchers = cloudList.map((c) => c.launcher).filter((a, i, all) => all.findIndex((b) => same(a, b)) === i);
    const enforces = (ns: string) =>
        render.objects.find((o) => o.kind === "Namespace" && o.metadata.name === ns)?.metadata.labels?.[
            "pod-security.kubernetes.io/enforce"
        ];
    /** Whether `launcher` is meant to create pods in `ns` at all, and if so the cloud that does. */
    const cloudOf = (launcher: Account, ns: string) =>
        cloudList.find((c) => same(c.launcher, launcher) && c.cloud.namespace === ns);
    let fixtures: StackFixtures;
    /** The controller pod that is running now (not one being replaced). */
    const runningController = async () =>
        (
            await cluster.api(cluster.k8s.CoreV1Api).listNamespacedPod({
                namespace: deployment.metadata.namespace!,
                labelSelector: controllerSelector,
            })
        ).items.filter((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp)[0];

    describe(`the ${stack} stack on a real API server`, () => {
        beforeAll(async () => {
            fixtures = new StackFixtures(cluster, render, render.deployLevel);
            await fixtures.prepare();
        });
        afterAll(async () => {
            await fixtures?.cleanup();
        });

        // Rejections and warnings, object by object: the apply runs once, two tests judge it.
        const rejected: string[] = [];
        const warned: string[] = [];
        test("accepts every object by server-side apply, dry run then for real", async () => {
            for (const o of render.objects) {
                for (const dryRun of [true, false]) {
                    const at = `${what(o)}${dryRun ? " (dry run)" : ""}`;
                    try {
                        const { warnings } = await cluster.apply(tagged(o), { dryRun });
                        warned.push(...warnings.map((w) => `${at}: ${w}`));
                    } catch (err) {
                        rejected.push(`${at}: ${(err as Error).message}`);
                        break;
                    }
                }
            }
            expect(rejected).toEqual([]);
        });
        known(`${stack} objects`)("gets no warning from the API server for any object", () => {
            expect(warned).toEqual([]);
            return Promise.resolve();
        });

        test("binds Jenkins home's claim", async () => {
            for (const claim of ofKind(render, "PersistentVolumeClaim")) {
                await waitFor(`${what(claim)} to be Bound`, WAIT_MS, async () => {
                    const phase = (await cluster.read(claim))?.status?.phase;
                    return phase === "Bound" || `phase ${phase}`;
                });
            }
        });

        test("makes the controller Deployment Available, its pod Running on a node", async () => {
            await waitFor(`${what(deployment)} to be Available`, WAIT_MS, async () => {
                const live = await cluster.read(deployment);
                const available = (live?.status?.conditions ?? []).find((c: Obj) => c.type === "Available");
                return (
                    (available?.status === "True" && live?.status?.readyReplicas === 1) ||
                    JSON.stringify(live?.status ?? {})
                );
            });
        });

        test("gives every Service ready endpoints on its ports", async () => {
            const discovery = cluster.api(cluster.k8s.DiscoveryV1Api);
            for (const svc of ofKind(render, "Service")) {
                await waitFor(`${what(svc)} to have ready endpoints`, WAIT_MS, async () => {
                    const slices = await discovery.listNamespacedEndpointSlice({
                        namespace: svc.metadata.namespace!,
                        labelSelector: `kubernetes.io/service-name=${svc.metadata.name}`,
                    });
                    const ports = new Set(slices.items.flatMap((s) => (s.ports ?? []).map((p) => p.name)));
                    const ready = slices.items.some((s) => s.endpoints.some((e) => e.conditions?.ready === true));
                    const missing = (svc.spec.ports as Obj[]).filter((p) => !ports.has(p.name)).map((p) => p.name);
                    return (ready && missing.length === 0) || `ready: ${ready}, missing ports: ${missing.join(", ")}`;
                });
            }
        });

        test("records a JCasC reload JCasC refused as a Warning Event on the controller pod, with the controller's own account", async () => {
            const namespace = deployment.metadata.namespace!;
            const core = cluster.api(cluster.k8s.CoreV1Api);
            const pod = await runningController();
            const scripts = ofKind(render, "ConfigMap").find((c) => c.data?.["casc-reload.sh"] !== undefined)!;
            const message = 'Failed to reload configuration: Invalid configuration elements: "systemMesage"';
            const run = await runReloadScript({
                scripts: scripts.data,
                apiServer: cluster.server,
                token: await cluster.tokenFor(controllerAccount),
                caPem: cluster.caPem(),
                pod: { name: pod.metadata!.name!, namespace, uid: pod.metadata!.uid! },
                // JCasC 2115's answer to a document it refuses: HTTP 200 and an error body.
                jenkins: { status: 200, body: JSON.stringify({ status: "error", message }) },
            });
            expect(run.status).toBe(0);
            expect(run.stderr).not.toContain("could not record");
            expect(run.stderr).toContain(`JCasC refused the document (HTTP 200): ${message.replace(/"/g, '\\"')}`);
            const events = await core.listNamespacedEvent({
                namespace,
                fieldSelector: `involvedObject.name=${pod.metadata!.name},reason=CascReloadFailed`,
            });
            expect(events.items.map((e) => [e.type, e.source?.component, e.involvedObject.uid])).toEqual([
                ["Warning", "casc-reload", pod.metadata!.uid],
            ]);
            expect(events.items[0].message).toContain("JCasC refused the document");
        });

        test("records each plugin install as an Event on the controller pod, with the controller's own account: installed, then booted on the previous set", async () => {
            const namespace = deployment.metadata.namespace!;
            const core = cluster.api(cluster.k8s.CoreV1Api);
            const pod = await runningController();
            const scripts = ofKind(render, "ConfigMap").find((c) => c.data?.["install-plugins.sh"] !== undefined)!;
            const init = (deployment.spec.template.spec.initContainers as Obj[]).find(
                (c) => c.name === "install-plugins",
            )!;
            const lockFile = (init.env as Obj[]).find((e) => e.name === "LOCK_FILE")!.value as string;
            // The pod tells the init container who it is, as it tells the sidecar.
            expect((init.env as Obj[]).filter((e) => e.valueFrom?.fieldRef).map((e) => e.name)).toEqual([
                "POD_NAME",
                "POD_NAMESPACE",
                "POD_UID",
            ]);
            // The deployed script, on a lock of two archives a loopback source serves (the stack's
            // own lock holds the checksums of archives no test can download).
            const archives: Record<string, string> = {
                "plugins/a/1/a.hpi": "archive a 1\n",
                "plugins/b/2/b.hpi": "archive b 2\n",
            };
            const lock = (extra = "") =>
                Object.entries(archives)
                    .map(
                        ([p, text]) =>
                            `${p.split("/")[1]} ${p.split("/")[2]} ${createHash("sha256").update(text).digest("hex")} ${p}`,
                    )
                    .join("\n") + `\n${extra}`;
            const token = await cluster.tokenFor(controllerAccount);
            const home = mkdtempSync(path.join(tmpdir(), "jenkins-home-"));
            try {
                const install = (text: string) =>
                    withLoopbackServer(
                        (req, res) => {
                            const body = archives[req.url!.replace(/^\//, "")];
                            res.writeHead(body === undefined ? 404 : 200).end(body);
                        },
                        (source) =>
                            runPodScript({
                                scripts: { ...scripts.data, [path.basename(lockFile)]: text },
                                script: "install-plugins.sh",
                                apiServer: cluster.server,
                                token,
                                caPem: cluster.caPem(),
                                pod: { name: pod.metadata!.name!, namespace, uid: pod.metadata!.uid! },
                                env: {
                                    LOCK_FILE: `$DIR/scripts/${path.basename(lockFile)}`,
                                    JENKINS_HOME: home,
                                    PLUGIN_SOURCES: source,
                                    ATTEMPTS: "1",
                                },
                            }),
                    );
                const first = await install(lock());
                expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: "" });
                const second = await install(lock(`c 3 ${"0".repeat(64)} plugins/c/3/c.hpi\n`));
                expect(second.status).toBe(0);
                expect(second.stderr).not.toContain("could not record");
                expect(second.stderr).toContain("booting with the previously installed plugins");
            } finally {
                rmSync(home, { recursive: true, force: true });
            }
            const events = await core.listNamespacedEvent({
                namespace,
                fieldSelector: `involvedObject.name=${pod.metadata!.name},source=install-plugins`,
            });
            // Both runs' Events, recorded within a second (timestamps have seconds): as a set.
            const seen = events.items.map((e) => [e.type, e.reason, e.involvedObject.uid]);
            expect(seen).toEqual(
                expect.arrayContaining([
                    ["Normal", "PluginsInstalled", pod.metadata!.uid],
                    ["Warning", "PluginInstallFailed", pod.metadata!.uid],
                ]),
            );
        });

        if (backupJob && backupAccount) {
            test("the backup CronJob's script, with its own account, snapshots the home claim and keeps the newest ready ones", async () => {
                const namespace = backupAccount.namespace;
                const container = backupJob.spec.jobTemplate.spec.template.spec.containers[0];
                const env = Object.fromEntries(
                    (container.env as Obj[])
                        .filter((e) => e.value !== undefined)
                        .map((e) => [e.name, e.value as string]),
                );
                const scripts = ofKind(render, "ConfigMap").find((c) => c.data?.["backup-home.sh"] !== undefined)!;
                const snapshot = (name: string): KubeObject => ({
                    apiVersion: "snapshot.storage.k8s.io/v1",
                    kind: "VolumeSnapshot",
                    metadata: {
                        name,
                        namespace,
                        labels: { "jenkins-k8s/snapshot": "scheduled", [KEPT_BY]: env.KEPT_BY },
                    },
                    spec: { source: { persistentVolumeClaimName: env.CLAIM } },
                });
                const older = ["20200101000000", "20200102000000", "20200103000000"].map((t) =>
                    snapshot(`${env.PREFIX}-scheduled-${t}`),
                );
                const custom = cluster.api(cluster.k8s.CustomObjectsApi);
                for (const o of older) {
                    await cluster.apply(tagged(o));
                    // As a CSI driver would report them: ready to use (no driver runs here).
                    await custom.patchNamespacedCustomObjectStatus({
                        group: "snapshot.storage.k8s.io",
                        version: "v1",
                        namespace,
                        plural: "volumesnapshots",
                        name: o.metadata.name,
                        body: [{ op: "add", path: "/status", value: { readyToUse: true } }],
                    });
                }
                const list = async () =>
                    (
                        (
                            await cluster.api(cluster.k8s.CustomObjectsApi).listNamespacedCustomObject({
                                group: "snapshot.storage.k8s.io",
                                version: "v1",
                                namespace,
                                plural: "volumesnapshots",
                                labelSelector: `${KEPT_BY}=${env.KEPT_BY}`,
                            })
                        ).items as Obj[]
                    ).map((o) => o.metadata.name as string);
                try {
                    const run = await runPodScript({
                        scripts: scripts.data,
                        script: "backup-home.sh",
                        apiServer: cluster.server,
                        token: await cluster.tokenFor(backupAccount),
                        caPem: cluster.caPem(),
                        pod: { name: "backup", namespace, uid: "" },
                        // The new one never becomes ready here (no driver): do not wait for it.
                        env: { ...env, NAMESPACE: namespace, RETENTION: "2", MAX_AGE_DAYS: "0", WAIT_SECONDS: "0" },
                    });
                    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
                    const made = /created the VolumeSnapshot \S+\/(\S+) of claim/.exec(run.stdout)?.[1];
                    expect(made).toMatch(new RegExp(`^${env.PREFIX}-scheduled-\\d{14}$`));
                    // Two ready ones stay, and the one just taken (not ready, so not counted): the
                    // oldest goes.
                    expect((await list()).sort()).toEqual(
                        [older[1].metadata.name, older[2].metadata.name, made].sort(),
                    );
                } finally {
                    for (const name of await list()) await cluster.delete(snapshot(name));
                }
            });
        }

        // Asked for in the stack file, or not: the default must leave drains free.
        const budget = String(render.own["jenkins-k8s:disruptionBudget"]) === "true";
        test(
            budget
                ? "refuses to evict the controller while its PodDisruptionBudget stands (disruptionBudget: true)"
                : "lets a node drain evict the controller (no PodDisruptionBudget by default), and brings it back",
            async () => {
                const core = cluster.api(cluster.k8s.CoreV1Api);
                const selector = controllerSelector;
                const namespace = deployment.metadata.namespace!;
                expect(ofKind(render, "PodDisruptionBudget").length > 0).toBe(budget);
                const [pod] = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
                const name = pod.metadata!.name!;
                if (budget) {
                    await expect(cluster.evict({ name, namespace })).rejects.toMatchObject({ code: 429 });
                    return;
                }
                await cluster.evict({ name, namespace });
                await waitFor(`a new controller pod after evicting ${name}`, WAIT_MS, async () => {
                    const pods = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
                    const fresh = pods.filter((p) => p.metadata!.name !== name && p.status?.phase === "Running");
                    return fresh.length === 1 || pods.map((p) => `${p.metadata!.name}: ${p.status?.phase}`).join(", ");
                });
            },
        );

        for (const ds of ofKind(render, "DaemonSet")) {
            test(`rolls out the DaemonSet ${ds.metadata.name} on every node`, async () => {
                await waitFor(`${what(ds)} to be ready on every node`, WAIT_MS, async () => {
                    const st = (await cluster.read(ds))?.status ?? {};
                    return (
                        (st.desiredNumberScheduled > 0 && st.numberReady === st.desiredNumberScheduled) ||
                        JSON.stringify(st)
                    );
                });
            });
        }

        // With pre-pulling on, a template that tolerates a taint (its builds run on such nodes) must
        // have its images pulled on a node that carries it; a pre-puller that does not tolerate
        // the taint stays off. Declared from the JCasC's templates, not from the DaemonSets.
        const prePullers = ofKind(render, "DaemonSet").filter((d) =>
            d.metadata.name.startsWith("jenkins-agent-images"),
        );
        const tolerating = (prePullers.length > 0 ? clouds(render.casc).flatMap((c) => c.templates ?? []) : []).filter(
            (t: Obj) => (parse(t.yaml ?? "")?.spec?.tolerations ?? []).length > 0,
        );
        for (const template of tolerating) {
            test(`pre-pulls template ${template.name}'s images on a node tainted as it tolerates, and no other pre-puller lands there`, async () => {
                const tolerations: Obj[] = parse(template.yaml).spec.tolerations;
                const selector: Record<string, string> = Object.fromEntries(
                    String(template.nodeSelector ?? "")
                        .split(",")
                        .filter(Boolean)
                        .map((kv) => kv.split("=") as [string, string]),
                );
                const node = tagged({
                    apiVersion: "v1",
                    kind: "Node",
                    metadata: {
                        name: `tier-tainted-${template.name}`.slice(0, 63),
                        annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
                        labels: {
                            type: "kwok",
                            "kubernetes.io/hostname": `tier-tainted-${template.name}`,
                            ...selector,
                        },
                    },
                    spec: {
                        taints: tolerations.map((t) => ({
                            key: t.key,
                            ...(t.operator === "Exists" ? {} : { value: t.value }),
                            effect: t.effect ?? "NoSchedule",
                        })),
                    },
                    status: {
                        allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
                        capacity: { cpu: "32", memory: "256Gi", pods: "110" },
                    },
                });
                const images: string[] = (template.containers ?? []).map((c: Obj) => c.image);
                const core = cluster.api(cluster.k8s.CoreV1Api);
                const podsThere = async () =>
                    (
                        await core.listNamespacedPod({
                            namespace: prePullers[0].metadata.namespace!,
                            fieldSelector: `spec.nodeName=${node.metadata.name}`,
                        })
                    ).items;
                await cluster.create(node);
                try {
                    await waitFor(
                        `a pre-puller of ${images.join(", ")} Running on ${node.metadata.name}`,
                        WAIT_MS,
                        async () => {
                            const pods = await podsThere();
                            const pulling = pods.filter(
                                (p) =>
                                    p.status?.phase === "Running" &&
                                    images.every((i) => (p.spec?.initContainers ?? []).some((c) => c.image === i)),
                            );
                            return pulling.length > 0 || `pods there: ${pods.map((p) => p.metadata?.name).join(", ")}`;
                        },
                    );
                    const untolerating = prePullers
                        .filter((d) => (d.spec.template.spec.tolerations ?? []).length === 0)
                        .map((d) => d.spec.selector.matchLabels["app.kubernetes.io/name"]);
                    const strays = (await podsThere()).filter((p) =>
                        untolerating.includes(p.metadata?.labels?.["app.kubernetes.io/name"]),
                    );
                    expect(strays.map((p) => p.metadata?.name)).toEqual([]);
                } finally {
                    await cluster.delete(node);
                    await cluster.gone(node);
                }
            });
        }

        describe("RBAC, asked of the API server as each ServiceAccount", () => {
            // A genericEphemeralVolume workspace is created by Kubernetes, so no cloud needs claim rights.
            for (const { cloud, launcher } of cloudList) {
                for (const need of LAUNCHER_NEEDS) {
                    test(`YES ${userOf(launcher)} may ${show(need)} in ${cloud.namespace} (cloud ${cloud.name})`, async () => {
                        expect(await cluster.can(launcher, { ...need, namespace: cloud.namespace })).toBe(true);
                    });
                }
            }
            // Where the stack binds an account to a ClusterRole it chose (deployClusterRole), the
            // account holds that role's rights by design; the exact test below checks those.
            const delegated = (a: Account, ns: string) =>
                boundTo(a).some((b) => b.roleRef.kind === "ClusterRole" && b.metadata.namespace === ns);
            for (const account of accounts) {
                for (const ns of everywhere.filter((n) => !delegated(account, n))) {
                    test(`NO  ${userOf(account)} may not read secrets, mint tokens, attach, bind or escalate in ${ns}`, async () => {
                        const allowed: string[] = [];
                        for (const a of NEVER) {
                            if (await cluster.can(account, { ...a, namespace: ns })) {
                                allowed.push(show(a));
                            }
                        }
                        expect(allowed).toEqual([]);
                    });
                }
                test(`NO  ${userOf(account)} has nothing cluster-scoped`, async () => {
                    const allowed: string[] = [];
                    for (const a of NEVER_CLUSTER) {
                        if (await cluster.can(account, a)) {
                            allowed.push(show(a));
                        }
                    }
                    expect(allowed).toEqual([]);
                });
            }

            // The clouds that do not use the controller's own account use a token Jenkins reads
            // from a Secret: the token controller must fill it, and it must be that account's.
            for (const secret of ofKind(render, "Secret").filter(
                (x) => x.type === "kubernetes.io/service-account-token",
            )) {
                const account = secret.metadata.annotations?.["kubernetes.io/service-account.name"];
                test(`the token controller fills ${what(secret)} with a token that authenticates as ${account}`, async () => {
                    let token = "";
                    await waitFor(`${what(secret)} to hold a token`, WAIT_MS, async () => {
                        token = Buffer.from((await cluster.read(secret))?.data?.token ?? "", "base64").toString();
                        return token !== "" || "no token yet";
                    });
                    const who = await cluster.whoIs(token);
                    expect(who.username).toBe(`system:serviceaccount:${secret.metadata.namespace}:${account}`);
                });
            }

            // Exactly: every rule the account holds in a namespace, less what any ServiceAccount
            // holds there (the cluster's own grants to all accounts), must be what it needs there:
            // the plugin's needs where it launches a cloud's pods, the chosen ClusterRole where
            // the stack delegates one, nothing anywhere else.
            const expected = async (account: Account, ns: string): Promise<Set<string>> => {
                const want = new Set<string>();
                if (same(account, controllerAccount) && ns === controllerAccount.namespace) {
                    grantsOf(RELOAD_REPORT_NEEDS).forEach((g) => want.add(g));
                }
                if (backupAccount && same(account, backupAccount) && ns === backupAccount.namespace) {
                    grantsOf(BACKUP_NEEDS).forEach((g) => want.add(g));
                }
                if (reaperAccount && same(account, reaperAccount) && cloudList.some((c) => c.cloud.namespace === ns)) {
                    grantsOf(REAPER_NEEDS).forEach((g) => want.add(g));
                }
                const launched = cloudOf(account, ns);
                if (launched) {
                    grantsOf(LAUNCHER_NEEDS).forEach((g) => want.add(g));
                }
                for (const b of boundTo(account).filter(
                    (x) => x.metadata.namespace === ns && x.roleRef.kind === "ClusterRole",
                )) {
                    const role = await cluster.read({
                        apiVersion: "rbac.authorization.k8s.io/v1",
                        kind: "ClusterRole",
                        metadata: { name: b.roleRef.name },
                    });
                    grants(role?.rules ?? []).forEach((g) => want.add(g));
                }
                return want;
            };
            for (const account of accounts) {
                test(`${userOf(account)} holds exactly what it needs in each namespace, nothing elsewhere`, async () => {
                    const problems: string[] = [];
                    for (const ns of everywhere) {
                        const nobody = grants(
                            await cluster.rules({ namespace: ns, name: "jenkins-k8s-tier-nobody" }, ns),
                        );
                        const held = new Set(minus(grants(await cluster.rules(account, ns)), nobody));
                        const want = await expected(account, ns);
                        const extra = minus(held, want);
                        const lacking = minus(want, held);
                        if (extra.length > 0) {
                            problems.push(`${ns}: more than it needs: ${extra.join(", ")}`);
                        }
                        if (lacking.length > 0) {
                            problems.push(`${ns}: lacks ${lacking.join(", ")}`);
                        }
                    }
                    expect(problems).toEqual([]);
                });
            }
        });

        describe("agent pods, as the Kubernetes plugin creates them from each JCasC template", () => {
            /**
             * Creates the pod (and a dynamicPVC claim, as the plugin would) as `as`, waits for
             * Running, deletes it as `as`. A workspace claim gets a volume to bind (no provisioner
             * here); Kubernetes makes a genericEphemeralVolume claim itself.
             */
            const launch = async (cloud: Obj, template: Obj, as: Account, warned: string[]) => {
                const name = `${template.name}-tier${Date.now().toString(36).slice(-5)}`.slice(0, 63);
                const { pod, claim } = agentPod(cloud, template, name);
                const ns = pod.metadata.namespace;
                if (claim) {
                    await fixtures.volumeForClaim(ns, claim.name, claim.storage, claim.accessModes);
                }
                if (claim && claim.createdBy !== "kubernetes") {
                    const claimObject = {
                        apiVersion: "v1",
                        kind: "PersistentVolumeClaim",
                        metadata: { name: claim.name, namespace: ns, labels: pod.metadata.labels },
                        spec: {
                            accessModes: claim.accessModes,
                            resources: { requests: { storage: claim.storage } },
                            ...(claim.storageClassName ? { storageClassName: claim.storageClassName } : {}),
                        },
                    };
                    warned.push(...(await cluster.create(claimObject, { as })).warnings);
                }
                const created = await cluster.create(pod as KubeObject, { as });
                warned.push(...created.warnings);
                // The tier's quota counts it: the API server's admission adds its size to status.used.
                const quota = ofKind(render, "ResourceQuota").find((q) => q.metadata.namespace === ns);
                if (quota) {
                    const live = await cluster.read(quota);
                    const used: Obj = live?.status?.used ?? {};
                    const limits = (created.object.spec.containers as Obj[]).reduce(
                        (sum, c) => sum + parseQuantity(c.resources?.limits?.cpu ?? "0"),
                        0,
                    );
                    expect(Number(used.pods)).toBeGreaterThanOrEqual(1);
                    expect(parseQuantity(used["limits.cpu"])).toBeGreaterThanOrEqual(limits);
                    expect(parseQuantity(used["limits.cpu"])).toBeLessThanOrEqual(
                        parseQuantity(live!.status.hard["limits.cpu"]),
                    );
                }
                await waitFor(`agent pod ${ns}/${name} to be Running`, WAIT_MS, async () => {
                    const live = await cluster.read(pod as KubeObject);
                    return (
                        (live?.status?.phase === "Running" && !!live.spec?.nodeName) || `phase ${live?.status?.phase}`
                    );
                });
                expect(await cluster.delete(pod as KubeObject, { as })).toBe(true);
                await cluster.gone(pod as KubeObject);
            };

            for (const { cloud, launcher } of cloudList) {
                const templates = (cloud.templates ?? []).filter((t: Obj) => t.name !== cloud.defaultsProviderTemplate);
                for (const template of templates) {
                    const warned: string[] = [];
                    test(`${cloud.name}/${template.name}: admitted as ${userOf(launcher)}, Running on a node, deleted by it`, async () => {
                        await launch(cloud, template, launcher, warned);
                    });
                    known(`${stack} agent pod ${template.name}`)(
                        `${cloud.name}/${template.name}: gets no warning from the API server`,
                        () => {
                            expect(warned).toEqual([]);
                            return Promise.resolve();
                        },
                    );
                }
                if (cloud.restrictedPssSecurityContext === true) {
                    // What a Jenkinsfile's `podTemplate(containers: [containerTemplate(name: 'build',
                    // image: ..., command: 'cat', ttyEnabled: true)])` gives the plugin: no
                    // securityContext, no ServiceAccount, no yaml. The cloud fills them in.
                    test(`${cloud.name}: a pipeline's own pod with no securityContext is admitted and Running, with no warning`, async () => {
                        const warned: string[] = [];
                        const pipelineTemplate = {
                            name: "pipeline",
                            label: `pipeline-${cloud.name}`,
                            containers: [
                                {
                                    name: "build",
                                    image: "registry.k8s.io/pause:3.10",
                                    command: "cat",
                                    ttyEnabled: true,
                                },
                            ],
                        };
                        await launch(cloud, pipelineTemplate, launcher, warned);
                        expect(warned).toEqual([]);
                    });
                }
            }
        });

        describe("pods a pipeline could ask for, created as each launching account: refused except where its tier allows them", () => {
            /** Creates the pod as `as`; undefined when admitted (and then deleted), else the refusal. */
            const tryPod = async (pod: Obj, as: Account): Promise<Refused | undefined> => {
                try {
                    await cluster.create(pod as KubeObject, { as });
                } catch (err) {
                    if (err instanceof Refused) {
                        return err;
                    }
                    throw err;
                }
                await cluster.delete(pod as KubeObject);
                return undefined;
            };
            // 403 is a refusal by RBAC, Pod Security or an admission policy; anything else (422:
            // the pod is invalid) would prove nothing.
            const judge = (refusal: Refused | undefined, allowed: boolean) =>
                allowed
                    ? expect(refusal ? refusal.message : "admitted").toBe("admitted")
                    : expect(refusal ? refusal.code : "admitted").toBe(403);

            // A pod of a tier's namespace that runs as another account of that namespace
            // (`default`, which every namespace has): RBAC lets the launcher create it, so only
            // the admission policy can refuse it.
            // So are a pod that carries an API token, one pinned to a node by name, and one that
            // mounts another build's workspace claim: Pod Security admits all three.
            if (ofKind(render, "ValidatingAdmissionPolicy").length > 0) {
                const policyProbes: { what: string; make: (pod: Obj) => void; allowedIn?: (cloud: Obj) => boolean }[] =
                    [
                        {
                            what: "a pod running as default",
                            make: (pod) => {
                                pod.spec.serviceAccountName = "default";
                            },
                        },
                        {
                            what: "a pod that mounts its ServiceAccount's token",
                            make: (pod) => {
                                pod.spec.automountServiceAccountToken = true;
                            },
                            // The deploy tier's pods deploy: they carry the deployer's token by design.
                            allowedIn: (cloud) =>
                                (cloud.templates ?? []).some((t: Obj) => t.serviceAccount === "jenkins-deployer"),
                        },
                        {
                            what: "a pod placed on a node by name",
                            make: (pod) => {
                                pod.spec.nodeName = "kwok-node-0";
                            },
                        },
                        {
                            what: "a pod that mounts another build's workspace claim",
                            make: (pod) => {
                                pod.spec.volumes = [
                                    {
                                        name: "ws",
                                        persistentVolumeClaim: { claimName: "pvc-workspace-another-build-x1y2z" },
                                    },
                                ];
                                pod.spec.containers[0].volumeMounts = [{ name: "ws", mountPath: "/ws" }];
                            },
                        },
                        ...(
                            [
                                [
                                    "a pod whose ephemeral claim carries annotations (some provisioners place data by them)",
                                    { metadata: { annotations: { "nfs.io/storage-path": "another-build" } } },
                                ],
                                [
                                    "a pod whose ephemeral claim asks for a storage class no template names",
                                    { spec: { storageClassName: "shared-nfs" } },
                                ],
                                [
                                    "a pod whose ephemeral workspace clones another build's claim",
                                    {
                                        spec: {
                                            dataSource: {
                                                kind: "PersistentVolumeClaim",
                                                name: "another-build-x1y2z-workspace-volume",
                                            },
                                        },
                                    },
                                ],
                                [
                                    "a pod whose ephemeral workspace binds a volume by name",
                                    { spec: { volumeName: "pv-of-another-build" } },
                                ],
                            ] as [string, Obj][]
                        ).map(([what, extra]) => ({
                            what,
                            make: (pod: Obj) => {
                                const spec = {
                                    accessModes: ["ReadWriteOnce"],
                                    resources: { requests: { storage: "1Gi" } },
                                };
                                pod.spec.volumes = [
                                    {
                                        name: "ws",
                                        ephemeral: {
                                            volumeClaimTemplate: { ...extra, spec: { ...spec, ...(extra.spec ?? {}) } },
                                        },
                                    },
                                ];
                                pod.spec.containers[0].volumeMounts = [{ name: "ws", mountPath: "/ws" }];
                            },
                        })),
                        {
                            what: "a pod with an inline CSI volume",
                            make: (pod: Obj) => {
                                pod.spec.volumes = [
                                    { name: "secrets", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true } },
                                ];
                                pod.spec.containers[0].volumeMounts = [{ name: "secrets", mountPath: "/s" }];
                            },
                        },
                    ];
                for (const { cloud, launcher, podAccount } of cloudList) {
                    for (const probe of policyProbes) {
                        const allowed = probe.allowedIn?.(cloud) ?? false;
                        test(`${allowed ? "ADMITTED" : "refused "} ${cloud.namespace}: ${probe.what}, as ${userOf(launcher)}${allowed ? "" : ", by the admission policy"}`, async () => {
                            const pod = probePod(cloud.namespace, "tier-probe-policy");
                            pod.spec.serviceAccountName = podAccount ?? "default";
                            probe.make(pod);
                            const refusal = await tryPod(pod, launcher);
                            if (allowed) {
                                expect(refusal?.message ?? "admitted").toBe("admitted");
                            } else {
                                expect(refusal?.code).toBe(403);
                                expect(refusal?.message).toContain("agent trust tiers");
                            }
                        });
                    }
                }
            }
            // What would hurt every other workload rather than take a node: the agent admission
            // policy refuses each (its rule first, where Pod Security would too), the LimitRange
            // the sizes. Each is a pod a pipeline's own podTemplate can ask the plugin for.
            const limitRanges = ofKind(render, "LimitRange");
            const maxSeconds = (cloud: Obj) =>
                Math.max(...(cloud.templates ?? []).map((t: Obj) => Number(t.activeDeadlineSeconds ?? 0)));
            const limitProbes: { what: string; make: (pod: Obj, cloud: Obj) => void; refusedBy: RegExp }[] = [
                ...["system-node-critical", "system-cluster-critical"].map((priorityClassName) => ({
                    what: `a pod of PriorityClass ${priorityClassName} (it preempts production workloads)`,
                    make: (pod: Obj) => {
                        pod.spec.priorityClassName = priorityClassName;
                    },
                    refusedBy: /jenkins-k8s agent limits: pods in \S+ run at priority 0 at most/,
                })),
                {
                    what: "a pod that tolerates every taint (control-plane, GPU and dedicated nodes)",
                    make: (pod) => {
                        pod.spec.tolerations = [{ operator: "Exists" }];
                    },
                    refusedBy:
                        /jenkins-k8s agent limits: pods in \S+ tolerate only the taints the tier templates tolerate/,
                },
                {
                    what: "a pod restarted forever (restartPolicy Always)",
                    make: (pod) => {
                        pod.spec.restartPolicy = "Always";
                    },
                    refusedBy: /have restartPolicy Never .*, not Always/,
                },
                {
                    what: "a pod with no deadline (activeDeadlineSeconds unset)",
                    make: (pod) => {
                        delete pod.spec.activeDeadlineSeconds;
                    },
                    refusedBy:
                        /end within \d+ seconds \(jenkins-k8s:agentPodMaxSeconds\): activeDeadlineSeconds is unset/,
                },
                {
                    what: "a pod whose deadline is past the stack's longest",
                    make: (pod, cloud) => {
                        pod.spec.activeDeadlineSeconds = maxSeconds(cloud) + 1;
                    },
                    refusedBy: /end within \d+ seconds/,
                },
                {
                    what: "a pod that opens a port on the node (hostPort)",
                    make: (pod) => {
                        pod.spec.containers[0].ports = [{ containerPort: 8080, hostPort: 8080 }];
                    },
                    // Pod Security baseline (and so restricted) refuses it first; in the privileged tier, the policy.
                    refusedBy:
                        /open no port on the node \(hostPort\)|violates PodSecurity "(baseline|restricted):latest": hostPort/,
                },
                {
                    what: "a pod of a runtime class no template names",
                    make: (pod) => {
                        pod.spec.runtimeClassName = "runc-unconfined";
                    },
                    refusedBy: /runtime classes the tier templates name|RuntimeClass "runc-unconfined" not found/,
                },
                ...(limitRanges.length > 0
                    ? [
                          {
                              what: "a pod asking for 64 CPUs and 512Gi",
                              make: (pod: Obj) => {
                                  pod.spec.containers[0].resources = {
                                      requests: { cpu: "64", memory: "512Gi" },
                                      limits: { cpu: "64", memory: "512Gi" },
                                  };
                              },
                              refusedBy: /maximum cpu usage per Container is \S+, but limit is 64/,
                          },
                      ]
                    : []),
            ];
            if (ofKind(render, "ValidatingAdmissionPolicy").length > 0) {
                for (const { cloud, launcher, podAccount } of cloudList) {
                    for (const probe of limitProbes) {
                        test(`refused  ${cloud.namespace}: ${probe.what}, as ${userOf(launcher)}`, async () => {
                            const pod = probePod(cloud.namespace, "tier-probe-limits");
                            pod.spec.serviceAccountName = podAccount ?? "default";
                            probe.make(pod, cloud);
                            const refusal = await tryPod(pod, launcher);
                            expect(refusal?.code).toBe(403);
                            expect(refusal?.message).toMatch(probe.refusedBy);
                        });
                    }
                }
            }
            for (const range of limitRanges) {
                test(`${range.metadata.namespace}: a pod that asks for nothing gets the LimitRange's defaults, so the quota counts it`, async () => {
                    const { cloud, launcher, podAccount } = cloudList.find(
                        (c) => c.cloud.namespace === range.metadata.namespace,
                    )!;
                    const pod = probePod(cloud.namespace, "tier-probe-bare");
                    pod.spec.serviceAccountName = podAccount ?? "default";
                    delete pod.spec.containers[0].resources;
                    const { object } = await cluster.create(pod as KubeObject, { as: launcher, dryRun: true });
                    const container = (range.spec.limits as Obj[]).find((l) => l.type === "Container")!;
                    expect(object.spec.containers[0].resources).toEqual({
                        limits: container.default,
                        requests: container.defaultRequest,
                    });
                });
            }
            for (const probe of PROBES) {
                test(`the probe "${probe.what}" is a valid pod (admitted as cluster-admin where Pod Security allows it)`, async () => {
                    const pod = probePod("kube-system", "tier-probe-valid");
                    probe.make(pod);
                    // kube-system enforces no Pod Security level on any cluster.
                    await cluster.create(pod as KubeObject, { dryRun: true });
                });
            }
            // Every account that can create pods somewhere: the launchers, and the deployer (its
            // ClusterRole lets it create pods in the deploy namespaces, which enforce a level).
            const creators = [
                ...launchers,
                ...accounts.filter(
                    (a) =>
                        !launchers.some((l) => same(l, a)) && boundTo(a).some((b) => b.roleRef.kind === "ClusterRole"),
                ),
            ];
            for (const launcher of creators) {
                for (const ns of everywhere) {
                    const tier = cloudOf(launcher, ns);
                    for (const probe of PROBES) {
                        // Only the privileged tier's own cloud may create such pods, in its own namespace.
                        const allowed = tier !== undefined && enforces(ns) === "privileged";
                        const id = `${stack} ${ns}: ${probe.what}`;
                        known(id)(
                            `${allowed ? "ADMITTED" : "refused "} ${ns}: ${probe.what}, as ${userOf(launcher)}`,
                            async () => {
                                const pod = probePod(ns, `tier-probe-${PROBES.indexOf(probe)}`);
                                probe.make(pod);
                                // The probe runs as the tier's own account, so only the hostile field is judged.
                                pod.spec.serviceAccountName = tier?.podAccount ?? "default";
                                judge(await tryPod(pod, launcher), allowed);
                            },
                        );
                    }
                }
                // Running as an account that holds role bindings: only the deploy tier's own cloud
                // may (its pods run as the deployer, which is what the tier is for).
                for (const account of accounts.filter((a) => boundTo(a).length > 0)) {
                    const tier = cloudOf(launcher, account.namespace);
                    const allowed = tier !== undefined && tier.podAccount === account.name;
                    const id = `${stack} ${account.namespace}: a pod running as ${account.name}`;
                    known(id)(
                        `${allowed ? "ADMITTED" : "refused "} ${account.namespace}: a pod running as ${account.name} (it holds role bindings), as ${userOf(launcher)}`,
                        async () => {
                            const pod = probePod(account.namespace, "tier-probe-account");
                            pod.spec.serviceAccountName = account.name;
                            judge(await tryPod(pod, launcher), allowed);
                        },
                    );
                }
            }
        });

        /** The program, as `pulumi up` runs it at preview, reading this cluster: what it imports, or why it refuses. */
        const previewUp = (env: NodeJS.ProcessEnv = process.env) => {
            const out = mkdtempSync(path.join(tmpdir(), "jenkins-k8s-recreate-"));
            try {
                const run = spawnSync(
                    process.execPath,
                    [
                        "--require",
                        "sucrase/register/ts",
                        "tools/render.ts",
                        "--stack",
                        VARIANTS[stack]?.stack ?? stack,
                        ...Object.entries(VARIANTS[stack]?.overrides ?? {}).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
                        "--cluster",
                        "--out",
                        out,
                    ],
                    { cwd: ROOT, env, encoding: "utf8" },
                );
                const imports =
                    run.status === 0
                        ? (parse(readFileSync(path.join(out, RESOURCES_OUT), "utf8")) as Obj[])
                              .filter((r) => r.import)
                              .map((r) => r.import as string)
                              .sort()
                        : [];
                return { status: run.status, stderr: run.stderr, imports };
            } finally {
                rmSync(out, { recursive: true, force: true });
            }
        };

        // Credentials and sign-in read Secrets of the controller's namespace, which the stack names
        // but never creates: the preview checks them against this API server.
        const secretsNamed = namedSecrets(stack);
        const controllerNamespace = deployment.metadata.namespace!;
        if (secretsNamed.length > 0) {
            describe("credentials from the Secrets the stack names", () => {
                test(`the preview fails while ${secretsNamed.join(", ")} are missing, and passes once they hold what its messages ask for`, async () => {
                    const first = previewUp();
                    expect(first.status).toBe(1);
                    for (const name of secretsNamed) {
                        expect(first.stderr).toContain(`there is no Secret ${controllerNamespace}/${name};`);
                    }
                    // Follow the preview's own instructions, as a user would, until it passes.
                    const made: Record<string, Record<string, string>> = {};
                    let run = first;
                    for (let round = 0; round < 4 && run.status !== 0; round++) {
                        for (const m of run.stderr.matchAll(
                            /kubectl create secret generic (\S+) -n (\S+)((?: --from-literal=[^=\s]+=\.\.\.)+)/g,
                        )) {
                            const keys = [...m[3].matchAll(/--from-literal=([^=\s]+)=/g)].map((k) => k[1]);
                            made[m[1]] = Object.fromEntries(keys.map((k) => [k, `fixture value of ${k}\n`]));
                        }
                        for (const m of run.stderr.matchAll(/the Secret (\S+)\/(\S+) has no key "([^"]+)"/g)) {
                            made[m[2]] = { ...made[m[2]], [m[3]]: `fixture value of ${m[3]}\n` };
                        }
                        for (const [name, data] of Object.entries(made)) {
                            await fixtures.secret(controllerNamespace, name, data);
                        }
                        run = previewUp();
                    }
                    expect({ status: run.status, stderr: run.stderr.replace(/^.*warning.*\n?/gim, "") }).toEqual({
                        status: 0,
                        stderr: "",
                    });
                    expect(Object.keys(made).sort()).toEqual(secretsNamed);
                });

                test("a key taken away, or a value JCasC would resolve, fails the preview, read from this API server", async () => {
                    const name = secretsNamed[0];
                    const secret: KubeObject = {
                        apiVersion: "v1",
                        kind: "Secret",
                        metadata: { name, namespace: controllerNamespace },
                    };
                    const before = (await cluster.read(secret))!;
                    const data = Object.fromEntries(
                        Object.entries(before.data as Record<string, string>).map(([k, v]) => [
                            k,
                            Buffer.from(v, "base64").toString(),
                        ]),
                    );
                    const [key] = Object.keys(data);
                    try {
                        await fixtures.secret(controllerNamespace, name, { ...data, [key]: "abc${HOME}" });
                        const interpolated = previewUp();
                        expect(interpolated.status).toBe(1);
                        expect(interpolated.stderr).toContain(
                            `the value of "${key}" in the Secret ${controllerNamespace}/${name} contains "\${"`,
                        );
                        expect(interpolated.stderr).not.toContain("abc");
                        const { [key]: _gone, ...rest } = data;
                        await fixtures.secret(controllerNamespace, name, { ...rest, other: "x" });
                        const missing = previewUp();
                        expect(missing.status).toBe(1);
                        expect(missing.stderr).toContain(
                            `the Secret ${controllerNamespace}/${name} has no key "${key}"`,
                        );
                    } finally {
                        await fixtures.secret(controllerNamespace, name, data);
                    }
                    expect(previewUp().status).toBe(0);
                });

                test("the controller mounts exactly those Secrets, and its account may still read none", async () => {
                    const live = (await cluster.read(deployment))!;
                    const volumes: Obj[] = live.spec.template.spec.volumes;
                    const adminSecret = ofKind(render, "Secret").find((o) => o.metadata.name.endsWith("-admin"))!;
                    expect(
                        volumes
                            .filter((v) => v.secret && v.secret.secretName !== adminSecret.metadata.name)
                            .map((v) => v.secret.secretName)
                            .sort(),
                    ).toEqual(secretsNamed);
                    for (const verb of ["get", "list", "watch"]) {
                        expect([
                            verb,
                            await cluster.can(controllerAccount, {
                                verb,
                                resource: "secrets",
                                namespace: controllerNamespace,
                            }),
                        ]).toEqual([verb, false]);
                    }
                });
            });
        }

        if (configOf(stack)["jenkins-k8s:testJob"] === "true") {
            test("the applied JCasC makes the test job on a label of a cloud every top-level job may use (its Job DSL, run under Groovy 2.4.21)", async () => {
                const cascMap = ofKind(render, "ConfigMap").find((c) => c.data?.["jenkins.yaml"] !== undefined)!;
                const applied = parse((await cluster.read(cascMap))!.data["jenkins.yaml"]) as Obj;
                const script: string = applied.jobs.find((j: Obj) => j.script !== undefined).script;
                const run = runJobDsl(script.replace(/\^\$\{/g, "${"), { loaded: true });
                const job = run.items.find((i) => i.name === "agent-test")!;
                expect(job.kind).toBe("job");
                const label = job.calls.find((c) => c.method === "label")!.args[0] as string;
                const open = clouds(applied).filter((c) => !c.usageRestricted);
                expect(
                    open.some((c) =>
                        (c.templates as Obj[]).some((t) =>
                            String(t.label ?? "")
                                .split(" ")
                                .includes(label),
                        ),
                    ),
                ).toBe(true);
            });
        }

        const teamGrants = cloudGrants(stack);
        if (Object.keys(teamGrants).length > 0) {
            test("each usage-restricted cloud is granted only to the folders of the teams that list it (the applied JCasC's Job DSL, run under Groovy 2.4.21)", async () => {
                const cascMap = ofKind(render, "ConfigMap").find((c) => c.data?.["jenkins.yaml"] !== undefined)!;
                const applied = parse((await cluster.read(cascMap))!.data["jenkins.yaml"]) as Obj;
                const restricted = clouds(applied)
                    .filter((c) => c.usageRestricted)
                    .map((c) => c.name as string);
                const script: string = applied.jobs.find((j: Obj) => j.script !== undefined).script;
                const env = Object.fromEntries(
                    Object.keys(applied.jobs.find((j: Obj) => j.providedEnv)?.providedEnv ?? {}).map((k) => [k, "x"]),
                );
                const run = runJobDsl(script.replace(/\^\$\{/g, "${"), { loaded: true, env });
                const permitted: Record<string, string[]> = {};
                for (const f of run.folders) {
                    const clouds = callsAt(f.calls, "properties", "kubernetes").find(
                        (c) => c.method === "permittedClouds",
                    )?.args[0];
                    for (const cloud of (clouds as string[] | undefined) ?? []) (permitted[cloud] ??= []).push(f.name);
                }
                expect(Object.fromEntries(restricted.map((c) => [c, permitted[c] ?? []]))).toEqual(
                    Object.fromEntries(restricted.map((c) => [c, teamGrants[c] ?? []])),
                );
            });
        }

        // Last: it deletes the stack's objects, as `pulumi destroy` would, and brings them back.
        const kept = render.objects.filter((o) => o.metadata.labels?.[KEPT_BY] !== undefined);
        if (kept.length > 0) {
            describe("destroy, then up again", () => {
                const claim = ofKind(render, "PersistentVolumeClaim").find((c) => c.metadata.name === "jenkins-home")!;
                const idOf = (o: KubeObject) =>
                    o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;

                test(`adopts exactly what the stack kept (${kept.map(what).join(", ")}), and the home keeps its volume`, async () => {
                    const before = (await cluster.read(claim))!;
                    const volume: KubeObject = {
                        apiVersion: "v1",
                        kind: "PersistentVolume",
                        metadata: { name: before.spec.volumeName },
                    };
                    const volumeUid = (await cluster.read(volume))!.metadata.uid;
                    // While the stack is up the program names every kept object with the ID the
                    // provider gives it (namespace/name, or the name), which the engine finds in
                    // its state and updates; the engine itself does not run here.
                    const up = previewUp();
                    expect({ status: up.status, stderr: up.stderr.replace(/^.*warning.*\n?/gim, "") }).toEqual({
                        status: 0,
                        stderr: "",
                    });
                    expect(up.imports).toEqual(kept.map(idOf).sort());

                    // pulumi destroy: everything but the kept objects, namespaces last.
                    const others = render.objects.filter((o) => !kept.includes(o)).reverse();
                    for (const o of [
                        ...others.filter((o) => o.kind !== "Namespace"),
                        ...others.filter((o) => o.kind === "Namespace"),
                    ]) {
                        await cluster.delete(o);
                    }
                    for (const o of others.filter((o) => o.kind === "Namespace" || o.kind === "Deployment")) {
                        await cluster.gone(o, WAIT_MS);
                    }
                    expect((await cluster.read(claim))?.metadata.uid).toBe(before.metadata.uid);

                    // pulumi up: the preview adopts the kept objects; applying gives the same home back.
                    const again = previewUp();
                    expect(again.status).toBe(0);
                    expect(again.imports).toEqual(kept.map(idOf).sort());
                    for (const o of render.objects) {
                        await cluster.apply(tagged(o));
                    }
                    await waitFor(`${what(claim)} to be Bound`, WAIT_MS, async () => {
                        const phase = (await cluster.read(claim))?.status?.phase;
                        return phase === "Bound" || `phase ${phase}`;
                    });
                    const after = (await cluster.read(claim))!;
                    expect([after.metadata.uid, after.spec.volumeName]).toEqual([
                        before.metadata.uid,
                        before.spec.volumeName,
                    ]);
                    expect((await cluster.read(volume))!.metadata.uid).toBe(volumeUid);
                    await waitFor(`${what(deployment)} to be Available again`, WAIT_MS, async () => {
                        const live = await cluster.read(deployment);
                        return (
                            live?.status?.conditions?.some((c: Obj) => c.type === "Available" && c.status === "True") ||
                            "not yet"
                        );
                    });
                });

                test("reads the cluster the provider would: with several KUBECONFIG files, the first current-context (as client-go)", () => {
                    const dir = mkdtempSync(path.join(tmpdir(), "jenkins-k8s-kubeconfig-"));
                    try {
                        const other = path.join(dir, "other");
                        writeFileSync(
                            other,
                            "apiVersion: v1\nkind: Config\ncurrent-context: elsewhere\n" +
                                "clusters: [{name: elsewhere, cluster: {server: 'https://127.0.0.1:1'}}]\n" +
                                "users: [{name: elsewhere, user: {token: x}}]\n" +
                                "contexts: [{name: elsewhere, context: {cluster: elsewhere, user: elsewhere}}]\n",
                        );
                        const real = process.env.KUBECONFIG!;
                        const first = previewUp({ ...process.env, KUBECONFIG: [real, other].join(path.delimiter) });
                        expect(first.status).toBe(0);
                        expect(first.imports).toEqual(kept.map(idOf).sort());
                        const wrong = previewUp({ ...process.env, KUBECONFIG: [other, real].join(path.delimiter) });
                        expect(wrong.status).toBe(1);
                        expect(wrong.stderr).toContain(
                            "in the cluster at https://127.0.0.1:1 (context elsewhere, from KUBECONFIG)",
                        );
                        expect(wrong.stderr).toContain("set jenkins-k8s:adoptKeptObjects to false");
                        // A refused token, and no kubeconfig at all: one line each, saying where.
                        const refused = path.join(dir, "refused");
                        writeFileSync(
                            refused,
                            readFileSync(real, "utf8").replace(/(token|client-key-data): .*/g, "token: not-a-token"),
                        );
                        for (const env of [
                            { ...process.env, KUBECONFIG: refused },
                            { ...process.env, KUBECONFIG: "", HOME: dir },
                        ]) {
                            const run = previewUp(env);
                            expect(run.status).toBe(1);
                            expect(run.stderr).toMatch(/^error: cannot (read|list|load) .*adoptKeptObjects to false/m);
                            expect(run.stderr).not.toContain("    at ");
                        }
                    } finally {
                        rmSync(dir, { recursive: true, force: true });
                    }
                });

                test("a namespace of the stack's name it did not keep is not adopted: the preview fails, saying so", async () => {
                    const ns = kept.find((o) => o.kind === "Namespace");
                    const target = ns ?? claim;
                    const live = (await cluster.read(target))!;
                    // As if someone else had made it: neither this stack's label nor this program's.
                    const relabel = (labels: Record<string, string | null>) =>
                        cluster.request(
                            "patch",
                            {
                                apiVersion: target.apiVersion,
                                kind: target.kind,
                                metadata: { ...target.metadata, labels },
                            },
                            { contentType: "application/merge-patch+json" },
                        );
                    await relabel({ [KEPT_BY]: null, "app.kubernetes.io/part-of": null });
                    try {
                        const up = previewUp();
                        expect(up.status).toBe(1);
                        expect(up.stderr).toContain(
                            `the ${target.kind === "Namespace" ? "namespace" : "claim"} ${idOf(target)} already exists and is not one this stack kept`,
                        );
                    } finally {
                        await relabel({
                            [KEPT_BY]: live.metadata.labels[KEPT_BY],
                            "app.kubernetes.io/part-of": live.metadata.labels["app.kubernetes.io/part-of"],
                        });
                    }
                });
            });
        }
    });
}
