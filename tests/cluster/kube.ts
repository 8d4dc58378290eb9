// The cluster tier's client: the official @kubernetes/client-node (ESM-only from 1.x, so it is
// loaded with import(); jest runs this tier with --experimental-vm-modules), on the cluster that
// KUBECONFIG names. Objects go to the API server as raw JSON, as Pulumi's provider sends them:
// the client's typed serializer would drop fields it does not know, and a field the server does
// not know must fail here (fieldValidation=Strict), not vanish.
// Long by design: apply, dry run, impersonation and the access reviews, each a small function.
import type * as K from "@kubernetes/client-node";
import { readFileSync } from "fs";
import { describeObject as describe } from "../../tools/kubeSchema";

type Obj = Record<string, any>;
export type KubeObject = {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string } & Obj;
} & Obj;

/** Every request of this tier names this field manager, so its writes are told apart from others'. */
const FIELD_MANAGER = "jenkins-k8s-cluster-tier";
/** On everything the tier creates that is not part of a render, so clean-up removes only that. */
export const TIER_LABEL = "jenkins-k8s.test/cluster-tier";

/** A ServiceAccount as a subject: the identity the API server sees for its pods and tokens. */
export interface Account {
    namespace: string;
    name: string;
}

export const userOf = (a: Account) => `system:serviceaccount:${a.namespace}:${a.name}`;

/** What the API server answered: the object, and the warnings it sent (Warning headers). */
export interface Answer {
    object: Obj;
    warnings: string[];
}

/** A refusal by the API server, with its own message. */
export class Refused extends Error {
    constructor(
        readonly code: number,
        readonly reason: string,
        message: string,
    ) {
        super(message);
        this.name = "Refused";
    }
}

/** `299 - "text"` entries of a Warning header (RFC 7234), as the API server writes them. */
export function parseWarnings(header: string | undefined): string[] {
    if (!header) {
        return [];
    }
    const out: string[] = [];
    const re = /\d{3} \S+ "((?:[^"\\]|\\.)*)"/g;
    for (let m = re.exec(header); m; m = re.exec(header)) {
        out.push(m[1].replace(/\\(.)/g, "$1"));
    }
    return out;
}

let loaded: Promise<typeof K> | undefined;
/** The client module, loaded once. */
export function client(): Promise<typeof K> {
    loaded ??= import("@kubernetes/client-node");
    return loaded;
}

export type Action = "create" | "delete" | "patch" | "read";
const METHOD: Record<Action, string> = { create: "POST", delete: "DELETE", patch: "PATCH", read: "GET" };

export class Cluster {
    private constructor(
        readonly k8s: typeof K,
        readonly kc: K.KubeConfig,
        readonly server: string,
    ) {}

    /** The cluster KUBECONFIG names. No fallback: this tier deletes namespaces it created. */
    static async connect(): Promise<Cluster> {
        const file = process.env.KUBECONFIG;
        if (!file) {
            throw new Error(
                "npm run test:cluster needs KUBECONFIG set to a throwaway cluster's kubeconfig " +
                    "(the project's local control plane: npm run cluster:up, then " +
                    "export KUBECONFIG=$(tools/control-plane.sh kubeconfig); or kind: kind create cluster)",
            );
        }
        const k8s = await client();
        const kc = new k8s.KubeConfig();
        kc.loadFromFile(file);
        const server = kc.getCurrentCluster()?.server;
        if (!server) {
            throw new Error(`KUBECONFIG ${file} has no current cluster`);
        }
        return new Cluster(k8s, kc, server);
    }

    /** A KubeConfig that acts as `account` (Impersonate-User; the API server adds the account's groups). */
    private configAs(account?: Account): K.KubeConfig {
        if (!account) {
            return this.kc;
        }
        const kc = new this.k8s.KubeConfig();
        const user = this.kc.getCurrentUser()!;
        kc.loadFromClusterAndUser(this.kc.getCurrentCluster()!, { ...user, impersonateUser: userOf(account) });
        return kc;
    }

    /** A typed API client (CoreV1Api, AppsV1Api, ...), as the admin or as `account`. */
    api<T>(type: new (config: K.Configuration) => T, account?: Account): T {
        return this.configAs(account).makeApiClient(type as unknown as K.ApiConstructor<K.ApiType>) as unknown as T;
    }

    /**
     * One request for an object, through the client's own pipeline (auth, impersonation, errors)
     * but with the object as raw JSON. Returns the answer and the API server's warnings; throws
     * Refused with the server's message.
     */
    async request(
        action: Action,
        object: KubeObject,
        options: { as?: Account; query?: Record<string, string>; contentType?: string } = {},
    ): Promise<Answer> {
        const { k8s } = this;
        const warnings: string[] = [];
        const collect = {
            pre: (ctx: K.RequestContext) => Promise.resolve(ctx),
            post: (res: K.ResponseContext) => {
                warnings.push(...parseWarnings(res.headers.warning));
                return Promise.resolve(res);
            },
        };
        const configuration = k8s.createConfiguration({
            baseServer: new k8s.ServerConfiguration(this.server, {}),
            authMethods: { default: this.configAs(options.as) },
            promiseMiddleware: [collect],
        });
        const Api = class extends k8s.KubernetesObjectApi {
            async send(): Promise<Obj> {
                const path = await this.specUriPath(object, action === "patch" ? "patch" : action);
                const ctx = this.configuration.baseServer.makeRequestContext(path, METHOD[action] as K.HttpMethod);
                ctx.setHeaderParam("Accept", "application/json");
                for (const [k, v] of Object.entries(options.query ?? {})) {
                    ctx.setQueryParam(k, v);
                }
                if (action === "create" || action === "patch") {
                    ctx.setHeaderParam("Content-Type", options.contentType ?? "application/json");
                    ctx.setBody(JSON.stringify(object));
                }
                return this.requestPromise<Obj>(ctx, "object");
            }
        };
        try {
            return { object: await new Api(configuration).send(), warnings };
        } catch (err) {
            throw refusal(err, `${action} ${describe(object)}`);
        }
    }

    /** Server-side apply, as `pulumi up` with the kubernetes provider does; strict field validation. */
    apply(object: KubeObject, options: { dryRun?: boolean; as?: Account } = {}): Promise<Answer> {
        return this.request("patch", object, {
            as: options.as,
            contentType: "application/apply-patch+yaml",
            query: {
                fieldManager: FIELD_MANAGER,
                force: "true",
                fieldValidation: "Strict",
                ...(options.dryRun ? { dryRun: "All" } : {}),
            },
        });
    }

    create(object: KubeObject, options: { as?: Account; dryRun?: boolean } = {}): Promise<Answer> {
        return this.request("create", object, {
            as: options.as,
            query: {
                fieldManager: FIELD_MANAGER,
                fieldValidation: "Strict",
                ...(options.dryRun ? { dryRun: "All" } : {}),
            },
        });
    }

    /** The object as the server has it now, or undefined when it does not exist. */
    async read(object: KubeObject): Promise<Obj | undefined> {
        try {
            return (await this.request("read", object)).object;
        } catch (err) {
            if (err instanceof Refused && err.code === 404) {
                return undefined;
            }
            throw err;
        }
    }

    /** Deletes the object (as `as`, if given); true when it existed. Background propagation. */
    async delete(object: KubeObject, options: { as?: Account } = {}): Promise<boolean> {
        try {
            await this.request("delete", object, { as: options.as, query: { propagationPolicy: "Background" } });
            return true;
        } catch (err) {
            if (err instanceof Refused && err.code === 404) {
                return false;
            }
            throw err;
        }
    }

    /** Asks the Eviction API to evict a pod, as `kubectl drain` does; throws Refused (429) when a budget forbids it. */
    async evict(pod: { name: string; namespace: string }): Promise<void> {
        const core = this.api(this.k8s.CoreV1Api);
        try {
            await core.createNamespacedPodEviction({
                name: pod.name,
                namespace: pod.namespace,
                body: { apiVersion: "policy/v1", kind: "Eviction", metadata: pod },
            });
        } catch (err) {
            throw refusal(err, `evict pod ${pod.namespace}/${pod.name}`);
        }
    }

    /** Waits for the object to be gone if it is being deleted (a namespace a previous run deleted). */
    async settled(object: KubeObject, timeoutMs = 120_000): Promise<void> {
        if ((await this.read(object))?.metadata?.deletionTimestamp) {
            await this.gone(object, timeoutMs);
        }
    }

    /** Waits until the object is gone from the API (finalizers done). */
    async gone(object: KubeObject, timeoutMs = 120_000): Promise<void> {
        await waitFor(`${describe(object)} to be gone`, timeoutMs, async () => (await this.read(object)) === undefined);
    }

    /** SubjectAccessReview: may `account` do this? Subresources are asked as such, never as a name. */
    async can(
        account: Account,
        attrs: { verb: string; resource: string; subresource?: string; group?: string; namespace?: string },
    ): Promise<boolean> {
        const authz = this.api(this.k8s.AuthorizationV1Api);
        const review = await authz.createSubjectAccessReview({
            body: {
                apiVersion: "authorization.k8s.io/v1",
                kind: "SubjectAccessReview",
                spec: {
                    user: userOf(account),
                    // SubjectAccessReview adds no groups by itself; these are the ones a token carries.
                    groups: [
                        "system:serviceaccounts",
                        `system:serviceaccounts:${account.namespace}`,
                        "system:authenticated",
                    ],
                    resourceAttributes: {
                        verb: attrs.verb,
                        resource: attrs.resource,
                        subresource: attrs.subresource,
                        group: attrs.group ?? "",
                        namespace: attrs.namespace,
                    },
                },
            },
        });
        return review.status?.allowed === true;
    }

    /** Who a bearer token authenticates as (SelfSubjectReview sent with that token, not the admin's). */
    async whoIs(token: string): Promise<{ username?: string; groups: string[] }> {
        const kc = new this.k8s.KubeConfig();
        const { name, server, caFile, caData, skipTLSVerify } = this.kc.getCurrentCluster()!;
        kc.loadFromClusterAndUser({ name, server, caFile, caData, skipTLSVerify }, { name: "token", token });
        const review = await kc.makeApiClient(this.k8s.AuthenticationV1Api).createSelfSubjectReview({
            body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
        });
        return { username: review.status?.userInfo?.username, groups: review.status?.userInfo?.groups ?? [] };
    }

    /** A short-lived token of `account` (TokenRequest), as a pod of that account holds one. */
    async tokenFor(account: Account): Promise<string> {
        const core = this.api(this.k8s.CoreV1Api);
        const request = await core.createNamespacedServiceAccountToken({
            name: account.name,
            namespace: account.namespace,
            body: {
                apiVersion: "authentication.k8s.io/v1",
                kind: "TokenRequest",
                spec: { audiences: [], expirationSeconds: 600 },
            },
        });
        return request.status!.token;
    }

    /** The PEM of the CA the API server's certificate is signed by, as a pod finds it in ca.crt. */
    caPem(): string {
        const { caFile, caData } = this.kc.getCurrentCluster()!;
        return caData ? Buffer.from(caData, "base64").toString() : readFileSync(caFile!, "utf8");
    }

    /** Every resource rule `account` holds in `namespace` (SelfSubjectRulesReview, impersonated). */
    async rules(account: Account, namespace: string): Promise<K.V1ResourceRule[]> {
        const authz = this.api(this.k8s.AuthorizationV1Api, account);
        const review = await authz.createSelfSubjectRulesReview({
            body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectRulesReview", spec: { namespace } },
        });
        return review.status?.resourceRules ?? [];
    }
}

export { describe };

function refusal(err: unknown, what: string): Error {
    const e = err as { code?: number; body?: unknown; message?: string };
    if (typeof e?.code !== "number") {
        return err instanceof Error ? err : new Error(String(err));
    }
    const status = ((): Obj => {
        try {
            return typeof e.body === "string" ? JSON.parse(e.body) : ((e.body as Obj) ?? {});
        } catch {
            return { message: String(e.body) };
        }
    })();
    return new Refused(e.code, status.reason ?? "", `${what}: HTTP ${e.code}: ${status.message ?? e.message}`);
}

/** Polls `check` until it is true; fails naming what it waited for, and the last state seen. */
export async function waitFor(
    what: string,
    timeoutMs: number,
    check: () => Promise<boolean | string>,
    intervalMs = 500,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        let last: string;
        try {
            const r = await check();
            if (r === true) {
                return;
            }
            last = String(r);
        } catch (err) {
            last = err instanceof Error ? err.message : String(err);
        }
        if (Date.now() > deadline) {
            throw new Error(
                `timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last: ${last})` : ""}`,
            );
        }
        await new Promise((r) => setTimeout(r, intervalMs));
    }
}
