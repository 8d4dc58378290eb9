// Reads a stack's config (full key -> string, as the engine passes it) against the one table
// (keys.ts), before any resource is registered. A bad value fails `pulumi preview` with the key,
// the value and what is allowed; every problem is listed at once.
import * as pulumi from "@pulumi/pulumi";
import { distance } from "fastest-levenshtein";
import { KEYS, KeyName, KeySpec, KeyType, PROJECT, ValidValues } from "./keys";

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

function suggest(key: string): string {
    const best = Object.keys(KEYS)
        .map((k) => [k, distance(key.toLowerCase(), k.toLowerCase())] as const)
        .sort((x, y) => x[1] - y[1])[0];
    return best && best[1] <= 3 ? `; did you mean ${PROJECT}:${best[0]}?` : "";
}

/** Formats a zod issue path the way a user would write it: podTemplates[0].containers[1].image. */
export function formatPath(key: string, path: readonly PropertyKey[]): string {
    return path.reduce<string>(
        (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : `${acc}.${String(part)}`),
        `${PROJECT}:${key}`,
    );
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    return path.reduce<unknown>((acc, part) => (acc as Record<PropertyKey, unknown> | undefined)?.[part], root);
}

/**
 * Reads and checks every key. `raw` maps full config keys (`jenkins-k8s:namespace`) to the
 * strings the engine passes; keys of this project that the table does not know are errors, since
 * a misspelt key would otherwise be silently ignored.
 */
export function readValues(raw: Record<string, string | undefined>): ValidValues {
    const problems: string[] = [];
    const values: Record<string, unknown> = {};
    for (const fullKey of Object.keys(raw)) {
        const [ns, key] = fullKey.split(":", 2);
        if (ns === PROJECT && key !== undefined && !(key in KEYS)) {
            problems.push(`${fullKey} = ${show(raw[fullKey])}: not a setting of this program${suggest(key)}`);
        }
    }
    for (const [key, spec] of Object.entries(KEYS) as [KeyName, KeySpec][]) {
        const text = raw[`${PROJECT}:${key}`];
        const input = text === undefined ? spec.default : coerce(spec.type, text);
        const result = spec.schema.safeParse(input);
        if (result.success) {
            values[key] = result.data;
            continue;
        }
        for (const issue of result.error.issues) {
            const at = formatPath(key, issue.path);
            const bad = issue.code === "unrecognized_keys" ? issue.keys.join(", ") : show(valueAt(input, issue.path));
            const what = issue.code === "unrecognized_keys" ? "unknown key(s)" : bad;
            problems.push(`${at} = ${what}: ${issue.message}`);
        }
    }
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return values as ValidValues;
}
