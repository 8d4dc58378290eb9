// The stack's settings as the engine (or the mock runtime) hands them over, and the committed plugin
// lock that fits them: the first thing the pre-flight step reads.
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { readSettings, type LoadedSettings } from "../config/settings";
import { ConfigError } from "../config/reader";
import { Lock, stackLock } from "../plugins/lock";

/** The project's folder (the plugin locks' folder is relative to it). */
const PROJECT_ROOT = path.resolve(__dirname, "..");

export interface StackSettings extends LoadedSettings {
    /** The committed plugin lock for the stack's plugins, checked against them. */
    lock: Lock;
    lockFile: string;
}

/**
 * Reads the running stack's config (the engine's, or the mock runtime's) and its plugin lock;
 * throws a ConfigError for bad settings, then for a lock that does not fit them.
 */
export function loadSettings(): StackSettings {
    const loaded = readSettings(pulumi.runtime.allConfig());
    const found = stackLock(
        { ...loaded.settings.plugins, plugins: loaded.settings.plugins.list },
        PROJECT_ROOT,
        pulumi.getStack(),
    );
    if (found.problems.length > 0 || !found.lock) {
        throw new ConfigError(found.problems);
    }
    return {
        ...loaded,
        warnings: [...loaded.warnings, ...found.notes],
        lock: found.lock,
        lockFile: found.file,
    };
}
