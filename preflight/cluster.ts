// Reads what the pre-flight step needs (index.ts) from the cluster the stack deploys to, through the
// official client, with the kubeconfig the Kubernetes provider uses: the stack's
// kubernetes:kubeconfig (a path, `~` expanded, or the YAML itself), else KUBECONFIG (several
// files merged as client-go merges them: the first current-context, the first entry of each
// name), else ~/.kube/config, else the in-cluster account; then kubernetes:context and
// kubernetes:cluster; through the proxy client-go would take from HTTPS_PROXY and NO_PROXY.
// Read only. The offline evaluation (tests, the render) has no cluster and passes the program a
// stand-in instead (EMPTY_CLUSTER: what a first `pulumi up` sees).
import * as pulumi from "@pulumi/pulumi";
import { existsSync } from "fs";
import { BlockList, isIP } from "net";
import { homedir } from "os";
import * as path from "path";
import type * as Client from "@kubernetes/client-node";
import type { Kept, Live } from "./kept";
import { KEPT_BY, RESTART_HASH, RESTART_PARTS } from "../config/metadata";
import type { ClusterReader } from "./reader";
import { secretKeysOf } from "./secrets";
import type { Answer, Right } from "./deployerRights";
import { configKey } from "../config/keys";

/** The cluster could not be read: says where the program looked, and how to stop it looking. */
export class ClusterReadError extends pulumi.RunError {}

const OPT_OUT =
    "The program reads what an earlier `pulumi destroy` of this stack kept there (set " +
    `${configKey("adoptKeptObjects")} to false not to), and, with backups or a restore, what they need.`;

type Obj = {
    metadata?: { labels?: Record<string, string>; uid?: string; deletionTimestamp?: unknown };
    spec?: object;
    status?: object;
};

function live(o: Obj): Live {
    return {
        labels: o.metadata?.labels ?? {},
        uid: o.metadata?.uid ?? "",
        deleting: o.metadata?.deletionTimestamp !== undefined,
        spec: o.spec as Record<string, any>,
        status: o.status as Record<string, any>,
    };
}

/** Where the provider's kubeconfig comes from, as the program reads it. */
export interface KubeconfigSource {
    /** Files to merge in order; none: the YAML in `text`, or the client's defaults (in-cluster included). */
    files: string[];
    text?: string;
    /** What named them, for messages. */
    from: string;
    context?: string;
    cluster?: string;
}

const expandHome = (p: string) => (p === "~" || p.startsWith("~/") ? path.join(homedir(), p.slice(1)) : p);

/** The provider's kubeconfig settings and the environment, resolved as the provider resolves them. */
export function kubeconfigSource(
    config: { kubeconfig?: string; context?: string; cluster?: string },
    env: NodeJS.ProcessEnv,
): KubeconfigSource {
    const base = { context: config.context || undefined, cluster: config.cluster || undefined };
    const value = config.kubeconfig;
    if (value !== undefined && value !== "") {
        const file = expandHome(value);
        // A value with a line break, or one that parses as a document, is the kubeconfig itself.
        if (existsSync(file) || !/[\n:]\s/.test(value)) {
            if (!existsSync(file)) {
                throw new ClusterReadError(`kubernetes:kubeconfig names ${value}, which does not exist`);
            }
            return { ...base, files: [file], from: "kubernetes:kubeconfig" };
        }
        return { ...base, files: [], text: value, from: "kubernetes:kubeconfig" };
    }
    const list = (env.KUBECONFIG ?? "").split(path.delimiter).filter((f) => f !== "");
    if (list.length > 0) {
        const files = list.map(expandHome).filter((f) => existsSync(f));
        if (files.length === 0) {
            throw new ClusterReadError(`KUBECONFIG names ${list.join(path.delimiter)}, which does not exist`);
        }
        return { ...base, files, from: "KUBECONFIG" };
    }
    return { ...base, files: [], from: "the default kubeconfig (~/.kube/config, or the pod's account)" };
}

/**
 * The proxy the provider (client-go) would use for a server, by Go's rules
 * (golang.org/x/net/http/httpproxy): HTTPS_PROXY (or https_proxy) for https, HTTP_PROXY for http;
 * never for localhost or a loopback address; not for a host NO_PROXY names: `*`, an IP, a CIDR,
 * a domain with its subdomains (`.example.com`: the subdomains only), with a port if it gives one.
 * client-node reads only the kubeconfig's proxy-url, so this is what makes it reach the same
 * clusters the provider reaches.
 */
export function proxyFor(server: string, env: NodeJS.ProcessEnv): string | undefined {
    let url: URL;
    try {
        url = new URL(server);
    } catch {
        return undefined;
    }
    const https = url.protocol === "https:";
    const proxy = https ? env.HTTPS_PROXY || env.https_proxy : env.HTTP_PROXY || env.http_proxy;
    if (!proxy) return undefined;
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
    const port = url.port || (https ? "443" : "80");
    if (host === "localhost" || /^127\./.test(host) || host === "::1") return undefined;
    for (const entry of (env.NO_PROXY || env.no_proxy || "").split(",").map((e) => e.trim().toLowerCase())) {
        if (entry === "") continue;
        if (entry === "*") return undefined;
        const cidr = /^([0-9a-f.:]+)\/(\d+)$/.exec(entry);
        if (cidr) {
            const family = isIP(host);
            if (family !== 0 && family === isIP(cidr[1])) {
                const list = new BlockList();
                list.addSubnet(cidr[1], Number(cidr[2]), family === 4 ? "ipv4" : "ipv6");
                if (list.check(host, family === 4 ? "ipv4" : "ipv6")) return undefined;
            }
            continue;
        }
        const withPort = entry.includes("::") ? null : /^(.*):(\d+)$/.exec(entry);
        const [name, wanted] = withPort ? [withPort[1], withPort[2]] : [entry, undefined];
        if (wanted !== undefined && wanted !== port) continue;
        if (name === host) return undefined;
        if (name.startsWith(".") ? host.endsWith(name) : host.endsWith(`.${name}`)) return undefined;
    }
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

/**
 * client-node, ESM-only, imported where sucrase's require hook cannot turn the import() into a
 * require() (it rewrites every import() it sees; Node before 20.19 and 22.12 cannot require ESM).
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a fixed string; the one way to keep import() past the hook
const importClient = new Function("m", "return import(m)") as (m: string) => Promise<typeof Client>;

/** Loads a kubeconfig again with some of its lists replaced (client-node has no setters for them). */
function rebuild(kc: Client.KubeConfig, change: { clusters?: Client.Cluster[]; contexts?: Client.Context[] }): void {
    kc.loadFromOptions({
        clusters: change.clusters ?? kc.getClusters(),
        users: kc.getUsers(),
        contexts: change.contexts ?? kc.getContexts(),
        currentContext: kc.getCurrentContext(),
    });
}

async function kubeConfig(source: KubeconfigSource): Promise<Client.KubeConfig> {
    const k8s = await importClient("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    if (source.text !== undefined) {
        kc.loadFromString(source.text);
    } else if (source.files.length === 0) {
        kc.loadFromDefault();
        // With no kubeconfig and no pod account, client-node makes one up: http://localhost:8080.
        const made = kc.getCurrentCluster();
        if (made?.name === "cluster" && made.server === "http://localhost:8080" && kc.getUsers()[0]?.name === "user") {
            throw new Error(
                "there is none: KUBECONFIG is not set, ~/.kube/config does not exist, and this is not a pod with a ServiceAccount; set KUBECONFIG, or kubernetes:kubeconfig",
            );
        }
    } else {
        // client-go's merge: the first file that sets current-context wins, and the first entry of
        // each name (client-node's own merge takes the last, or fails on a duplicate).
        const parts = source.files.map((f) => {
            const one = new k8s.KubeConfig();
            one.loadFromFile(f);
            return one;
        });
        const first = <T extends { name: string }>(lists: T[][]) =>
            lists.flat().filter((x, i, all) => all.findIndex((y) => y.name === x.name) === i);
        kc.loadFromOptions({
            clusters: first(parts.map((p) => p.getClusters())),
            users: first(parts.map((p) => p.getUsers())),
            contexts: first(parts.map((p) => p.getContexts())),
            currentContext: parts.map((p) => p.getCurrentContext()).find((c) => c !== "") ?? "",
        });
    }
    if (source.context) {
        kc.setCurrentContext(source.context);
    }
    if (source.cluster) {
        const current = kc.getContextObject(kc.getCurrentContext());
        rebuild(kc, {
            contexts: kc.getContexts().map((c) => (c.name === current?.name ? { ...c, cluster: source.cluster! } : c)),
        });
    }
    // The proxy the provider would use, where the kubeconfig names none.
    const target = kc.getCurrentCluster();
    const proxy = target && !target.proxyUrl ? proxyFor(target.server, process.env) : undefined;
    if (target && proxy) {
        rebuild(kc, {
            clusters: kc.getClusters().map((c) => (c.name === target.name ? { ...c, proxyUrl: proxy } : c)),
        });
    }
    return kc;
}

/** The cluster the default Kubernetes provider deploys to, read with @kubernetes/client-node. */
export function liveCluster(): ClusterReader {
    type Clients = {
        core: Client.CoreV1Api;
        custom: Client.CustomObjectsApi;
        apps: Client.AppsV1Api;
        storage: Client.StorageV1Api;
        version: Client.VersionApi;
        authorization: Client.AuthorizationV1Api;
        scheduling: Client.SchedulingV1Api;
        authentication: Client.AuthenticationV1Api;
        where: string;
    };
    let connected: Promise<Clients> | undefined;
    const connect = () =>
        (connected ??= (async () => {
            const config = new pulumi.Config("kubernetes");
            const source = kubeconfigSource(
                {
                    kubeconfig: config.get("kubeconfig"),
                    context: config.get("context"),
                    cluster: config.get("cluster"),
                },
                process.env,
            );
            let kc: Client.KubeConfig;
            try {
                kc = await kubeConfig(source);
            } catch (err) {
                throw new ClusterReadError(
                    `cannot load the kubeconfig (from ${source.from}): ${((err as Error).message ?? String(err)).split("\n")[0]}. ${OPT_OUT}`,
                );
            }
            const k8s = await importClient("@kubernetes/client-node");
            const where = `${kc.getCurrentCluster()?.server ?? "no server"} (context ${kc.getCurrentContext() || "none"}, from ${source.from})`;
            return {
                core: kc.makeApiClient(k8s.CoreV1Api),
                custom: kc.makeApiClient(k8s.CustomObjectsApi),
                apps: kc.makeApiClient(k8s.AppsV1Api),
                storage: kc.makeApiClient(k8s.StorageV1Api),
                version: kc.makeApiClient(k8s.VersionApi),
                authorization: kc.makeApiClient(k8s.AuthorizationV1Api),
                scheduling: kc.makeApiClient(k8s.SchedulingV1Api),
                authentication: kc.makeApiClient(k8s.AuthenticationV1Api),
                where,
            };
        })());
    /** A read; 404 is "absent", any other failure says where it went and how not to read at all. */
    const call = async <T>(
        what: string,
        read: (core: Client.CoreV1Api, clients: Clients) => Promise<T>,
        passOn: number[] = [],
    ): Promise<T | undefined> => {
        const clients = await connect();
        const { core, where } = clients;
        try {
            return await read(core, clients);
        } catch (err) {
            const code = (err as { code?: number }).code;
            if (code === 404) return undefined;
            if (code !== undefined && passOn.includes(code)) throw err;
            const why = code ? `HTTP ${code}` : ((err as Error).message ?? String(err)).split("\n")[0];
            throw new ClusterReadError(`cannot ${what} in the cluster at ${where}: ${why}. ${OPT_OUT}`);
        }
    };
    /** A read the deployer may be refused (403): undefined then, and the caller says what was not checked. */
    const mayRead = async <T>(what: string, read: (core: Client.CoreV1Api, clients: Clients) => Promise<T>) => {
        try {
            return { value: await call(what, read, [403]) };
        } catch (err) {
            if ((err as { code?: number }).code === 403) return undefined;
            throw err;
        }
    };
    const group = "snapshot.storage.k8s.io";
    return {
        async serverVersion() {
            const info = await call("read the Kubernetes version", (_, c) => c.version.getCode());
            return {
                major: Number.parseInt(info?.major ?? "", 10),
                minor: Number.parseInt(info?.minor ?? "", 10),
                gitVersion: info?.gitVersion ?? "(unknown)",
            };
        },
        async storageClasses() {
            const list = await mayRead("list the StorageClasses", (_, c) => c.storage.listStorageClass());
            if (!list) return undefined;
            return (list.value?.items ?? []).map((c) => ({
                name: c.metadata?.name ?? "",
                annotations: c.metadata?.annotations ?? {},
            }));
        },
        async defaultPriority() {
            const list = await mayRead("list the PriorityClasses", (_, c) => c.scheduling.listPriorityClass());
            if (!list) return undefined;
            const found = (list.value?.items ?? []).find((p) => p.globalDefault === true);
            return found ? { name: found.metadata?.name ?? "", value: found.value } : null;
        },
        async servesSnapshots() {
            // Discovery: no list right needed, and a 404 when the group is not served.
            const resources = await call(`discover ${group}/v1`, (_, c) =>
                c.custom.getAPIResources({ group, version: "v1" }),
            );
            return (resources?.resources ?? []).some((r) => r.name === "volumesnapshots");
        },
        snapshotClass(name: string) {
            return call(`read the VolumeSnapshotClass ${name}`, (_, c) =>
                c.custom.getClusterCustomObject({ group, version: "v1", plural: "volumesnapshotclasses", name }),
            ) as Promise<object | undefined>;
        },
        async snapshot(namespace: string, name: string) {
            const found = (await call(`read the VolumeSnapshot ${namespace}/${name}`, (_, c) =>
                c.custom.getNamespacedCustomObject({
                    group,
                    version: "v1",
                    plural: "volumesnapshots",
                    namespace,
                    name,
                }),
            )) as
                | { status?: { readyToUse?: boolean }; spec?: { source?: { persistentVolumeClaimName?: string } } }
                | undefined;
            return found
                ? { readyToUse: found.status?.readyToUse, claim: found.spec?.source?.persistentVolumeClaimName }
                : undefined;
        },
        async secret(namespace: string, name: string) {
            const found = await call(`read the Secret ${namespace}/${name}`, (core) =>
                core.readNamespacedSecret({ namespace, name }),
            );
            return found ? secretKeysOf(found.data) : undefined;
        },
        async mayI(rights: Right[]) {
            // Asked a few at a time: a stack's rights are a hundred or two requests.
            const answers: Answer[] = [];
            for (let i = 0; i < rights.length; i += 16) {
                const batch = rights.slice(i, i + 16).map(async (r) => {
                    const review = await call(`ask whether the deployer may ${r.verb} ${r.resource}`, (_, c) =>
                        c.authorization.createSelfSubjectAccessReview({
                            body: {
                                apiVersion: "authorization.k8s.io/v1",
                                kind: "SelfSubjectAccessReview",
                                spec: { resourceAttributes: { ...r } },
                            },
                        }),
                    );
                    return { allowed: review?.status?.allowed === true, reason: review?.status?.reason };
                });
                answers.push(...(await Promise.all(batch)));
            }
            return answers;
        },
        async whoAmI() {
            // SelfSubjectReview (GA in 1.28): no right needed; an older server or a refusal names no one.
            try {
                const review = await call(
                    "ask who the deployer is",
                    (_, c) =>
                        c.authentication.createSelfSubjectReview({
                            body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
                        }),
                    [403],
                );
                return review?.status?.userInfo?.username;
            } catch {
                return undefined;
            }
        },
        async controller(namespace: string, name: string) {
            const found = await call(`read the Deployment ${namespace}/${name}`, (_, c) =>
                c.apps.readNamespacedDeployment({ namespace, name }),
            );
            return found
                ? {
                      hash: found.spec?.template?.metadata?.annotations?.[RESTART_HASH],
                      parts: found.spec?.template?.metadata?.annotations?.[RESTART_PARTS],
                      generation: found.metadata?.generation ?? 0,
                  }
                : undefined;
        },
        async read(o: Kept) {
            const found = await call<Obj>(
                `read the ${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`,
                (core) => {
                    switch (o.kind) {
                        case "Namespace":
                            return core.readNamespace({ name: o.name });
                        case "PersistentVolume":
                            return core.readPersistentVolume({ name: o.name });
                        case "PersistentVolumeClaim":
                            return core.readNamespacedPersistentVolumeClaim({ name: o.name, namespace: o.namespace! });
                    }
                },
            );
            return found ? live(found) : undefined;
        },
        async keptClaims(value: string, namespaces: string[]) {
            const labelSelector = `${KEPT_BY}=${value}`;
            let items: Client.V1PersistentVolumeClaim[];
            try {
                const all = await call(
                    "list the claims of every namespace",
                    (c) => c.listPersistentVolumeClaimForAllNamespaces({ labelSelector }),
                    [403],
                );
                items = all?.items ?? [];
            } catch (err) {
                if ((err as { code?: number }).code !== 403) throw err;
                // A deployer limited to its namespaces: look where this stack could have kept its home.
                items = [];
                for (const namespace of namespaces) {
                    const list = await call(`list claims in ${namespace}`, (c) =>
                        c.listNamespacedPersistentVolumeClaim({ namespace, labelSelector }),
                    );
                    items.push(...(list?.items ?? []));
                }
            }
            return items.map((c) => ({
                kind: "PersistentVolumeClaim" as const,
                name: c.metadata!.name!,
                namespace: c.metadata!.namespace!,
                ...live(c),
            }));
        },
    };
}

/** A cluster where nothing exists yet: what a first `pulumi up` finds. */
export const EMPTY_CLUSTER: ClusterReader = {
    read: () => Promise.resolve(undefined),
    keptClaims: () => Promise.resolve([]),
    // A cluster the stack can run on: it serves snapshots (and has no snapshot or Deployment yet).
    servesSnapshots: () => Promise.resolve(true),
    snapshotClass: () => Promise.resolve({}),
    snapshot: () => Promise.resolve(undefined),
    controller: () => Promise.resolve(undefined),
    // Not read: the preview says the Secrets, the version and the classes were not checked.
    secret: () => Promise.resolve(null),
    serverVersion: () => Promise.resolve(null),
    storageClasses: () => Promise.resolve(null),
    defaultPriority: () => Promise.resolve(null),
    mayI: () => Promise.resolve(null),
    whoAmI: () => Promise.resolve(undefined),
};
