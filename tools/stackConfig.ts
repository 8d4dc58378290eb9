// Reads a stack's settings the way the Pulumi CLI hands them to the program: Pulumi.yaml's
// project defaults, overlaid with Pulumi.<stack>.yaml, every value as a string.
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import { parse, YAMLError } from "yaml";
import { PROJECT } from "../config/metadata";

export const ROOT = path.resolve(__dirname, "..");

/** A placeholder for `secure:` values: the render has no passphrase and shows no secret. */
const SECURE_PLACEHOLDER = "[secure]";

function asConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function qualify(key: string): string {
    return key.includes(":") ? key : `${PROJECT}:${key}`;
}

export function projectDefaults(root = ROOT): Record<string, string> {
    const project = readYamlFile(path.join(root, "Pulumi.yaml"));
    const out: Record<string, string> = {};
    for (const [key, decl] of Object.entries<any>(project.config ?? {})) {
        if (decl && typeof decl === "object") {
            if ("default" in decl) {
                out[qualify(key)] = asConfigString(decl.default);
            }
        } else {
            // A plain value, such as a provider setting (kubernetes:enableConfigMapMutable).
            out[qualify(key)] = asConfigString(decl);
        }
    }
    return out;
}

export function stackFile(stack: string, root = ROOT): string {
    return path.join(root, `Pulumi.${stack}.yaml`);
}

/**
 * The stacks the project ships as examples: they have golden renders (tests/__golden__), the
 * example workflow deploys them, the cluster tier applies them, and their previews are held to
 * warn of nothing. Every stack file, a user's own too, gets every other check.
 */
export const EXAMPLE_STACKS: readonly string[] = ["dev", "prod"];

export function listStacks(root = ROOT): string[] {
    return readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** A stack that does not exist, or a stack file that is not YAML: printed as one line, without a stack trace. */
export class StackError extends Error {}

/** A YAML file's document; a syntax error names the file, line and column, in one line. */
function readYamlFile(file: string): any {
    try {
        return parse(readFileSync(file, "utf8"));
    } catch (err) {
        if (!(err instanceof YAMLError)) throw err;
        const at = err.linePos?.[0];
        const message = err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        throw new StackError(
            `${path.relative(process.cwd(), file) || file}${at ? `:${at.line}:${at.col}` : ""}: ${message}`,
        );
    }
}

export function readStackConfig(stack: string, root = ROOT): Record<string, string> {
    const file = stackFile(stack, root);
    if (!existsSync(file)) {
        throw new StackError(
            `no stack file ${path.basename(file)} in ${root} (stacks: ${listStacks(root).join(", ") || "none"})`,
        );
    }
    const doc = (readYamlFile(file) ?? {}) as { config?: Record<string, unknown> };
    const out = projectDefaults(root);
    for (const [key, value] of Object.entries<any>(doc.config ?? {})) {
        const secure =
            value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).join() === "secure";
        out[qualify(key)] = secure ? SECURE_PLACEHOLDER : asConfigString(value);
    }
    return out;
}
