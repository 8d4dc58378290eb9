// Shared by the suites: evaluates the real program for a config and finds what it registered.
import * as pulumi from "@pulumi/pulumi";
import { evaluate, EvaluatedResource, Evaluation, type Program } from "../tools/evaluate";
import { projectDefaults, readStackConfig, ROOT } from "../tools/stackConfig";
import { DEFAULT_PLUGINS } from "../config/keys";
import { PROJECT } from "../config/metadata";
import { settingsFrom } from "../config/settings";
import { ConfigError } from "../config/reader";
import { Lock, lockFileName, serialiseLock, stackLock } from "../plugins/lock";
import { Metadata, Release } from "../plugins/metadata";
import { resolveLock } from "../plugins/resolve";
import { createHash } from "crypto";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";

export type Config = Record<string, unknown>;

function toRaw(base: Record<string, string>, overrides: Config): Record<string, string> {
    const raw = { ...base };
    for (const [k, v] of Object.entries(overrides)) {
        raw[k.includes(":") ? k : `${PROJECT}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return raw;
}

/** Settings from short keys (`namespace`, not `jenkins-k8s:namespace`), objects as the stack file's JSON. */
export function settingsOf(values: Config = {}) {
    return settingsFrom(toRaw({}, values));
}

/** Every problem the settings are refused for; none when they are accepted. */
export function problemsOf(values: Config): string[] {
    try {
        settingsOf(values);
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    return [];
}

/** Where withLock writes its locks: inside the project (pluginLockDir is relative to it), ignored by git. */
export const TEST_LOCKS = "node_modules/.cache/jenkins-k8s-test-locks";

/** The update center metadata in tests/fixtures/update-center, as plugins:lock reads it from the folder. */
export function fixtureMetadata(): Metadata {
    const dir = path.join(ROOT, "tests", "fixtures", "update-center");
    return {
        updateCenter: JSON.parse(readFileSync(path.join(dir, "update-center.actual.json"), "utf8")),
        pluginVersions: JSON.parse(readFileSync(path.join(dir, "plugin-versions.json"), "utf8")),
        source: path.relative(ROOT, dir),
    };
}

/** Writes a lock where `pluginLockDir: TEST_LOCKS` finds it. */
export function writeTestLock(lock: Lock): void {
    mkdirSync(path.join(ROOT, TEST_LOCKS), { recursive: true });
    writeFileSync(path.join(ROOT, TEST_LOCKS, lockFileName(lock.plugins, lock.jenkins)), serialiseLock(lock));
}

/** Metadata that publishes exactly these plugin releases, none needing another. */
export function metadataOf(plugins: string[], jenkins: string): Metadata {
    const release = (spec: string): Release => {
        const [name, version] = [spec.slice(0, spec.indexOf(":")), spec.slice(spec.indexOf(":") + 1)];
        return {
            name,
            version,
            url: `https://updates.jenkins.io/download/plugins/${name}/${version}/${name}.hpi`,
            sha256: createHash("sha256").update(`${name} ${version}`).digest("base64"),
            requiredCore: jenkins,
            dependencies: [],
        };
    };
    return {
        updateCenter: { id: "tests", plugins: {} },
        pluginVersions: {
            plugins: Object.fromEntries(plugins.map((p) => [p.split(":")[0], { [release(p).version]: release(p) }])),
        },
        source: "tests/harness.ts",
    };
}

/** The default plugin list without its jobs plugins (workflow-aggregator, git): what a TCP stack cannot go without. */
export const MINIMAL_PLUGINS = DEFAULT_PLUGINS.filter((p) => !/^(workflow-aggregator|git):/.test(p));

/**
 * `overrides` plus a plugin lock for the plugin list they make, for tests that change the list
 * or the core: the generator's lock from metadata that lists just those plugins, in a folder of
 * its own. The stacks' own lists use the committed locks.
 */
export function withLock(overrides: Config, stack?: string): Config {
    const raw = toRaw(stack ? readStackConfig(stack) : projectDefaults(), overrides);
    const p = settingsFrom(raw).plugins;
    if (stackLock({ ...p, plugins: p.list }, ROOT, stack).lock) {
        return overrides;
    }
    const lock = resolveLock(
        { plugins: p.list, jenkins: p.jenkins, acknowledged: p.acknowledged },
        metadataOf(p.list, p.jenkins),
    );
    writeTestLock(lock);
    return { ...overrides, pluginLockDir: TEST_LOCKS };
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

/**
 * Warnings a real preview of an example stack would not print: the one every offline evaluation
 * gets because its committed plugin lock comes from the test fixture's metadata (no update center
 * is reachable where this project is built), and the one that says the credential Secrets were
 * not checked because no cluster was read.
 */
export function withoutOfflineWarnings(warnings: string[]): string[] {
    return warnings.filter(
        (w) =>
            !/^plugin-locks\/\w+\.json was resolved from the test fixture's update center/.test(w) &&
            !/ were not checked: no cluster was read \(an offline render\)/.test(w),
    );
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

/**
 * What a program that makes resources itself registers, under the same mock runtime: a component
 * constructed on its own, with typed args, returning what the test reads as outputs.
 */
export function runProgram(program: Program): Promise<Stack> {
    return evaluate({}, { program }).then((e) => new Stack(e));
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

    /** The plugins the controller installs, `name:version`, from the scripts ConfigMap's lock. */
    get lockedPlugins(): string[] {
        return this.object("ConfigMap", "jenkins-scripts")
            .data["plugins.lock"].split("\n")
            .filter((line: string) => line !== "" && !line.startsWith("#"))
            .map((line: string) => line.split(" ").slice(0, 2).join(":"));
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
