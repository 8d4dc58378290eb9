// The offline render: evaluates the real program for a stack's settings under the mock runtime
// and writes every Kubernetes object as YAML, one file per object in apply order, plus the JCasC
// document on its own. No cluster, no Pulumi CLI, no credentials; secrets are redacted.
//
//   npm run render -- --stack dev [--out render/dev]
//
// A folder is written only when it is new, empty or an earlier render's (RENDER_MARKER).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { stringify } from "yaml";
import { createTwoFilesPatch } from "diff";
import { ConfigError } from "../config/reader";
import { evaluate, EvaluatedResource, Evaluation, isWrappedSecret } from "./evaluate";
import { ClusterReadError, liveCluster } from "../preflight/cluster";
import { KeptObjectsError } from "../preflight/kept";
import type { ClusterReader } from "../preflight/reader";
import { EXAMPLE_STACKS, readStackConfig, ROOT, StackError } from "./stackConfig";

/** Where the committed renders live; the test suite compares against them. */
export const GOLDEN_DIR = path.join(ROOT, "tests", "__golden__");

export const REDACTED = "[redacted]";
export const CASC_OUT = "jcasc.yaml";
export const RESOURCES_OUT = "pulumi-resources.yaml";

export type K8sObject = {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; [k: string]: any };
    [k: string]: any;
};

// The order Helm installs kinds in: what others refer to comes first.
const KIND_ORDER = [
    "Namespace",
    // Admission policies before anything that creates pods, so none is admitted without them.
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "Ingress",
    "ServiceMonitor",
];

function kindRank(kind: string): number {
    const i = KIND_ORDER.indexOf(kind);
    return i === -1 ? KIND_ORDER.length : i;
}

/** Replaces secret values with a marker; a secret map keeps its keys so readers see its shape. */
function redact(value: unknown): unknown {
    if (isWrappedSecret(value)) {
        const inner = value.value;
        return inner !== null && typeof inner === "object" && !Array.isArray(inner)
            ? Object.fromEntries(Object.keys(inner).map((k) => [k, REDACTED]))
            : REDACTED;
    }
    if (Array.isArray(value)) {
        return value.map(redact);
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
    }
    return value;
}

/** The Kubernetes objects of an evaluation, redacted, in apply order. */
export function kubernetesObjects(e: Evaluation): K8sObject[] {
    return e.resources
        .filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"))
        .map((r) => redact(r.inputs) as K8sObject)
        .sort(
            (a, b) =>
                kindRank(a.kind) - kindRank(b.kind) ||
                (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
                a.metadata.name.localeCompare(b.metadata.name),
        );
}

/**
 * `<kind rank>-<kind>-<namespace>-<name>.yaml`: sorting by name gives apply order, and the rank
 * belongs to the kind, so adding one object does not rename every file after it in a diff.
 */
function fileName(o: K8sObject): string {
    const parts = [String(kindRank(o.kind) + 1).padStart(2, "0"), o.kind, o.metadata.namespace, o.metadata.name].filter(
        Boolean,
    );
    return `${parts.join("-").toLowerCase()}.yaml`;
}

/** File name -> content, for a whole render. */
export function renderFiles(e: Evaluation): Map<string, string> {
    const files = new Map<string, string>();
    const objects = kubernetesObjects(e);
    for (const o of objects) {
        files.set(fileName(o), stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }));
    }
    const casc = objects.find((o) => o.kind === "ConfigMap" && o.data?.["jenkins.yaml"] !== undefined);
    if (casc) {
        files.set(CASC_OUT, casc.data["jenkins.yaml"]);
    }
    files.set(RESOURCES_OUT, stringify(pulumiResources(e), { lineWidth: 0 }));
    return files;
}

/**
 * What the objects' YAML does not show: every Pulumi resource with its parent and the options
 * that change what `pulumi up` and `pulumi destroy` do, and the inputs of resources that are not
 * Kubernetes objects (the generated passwords). A change to any of it shows in the golden diff.
 */
function pulumiResources(e: Evaluation): Record<string, unknown>[] {
    // The program's aliases (an earlier name or parent); the Kubernetes provider's own, one per
    // earlier API version of a kind, are the same in every render and left out.
    const ownAliases = (r: EvaluatedResource) => r.aliases.filter((a) => a.split("::")[2].split("$").pop() === r.type);
    const short = (urn?: string) => urn?.split("::").slice(-2).join("::");
    return e.resources
        .map((r) => ({
            resource: `${r.type}::${r.name}`,
            ...(r.parent ? { parent: short(r.parent) } : {}),
            ...(r.retainOnDelete ? { retainOnDelete: true } : {}),
            ...(r.importId ? { import: r.importId } : {}),
            ...(r.protect ? { protect: true } : {}),
            ...(Object.keys(r.customTimeouts).length > 0 ? { customTimeouts: r.customTimeouts } : {}),
            ...(ownAliases(r).length > 0 ? { aliases: ownAliases(r).map(short) } : {}),
            ...(r.custom && !r.type.startsWith("kubernetes:") ? { inputs: redact(r.inputs) } : {}),
        }))
        .sort((a, b) => a.resource.localeCompare(b.resource));
}

/**
 * Renders a stack's settings, with `overrides` (full key -> config string) on top when given: as
 * a first `pulumi up` would apply them, or, given a cluster to read, adopting what an earlier
 * destroy of the stack kept there.
 */
export async function renderStack(
    stack: string,
    overrides: Record<string, string> = {},
    cluster?: ClusterReader,
    organization?: string,
): Promise<Map<string, string>> {
    return renderFiles(
        await evaluate({ ...readStackConfig(stack), ...overrides }, { stack, preview: true, cluster, organization }),
    );
}

/**
 * The file that marks a folder as a render's: it lists the files the render wrote, which are the
 * only ones the next render of that folder removes.
 */
export const RENDER_MARKER = ".jenkins-k8s-render";

/**
 * Writes a render into `dir`, a new or empty folder or one an earlier render wrote (it has the
 * marker). The files the earlier render listed are replaced; nothing else in the folder is
 * touched, and a non-empty folder without the marker is refused before anything is written.
 */
export function writeRender(files: Map<string, string>, dir: string): void {
    const marker = path.join(dir, RENDER_MARKER);
    const mine = (name: string) => /^[^/\\]+$/.test(name) && name !== "." && name !== "..";
    let previous: string[] = [];
    if (existsSync(marker)) {
        previous = readFileSync(marker, "utf8")
            .split("\n")
            .filter((line) => line !== "" && !line.startsWith("#") && mine(line));
    } else if (existsSync(dir) && readdirSync(dir).length > 0) {
        throw new RenderError(
            `refusing to render into ${dir}: it is not empty and no render wrote it (no ${RENDER_MARKER}); ` +
                "give --out a new or empty folder (a folder from an older version of this tool can be deleted)",
        );
    }
    const foreign = [...files.keys()].filter((f) => !previous.includes(f) && existsSync(path.join(dir, f)));
    if (foreign.length > 0) {
        throw new RenderError(`refusing to overwrite ${foreign.join(", ")} in ${dir}: no render wrote them`);
    }
    const list = (names: string[]) =>
        ["# written by npm run render; these files are replaced by the next render", ...names].join("\n") + "\n";
    mkdirSync(dir, { recursive: true });
    // The marker first, naming old and new files, so an interrupted render leaves a folder the
    // next one still owns.
    writeFileSync(marker, list([...new Set([...previous, ...files.keys()])]));
    for (const f of previous.filter((f) => !files.has(f))) {
        rmSync(path.join(dir, f), { force: true });
    }
    for (const [name, content] of files) {
        writeFileSync(path.join(dir, name), content);
    }
    writeFileSync(marker, list([...files.keys()]));
}

/**
 * What changed between two renders, as a unified diff per changed file plus the files added and
 * gone; empty when they are the same.
 */
export function renderDiff(before: Map<string, string>, after: Map<string, string>): string {
    const parts: string[] = [];
    for (const name of [...new Set([...before.keys(), ...after.keys()])].sort()) {
        const [a, b] = [before.get(name), after.get(name)];
        if (a !== b) {
            parts.push(
                createTwoFilesPatch(
                    a === undefined ? "/dev/null" : `a/${name}`,
                    b === undefined ? "/dev/null" : `b/${name}`,
                    a ?? "",
                    b ?? "",
                    undefined,
                    undefined,
                    { context: 3 },
                ).replace(/^=+\n/, ""),
            );
        }
    }
    return parts.join("");
}

/** A mistake in how the tool was called: printed as one line, without a stack. */
export class RenderError extends Error {}

const USAGE =
    "usage: npm run render -- --stack <name> [--stack <name> ...] [--out <dir>] [--set <key>=<value> ...] [--cluster [--organization <org>]] | --update-golden | --help";

/** What --help prints. */
export const HELP = `${USAGE}

Writes what \`pulumi up\` would apply for a stack, one YAML file an object, without a cluster or the
Pulumi CLI: the program itself, under Pulumi's mock runtime, with Pulumi.yaml's defaults and
Pulumi.<stack>.yaml's settings.

  --stack, -s <name>       a stack (Pulumi.<name>.yaml); repeat for several
  --out, -o <dir>          where (one stack); default render/<stack>/
  --set <key>=<value>      a setting on top of the stack file's, as \`pulumi config set\` would put
                           it there (jenkins-k8s: is assumed; a list or mapping as JSON); repeat
                           for several, e.g. --set serviceType=ClusterIP --set 'plugins=["kubernetes:4540.v612369217f87"]'
  --cluster                read the cluster KUBECONFIG (or ~/.kube/config) names, as a preview does:
                           the Secrets the stack reads, a running controller, kept objects to adopt
  --organization <org>     with --cluster: the Pulumi organization whose kept objects are adopted
  --update-golden          rewrite tests/__golden__ for the example stacks
  --help, -h               this`;

function options(argv: string[]): {
    help: boolean;
    stacks: string[];
    out?: string;
    golden: boolean;
    cluster: boolean;
    organization?: string;
    overrides: Record<string, string>;
} {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", short: "s", multiple: true, default: [] },
                out: { type: "string", short: "o" },
                "update-golden": { type: "boolean", default: false },
                help: { type: "boolean", short: "h", default: false },
                // Read the cluster the kubeconfig names, as `pulumi up` does at preview: what it
                // would adopt of a destroyed stack's kept objects shows as `import` in pulumi-resources.yaml.
                cluster: { type: "boolean", default: false },
                // The stack's Pulumi organization (its kept objects' label names it); the local backend's by default.
                organization: { type: "string" },
                // A setting on top of the stack file's, as `pulumi config set` would put it there.
                set: { type: "string", multiple: true, default: [] },
            },
            strict: true,
            allowPositionals: false,
        }).values;
    } catch (err) {
        throw new RenderError(`${(err as Error).message}; ${USAGE}`);
    }
    if (parsed.help) {
        return { help: true, stacks: [], golden: false, cluster: false, overrides: {} };
    }
    const golden = parsed["update-golden"];
    const stacks = golden ? [...EXAMPLE_STACKS] : parsed.stack;
    if (stacks.length === 0 || stacks.some((st) => !st)) {
        throw new RenderError(USAGE);
    }
    if (parsed.out !== undefined && (stacks.length > 1 || golden)) {
        throw new RenderError("--out takes one stack; without --out each stack goes to render/<stack>");
    }
    if (parsed.cluster && golden) {
        throw new RenderError("--cluster renders against a live cluster; the golden renders are a first up");
    }
    const overrides: Record<string, string> = {};
    for (const pair of parsed.set) {
        const at = pair.indexOf("=");
        if (at <= 0) {
            throw new RenderError(`--set ${pair}: give key=value; ${USAGE}`);
        }
        const key = pair.slice(0, at);
        overrides[key.includes(":") ? key : `jenkins-k8s:${key}`] = pair.slice(at + 1);
    }
    if (golden && parsed.set.length > 0) {
        throw new RenderError("--set changes a stack's settings; the golden renders are the stack files as they are");
    }
    return {
        help: false,
        stacks,
        out: parsed.out,
        golden,
        cluster: parsed.cluster,
        organization: parsed.organization,
        overrides,
    };
}

async function main(): Promise<void> {
    const { help, stacks, out, golden, cluster, organization, overrides } = options(process.argv.slice(2));
    if (help) {
        console.log(HELP);
        return;
    }
    for (const stack of stacks) {
        const dir = path.resolve(out ?? path.join(golden ? GOLDEN_DIR : path.join(ROOT, "render"), stack));
        const files = await renderStack(stack, overrides, cluster ? liveCluster() : undefined, organization);
        writeRender(files, dir);
        console.log(`${stack}: ${files.size} files in ${path.relative(process.cwd(), dir) || "."}`);
        for (const f of files.keys()) {
            console.log(`  ${f}`);
        }
    }
}

if (require.main === module) {
    main().then(
        () => process.exit(0),
        (err) => {
            // Settings and usage errors read as pulumi preview prints them; anything else keeps its stack.
            const plain =
                err instanceof ConfigError ||
                err instanceof RenderError ||
                err instanceof StackError ||
                err instanceof ClusterReadError ||
                err instanceof KeptObjectsError ||
                !(err instanceof Error);
            console.error(plain ? `error: ${err.message ?? err}` : err.stack);
            process.exit(1);
        },
    );
}
