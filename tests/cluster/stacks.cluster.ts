// The cluster tier: every stack's render applied to a real API server (KUBECONFIG), and every
// security and behaviour claim of the README asked of the real thing: admission (Pod Security,
// RBAC), the controllers (a Deployment goes Available, a claim binds, endpoints get ready), and
// what each ServiceAccount may do, asked by SubjectAccessReview as the account itself.
//   npm run test:cluster            (CLUSTER_STACKS=dev to run one stack)
import { Account, Cluster, describe as what, KubeObject, Refused, userOf, waitFor } from "./kube";
import { grants, grantsOf, LAUNCHER_NEEDS, minus, NEVER, NEVER_CLUSTER, show, WORKSPACE_CLAIM_NEEDS } from "./access";
import { agentPod } from "./agentPod";
import { namespacesOf, StackFixtures, tagged } from "./fixtures";
import { clouds, ofKind, readRender, Render, stacksUnderTest } from "./renders";

type Obj = Record<string, any>;

/** How long to wait for a controller to act; a cluster whose kubelets pull and run images needs more. */
const WAIT_MS = Number(process.env.CLUSTER_WAIT_SECONDS ?? 120) * 1000;
jest.setTimeout(WAIT_MS + 60_000);

/**
 * Escapes the real API server admits today, one per line, as `<stack> <namespace>: <probe>`.
 * Each is a known failure (test.failing): CI stays green, the escape stays visible, and the fix
 * turns it into an ordinary test (a known failure that starts passing fails the run).
 */
const KNOWN_ESCAPES = new Set<string>([
    // The default image-build template (rootless BuildKit) needs seccomp and AppArmor Unconfined,
    // so the agent namespace enforces `privileged`, and every pipeline's own pod lands there.
    "dev kube-ops-agents: a privileged container",
    "dev kube-ops-agents: a hostPath mount of /",
    "dev kube-ops-agents: the host's network and PID namespaces",
    "prod ci-agents: a privileged container",
    "prod ci-agents: a hostPath mount of /",
    "prod ci-agents: the host's network and PID namespaces",
    // jenkins-deployer (edit in staging and production) lives in the agent namespace, where the
    // controller may create pods: any pipeline can run as it.
    "prod ci-agents: a pod running as jenkins-deployer",
]);

/** Warnings the real API server sends today for a stack's objects or agent pods; known failures too. */
const KNOWN_WARNINGS = new Set<string>([
    // The agent namespace warns at restricted while it enforces privileged (the image builder).
    "dev agent pod image-build",
    "prod agent pod image-build",
    // The NFS ownership fix runs as root: baseline, while the namespace warns at restricted.
    "prod objects",
]);

/** A test, or a known failure (named so in the output, where jest marks it passed while it fails). */
const known =
    (id: string, set: Set<string>) =>
    (name: string, fn: () => Promise<void>): void =>
        set.has(id) ? test.failing(`KNOWN FAILURE (#11): ${name}`, fn) : test(name, fn);

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
    const controller: Account = {
        namespace: deployment.metadata.namespace!,
        name: deployment.spec.template.spec.serviceAccountName,
    };
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
    const everywhere = [...stackNamespaces, ...ELSEWHERE];
    const cloudList = clouds(render.casc);
    const launchNamespaces = [...new Set(cloudList.map((c) => c.namespace as string))];
    let fixtures: StackFixtures;

    describe(`the ${stack} stack on a real API server`, () => {
        beforeAll(async () => {
            fixtures = new StackFixtures(cluster, render);
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
        known(`${stack} objects`, KNOWN_WARNINGS)("gets no warning from the API server for any object", () => {
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

        describe("RBAC, asked of the API server as each ServiceAccount", () => {
            const claimsWorkspaces = cloudList.some((c) =>
                (c.templates ?? []).some((t: Obj) => t.workspaceVolume?.dynamicPVC !== undefined),
            );
            const launcherNeeds = [...LAUNCHER_NEEDS, ...(claimsWorkspaces ? WORKSPACE_CLAIM_NEEDS : [])];

            for (const ns of launchNamespaces) {
                for (const need of launcherNeeds) {
                    test(`YES ${userOf(controller)} may ${show(need)} in ${ns}`, async () => {
                        expect(await cluster.can(controller, { ...need, namespace: ns })).toBe(true);
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

            // Exactly: every rule the account holds in a namespace, less what any ServiceAccount
            // holds there (the cluster's own grants to all accounts), must be what it needs there.
            const expected = async (account: Account, ns: string): Promise<Set<string>> => {
                if (account.name === controller.name && account.namespace === controller.namespace) {
                    return launchNamespaces.includes(ns) ? grantsOf(launcherNeeds) : new Set();
                }
                const roles: Set<string>[] = [];
                for (const b of boundTo(account).filter((x) => x.metadata.namespace === ns)) {
                    const role =
                        b.roleRef.kind === "ClusterRole"
                            ? await cluster.read({
                                  apiVersion: "rbac.authorization.k8s.io/v1",
                                  kind: "ClusterRole",
                                  metadata: { name: b.roleRef.name },
                              })
                            : render.objects.find(
                                  (o) =>
                                      o.kind === "Role" &&
                                      o.metadata.name === b.roleRef.name &&
                                      o.metadata.namespace === ns,
                              );
                    roles.push(grants(role?.rules ?? []));
                }
                return new Set(roles.flatMap((r) => [...r]));
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
            for (const cloud of cloudList) {
                for (const template of cloud.templates ?? []) {
                    const warned: string[] = [];
                    test(`${cloud.name}/${template.name}: admitted as ${userOf(controller)}, Running on a node, deleted by it`, async () => {
                        const name = `${template.name}-tier${Date.now().toString(36).slice(-5)}`.slice(0, 63);
                        const { pod, claim } = agentPod(cloud, template, name);
                        const ns = pod.metadata.namespace;
                        if (claim) {
                            await fixtures.volumeForClaim(ns, claim.name, claim.storage, claim.accessModes);
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
                            warned.push(...(await cluster.create(claimObject, { as: controller })).warnings);
                        }
                        warned.push(...(await cluster.create(pod as KubeObject, { as: controller })).warnings);
                        await waitFor(`agent pod ${ns}/${name} to be Running`, WAIT_MS, async () => {
                            const live = await cluster.read(pod as KubeObject);
                            return (
                                (live?.status?.phase === "Running" && !!live.spec?.nodeName) ||
                                `phase ${live?.status?.phase}`
                            );
                        });
                        expect(await cluster.delete(pod as KubeObject, { as: controller })).toBe(true);
                        await cluster.gone(pod as KubeObject);
                    });
                    known(`${stack} agent pod ${template.name}`, KNOWN_WARNINGS)(
                        `${cloud.name}/${template.name}: gets no warning from the API server`,
                        () => {
                            expect(warned).toEqual([]);
                            return Promise.resolve();
                        },
                    );
                }
            }
        });

        describe("pods a pipeline could ask for, created as the launching account: refused", () => {
            const tryPod = async (pod: Obj, as: Account): Promise<Refused | undefined> => {
                try {
                    await cluster.create(pod as KubeObject, { as });
                } catch (err) {
                    if (err instanceof Refused) {
                        return err;
                    }
                    throw err;
                }
                // Admitted: remove it, then report the escape.
                await cluster.delete(pod as KubeObject);
                return undefined;
            };
            // 403 is a refusal by RBAC, Pod Security or an admission policy; anything else (422:
            // the pod is invalid) would prove nothing.
            const refused = (refusal: Refused | undefined) => expect(refusal ? refusal.code : "admitted").toBe(403);

            for (const probe of PROBES) {
                test(`the probe "${probe.what}" is a valid pod (admitted as cluster-admin where Pod Security allows it)`, async () => {
                    const pod = probePod("default", "tier-probe-valid");
                    probe.make(pod);
                    // kube-system enforces no Pod Security level on any cluster.
                    pod.metadata.namespace = "kube-system";
                    await cluster.create(pod as KubeObject, { dryRun: true });
                });
                for (const ns of everywhere) {
                    const id = `${stack} ${ns}: ${probe.what}`;
                    known(id, KNOWN_ESCAPES)(`${ns}: ${probe.what}, as ${userOf(controller)}`, async () => {
                        const pod = probePod(ns, `tier-probe-${PROBES.indexOf(probe)}`);
                        probe.make(pod);
                        refused(await tryPod(pod, controller));
                    });
                }
            }
            for (const account of accounts.filter((a) => boundTo(a).length > 0)) {
                const id = `${stack} ${account.namespace}: a pod running as ${account.name}`;
                known(id, KNOWN_ESCAPES)(
                    `${account.namespace}: a pod running as ${account.name} (it holds role bindings), as ${userOf(controller)}`,
                    async () => {
                        const pod = probePod(account.namespace, "tier-probe-account");
                        pod.spec.serviceAccountName = account.name;
                        refused(await tryPod(pod, controller));
                    },
                );
            }
        });
    });
}
