// Facts the program writes and the policy pack checks, written once. They live in the pack
// because the pack is installed (and can be published) on its own, with no path outside this
// folder; the program imports them from here. No imports, so either side can load this file.

/** Pod annotations that record an explicit opt-in to privileged containers or host paths. */
export const ALLOW_PRIVILEGED = "jenkins-k8s/allow-privileged";
export const ALLOW_HOST_PATH = "jenkins-k8s/allow-host-path";

/** The label that says which part of the stack an object is, and the parts the pack looks for. */
export const COMPONENT_LABEL = "app.kubernetes.io/component";
export const HOME_COMPONENT = "home";
export const CONTROLLER_COMPONENT = "controller";

/** The seccomp profile types the restricted Pod Security profile accepts. */
export const RESTRICTED_SECCOMP_TYPES: readonly string[] = ["RuntimeDefault", "Localhost"];

/** The cloud a Jenkinsfile's `podTemplate` gets when it names none (the plugin's default cloud name). */
export const DEFAULT_CLOUD = "kubernetes";

/** Tags that move to a new image under the same name, alone or as a prefix (`lts-jdk21`). */
const FLOATING_TAGS = ["latest", "lts", "stable", "weekly"];

/**
 * Whether an image tag floats. Registries treat tags as case-sensitive, so `LATEST` is a tag of
 * its own; it is refused all the same, since a name like that says it moves, never a version.
 */
export function isFloatingTag(tag: string): boolean {
    const t = tag.toLowerCase();
    return FLOATING_TAGS.some((f) => t === f || t.startsWith(`${f}-`));
}
