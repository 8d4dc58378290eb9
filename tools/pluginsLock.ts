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
import { closestLock, Lock, lockFileName, readLocks, serialiseLock } from "../plugins/lock";
import {
    DEFAULT_UPDATE_CENTER,
    Metadata,
    PluginVersions,
    pluginVersionsUrl,
    UpdateCenter,
    updateCenterUrl,
} from "../plugins/metadata";
import { LockError, resolveLock } from "../plugins/resolve";
import { listStacks, readStackConfig, ROOT, StackError } from "./stackConfig";

/** update-center.json is JSONP (`updateCenter.post(...);`); the .actual.json variant is plain JSON. */
function parseJsonp(text: string): unknown {
    const wrapped = /^\s*updateCenter\.post\(([\s\S]*)\);?\s*$/.exec(text);
    return JSON.parse(wrapped ? wrapped[1] : text);
}

async function read(location: string): Promise<unknown> {
    if (/^https?:\/\//.test(location)) {
        const response = await fetch(location, { signal: AbortSignal.timeout(120_000) });
        if (!response.ok) {
            throw new Error(`${location}: HTTP ${response.status} ${response.statusText}`);
        }
        return parseJsonp(await response.text());
    }
    return parseJsonp(readFileSync(location, "utf8"));
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

/** The command: for the stacks of the project at `root`, printing through `out`; the exit code. */
export async function main(argv: string[], out: (line: string) => void, root = ROOT): Promise<number> {
    const { values } = parseArgs({
        args: argv,
        options: { stack: { type: "string" }, "update-center": { type: "string", default: DEFAULT_UPDATE_CENTER } },
    });
    // Every stack's settings: the locks they use are kept, all others removed.
    const all = listStacks(root).map((stack) => stackPlugins(stack, root));
    const chosen = values.stack ? [stackPlugins(values.stack, root)] : all;
    const metadata = new Map<string, Promise<Metadata>>();
    const failures: string[] = [];
    const written = new Set<string>();
    for (const s of chosen) {
        const file = path.join(root, s.lockDir, lockFileName(s.plugins, s.jenkins));
        if (!metadata.has(s.jenkins)) {
            metadata.set(s.jenkins, loadMetadata(values["update-center"], s.jenkins, root));
        }
        let lock: Lock;
        try {
            lock = resolveLock(
                { plugins: s.plugins, jenkins: s.jenkins, acknowledged: s.acknowledged },
                await metadata.get(s.jenkins)!,
            );
        } catch (err) {
            if (!(err instanceof LockError)) throw err;
            failures.push(`stack ${s.stack}: the plugins cannot be locked:\n${err.message}`);
            continue;
        }
        const relative = path.relative(root, file);
        if (written.has(file)) {
            out(`stack ${s.stack}: ${relative} (shared, written above)`);
            continue;
        }
        written.add(file);
        const before = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Lock) : undefined;
        const text = serialiseLock(lock);
        const count = Object.keys(lock.locked).length;
        out(
            `stack ${s.stack}: ${relative}, ${count} plugins for Jenkins ${s.jenkins} from ${lock.updateCenter.source}`,
        );
        // A new lock replaces the one of the list it came from: diff against the stack's old lock.
        const previous = before ?? previousLock(s, all, root);
        for (const line of lockChanges(previous, lock)) out(`  ${line}`);
        for (const w of lock.warnings) out(`  ! ${w.plugin}:${w.version}: ${w.id} acknowledged (${w.url})`);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, text);
    }
    if (failures.length > 0) {
        for (const f of failures) out(f);
        return 1;
    }
    // Locks no stack asks for any more (the list or the core changed) go.
    const used = new Set(all.map((s) => path.join(root, s.lockDir, lockFileName(s.plugins, s.jenkins))));
    for (const dir of new Set(all.map((s) => path.join(root, s.lockDir)))) {
        for (const { file } of readLocks(dir)) {
            const full = path.join(dir, file);
            if (!used.has(full)) {
                rmSync(full);
                out(`removed ${path.relative(root, full)}: no stack uses it`);
            }
        }
    }
    return 0;
}

/** The lock a stack used before its list changed: the closest one no stack uses now. */
function previousLock(s: StackPlugins, all: StackPlugins[], root: string): Lock | undefined {
    const used = new Set(all.map((x) => lockFileName(x.plugins, x.jenkins)));
    const unused = readLocks(path.join(root, s.lockDir)).filter((l) => !used.has(l.file));
    return closestLock(unused, s.plugins);
}

if (require.main === module) {
    main(process.argv.slice(2), (line) => console.log(line)).then(
        (code) => process.exit(code),
        (err) => {
            // Bad settings, an unknown stack, an unreachable update center: one message, no stack trace.
            const known = err instanceof ConfigError || err instanceof StackError || err instanceof TypeError;
            console.error(`plugins:lock: ${known ? err.message : (err?.stack ?? err)}`);
            process.exit(1);
        },
    );
}
