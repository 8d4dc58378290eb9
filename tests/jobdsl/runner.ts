// Runs a generated Job DSL script under Groovy 2.4.21 (tools/groovy.ts) with run.groovy, the way
// JCasC's `jobs:` root runs it, against stand-ins for the few Jenkins objects it touches, and reads
// back what it declared. Shared by npm run test:jobdsl and the cluster tier.
import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import Ajv from "ajv";
import { GROOVY_JAR, groovyMissing } from "../../tools/groovy";
import schema from "../../schemas/jobdsl.schema.json";

/** A Job DSL call as recorded: its arguments, and the calls of its closure. */
export interface Call {
    method: string;
    args: unknown[];
    body?: Call[];
}

/** An item the script declared: its kind (the DslFactory method), full name and calls. */
export interface Declared {
    kind: "folder" | "job" | "pipelineJob" | "multibranchPipelineJob";
    name: string;
    calls: Call[];
}

export interface JobDslRun {
    /** The items the script declared, in order, with their calls. */
    items: Declared[];
    /** The folders among them. */
    folders: Declared[];
    /** Folders it deleted, and jobs it disabled. */
    deleted: string[];
    disabled: string[];
    /** What it printed (Jenkins' log). */
    printed: string;
}

export interface JobDslOptions {
    /** JENKINS_HOME; a fresh folder when unset. */
    home?: string;
    /** Items are loaded (a reload); false: JCasC at a start, before items load. */
    loaded: boolean;
    /** Loaded items: a folder's full name, or an item of a kind. */
    items?: (string | { name: string; kind: Declared["kind"]; disabled?: boolean })[];
    /** Items whose config.xml is on disk (written before the run): a folder's name, or an item of a kind, with a description. */
    onDisk?: (string | { name: string; kind?: Declared["kind"]; description?: string })[];
    /** JCasC providedEnv: the script's binding variables. */
    env?: Record<string, string>;
}

const HERE = __dirname;

/** Runs the script; throws with Groovy's error when the script fails. */
export function runJobDsl(script: string, options: JobDslOptions): JobDslRun {
    const missing = groovyMissing();
    if (missing) throw new Error(missing);
    const work = mkdtempSync(path.join(tmpdir(), "jenkins-k8s-jobdsl-"));
    try {
        const home = options.home ?? path.join(work, "home");
        writeFileSync(path.join(work, "script.groovy"), script);
        writeFileSync(path.join(work, "options.json"), JSON.stringify({ ...options, home }));
        const run = spawnSync(
            "java",
            [
                "-cp",
                [GROOVY_JAR, path.join(HERE, "stubs")].join(path.delimiter),
                "groovy.ui.GroovyMain",
                path.join(HERE, "run.groovy"),
                path.join(work, "script.groovy"),
                path.join(work, "options.json"),
                path.join(work, "out.json"),
            ],
            { encoding: "utf8", timeout: 60_000 },
        );
        if (run.error) throw new Error(`java: ${run.error.message} (a JDK 11 or later must be on PATH)`);
        if (run.status !== 0) {
            throw new Error(
                `the Job DSL script failed under Groovy 2.4.21:\n${(run.stderr || run.stdout).slice(0, 4000)}`,
            );
        }
        const out = JSON.parse(readFileSync(path.join(work, "out.json"), "utf8")) as Omit<JobDslRun, "folders">;
        return { ...out, folders: out.items.filter((i) => i.kind === "folder") };
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}

/** A context as the schema reads it: method name -> its invocations, each its args and closure. */
type Context = Record<string, { args: unknown[]; body?: Context }[]>;

export function contextOf(calls: Call[]): Context {
    const context: Context = {};
    for (const call of calls) {
        (context[call.method] ??= []).push({
            args: call.args,
            ...(call.body ? { body: contextOf(call.body) } : {}),
        });
    }
    return context;
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** What the declared folders break of schemas/jobdsl.schema.json: a method or argument Job DSL would refuse. */
export function jobDslProblems(run: Pick<JobDslRun, "items">): string[] {
    const doc = { items: run.items.map((i) => ({ kind: i.kind, name: i.name, calls: contextOf(i.calls) })) };
    return validate(doc)
        ? []
        : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

/** The calls of a folder's context at a path of method names (the first invocation of each). */
export function callsAt(calls: Call[], ...methods: string[]): Call[] {
    return methods.reduce<Call[]>((acc, m) => acc.find((c) => c.method === m)?.body ?? [], calls);
}
