// Shared by the suites: evaluates the real program for a config and finds what it registered.
import * as pulumi from "@pulumi/pulumi";
import { evaluate, EvaluatedResource, Evaluation } from "../tools/evaluate";
import { projectDefaults, readStackConfig } from "../tools/stackConfig";
import { PROJECT } from "../config/keys";

export type Config = Record<string, unknown>;

function toRaw(base: Record<string, string>, overrides: Config): Record<string, string> {
    const raw = { ...base };
    for (const [k, v] of Object.entries(overrides)) {
        raw[k.includes(":") ? k : `${PROJECT}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return raw;
}

/** Evaluates the program for Pulumi.yaml's defaults plus `overrides`. */
export function runDefaults(overrides: Config = {}): Promise<Stack> {
    return evaluate(toRaw(projectDefaults(), overrides)).then((e) => new Stack(e));
}

/** Like runDefaults, and also returns the warnings the program printed (pulumi.log.warn). */
export async function runDefaultsWarned(overrides: Config = {}): Promise<{ stack: Stack; warnings: string[] }> {
    const { result: stack, warnings } = await warningsOf(() => runDefaults(overrides));
    return { stack, warnings };
}

/** What `run` returns, and the warnings the program printed meanwhile (pulumi.log.warn). */
export async function warningsOf<T>(run: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
    // tests/setup.ts has replaced pulumi.log.warn with a mock for every suite.
    const warn = jest.mocked(pulumi.log.warn);
    const before = warn.mock.calls.length;
    const result = await run();
    return { result, warnings: warn.mock.calls.slice(before).map((c) => String(c[0])) };
}

/** Evaluates the program for a stack file in the repo, plus `overrides`. */
export function runStack(stack: string, overrides: Config = {}): Promise<Stack> {
    return evaluate(toRaw(readStackConfig(stack), overrides), { stack }).then((e) => new Stack(e));
}

export class Stack {
    constructor(readonly evaluation: Evaluation) {}

    get resources(): EvaluatedResource[] {
        return this.evaluation.resources;
    }

    get outputs(): Record<string, any> {
        return this.evaluation.outputs;
    }

    /** Kubernetes objects by kind (and metadata.name when given). */
    objects(kind: string, name?: string): Record<string, any>[] {
        return this.resources
            .filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.inputs.kind === kind)
            .map((r) => r.inputs)
            .filter((o) => name === undefined || o.metadata?.name === name);
    }

    /** The one object of a kind (and name); fails the test when there is not exactly one. */
    object(kind: string, name?: string): Record<string, any> {
        const found = this.objects(kind, name);
        if (found.length !== 1) {
            throw new Error(`expected one ${kind}${name ? ` named ${name}` : ""}, found ${found.length}`);
        }
        return found[0];
    }

    resource(type: string, name: string): EvaluatedResource {
        const r = this.resources.find((x) => x.type === type && x.name === name);
        if (!r) {
            throw new Error(`no ${type} named ${name}`);
        }
        return r;
    }

    get controllerPod(): Record<string, any> {
        return this.object("Deployment", "jenkins").spec.template.spec;
    }

    container(name: string): Record<string, any> {
        const pod = this.controllerPod;
        const c = [...pod.containers, ...(pod.initContainers ?? [])].find((x: any) => x.name === name);
        if (!c) {
            throw new Error(`no container ${name} in the controller pod`);
        }
        return c;
    }

    env(container: string): Record<string, string> {
        return Object.fromEntries(this.container(container).env.map((e: any) => [e.name, e.value]));
    }

    get casc(): string {
        return this.object("ConfigMap", "jenkins-casc").data["jenkins.yaml"];
    }
}
