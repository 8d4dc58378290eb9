// Pod Security Admission levels for the namespaces the program creates: each namespace enforces
// the strictest standard that what runs in it allows, and warns and audits against restricted,
// so anything weaker shows up in `kubectl` output and the audit log.
import { requiredLevel, SECURITY_LEVELS, SecurityLevel } from "./podTemplates";
import { Settings } from "./settings";

/**
 * The controller pod meets `restricted`. On NFS the one exception is the init container that
 * fixes ownership (root, with CHOWN, DAC_OVERRIDE and FOWNER), which `baseline` allows.
 */
export function controllerLevel(s: Settings): SecurityLevel {
    return s.storage.mode === "nfs" ? "baseline" : "restricted";
}

function weakest(a: SecurityLevel, b: SecurityLevel): SecurityLevel {
    return SECURITY_LEVELS.indexOf(a) > SECURITY_LEVELS.indexOf(b) ? a : b;
}

/** Namespace name -> the level it enforces. */
export function namespaceLevels(s: Settings): Map<string, SecurityLevel> {
    const levels = new Map<string, SecurityLevel>([[s.namespace, controllerLevel(s)]]);
    const agents = requiredLevel(s.agents.templates);
    levels.set(s.agentNamespace, weakest(levels.get(s.agentNamespace) ?? "restricted", agents));
    return levels;
}

export function podSecurityLabels(level: SecurityLevel): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
    };
}
