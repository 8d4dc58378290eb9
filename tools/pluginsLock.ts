// npm run plugins:lock [-- --stack NAME] [--update-center URL|DIR]
// Writes the plugin lock of each stack (or of one), from the update center's published metadata
// for the stack's Jenkins core: the full closure of its plugin list, each plugin with version,
// SHA-256 and download path. Prints what each lock adds and why, and how it differs from the
// lock it replaces; removes locks no stack uses any more. Fails, writing nothing, when a stack's
// plugins cannot be locked (a plugin or release missing, a core too old, a pin below what another
// plugin needs, an unacknowledged security warning), naming each plugin.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { ConfigError } from "../config/reader";
import { settingsFrom } from "../config/settings";
import { closestLock, Lock, LOCK_COMMAND, lockFileName, readLocks, serialiseLock } from "../plugins/lock";
import {
    DEFAULT_UPDATE_CENTER,
    Metadata,
    PluginVersions,
    pluginVersionsUrl,
    UpdateCenter,
    updateCenterUrl,
} from "../plugins/metadata";
import { LockError, resolveLock } from "../plugins/resolve";
import { get } from "./http";
import { listStacks, readStackConfig, ROOT, StackError } from "./stackConfig";

/** update-center.json is JSONP (`updateCenter.post(...);`); the .actual.json variant is plain JSON. */
function parseJsonp(text: string): unknown {
    const wrapped = /^\s*updateCenter\.post\(([\s\S]*)\);?\s*$/.exec(text);
    return JSON.parse(wrapped ? wrapped[1] : text);
}

async function read(location: string): Promise<unknown> {
    let text: string;
    try {
        if (/^https?:\/\//.test(location)) {
            const response = await get(location);
            if (!response.ok) {
                throw new Error(`HTTP ${response.status} ${response.statusText}`);
            }
            text = await response.text();
        } else {
            text = readFileSync(location, "utf8");
        }
        return parseJsonp(text);
    } catch (err) {
        // fetch says only "fetch failed"; the reason (DNS, refused, TLS, timeout) is its cause.
        const cause = (err as { cause?: { message?: string; code?: string } }).cause;
        const why = [(err as Error).message, cause?.code ?? cause?.message].filter(Boolean).join(": ");
        throw new LockToolError(`cannot read the update center's metadata at ${location} (${why})`);
    }
}

/**
 * The two documents for a core, from the update center (or a mirror of it) over HTTP(S), or from
 * a folder holding copies (update-center.actual.json, plugin-versions.json) for air-gapped use.
 */
export async function loadMetadata(updateCenter: string, jenkins: string, root = ROOT): Promise<Metadata> {
    const remote = /^https?:\/\//.test(updateCenter);
    const folder = path.resolve(root, updateCenter);
    const uc = remote ? updateCenterUrl(updateCenter, jenkins) : path.join(folder, "update-center.actual.json");
    const versions = remote ? pluginVersionsUrl(updateCenter) : path.join(folder, "plugin-versions.json");
    const [u, v] = await Promise.all([read(uc), read(versions)]);
    return {
        updateCenter: u as UpdateCenter,
        pluginVersions: v as PluginVersions,
        source: remote ? updateCenter : path.relative(root, folder) || ".",
    };
}

/** What changed between two locks, a line each: added (and who needs it), removed, moved. */
export function lockChanges(before: Lock | undefined, after: Lock): string[] {
    const lines: string[] = [];
    const old = before?.locked ?? {};
    for (const [name, p] of Object.entries(after.locked).sort()) {
        const why = p.requested ? "listed" : `needed by ${p.neededBy.join(", ")}`;
        if (!old[name]) {
            lines.push(`+ ${name}:${p.version} (${why})`);
        } else if (old[name].version !== p.version) {
            lines.push(`~ ${name}: ${old[name].version} -> ${p.version} (${why})`);
        }
    }
    for (const name of Object.keys(old).sort()) {
        if (!after.locked[name]) {
            lines.push(`- ${name}:${old[name].version}`);
        }
    }
    return lines;
}

interface StackPlugins {
    stack: string;
    plugins: string[];
    jenkins: string;
    acknowledged: string[];
    lockDir: string;
}

function stackPlugins(stack: string, root: string): StackPlugins {
    const s = settingsFrom(readStackConfig(stack, root));
    return { stack, ...s.plugins, plugins: s.plugins.list };
}

/** What `plugins:lock` cannot do, said in one line: a source it cannot read, a lock folder it will not clean. */
export class LockToolError extends Error {}

const USAGE = "usage: npm run plugins:lock [-- [--stack <name>] [--update-center <url or folder>] [--check]]";

/** The command's options; a bad argument is said as the usage line. */
function argsOf(argv: string[]) {
    try {
        return parseArgs({
            args: argv,
            options: {
                stack: { type: "string" },
                "update-center": { type: "string", default: DEFAULT_UPDATE_CENTER },
                // For a scheduled job: fail when a committed lock is not what the metadata gives today
                // (a new security warning, a release pulled), writing nothing.
                check: { type: "boolean", default: false },
            },
        }).values;
    } catch (err) {
        throw new LockToolError(`${(err as Error).message}; ${USAGE}`);
    }
}

/** The command: for the stacks of the project at `root`, printing through `out`; the exit code. */
export async function main(argv: string[], out: (line: string) => void, root = ROOT): Promise<number> {
    const values = argsOf(argv);
    // Every stack's settings: the locks they use are kept, all others removed.
    const all = listStacks(root).map((stack) => stackPlugins(stack, root));
    const chosen = values.stack ? [stackPlugins(values.stack, root)] : all;
    const metadata = new Map<string, Promise<Metadata>>();
    const failures: string[] = [];
    const results = new Map<string, { stacks: string[]; lock: Lock }>();
    // Every stack is resolved before anything is written: one that cannot be locked leaves all as they were.
    for (const s of chosen) {
        if (!metadata.has(s.jenkins)) {
            metadata.set(s.jenkins, loadMetadata(values["update-center"], s.jenkins, root));
        }
        try {
            const lock = resolveLock(
                { plugins: s.plugins, jenkins: s.jenkins, acknowledged: s.acknowledged },
                await metadata.get(s.jenkins)!,
            );
            const file = path.join(root, s.lockDir, lockFileName(s.plugins, s.jenkins));
            const entry = results.get(file) ?? { stacks: [], lock };
            entry.stacks.push(s.stack);
            results.set(file, entry);
        } catch (err) {
            if (!(err instanceof LockError)) throw err;
            failures.push(`stack ${s.stack}: the plugins cannot be locked:\n${err.message}`);
        }
    }
    if (failures.length > 0) {
        for (const f of failures) out(f);
        out("nothing written");
        return 1;
    }
    let stale = 0;
    for (const [file, { stacks, lock }] of results) {
        const relative = path.relative(root, file);
        const before = existsSync(file)
            ? readLocks(path.dirname(file)).find((l) => l.file === path.basename(file))?.lock
            : undefined;
        const count = Object.keys(lock.locked).length;
        out(
            `stack ${stacks.join(", ")}: ${relative}, ${count} plugins for Jenkins ${lock.jenkins} from ${lock.updateCenter.source}`,
        );
        // A new lock replaces the one of the list it came from: diff against the stack's old lock.
        const changes = lockChanges(before ?? previousLock(stacks[0], all, root), lock);
        for (const line of changes) out(`  ${line}`);
        for (const w of lock.warnings) out(`  ! ${w.plugin}:${w.version}: ${w.id} acknowledged (${w.url})`);
        if (values.check) {
            const same =
                before &&
                JSON.stringify([before.locked, before.warnings]) === JSON.stringify([lock.locked, lock.warnings]);
            if (!same) {
                stale++;
                const again =
                    values["update-center"] === DEFAULT_UPDATE_CENTER
                        ? ""
                        : ` -- --update-center ${values["update-center"]}`;
                out(
                    `  ${relative} is not what the metadata gives today: run ${LOCK_COMMAND}${again} and review the diff`,
                );
            }
            continue;
        }
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, serialiseLock(lock));
    }
    if (values.check) {
        return stale > 0 ? 1 : 0;
    }
    // Locks no stack asks for any more (the list or the core changed) go; only files named and
    // shaped as locks are touched, and one that cannot be read is left for a person to look at.
    const used = new Set(all.map((s) => path.join(root, s.lockDir, lockFileName(s.plugins, s.jenkins))));
    let unreadable = 0;
    for (const dir of new Set(all.map((s) => path.join(root, s.lockDir)))) {
        for (const l of readLocks(dir)) {
            const full = path.join(dir, l.file);
            if (l.problem) {
                unreadable++;
                out(`${path.relative(root, full)} ${l.problem}: fix or delete it`);
            } else if (!used.has(full)) {
                rmSync(full);
                out(`removed ${path.relative(root, full)}: no stack uses it`);
            }
        }
    }
    return unreadable > 0 ? 1 : 0;
}

/** The lock a stack used before its list changed: the closest one no stack uses now. */
function previousLock(stack: string, all: StackPlugins[], root: string): Lock | undefined {
    const s = all.find((x) => x.stack === stack)!;
    const used = new Set(all.map((x) => lockFileName(x.plugins, x.jenkins)));
    const unused = readLocks(path.join(root, s.lockDir)).filter((l) => !used.has(l.file));
    return closestLock(unused, s.plugins);
}

if (require.main === module) {
    main(process.argv.slice(2), (line) => console.log(line)).then(
        (code) => process.exit(code),
        (err) => {
            // Bad settings, an unknown stack, an unreachable update center: one message, no stack trace.
            const known = err instanceof ConfigError || err instanceof StackError || err instanceof LockToolError;
            console.error(`plugins:lock: ${known ? err.message : (err?.stack ?? err)}`);
            process.exit(1);
        },
    );
}
