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

    // Each round: the plugins the list reaches through required dependencies at this round's
    // versions, and each dependency at the highest version one of them requires (an optional one
    // only when something else brings it in). A plugin raised past a version that needed
    // something no longer counts for it. Pins never move; rounds repeat until nothing does.
    const depsOf = (name: string, versions: Map<string, string>) =>
        release(name, versions.get(name)!)?.dependencies ?? [];
    const reachable = (versions: Map<string, string>): Set<string> => {
        const seen = new Set<string>();
        const visit = (name: string) => {
            if (seen.has(name) || !versions.has(name)) return;
            seen.add(name);
            for (const dep of depsOf(name, versions)) if (!dep.optional) visit(dep.name);
        };
        pinned.forEach((_, name) => visit(name));
        return seen;
    };
    let chosen = new Map(pinned);
    let reach = reachable(chosen);
    for (let round = 0; ; round++) {
        const next = new Map(pinned);
        const require = (dep: { name: string; version: string }) => {
            const have = next.get(dep.name);
            if (!pinned.has(dep.name) && (have === undefined || compareVersions(have, dep.version) < 0)) {
                next.set(dep.name, dep.version);
            }
        };
        for (const name of reach) for (const dep of depsOf(name, chosen)) if (!dep.optional) require(dep);
        for (const name of reach)
            for (const dep of depsOf(name, chosen)) if (dep.optional && next.has(dep.name)) require(dep);
        const settled = next.size === chosen.size && [...next].every(([n, v]) => chosen.get(n) === v);
        chosen = next;
        reach = reachable(chosen);
        if (settled) break;
        if (round === 100) {
            report(
                "the dependency versions did not settle after 100 rounds: the metadata's requirements go round in a circle",
            );
            break;
        }
    }
    // A pin below what a plugin in the set requires: jenkins-plugin-cli refuses it too.
    for (const name of reach) {
        for (const dep of depsOf(name, chosen)) {
            const pin = pinned.get(dep.name);
            if (pin !== undefined && compareVersions(pin, dep.version) < 0) {
                report(
                    dep.optional
                        ? `${name}:${chosen.get(name)} works with ${dep.name} ${dep.version} or newer when it is installed (Jenkins refuses it next to an older one), but the list pins ${dep.name}:${pin}: raise that pin`
                        : `${name}:${chosen.get(name)} needs ${dep.name} ${dep.version} or newer, but the list pins ${dep.name}:${pin}: raise that pin`,
                );
            }
        }
    }

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
        if (typeof r.sha256 !== "string" || hexDigest(r.sha256).length !== 64) {
            report(
                `${name}:${version} has no SHA-256 in the metadata (${meta.source}), so it cannot be checked: not locked`,
            );
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
