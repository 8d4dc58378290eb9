// Runs the real program (index.ts, unchanged) under Pulumi's mock runtime and collects what it
// would register. The tests and the offline render share this one evaluator.
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import * as settingsRuntime from "@pulumi/pulumi/runtime/settings";
import { PROJECT } from "../config/metadata";
import { EMPTY_CLUSTER } from "../preflight/cluster";
import type { ClusterReader } from "../preflight/reader";
import type { Run } from "../preflight";

export interface EvaluatedResource {
    urn: string;
    type: string;
    /** The Pulumi resource name (not the Kubernetes metadata.name). */
    name: string;
    parent?: string;
    custom: boolean;
    inputs: Record<string, any>;
    /** What `retainOnDelete`, `protect` and `dependsOn` say, as the engine would get them. */
    retainOnDelete: boolean;
    /** The `import` option: the ID of an existing object the engine adopts instead of creating. */
    importId?: string;
    /** Input paths whose changes the engine ignores (`ignoreChanges`). */
    ignoreChanges: string[];
    protect: boolean;
    dependencies: string[];
    /** Custom timeouts that are set, e.g. { create: "20m" }. */
    customTimeouts: Record<string, string>;
    /** The URNs the `aliases` option names: earlier URNs whose state the engine moves to this one. */
    aliases: string[];
}

/** A resource the program reads (`X.get(name, id)`): the engine looks it up, even at preview. */
export interface EvaluatedRead {
    type: string;
    name: string;
    id: string;
}

export interface Evaluation {
    resources: EvaluatedResource[];
    reads: EvaluatedRead[];
    outputs: Record<string, unknown>;
    /** Names of the stack outputs that are Pulumi secrets. */
    secretOutputs: string[];
    /** URNs registered more than once; the real engine refuses these. */
    duplicateUrns: string[];
}

/** Whether a mock input is a secret in the SDK's wire form ({ [specialSigKey]: specialSecretSig, value }). */
export function isWrappedSecret(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** A program: Pulumi calls it with no argument; the evaluation with the stand-in cluster. */
export type Program = (run: Run) => Promise<Record<string, unknown>> | Record<string, unknown>;

export interface EvaluateOptions {
    stack?: string;
    preview?: boolean;
    /**
     * The program to run: a module (this project's index.ts by default), or a function that makes
     * resources itself (a component's own test); and its project name.
     */
    program?: string | Program;
    project?: string;
    /** The stack's organization; the local backend's ("organization") by default. */
    organization?: string;
    /** The cluster the program reads its kept objects from; none exist by default (a first `up`). */
    cluster?: ClusterReader;
    /** Outputs that StackReferences resolve to, by referenced stack name. */
    stackOutputs?: Record<string, Record<string, unknown>>;
}

/** What the mock provider returns: inputs plus what a real provider would fill in. */
function mockState(
    type: string,
    name: string,
    inputs: Record<string, any>,
    options: EvaluateOptions,
): Record<string, any> {
    const state = { ...inputs };
    if (type === "pulumi:pulumi:StackReference") {
        const outputs = options.stackOutputs?.[inputs.name];
        if (!outputs) {
            throw new Error(`no outputs given for the stack reference ${inputs.name}`);
        }
        return { name: inputs.name, outputs, secretOutputNames: [] };
    }
    if (type.startsWith("kubernetes:") && inputs.metadata && !inputs.metadata.name) {
        // Auto-naming happens in the provider; do what it does (name plus a random suffix).
        state.metadata = { ...inputs.metadata, name: `${name}-abcd1234` };
    }
    if (type === "random:index/randomPassword:RandomPassword") {
        const length = inputs.length ?? 16;
        state.result = "p".repeat(length);
    }
    if (type === "kubernetes:core/v1:Service" && inputs.spec?.type === "LoadBalancer") {
        state.status = { loadBalancer: { ingress: [{ ip: "203.0.113.10" }] } };
    }
    return state;
}

async function settle<T>(value: T): Promise<{ value: unknown; secret: boolean }> {
    if (pulumi.Output.isInstance(value)) {
        const secret = await pulumi.isSecret(value);
        // apply() never calls back for an Output that failed; the internal promise rejects, so
        // a failing program fails the evaluation instead of hanging it.
        const inner = await (value as unknown as { promise(): Promise<unknown> }).promise();
        return { value: inner, secret };
    }
    return { value, secret: false };
}

/**
 * Evaluates the program for one stack's config (full keys, string values, as the engine passes
 * them). Throws what the program throws, e.g. a ConfigError for bad settings.
 */
export async function evaluate(config: Record<string, string>, options: EvaluateOptions = {}): Promise<Evaluation> {
    const resources: EvaluatedResource[] = [];
    const reads: EvaluatedRead[] = [];
    const seen = new Map<string, number>();
    let pending = 0;
    // The entry being registered: the mock monitor calls newResource synchronously inside
    // registerResource, so the inputs it decodes are this entry's (decoded once, not twice).
    let registering: EvaluatedResource | undefined;

    pulumi.runtime.setAllConfig(config);
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                if (registering) {
                    registering.inputs = args.inputs;
                }
                return {
                    id: args.custom ? `${args.name}-id` : undefined,
                    state: mockState(args.type, args.name, args.inputs, options),
                };
            },
            call: (args) => args.inputs,
        },
        options.project ?? PROJECT,
        options.stack ?? "test",
        options.preview ?? false,
        // What the local backend (pulumi login --local) calls every stack's organization.
        options.organization ?? "organization",
    );

    // The mock monitor neither checks URNs nor tells the mocks a resource's parent or options
    // (MockResourceArgs has type, name, inputs, provider, custom and id only; pulumi/pulumi#14421
    // asks for the rest), so read them off each registration request before it goes on. Guarded:
    // an SDK that changes this path fails the evaluation loudly (below), never silently.
    const monitor = settingsRuntime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    // An alias as the engine resolves it: a URN as given, or a spec whose empty parts are the
    // resource's own (another stack or project is not something this program writes).
    const aliasUrn = (alias: any, req: any): string => {
        if (alias.getUrn()) return alias.getUrn();
        const spec = alias.getSpec();
        if (spec.getStack() || spec.getProject()) {
            throw new Error(`evaluate: ${req.getName()} has an alias into another stack or project`);
        }
        const parent = spec.getNoparent() ? "" : spec.getParenturn() || req.getParent();
        return monitor.newUrn(parent, spec.getType() || req.getType(), spec.getName() || req.getName());
    };
    monitor.registerResource = (req: any, callback: (err: unknown, res: unknown) => void) => {
        const urn: string = monitor.newUrn(req.getParent(), req.getType(), req.getName());
        seen.set(urn, (seen.get(urn) ?? 0) + 1);
        pending++;
        const entry: EvaluatedResource = {
            urn,
            type: req.getType(),
            name: req.getName(),
            parent: req.getParent() || undefined,
            custom: req.getCustom(),
            inputs: {},
            retainOnDelete: req.getRetainondelete?.() ?? false,
            importId: req.getImportid?.() || undefined,
            ignoreChanges: req.getIgnorechangesList?.() ?? [],
            protect: req.getProtect?.() ?? false,
            dependencies: req.getDependenciesList?.() ?? [],
            customTimeouts: Object.fromEntries(
                Object.entries(req.getCustomtimeouts?.()?.toObject() ?? {}).filter(([, v]) => v !== ""),
            ) as Record<string, string>,
            aliases: (req.getAliasesList?.() ?? []).map((alias: any) => aliasUrn(alias, req)),
        };
        resources.push(entry);
        registering = entry;
        let captured: boolean;
        try {
            register(req, (err: unknown, res: unknown) => {
                pending--;
                callback(err, res);
            });
            captured = Object.keys(entry.inputs).length > 0 || !req.getObject()?.getFieldsMap().getLength();
        } finally {
            registering = undefined;
        }
        if (!captured) {
            // A newer SDK that calls newResource later would leave every object empty: say so.
            throw new Error(`evaluate: the mock monitor did not pass ${urn}'s inputs to newResource synchronously`);
        }
    };

    const read = monitor.readResource.bind(monitor);
    monitor.readResource = (req: any, callback: (err: unknown, res: unknown) => void) => {
        reads.push({ type: req.getType(), name: req.getName(), id: req.getId() });
        read(req, callback);
    };

    // The program module is loaded once; each evaluation calls its exported function afresh, with
    // the stand-in cluster (Pulumi calls it with none: the live one).
    const program: Program =
        typeof options.program === "function" ? options.program : require(options.program ?? "../index");
    const exported = await program({ reader: options.cluster ?? EMPTY_CLUSTER, offline: true });

    const outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    for (const [key, value] of Object.entries(exported)) {
        const settled = await settle(value);
        outputs[key] = settled.value;
        if (settled.secret) {
            secretOutputs.push(key);
        }
    }
    // Registrations nothing waits on (a RoleBinding, say) may still be in flight.
    let quiet = 0;
    while (quiet < 3) {
        await new Promise((r) => setImmediate(r));
        quiet = pending === 0 ? quiet + 1 : 0;
    }
    const duplicateUrns = [...seen].filter(([, n]) => n > 1).map(([urn]) => urn);
    return { resources, reads, outputs, secretOutputs, duplicateUrns };
}
