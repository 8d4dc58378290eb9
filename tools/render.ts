// The offline render: evaluates the real program for a stack's settings under the mock runtime
// and writes every Kubernetes object as YAML, one file per object in apply order, plus the JCasC
// document on its own. No cluster, no Pulumi CLI, no credentials; secrets are redacted.
//
//   npm run render -- --stack dev [--out render/dev]
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { ConfigError } from "../config/reader";
import { evaluate, Evaluation, isWrappedSecret } from "./evaluate";
import { listStacks, readStackConfig, ROOT } from "./stackConfig";

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
export function redact(value: unknown): unknown {
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
export function fileName(o: K8sObject): string {
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
export function pulumiResources(e: Evaluation): Record<string, unknown>[] {
    const short = (urn?: string) => urn?.split("::").slice(-2).join("::");
    return e.resources
        .map((r) => ({
            resource: `${r.type}::${r.name}`,
            ...(r.parent ? { parent: short(r.parent) } : {}),
            ...(r.retainOnDelete ? { retainOnDelete: true } : {}),
            ...(r.protect ? { protect: true } : {}),
            ...(Object.keys(r.customTimeouts).length > 0 ? { customTimeouts: r.customTimeouts } : {}),
            ...(r.custom && !r.type.startsWith("kubernetes:") ? { inputs: redact(r.inputs) } : {}),
        }))
        .sort((a, b) => a.resource.localeCompare(b.resource));
}

/** Renders a stack's settings, with `overrides` (full key -> config string) on top when given. */
export async function renderStack(stack: string, overrides: Record<string, string> = {}): Promise<Map<string, string>> {
    return renderFiles(await evaluate({ ...readStackConfig(stack), ...overrides }, { stack, preview: true }));
}

/** Writes a render into `dir`, replacing the YAML files a previous render left there. */
export function writeRender(files: Map<string, string>, dir: string): void {
    if (existsSync(dir)) {
        for (const f of readdirSync(dir)) {
            if (f.endsWith(".yaml")) {
                rmSync(path.join(dir, f));
            }
        }
    }
    mkdirSync(dir, { recursive: true });
    for (const [name, content] of files) {
        writeFileSync(path.join(dir, name), content);
    }
}

function parseArgs(argv: string[]): { stacks: string[]; out?: string; golden: boolean } {
    const stacks: string[] = [];
    let out: string | undefined;
    let golden = false;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--update-golden") {
            golden = true;
            stacks.push(...listStacks());
        } else if (a === "--stack" || a === "-s") {
            stacks.push(argv[++i]);
        } else if (a.startsWith("--stack=")) {
            stacks.push(a.slice("--stack=".length));
        } else if (a === "--out" || a === "-o") {
            out = argv[++i];
        } else if (a.startsWith("--out=")) {
            out = a.slice("--out=".length);
        } else {
            throw new Error(`unknown argument ${a}; usage: npm run render -- --stack <name> [--out <dir>]`);
        }
    }
    if (stacks.length === 0 || stacks.some((s) => !s)) {
        throw new Error("usage: npm run render -- --stack <name> [--stack <name> ...] [--out <dir>]");
    }
    if (out !== undefined && stacks.length > 1) {
        throw new Error("--out takes one stack; without --out each stack goes to render/<stack>");
    }
    return { stacks, out, golden };
}

async function main(): Promise<void> {
    const { stacks, out, golden } = parseArgs(process.argv.slice(2));
    for (const stack of stacks) {
        const dir = path.resolve(out ?? path.join(golden ? GOLDEN_DIR : path.join(ROOT, "render"), stack));
        const files = await renderStack(stack);
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
            // Settings errors read as pulumi preview prints them; anything else keeps its stack.
            console.error(
                err instanceof ConfigError || !(err instanceof Error) ? `error: ${err.message ?? err}` : err.stack,
            );
            process.exit(1);
        },
    );
}
