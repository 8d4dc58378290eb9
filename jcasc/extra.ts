// Extra JCasC documents (the `extraCasc` setting) merged into the program's own, the way
// configuration-as-code 2115 merges several files (yaml/ErrorOnConflictMergeStrategy): mappings key
// by key, sequences one after the other, and the same scalar in two documents an error even when
// equal, which stops Jenkins; here it fails the preview instead, naming the path. JCasC finds a key
// in any case (ConfigurationAsCode: root elements by equalsIgnoreCase; BaseConfigurator: attributes
// by removeIgnoreCase), so keys are compared in any case here too. Sections the program writes are
// refused outright, and so is what would take the security model apart; a `${...}` JCasC would
// resolve is refused; what weakens it less is named in a warning; and the merged document is held to
// schemas/jcasc.schema.json where the schema describes it (elsewhere: a warning).
import Ajv, { ErrorObject, ValidateFunction } from "ajv";
import type { CascDocument } from "../config/jobs";
import { formatPath } from "../config/reader";
import schema from "../schemas/jcasc.schema.json";
import { configKey } from "../config/keys";

type Node = unknown;
type Mapping = Record<string, Node>;
type Path = (string | number)[];
const isMapping = (v: Node): v is Mapping => v !== null && typeof v === "object" && !Array.isArray(v);

/** A mapping's key that is `key` in any case, as JCasC finds it. */
const keyOf = (node: Mapping, key: string): string | undefined =>
    Object.keys(node).find((k) => k.toLowerCase() === key.toLowerCase());

/** The path as a document writes it (keys matched in any case) and the value there; undefined when it has none. */
function find(doc: Node, path: string[]): { written: string[]; value: Node } | undefined {
    let node = doc;
    const written: string[] = [];
    for (const p of path) {
        const k = isMapping(node) ? keyOf(node, p) : undefined;
        if (k === undefined) return undefined;
        written.push(k);
        node = (node as Mapping)[k];
    }
    return { written, value: node };
}
const lookup = (doc: Node, path: string[]): Node => find(doc, path)?.value;

/**
 * What the program writes, which an extra document may not set: the clouds, sign-in and
 * permissions, the system credentials, and the items (the jobs script owns them; JCasC 2115's own
 * `items:` root would make or overwrite top-level jobs as SYSTEM, the test job too).
 */
export const OWNED: { path: string[]; by: string }[] = [
    { path: ["jenkins", "clouds"], by: `${configKey("podTemplates")} and the agent tiers` },
    { path: ["jenkins", "securityRealm"], by: configKey("securityRealm") },
    { path: ["jenkins", "authorizationStrategy"], by: `${configKey("administrators")}, readers and teams` },
    { path: ["credentials"], by: `${configKey("credentials")} and teams[].credentials` },
    { path: ["jobs"], by: `${configKey("teams")}[].repositories and testJob` },
    { path: ["items"], by: `${configKey("teams")}[].repositories and testJob` },
];

/**
 * Settings that would take the security model apart (refused), or widen what a Jenkinsfile's author
 * can do (a warning naming how). Each reads the extra document's value at its path.
 */
const GUARDED: { path: string[]; check: (value: Node) => { problem?: string; warning?: string } }[] = [
    {
        // core: agent-to-controller access control (AdminWhitelistRule, JCasC `remotingSecurity`).
        path: ["jenkins", "remotingSecurity", "enabled"],
        check: (v) =>
            v === false || String(v).toLowerCase() === "false"
                ? {
                      problem:
                          "turns off agent-to-controller access control: every agent runs a Jenkinsfile's code, which could then act on the controller; it stays on",
                  }
                : {},
    },
    {
        // core: the markup formatter; antisamy-markup-formatter's safeHtml and the default plain text are safe.
        path: ["jenkins", "markupFormatter"],
        check: (v) =>
            JSON.stringify(v ?? "")
                .toLowerCase()
                .includes("rawhtml")
                ? {
                      problem:
                          "rawHtml renders descriptions as they are: anyone who sets one (a Jenkinsfile's currentBuild.description) runs script in every viewer's browser; use safeHtml (antisamy-markup-formatter)",
                  }
                : {},
    },
    {
        // script-security ScriptApproval (JCasC `security.scriptApproval`).
        path: ["security", "scriptApproval"],
        check: () => ({
            warning:
                "approves signatures or scripts for the Groovy sandbox: each one is then open to every Jenkinsfile's author, in every team",
        }),
    },
    {
        // core ApiTokenPropertyConfiguration.
        path: ["security", "apiToken"],
        check: (v) =>
            /"(creationOfLegacyTokenEnabled|tokenGenerationOnCreationEnabled)":\s*(true|"true")/i.test(
                JSON.stringify(v),
            )
                ? { warning: "allows legacy API tokens, which Jenkins stores so that it can show them again" }
                : {},
    },
    {
        // core CrumbIssuer: CSRF protection.
        path: ["jenkins", "crumbIssuer"],
        check: () => ({ warning: "changes Jenkins' CSRF protection (its crumb issuer)" }),
    },
    {
        // pipeline-groovy-lib GlobalLibraries: trusted libraries run outside the sandbox (docs/jobs.md
        // says who that trusts); a version a Jenkinsfile may pick widens it to every branch.
        path: ["unclassified", "globalLibraries"],
        check: (v) => {
            const libraries = (isMapping(v) ? lookup(v, ["libraries"]) : undefined) as Node[] | undefined;
            const open = (Array.isArray(libraries) ? libraries : [])
                .filter((l) => isMapping(l) && !/^false$/i.test(String(lookup(l, ["allowVersionOverride"]))))
                .map((l) => String(lookup(l, ["name"])));
            return open.length === 0
                ? {}
                : {
                      warning: `trusted libraries run outside the Groovy sandbox with Jenkins' own rights, and ${open.join(", ")} ${open.length > 1 ? "let" : "lets"} a Jenkinsfile pick any branch or commit (allowVersionOverride, true by default): whoever can push a branch to ${open.length > 1 ? "their repositories" : "its repository"} could run code on the controller and read every team's credentials; set allowVersionOverride: false`,
                  };
        },
    },
];

/**
 * Sections that need a plugin the program does not add by itself (the schema describes them, so
 * the preview would pass them, and JCasC would find no configurator and stop the load).
 */
const NEEDS_PLUGIN: { path: string[]; plugin: string }[] = [
    { path: ["unclassified", "globalLibraries"], plugin: "pipeline-groovy-lib" },
];

/** Objects whose keys are sections the schema may not describe: an unknown key there is a warning. */
const CONTAINERS = ["", "/jenkins", "/unclassified", "/security", "/tool", "/appearance"];

/** The schema's validator, compiled when a stack first has extra documents (it takes ~150 ms). */
let compiled: ValidateFunction | undefined;
const validator = (): ValidateFunction =>
    (compiled ??= new Ajv({ allErrors: true, strict: true, verbose: true }).compile(schema));

/** The merged document, and what the preview says of the extra documents. */
export interface Merged {
    doc: Mapping;
    problems: string[];
    warnings: string[];
}

const where = (i: number, path: Path) => formatPath("extraCasc", [i, ...path]);
const pointerOf = (path: Path) => path.join("/");

/** Every `${` a string of the document holds that JCasC would resolve (not `^${`). */
function references(node: Node, path: Path, found: Path[] = []): Path[] {
    if (typeof node === "string" && /(^|[^^])\$\{/.test(node)) found.push(path);
    if (Array.isArray(node)) node.forEach((n, i) => references(n, [...path, i], found));
    if (isMapping(node)) for (const [k, n] of Object.entries(node)) references(n, [...path, k], found);
    return found;
}

/** Where a part of the merged document came from: the extra document, and its path there. */
type Provenance = Map<string, { doc: number; path: Path }>;

/**
 * Merges document `doc` (`extra`) into `into` (a copy), as JCasC's errorOnConflict strategy, with
 * keys compared in any case; records each conflict, and where each part it adds came from.
 */
function merge(
    into: Mapping,
    extra: Mapping,
    at: { doc: number; merged: Path; own: Path },
    provenance: Provenance,
    conflict: (path: Path, why: string) => void,
): Mapping {
    const out: Mapping = { ...into };
    for (const [key, value] of Object.entries(extra)) {
        const merged = [...at.merged, key];
        const own = [...at.own, key];
        const existing = keyOf(out, key);
        if (existing === undefined) {
            out[key] = value;
            provenance.set(pointerOf(merged), { doc: at.doc, path: own });
        } else if (existing !== key) {
            conflict(
                own,
                `is ${JSON.stringify(existing)} in another case, which is set already: JCasC reads keys in any case, so it would be set twice and Jenkins would not start; write ${JSON.stringify(existing)}`,
            );
        } else if (isMapping(out[key]) && isMapping(value)) {
            out[key] = merge(out[key], value, { doc: at.doc, merged, own }, provenance, conflict);
        } else if (Array.isArray(out[key]) && Array.isArray(value)) {
            const before = out[key] as Node[];
            value.forEach((_, j) =>
                provenance.set(pointerOf([...merged, before.length + j]), { doc: at.doc, path: [...own, j] }),
            );
            out[key] = [...before, ...value];
        } else if (!isMapping(out[key]) && !Array.isArray(out[key]) && !isMapping(value) && !Array.isArray(value)) {
            conflict(
                own,
                "is set already: JCasC refuses a setting made twice, even to the same value (errorOnConflict), and Jenkins would not start",
            );
        } else {
            conflict(own, "is of another kind (a mapping, a list or a value) where it is set already");
        }
    }
    return out;
}

/** The JSON pointer of a schema error, as a path of keys and indexes. */
const pointer = (e: ErrorObject): Path =>
    e.instancePath
        .split("/")
        .slice(1)
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, "/").replace(/~0/g, "~")));

/** The value at `path` of a document. */
function valueAt(doc: Node, path: Path): Node {
    return path.reduce<Node>((node, p) => (node as Record<string | number, Node> | undefined)?.[p], doc);
}

/** The extra document a merged path came from, and the path in it; undefined: the program's own. */
function origin(provenance: Provenance, path: Path): { doc: number; path: Path } | undefined {
    for (let n = path.length; n > 0; n--) {
        const found = provenance.get(pointerOf(path.slice(0, n)));
        if (found) return { doc: found.doc, path: [...found.path, ...path.slice(n)] };
    }
    return undefined;
}

/**
 * The program's document with the extra documents merged in, in order, and what is wrong with them.
 * `plugins`: the plugins the stack's lock installs, when known (a section whose plugin is missing
 * is refused).
 */
export function mergeExtra(base: Mapping, extras: CascDocument[], plugins?: ReadonlySet<string>): Merged {
    const problems: string[] = [];
    const warnings: string[] = [];
    const provenance: Provenance = new Map();
    let doc = base;
    extras.forEach((extra, i) => {
        const owned = OWNED.flatMap(({ path, by }) => {
            const found = find(extra, path);
            return found ? [{ path: found.written, by }] : [];
        });
        for (const { path, by } of owned) {
            problems.push(`${where(i, path)}: is written by the program, from ${by}; set it there`);
        }
        for (const { path, check } of GUARDED) {
            const found = find(extra, path);
            if (found === undefined) continue;
            const { problem, warning } = check(found.value);
            if (problem) problems.push(`${where(i, found.written)}: ${problem}`);
            if (warning) warnings.push(`${where(i, found.written)}: ${warning}`);
        }
        for (const { path, plugin } of NEEDS_PLUGIN) {
            const found = find(extra, path);
            if (plugins && found !== undefined && !plugins.has(plugin)) {
                problems.push(
                    `${where(i, found.written)}: needs the ${plugin} plugin, which the stack's plugins do not install (JCasC would find nothing to read it with and stop the load): add it, or workflow-aggregator, to ${configKey("plugins")}`,
                );
            }
        }
        for (const path of references(extra, [])) {
            problems.push(
                `${where(i, path)}: holds \${...}, which JCasC would resolve (and, with nothing to resolve it from, stop the load); write ^\${ for the characters themselves`,
            );
        }
        if (owned.length > 0) return;
        doc = merge(doc, extra, { doc: i, merged: [], own: [] }, provenance, (path, why) =>
            problems.push(`${where(i, path)}: ${why}`),
        );
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
            const from = origin(provenance, at);
            if (from === undefined) continue; // the program's own: its tests hold it to the schema
            // A section the schema does not describe, or an implementation (a @Symbol) of another
            // plugin where the schema names only those it knows (its single-key selectors).
            const selector = (e.parentSchema as { maxProperties?: number } | undefined)?.maxProperties === 1;
            if (unknown && (CONTAINERS.includes(e.instancePath) || selector)) {
                warnings.push(
                    `${where(from.doc, from.path)}: not checked: schemas/jcasc.schema.json does not describe ${selector ? `${unknown} here (another plugin's?)` : "this section"}, so a key JCasC refuses there shows only when Jenkins loads it`,
                );
            } else {
                const value = JSON.stringify(valueAt(doc, at));
                problems.push(
                    `${where(from.doc, from.path)} = ${value}: ${unknown ? "is not a key JCasC takes here" : e.message}`,
                );
            }
        }
    }
    return { doc, problems: [...new Set(problems)], warnings: [...new Set(warnings)] };
}
