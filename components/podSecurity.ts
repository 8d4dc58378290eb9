// Pod Security Admission levels for the namespaces the program creates: each namespace enforces
// the strictest standard that what runs in it allows, warns at that same level (so a warning
// means "this would be refused", never noise), and audits against restricted, so anything weaker
// than restricted is recorded in the audit log.
import { SECURITY_LEVELS, SecurityLevel } from "../config/podTemplates";
import { Settings } from "../config/settings";
import { Tier } from "../config/tiers";

/**
 * The controller pod meets `restricted`. On NFS the one exception is the init container that
 * fixes ownership (root, with CHOWN, DAC_OVERRIDE and FOWNER), which `baseline` allows.
 */
export function controllerLevel(s: Settings): SecurityLevel {
    return s.storage.mode === "nfs" ? "baseline" : "restricted";
}

/** Namespace name -> the level it enforces: the controller's, and each agent tier's. */
export function namespaceLevels(s: Settings, tiers: Tier[]): Map<string, SecurityLevel> {
    return new Map<string, SecurityLevel>([
        [s.namespace, controllerLevel(s)],
        ...tiers.map((t) => [t.namespace, t.level] as const),
    ]);
}

export function podSecurityLabels(level: SecurityLevel): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": level,
        "pod-security.kubernetes.io/warn-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
    };
}

/** Whether `level` (a label's value) admits more than `than`; an unknown value counts as privileged. */
export function weakerThan(level: string, than: SecurityLevel): boolean {
    const rank = SECURITY_LEVELS.indexOf(level as SecurityLevel);
    return (rank === -1 ? SECURITY_LEVELS.length : rank) > SECURITY_LEVELS.indexOf(than);
}
