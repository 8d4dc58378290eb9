// Reads the kept objects (kept.ts) from the cluster the stack deploys to, at preview, through the
// official client with the kubeconfig and context the Kubernetes provider uses (the stack's
// kubernetes:kubeconfig and kubernetes:context, else KUBECONFIG or ~/.kube/config). Read only:
// three GETs and one list of claims by label. The offline evaluation (tests, the render) has no
// cluster and sets `cluster.reader` to one, as a first `pulumi up` sees it, before the program runs.
import * as pulumi from "@pulumi/pulumi";
import { existsSync } from "fs";
import type * as Client from "@kubernetes/client-node";
import { ClusterReader, Kept, KEPT_BY, Live } from "./kept";

function live(o: { metadata?: { labels?: Record<string, string>; uid?: string }; spec?: object }): Live {
    return { labels: o.metadata?.labels ?? {}, uid: o.metadata?.uid ?? "", spec: o.spec as Record<string, any> };
}

/** The cluster the default Kubernetes provider deploys to, read with @kubernetes/client-node. */
export function liveCluster(): ClusterReader {
    let connected: Client.CoreV1Api | undefined;
    const core = (): Client.CoreV1Api => {
        if (!connected) {
            // ESM-only; Node 20.19+ and 22.12+ load it with require (engines asks for those).
            const k8s: typeof Client = require("@kubernetes/client-node");
            const kc = new k8s.KubeConfig();
            const config = new pulumi.Config("kubernetes");
            const kubeconfig = config.get("kubeconfig");
            if (kubeconfig === undefined) {
                kc.loadFromDefault();
            } else if (existsSync(kubeconfig)) {
                kc.loadFromFile(kubeconfig);
            } else {
                kc.loadFromString(kubeconfig);
            }
            const context = config.get("context");
            if (context) {
                kc.setCurrentContext(context);
            }
            connected = kc.makeApiClient(k8s.CoreV1Api);
        }
        return connected;
    };
    const absentOn404 = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
        try {
            return await read();
        } catch (err) {
            if ((err as { code?: number }).code === 404) return undefined;
            throw err;
        }
    };
    return {
        async read(o: Kept) {
            const found = await absentOn404(async () => {
                switch (o.kind) {
                    case "Namespace":
                        return core().readNamespace({ name: o.name });
                    case "PersistentVolume":
                        return core().readPersistentVolume({ name: o.name });
                    case "PersistentVolumeClaim":
                        return core().readNamespacedPersistentVolumeClaim({ name: o.name, namespace: o.namespace! });
                }
            });
            return found ? live(found) : undefined;
        },
        async keptClaims(value: string) {
            const list = await core().listPersistentVolumeClaimForAllNamespaces({
                labelSelector: `${KEPT_BY}=${value}`,
            });
            return list.items.map((c) => ({
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
};

/**
 * The reader the program uses: the live cluster, unless an offline evaluation (tests, the render)
 * set another and said it is offline: nothing it renders is deployed as it is.
 */
export const cluster: { reader: ClusterReader; offline: boolean } = { reader: liveCluster(), offline: false };
