// The plugin lock: every plugin Jenkins will load (the stack's list and all it needs), each with
// its version, SHA-256 and download path, resolved for one Jenkins core. One lock per distinct
// plugin list, in plugin-locks/, written by `npm run plugins:lock` and committed with the stacks.
// The checks here run at preview on the committed lock (a lock is a file in a pull request: it
// can be stale, hand-edited or merged wrongly) and on every lock the generator writes.
import { createHash } from "crypto";
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import { compareVersions } from "./version";
import { pluginId, pluginVersion } from "../config/checks";
import { FIXTURE_ID } from "./metadata";
import { configKey } from "../config/keys";

export interface LockedPlugin {
    version: string;
    /** Hex SHA-256 of the archive, as sha256sum prints it. */
    sha256: string;
    /** Below the downloads base (the update center's, or pluginMirror): plugins/NAME/VERSION/NAME.hpi. */
    path: string;
    requiredCore: string;
    /** The plugins it needs, at least at these versions. */
    dependencies: Record<string, string>;
    /** The plugins it works with when they are installed, at least at these versions. */
    optionalDependencies: Record<string, string>;
    /** Why it is here: the stack's list asks for it, and/or the plugins that need it. */
    requested: boolean;
    neededBy: string[];
}

/** A published security warning on a locked version, acknowledged by the stack when generated. */
export interface LockedWarning {
    id: string;
    plugin: string;
    version: string;
    message: string;
    url: string;
}

export interface Lock {
    lockVersion: 1;
    /** The stack's plugin list, `artifactId:version`, sorted. */
    plugins: string[];
    /** The Jenkins core the lock was resolved for. */
    jenkins: string;
    updateCenter: { id: string; source: string; generated?: string };
    locked: Record<string, LockedPlugin>;
    warnings: LockedWarning[];
}

export const LOCK_DIR = "plugin-locks";
export const LOCK_COMMAND = "npm run plugins:lock";

export function fixCommand(stack?: string): string {
    return stack ? `${LOCK_COMMAND} -- --stack ${stack}` : LOCK_COMMAND;
}

function normalised(plugins: string[]): string[] {
    return [...new Set(plugins)].sort();
}

/**
 * The lock file of a plugin list on a Jenkins core: named by their hash, so stacks that ask for
 * the same plugins on the same core share one lock.
 */
export function lockFileName(plugins: string[], jenkins: string): string {
    const hash = createHash("sha256")
        .update([`jenkins:${jenkins}`, ...normalised(plugins)].join("\n"))
        .digest("hex");
    return `${hash.slice(0, 16)}.json`;
}

/** The lock as committed: sorted keys, two-space indent, a final newline (reviewable diffs). */
export function serialiseLock(lock: Lock): string {
    const locked = Object.fromEntries(
        Object.keys(lock.locked)
            .sort()
            .map((k) => [k, lock.locked[k]]),
    );
    return JSON.stringify({ ...lock, plugins: normalised(lock.plugins), locked }, null, 2) + "\n";
}

/** Lock files are named by a hash (lockFileName); nothing else in the folder is one. */
const LOCK_FILE = /^[0-9a-f]{16}\.json$/;

/** A file in the locks' folder: its lock, or why it cannot be read as one. */
export interface LockFile {
    file: string;
    lock?: Lock;
    problem?: string;
}

/** The lock files of a folder; one that is not valid JSON or not a lock says so (a merge conflict, say). */
export function readLocks(dir: string): LockFile[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
        .filter((f) => LOCK_FILE.test(f))
        .sort()
        .map((file) => {
            try {
                const lock = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Lock;
                const shaped =
                    lock?.lockVersion === 1 &&
                    Array.isArray(lock.plugins) &&
                    typeof lock.jenkins === "string" &&
                    typeof lock.locked === "object" &&
                    lock.locked !== null &&
                    Array.isArray(lock.warnings);
                return shaped ? { file, lock } : { file, problem: "is not a plugin lock (lockVersion 1)" };
            } catch (err) {
                return { file, problem: `cannot be read: ${(err as Error).message.replace(/\s+/g, " ")}` };
            }
        });
}

/** Locked plugins that need a newer core than the controller image runs. */
export function coreProblems(locked: Record<string, LockedPlugin>, core: string): string[] {
    return Object.entries(locked)
        .filter(([, p]) => compareVersions(p.requiredCore, core) > 0)
        .map(
            ([name, p]) =>
                `${name}:${p.version} needs Jenkins ${p.requiredCore} or newer; the controller image runs ${core}`,
        );
}

/**
 * Locked plugins whose dependencies the lock does not satisfy: one missing or older than
 * required, or an optional one installed older than required (Jenkins then refuses the plugin
 * that wants it: PluginWrapper.resolvePluginDependencies).
 */
export function dependencyProblems(locked: Record<string, LockedPlugin>): string[] {
    const problems: string[] = [];
    for (const [name, p] of Object.entries(locked)) {
        const who = `${name}:${p.version}`;
        for (const [dep, min] of Object.entries(p.dependencies)) {
            const have = locked[dep];
            if (!have) {
                problems.push(`${who} needs ${dep} ${min} or newer, which the lock does not contain`);
            } else if (compareVersions(have.version, min) < 0) {
                problems.push(`${who} needs ${dep} ${min} or newer; the lock has ${dep}:${have.version}`);
            }
        }
        for (const [dep, min] of Object.entries(p.optionalDependencies)) {
            const have = locked[dep];
            if (have && compareVersions(have.version, min) < 0) {
                problems.push(
                    `${who} works with ${dep} ${min} or newer when it is installed (Jenkins refuses ${name} next to an older one); the lock has ${dep}:${have.version}`,
                );
            }
        }
    }
    return problems;
}

/** What a set of locked plugins cannot run with on a core. The generator and the preview both ask. */
export function closureProblems(locked: Record<string, LockedPlugin>, core: string): string[] {
    return [...coreProblems(locked, core), ...dependencyProblems(locked)];
}

/** The stack's side of the checks: what it asks for, and what it has accepted. */
export interface Wanted {
    plugins: string[];
    jenkins: string;
    /** Security warning ids the stack acknowledges (pluginSecurityWarnings). */
    acknowledged: string[];
}

export interface LockCheck {
    problems: string[];
    /** Acknowledged warnings, for the preview to report. */
    notes: string[];
}

/** Warnings on locked versions that the stack has not acknowledged, and those it has. */
export function warningCheck(warnings: LockedWarning[], acknowledged: string[]): LockCheck {
    const problems: string[] = [];
    const notes: string[] = [];
    for (const w of warnings) {
        const text = `${w.plugin}:${w.version} has the security warning ${w.id} (${w.message.trim()}; ${w.url})`;
        if (acknowledged.includes(w.id)) {
            notes.push(`${text}; deployed anyway, acknowledged in ${configKey("pluginSecurityWarnings")}`);
        } else {
            problems.push(
                `${text}: pin a version the warning does not cover, or accept the risk by adding ${w.id} to ${configKey("pluginSecurityWarnings")}`,
            );
        }
    }
    return { problems, notes };
}

/** How a committed lock differs from what the stack wants; empty problems: install it. */
export function checkLock(lock: Lock, want: Wanted): LockCheck {
    const problems: string[] = [];
    const asked = new Map(normalised(want.plugins).map((p) => [pluginId(p), pluginVersion(p)]));
    const locked = new Map(normalised(lock.plugins).map((p) => [pluginId(p), pluginVersion(p)]));
    for (const [id, version] of asked) {
        if (!locked.has(id)) {
            problems.push(`${id}:${version} is not in the lock`);
        } else if (locked.get(id) !== version) {
            problems.push(`${id}:${version} is locked at ${id}:${locked.get(id)}`);
        } else if (lock.locked[id] && lock.locked[id].version !== version) {
            // The list matches, the entry does not: an edit or a merge inside the lock.
            problems.push(`${id} is installed at ${lock.locked[id].version}, not the ${version} the list pins`);
        }
    }
    for (const [id, version] of locked) {
        if (!asked.has(id)) {
            problems.push(`the lock asks for ${id}:${version}, which the list no longer has`);
        }
    }
    for (const [id, version] of asked) {
        if (locked.get(id) === version && !lock.locked[id]?.requested) {
            problems.push(`${id}:${version} is listed, but the lock does not install it`);
        }
    }
    // Every entry is something the list needs, each written as the init container reads it.
    const needed = new Set<string>();
    const visit = (name: string) => {
        if (needed.has(name) || !lock.locked[name]) return;
        needed.add(name);
        Object.keys(lock.locked[name].dependencies).forEach(visit);
    };
    asked.forEach((_, id) => visit(id));
    for (const [name, p] of Object.entries(lock.locked)) {
        if (!needed.has(name)) {
            problems.push(`the lock installs ${name}:${p.version}, which nothing listed needs`);
        }
        if (
            !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) ||
            !/^[0-9a-f]{64}$/.test(p.sha256) ||
            p.path.startsWith("/") ||
            p.path.split("/").includes("..") ||
            /\s/.test(`${p.version}${p.path}`)
        ) {
            problems.push(`the entry for ${name} is not a plugin name, version, hex SHA-256 and relative path`);
        }
    }
    if (lock.jenkins !== want.jenkins) {
        problems.push(`the lock was resolved for Jenkins ${lock.jenkins}; the controller image runs ${want.jenkins}`);
    }
    problems.push(...closureProblems(lock.locked, want.jenkins));
    const warnings = warningCheck(lock.warnings, want.acknowledged);
    return { problems: [...problems, ...warnings.problems], notes: warnings.notes };
}

/** The lock sharing most plugins with a list: the one it had before it changed, most likely. */
export function closestLock(locks: LockFile[], plugins: string[]): Lock | undefined {
    const ids = new Set(plugins.map(pluginId));
    return locks
        .filter((l): l is { file: string; lock: Lock } => l.lock !== undefined)
        .map((l) => ({ lock: l.lock, shared: l.lock.plugins.filter((x) => ids.has(pluginId(x))).length }))
        .filter((l) => l.shared > 0)
        .sort((a, b) => b.shared - a.shared)[0]?.lock;
}

/** A stack's plugin settings, as far as the lock is concerned. */
export interface PluginSettings extends Wanted {
    /** Folder of the locks, relative to the project. */
    lockDir: string;
}

export interface StackLock extends LockCheck {
    /** The lock's path, relative to the project. */
    file: string;
    lock?: Lock;
}

/**
 * The committed lock for a stack's plugins, checked: what the preview refuses (each problem
 * naming the plugin and the command that fixes it) and what it reports.
 */
export function stackLock(p: PluginSettings, root: string, stack?: string): StackLock {
    const key = configKey("plugins");
    const dir = path.join(root, p.lockDir);
    const name = lockFileName(p.plugins, p.jenkins);
    const file = path.posix.join(p.lockDir, name);
    const fix = `run \`${fixCommand(stack)}\` and commit ${p.lockDir}/`;
    const files = readLocks(dir);
    const unreadable = files
        .filter((f) => f.problem)
        .map((f) => `${key}: ${path.posix.join(p.lockDir, f.file)} ${f.problem}: fix or delete it, then ${fix}`);
    if (unreadable.length > 0) {
        return { file, problems: unreadable, notes: [] };
    }
    const all = files as { file: string; lock: Lock }[];
    const found = all.find((l) => l.file === name);
    if (!found) {
        // The lock this list had before it changed: say what moved.
        const closest = closestLock(all, p.plugins);
        const moved = closest
            ? checkLock(closest, { ...p, acknowledged: closest.warnings.map((w) => w.id) }).problems
            : [];
        const differs = closest ? moved.filter((m) => !closureProblems(closest.locked, p.jenkins).includes(m)) : [];
        return {
            file,
            problems: [
                `${key}: no plugin lock for this list on Jenkins ${p.jenkins} (${file})` +
                    (differs.length > 0 ? `; the closest lock differs: ${differs.join("; ")}` : "") +
                    `: ${fix}`,
            ],
            notes: [],
        };
    }
    const checked = checkLock(found.lock, p);
    const stale = checkLock(found.lock, { ...p, acknowledged: found.lock.warnings.map((w) => w.id) }).problems;
    const warningProblems = checked.problems.filter((x) => !stale.includes(x));
    const unused = p.acknowledged.filter((id) => !found.lock.warnings.some((w) => w.id === id));
    return {
        file,
        lock: found.lock,
        problems: [
            ...stale.map((x) => `${key}: ${file} is out of date: ${x}; ${fix}`),
            ...warningProblems.map((x) => `${key}: ${x}`),
        ],
        notes: [
            ...checked.notes,
            ...unused.map(
                (id) =>
                    `${configKey("pluginSecurityWarnings")} lists ${id}, which no locked plugin version has any more: remove it`,
            ),
        ],
    };
}

/**
 * The lock as the init container reads it: a comment naming its file, then one plugin a line,
 * `NAME VERSION SHA256 PATH`.
 */
export function installList(lock: Lock, file: string): string {
    const header = `# ${file}: ${Object.keys(lock.locked).length} plugins for Jenkins ${lock.jenkins} (${LOCK_COMMAND})`;
    const lines = Object.keys(lock.locked)
        .sort()
        .map((name) => {
            const p = lock.locked[name];
            return `${name} ${p.version} ${p.sha256} ${p.path}`;
        });
    return [header, ...lines].join("\n") + "\n";
}

/**
 * A lock made from the test fixture's metadata (the example stacks' locks, on a machine that
 * cannot reach the update center): its checksums match no real archive, so a controller would
 * never start on it. Refused where it would be deployed; reported where it is only rendered.
 */
export function fixtureLockProblem(lock: Lock, file: string): string | undefined {
    return lock.updateCenter.id === FIXTURE_ID
        ? `${file} was resolved from the test fixture's update center (${lock.updateCenter.source}), not the real one: ` +
              "its checksums match no real plugin archive, so the controller would not start. " +
              `Run \`${LOCK_COMMAND}\` where updates.jenkins.io (or your mirror) is reachable, and commit the lock.`
        : undefined;
}
