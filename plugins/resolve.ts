// The lock generator's core: a pure function of the stack's plugin list, the controller's core
// version and the update center's metadata, resolving what `jenkins-plugin-cli --latest false`
// installs: each listed plugin at its pinned version; each dependency at the highest version any
// plugin in the set requires (not the newest release), with that version's own dependencies;
// optional dependencies only when something else brings them in. What it cannot lock is a
// problem naming the plugin; nothing is written then.
import { closureProblems, coreProblems, Lock, LockedPlugin, LockedWarning, warningCheck } from "./lock";
import { downloadPath, hexDigest, Metadata, Release, warningApplies } from "./metadata";
import { compareVersions } from "./version";
import { pluginId } from "../config/checks";

export class LockError extends Error {
    constructor(readonly problems: string[]) {
        super(problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "LockError";
    }
}

export interface LockRequest {
    /** `artifactId:version`, as the stack lists them. */
    plugins: string[];
    /** The controller image's Jenkins core. */
    jenkins: string;
    /** Security warning ids the stack acknowledges. */
    acknowledged: string[];
}

export function resolveLock(req: LockRequest, meta: Metadata): Lock {
    const problems: string[] = [];
    const releases = meta.pluginVersions.plugins;
    const release = (name: string, version: string): Release | undefined => releases[name]?.[version];
    const pinned = new Map(req.plugins.map((p) => [pluginId(p), p.slice(p.indexOf(":") + 1)]));
    const chosen = new Map(pinned);
    const reported = new Set<string>();
    const report = (problem: string) => {
        if (!reported.has(problem)) {
            reported.add(problem);
            problems.push(problem);
        }
    };

    for (const [name, version] of pinned) {
        if (!releases[name]) {
            report(`${name}:${version} is not in the update center's metadata (${meta.source}): check the plugin id`);
        } else if (!release(name, version)) {
            const known = Object.keys(releases[name]).sort(compareVersions);
            report(
                `${name}:${version} is not a published release (the metadata knows ${known.slice(-3).join(", ")}${known.length > 3 ? ", ..." : ""})`,
            );
        }
    }

    // Raise each plugin to what its dependents need until nothing moves. Versions only go up, so
    // this ends; a pinned plugin is never moved, a conflict is reported instead.
    const raise = (dependent: string, dep: { name: string; version: string }, optional: boolean) => {
        const have = chosen.get(dep.name);
        if (have === undefined) {
            if (optional) return false;
            chosen.set(dep.name, dep.version);
            return true;
        }
        if (compareVersions(have, dep.version) >= 0) return false;
        if (pinned.has(dep.name)) {
            report(
                `${dependent} needs ${dep.name} ${dep.version} or newer, but the list pins ${dep.name}:${have}: raise that pin`,
            );
            return false;
        }
        chosen.set(dep.name, dep.version);
        return true;
    };
    for (let changed = true; changed;) {
        changed = false;
        for (const [name, version] of [...chosen]) {
            const r = release(name, version);
            for (const dep of r?.dependencies ?? []) {
                changed = raise(`${name}:${version}`, dep, dep.optional) || changed;
            }
        }
    }

    // Keep what the list reaches through required dependencies (a plugin raised past a version
    // that needed something may no longer need it).
    const reach = new Set<string>();
    const visit = (name: string) => {
        if (reach.has(name)) return;
        reach.add(name);
        for (const dep of release(name, chosen.get(name)!)?.dependencies ?? []) {
            if (!dep.optional) visit(dep.name);
        }
    };
    pinned.forEach((_, name) => visit(name));

    const locked: Record<string, LockedPlugin> = {};
    for (const name of [...reach].sort()) {
        const version = chosen.get(name)!;
        const r = release(name, version);
        if (!r) {
            if (!pinned.has(name)) {
                const who = neededBy(name).join(", ");
                report(
                    releases[name]
                        ? `${name} ${version} (needed by ${who}) is not a published release in the metadata`
                        : `${name} (needed by ${who}) is not in the update center's metadata (${meta.source})`,
                );
            }
            continue;
        }
        locked[name] = {
            version,
            sha256: hexDigest(r.sha256),
            path: downloadPath(r),
            requiredCore: r.requiredCore,
            dependencies: Object.fromEntries(r.dependencies.filter((d) => !d.optional).map((d) => [d.name, d.version])),
            optionalDependencies: Object.fromEntries(
                r.dependencies.filter((d) => d.optional).map((d) => [d.name, d.version]),
            ),
            requested: pinned.has(name),
            neededBy: neededBy(name),
        };
    }
    function neededBy(name: string): string[] {
        return [...reach]
            .filter((other) => other !== name)
            .filter((other) =>
                (release(other, chosen.get(other)!)?.dependencies ?? []).some((d) => d.name === name && !d.optional),
            )
            .sort();
    }

    // A dependency the lock lacks after a problem above is that problem again, not a new one.
    problems.push(...(problems.length > 0 ? coreProblems(locked, req.jenkins) : closureProblems(locked, req.jenkins)));

    const warnings: LockedWarning[] = [];
    for (const w of meta.updateCenter.warnings ?? []) {
        if (w.type === "plugin" && locked[w.name] && warningApplies(w, locked[w.name].version)) {
            warnings.push({
                id: w.id,
                plugin: w.name,
                version: locked[w.name].version,
                message: w.message,
                url: w.url,
            });
        }
    }
    problems.push(...warningCheck(warnings, req.acknowledged).problems);

    if (problems.length > 0) {
        throw new LockError(problems);
    }
    return {
        lockVersion: 1,
        plugins: [...req.plugins].sort(),
        jenkins: req.jenkins,
        updateCenter: {
            id: meta.updateCenter.id,
            source: meta.source,
            generated: meta.updateCenter.generationTimestamp,
        },
        locked,
        warnings,
    };
}
