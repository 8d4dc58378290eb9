// Pod Security facts, written once: the levels, the securityContext fields that meet
// `restricted` and the labels of the namespaces the program creates (the opt-in annotations are
// in policy/facts.ts, shared with the policy pack). Each namespace enforces the strictest standard
// that what runs in it allows, warns at that same level (so a warning means "this would be
// refused", never noise), and audits against restricted, so anything weaker is recorded.
export const SECURITY_LEVELS = ["restricted", "baseline", "privileged"] as const;
export type SecurityLevel = (typeof SECURITY_LEVELS)[number];

/** securityContext fields the restricted profile requires of every container. */
export const NO_ESCALATION = { allowPrivilegeEscalation: false } as const;
export const DROP_ALL = { drop: ["ALL"] };
export const RUNTIME_DEFAULT_SECCOMP = { type: "RuntimeDefault" };

export { ALLOW_HOST_PATH, ALLOW_PRIVILEGED } from "../policy/facts";

/**
 * A container of the program's own (the controller's, the pre-puller's) at `restricted` and past
 * it: the non-root `uid`, nothing to escalate to, no capability, a read-only root filesystem.
 */
export function restrictedContainer(uid: number) {
    return {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: uid,
        ...NO_ESCALATION,
        readOnlyRootFilesystem: true,
        capabilities: DROP_ALL,
        seccompProfile: RUNTIME_DEFAULT_SECCOMP,
    };
}

/**
 * The controller pod meets `restricted`. On NFS the one exception is the init container that
 * fixes ownership (root, with CHOWN, DAC_OVERRIDE and FOWNER), which `baseline` allows.
 */
export function controllerLevel(nfsHome: boolean): SecurityLevel {
    return nfsHome ? "baseline" : "restricted";
}

/** The namespace label whose level Pod Security admission enforces. */
export const POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce";

export function podSecurityLabels(level: SecurityLevel): Record<string, string> {
    return {
        [POD_SECURITY_ENFORCE]: level,
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
