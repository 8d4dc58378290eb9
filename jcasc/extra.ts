// Extra JCasC documents (the `extraCasc` setting) merged into the program's own, the way
// configuration-as-code 2115 merges several files (yaml/ErrorOnConflictMergeStrategy): mappings key
// by key, sequences one after the other, and the same scalar in two documents an error even when
// equal, which stops Jenkins; here it fails the preview instead, naming the path. Sections the
// program writes are refused outright, a `${...}` JCasC would resolve is refused, and the merged
// document is held to schemas/jcasc.schema.json where the schema describes it (elsewhere: a warning).
import Ajv, { ErrorObject, ValidateFunction } from "ajv";
import type { CascDocument } from "../config/jobs";
import { formatPath } from "../config/reader";
import schema from "../schemas/jcasc.schema.json";

type Node = unknown;
type Mapping = Record<string, Node>;
const isMapping = (v: Node): v is Mapping => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * What the program writes, which an extra document may not set: the clouds, sign-in and
 * permissions, the system credentials, and the jobs (the team folders' script owns the items).
 */
export const OWNED: { path: string[]; by: string }[] = [
    { path: ["jenkins", "clouds"], by: "jenkins-k8s:podTemplates and the agent tiers" },
    { path: ["jenkins", "securityRealm"], by: "jenkins-k8s:securityRealm" },
    { path: ["jenkins", "authorizationStrategy"], by: "jenkins-k8s:administrators, readers and teams" },
    { path: ["credentials"], by: "jenkins-k8s:credentials and teams[].credentials" },
    { path: ["jobs"], by: "jenkins-k8s:teams[].repositories and testJob" },
];

/** Objects whose keys are sections the schema may not describe: an unknown key there is a warning. */
const CONTAINERS = ["", "/jenkins", "/unclassified", "/security", "/tool", "/appearance"];

/** The schema's validator, compiled when a stack first has extra documents (it takes ~150 ms). */
let compiled: ValidateFunction | undefined;
const validator = (): ValidateFunction => (compiled ??= new Ajv({ allErrors: true, strict: true }).compile(schema));

/** The merged document, and what the preview says of the extra documents. */
export interface Merged {
    doc: Mapping;
    problems: string[];
    warnings: string[];
}

const where = (i: number, path: (string | number)[]) => formatPath("extraCasc", [i, ...path]);

/** Every `${` a string of the document holds that JCasC would resolve (not `^${`). */
function references(node: Node, path: (string | number)[], found: (string | number)[][] = []): (string | number)[][] {
    if (typeof node === "string" && /(^|[^^])\$\{/.test(node)) found.push(path);
    if (Array.isArray(node)) node.forEach((n, i) => references(n, [...path, i], found));
    if (isMapping(node)) for (const [k, n] of Object.entries(node)) references(n, [...path, k], found);
    return found;
}

/** Merges `extra` into `into` (a copy), as JCasC's errorOnConflict strategy; records each conflict. */
function merge(
    into: Mapping,
    extra: Mapping,
    path: string[],
    conflict: (path: string[], why: string) => void,
): Mapping {
    const out: Mapping = { ...into };
    for (const [key, value] of Object.entries(extra)) {
        const here = [...path, key];
        if (!(key in out)) {
            out[key] = value;
        } else if (isMapping(out[key]) && isMapping(value)) {
            out[key] = merge(out[key], value, here, conflict);
        } else if (Array.isArray(out[key]) && Array.isArray(value)) {
            out[key] = [...(out[key] as Node[]), ...value];
        } else if (!isMapping(out[key]) && !Array.isArray(out[key]) && !isMapping(value) && !Array.isArray(value)) {
            conflict(
                here,
                "is set already: JCasC refuses a setting made twice, even to the same value (errorOnConflict), and Jenkins would not start",
            );
        } else {
            conflict(here, "is of another kind (a mapping, a list or a value) where it is set already");
        }
    }
    return out;
}

/** The JSON pointer of a schema error, as a path of keys and indexes. */
const pointer = (e: ErrorObject) =>
    e.instancePath
        .split("/")
        .slice(1)
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, "/").replace(/~0/g, "~")));

/** The value at `path` of a document. */
function valueAt(doc: Node, path: (string | number)[]): Node {
    return path.reduce<Node>((node, p) => (node as Record<string | number, Node> | undefined)?.[p], doc);
}

/** Which extra document set the value at `path`, if one did. */
function origin(extras: CascDocument[], path: (string | number)[]): number | undefined {
    const found = extras.findIndex((doc) => {
        let node: Node = doc;
        for (const p of path) {
            if (Array.isArray(node) || isMapping(node)) node = (node as Record<string | number, Node>)[p];
            else return false;
            if (node === undefined) return false;
        }
        return true;
    });
    return found >= 0 ? found : undefined;
}

/** The program's document with the extra documents merged in, in order, and what is wrong with them. */
export function mergeExtra(base: Mapping, extras: CascDocument[]): Merged {
    const problems: string[] = [];
    const warnings: string[] = [];
    let doc = base;
    extras.forEach((extra, i) => {
        const owned = OWNED.filter(({ path }) => {
            let node: Node = extra;
            for (const p of path) node = isMapping(node) ? node[p] : undefined;
            return node !== undefined;
        });
        for (const { path, by } of owned) {
            problems.push(`${where(i, path)}: is written by the program, from ${by}; set it there`);
        }
        for (const path of references(extra, [])) {
            problems.push(
                `${where(i, path)}: holds \${...}, which JCasC would resolve (and, with nothing to resolve it from, stop the load); write ^\${ for the characters themselves`,
            );
        }
        if (owned.length > 0) return;
        doc = merge(doc, extra, [], (path, why) => problems.push(`${where(i, path)}: ${why}`));
    });
    const validate = extras.length > 0 && problems.length === 0 ? validator() : undefined;
    if (validate && !validate(doc)) {
        for (const e of validate.errors ?? []) {
            const path = pointer(e);
            const unknown =
                e.keyword === "additionalProperties"
                    ? (e.params as { additionalProperty: string }).additionalProperty
                    : undefined;
            const at = unknown ? [...path, unknown] : path;
            const i = origin(extras, at);
            if (i === undefined) continue; // the program's own: its tests hold it to the schema
            if (unknown && CONTAINERS.includes(e.instancePath)) {
                warnings.push(
                    `${where(i, at)}: not checked: schemas/jcasc.schema.json does not describe this section, so a key JCasC refuses there shows only when Jenkins loads it`,
                );
            } else {
                const value = JSON.stringify(valueAt(doc, at));
                problems.push(`${where(i, at)} = ${value}: ${unknown ? "is not a key JCasC takes here" : e.message}`);
            }
        }
    }
    return { doc, problems: [...new Set(problems)], warnings: [...new Set(warnings)] };
}
