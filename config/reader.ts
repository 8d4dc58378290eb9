// Reads a stack's config (full key -> string, as the engine passes it) against the one table
// (keys.ts), before any resource is registered. A bad value fails `pulumi preview` with the key,
// the value and what is allowed; every problem is listed at once.
import * as pulumi from "@pulumi/pulumi";
import { distance } from "fastest-levenshtein";
import { z } from "zod";
import { schemaDef } from "./checks";
import { configKey, KEYS, KeyName, KeySpec, KeyType, ValidValues } from "./keys";
import { PROJECT } from "./metadata";

/** A bad config value, reported the way `pulumi preview` shows a RunError: message, no stack. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(
            `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

function show(value: unknown): string {
    return typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
}

/** Stack config arrives as strings; turn each into the type its key declares. */
function coerce(type: KeyType, raw: string): unknown {
    switch (type) {
        case "string":
            return raw;
        case "integer":
            return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
        case "boolean":
            return raw === "true" ? true : raw === "false" ? false : raw;
        case "array":
        case "object":
            try {
                return JSON.parse(raw);
            } catch {
                return raw;
            }
    }
}

/** "; did you mean X?" for the known name closest to a misspelt one, when it is close. */
function suggest(name: string, known: string[], prefix: string): string {
    const best = known
        .map((k) => [k, distance(name.toLowerCase(), k.toLowerCase())] as const)
        .sort((x, y) => x[1] - y[1])[0];
    return best && best[1] <= 3 ? `; did you mean ${prefix}${best[0]}?` : "";
}

/** Formats a zod issue path the way a user would write it: podTemplates[0].containers[1].image. */
export function formatPath(key: KeyName, path: readonly PropertyKey[]): string {
    return path.reduce<string>(
        (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : `${acc}.${String(part)}`),
        configKey(key),
    );
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    return path.reduce<unknown>((acc, part) => (acc as Record<PropertyKey, unknown> | undefined)?.[part], root);
}

/** Thrown when a cross-key rule reads a key whose own value was refused: that rule is skipped. */
export class RefusedKey extends Error {
    constructor(readonly key: string) {
        super(`${PROJECT}:${key} was refused`);
    }
}

/** The values that passed, and a problem line for each that did not. */
export interface ReadValues {
    /** Reading a refused key throws RefusedKey, so rules that need it are skipped, not misled. */
    values: ValidValues;
    problems: string[];
    /**
     * For a refused list: the elements that pass on their own, at their own indexes (a sparse list),
     * so rules between elements still judge them and every problem shows at once.
     */
    partial: Partial<Record<KeyName, unknown[]>>;
}

/**
 * Reads and checks every key. `raw` maps full config keys (`jenkins-k8s:namespace`) to the
 * strings the engine passes; keys of this project that the table does not know are problems, since
 * a misspelt key would otherwise be silently ignored.
 */
export function readValues(raw: Record<string, string | undefined>): ReadValues {
    const problems: string[] = [];
    const values: Record<string, unknown> = {};
    const partial: Partial<Record<KeyName, unknown[]>> = {};
    const refused = new Set<string>();
    for (const fullKey of Object.keys(raw)) {
        const [ns, key] = fullKey.split(":", 2);
        if (ns === PROJECT && key !== undefined && !(key in KEYS)) {
            problems.push(
                `${fullKey} = ${show(raw[fullKey])}: not a setting of this program${suggest(key, Object.keys(KEYS), `${PROJECT}:`)}`,
            );
        }
    }
    for (const [key, spec] of Object.entries(KEYS) as [KeyName, KeySpec][]) {
        const text = raw[configKey(key)];
        const input = text === undefined ? spec.default : coerce(spec.type, text);
        const result = spec.schema.safeParse(input);
        if (result.success) {
            values[key] = result.data;
            continue;
        }
        refused.add(key);
        problems.push(...result.error.issues.map((issue) => problemLine(key, input, issue)));
        const element = schemaDef(unwrap(spec.schema, input)).element;
        if (element && Array.isArray(input)) {
            const passed: unknown[] = [];
            input.forEach((item, i) => {
                const one = element.safeParse(item);
                if (one.success) passed[i] = one.data;
            });
            partial[key] = passed;
        }
    }
    const guarded = new Proxy(values, {
        get(target, prop) {
            if (typeof prop === "string" && refused.has(prop)) {
                throw new RefusedKey(prop);
            }
            return Reflect.get(target, prop);
        },
    });
    return { values: guarded as ValidValues, problems, partial };
}

/** The schema itself, past optional, default and pipe wrappers; a union's member that fits `value`. */
function unwrap(schema: z.ZodType, value: unknown): z.ZodType {
    for (;;) {
        const def = schemaDef(schema);
        const inner = def.innerType ?? def.in;
        if (inner) {
            schema = inner;
        } else if (def.type === "union" && def.options) {
            // The member whose literal fields (the discriminator) match the value, else the first.
            const fits = (o: z.ZodType) =>
                Object.entries(schemaDef(o).shape ?? {}).every(([k, field]) => {
                    const d = schemaDef(field);
                    return d.type !== "literal" || (d.values ?? []).includes((value as Record<string, unknown>)?.[k]);
                });
            schema = def.options.find(fits) ?? def.options[0];
            if (schemaDef(schema).type === "union") {
                continue;
            }
            return schema;
        } else {
            return schema;
        }
    }
}

/** The field names the object schema at `path` (below the key's schema) accepts. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[], root: unknown): string[] {
    let value = root;
    for (const part of path) {
        const def = schemaDef(unwrap(schema, value));
        const next = def.shape?.[String(part)] ?? def.element ?? def.valueType;
        if (!next) {
            return [];
        }
        schema = next;
        value = (value as Record<PropertyKey, unknown> | undefined)?.[part];
    }
    return Object.keys(schemaDef(unwrap(schema, value)).shape ?? {});
}

/** One zod issue as the user should read it: where, what was there, and what would do. */
function problemLine(key: KeyName, input: unknown, issue: z.core.$ZodIssue): string {
    const at = formatPath(key, issue.path);
    if (issue.code === "unrecognized_keys") {
        const known = knownKeys(KEYS[key].schema, issue.path, input);
        return issue.keys.map((k) => `${at}.${k}: not a field here${suggest(k, known, "")}`).join("\n  - ");
    }
    const value = valueAt(input, issue.path);
    if (value === undefined) {
        return `${at}: ${issue.code === "invalid_type" ? "is required" : issue.message}`;
    }
    return `${at} = ${show(value)}: ${issue.code === "invalid_type" && /^Invalid input/.test(issue.message) ? typeProblem(issue.expected, value) : issue.message}`;
}

/** A value of the wrong type, said in the stack file's words rather than the validation library's. */
function typeProblem(expected: string, value: unknown): string {
    const got = Array.isArray(value)
        ? "a list"
        : value === null
          ? "null"
          : typeof value === "object"
            ? "a mapping"
            : `a ${typeof value}`;
    const wanted: Record<string, string> = {
        array: "a list (- item, or [a, b])",
        object: "a mapping (key: value)",
        string: typeof value === "number" ? `a string (quote it: "${String(value)}")` : "a string",
        number: "a number",
        boolean: "true or false",
    };
    return `must be ${wanted[expected] ?? expected}, not ${got}`;
}
