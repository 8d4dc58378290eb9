// Runs the policies without the Pulumi CLI: builds for each resource the argument object that
// @pulumi/policy's analyzer server builds (server.js, makeAnalyzeRpcFun) and collects violations.
// The tests use it on hand-written objects and on the program's evaluated resources.
import { EnforcementLevel, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { Resource } from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { policies as allPolicies, ResourceOptionsWithRetain } from "./policies";

// Typed here because @pulumi/policy exports these at runtime but strips them from its .d.ts.
const { unknownCheckingProxy, UnknownValueError } = require("@pulumi/policy") as {
    unknownCheckingProxy: <T>(props: T) => T;
    UnknownValueError: new (...args: any[]) => Error;
};

export interface PolicyInput {
    type: string;
    /** The Pulumi resource name. */
    name: string;
    urn?: string;
    inputs: Record<string, any>;
    /** Left undefined, the option is hidden from the policies, as the CLI hides it. */
    retainOnDelete?: boolean;
    protect?: boolean;
}

export interface Violation {
    policy: string;
    /** The resource's URN, or `type::name` when it has none. */
    resource: string;
    message: string;
    level: EnforcementLevel;
}

// The SDK's wire form of a secret (as the mock runtime hands inputs over); the analyzer gets
// plain values, so the policies never see this wrapper.

function unwrapSecrets(v: unknown): unknown {
    if (Array.isArray(v)) {
        return v.map(unwrapSecrets);
    }
    if (v !== null && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[specialSigKey] === specialSecretSig) {
            return unwrapSecrets(o.value);
        }
        return Object.fromEntries(
            Object.entries(o)
                .filter(([, x]) => x !== undefined)
                .map(([k, x]) => [k, unwrapSecrets(x)]),
        );
    }
    return v;
}

class NotApplicable extends Error {}

/** What isTypeOf in @pulumi/policy's server does: the class's Pulumi type, else its isInstance. */
function isTypeOf(type: string, cls: any): boolean {
    const t = cls?.__pulumiType;
    if (typeof t === "string" && t.length > 0) {
        return type === t;
    }
    return typeof cls?.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true;
}

function resourceArgs(r: PolicyInput, urn: string): ResourceValidationArgs {
    const props = unknownCheckingProxy(unwrapSecrets(r.inputs) as Record<string, any>);
    const opts: ResourceOptionsWithRetain = {
        protect: r.protect ?? false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
    };
    if (r.retainOnDelete !== undefined) {
        opts.retainOnDelete = r.retainOnDelete;
    }
    return {
        type: r.type,
        props,
        urn,
        name: r.name,
        opts,
        stackTags: new Map<string, string>(),
        isType: <T extends Resource>(cls: { new (...rest: any[]): T }) => isTypeOf(r.type, cls),
        asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

/** Runs every policy's validateResource on each resource; returns what they report. */
export function checkResources(resources: PolicyInput[], policies = allPolicies): Violation[] {
    const out: Violation[] = [];
    for (const r of resources) {
        const urn = r.urn ?? `${r.type}::${r.name}`;
        for (const p of policies) {
            const level = p.enforcementLevel ?? "advisory";
            if (level === "disabled" || !p.validateResource) {
                continue;
            }
            const validations: ResourceValidation[] = Array.isArray(p.validateResource)
                ? p.validateResource
                : [p.validateResource];
            for (const validate of validations) {
                const typed = (validate as { __pulumiType?: string }).__pulumiType;
                if (typed && typed !== r.type) {
                    continue;
                }
                const report = (message: string) => out.push({ policy: p.name, resource: urn, message, level });
                try {
                    const result = validate(resourceArgs(r, urn), report);
                    if (result instanceof Promise) {
                        throw new Error(
                            `policy ${p.name} is asynchronous; checkResources runs synchronous policies only`,
                        );
                    }
                } catch (e) {
                    if (e instanceof NotApplicable) {
                        continue;
                    }
                    if (e instanceof UnknownValueError) {
                        // The server downgrades these to advisory: the value is only known at update time.
                        out.push({
                            policy: p.name,
                            resource: urn,
                            message: `can't run during preview: ${e.message}`,
                            level: "advisory",
                        });
                        continue;
                    }
                    throw new Error(`policy ${p.name} failed on ${urn}: ${(e as Error).message}`, { cause: e });
                }
            }
        }
    }
    return out;
}

export function mandatory(violations: Violation[]): Violation[] {
    // The server reports `remediate` policies that still fail as mandatory.
    return violations.filter((v) => v.level === "mandatory" || v.level === "remediate");
}
