// The update center's published metadata, as far as the lock reads it, and where it lives.
//   update-center.actual.json?version=CORE  the plugins' latest releases for that core, and the
//                                           security warnings (jenkins-infra/update-center2)
//   plugin-versions.json                    every release of every plugin, with its
//                                           dependencies, required core and checksums
// jenkins-plugin-cli reads the same two documents (JENKINS_UC, JENKINS_PLUGIN_INFO).

export interface Dependency {
    name: string;
    version: string;
    optional: boolean;
}

/** One release of a plugin, as both documents describe it. */
export interface Release {
    name: string;
    version: string;
    url: string;
    /** Base64 of the archive's SHA-256, as the update center publishes it. */
    sha256: string;
    requiredCore: string;
    dependencies: Dependency[];
}

/** A published security warning: the versions it applies to are those matching a pattern. */
export interface Warning {
    id: string;
    type: "plugin" | "core";
    name: string;
    message: string;
    url: string;
    versions: { lastVersion?: string; pattern: string }[];
}

export interface UpdateCenter {
    id: string;
    generationTimestamp?: string;
    core?: { version: string };
    warnings?: Warning[];
    plugins: Record<string, Release>;
}

export interface PluginVersions {
    plugins: Record<string, Record<string, Release>>;
}

export interface Metadata {
    updateCenter: UpdateCenter;
    pluginVersions: PluginVersions;
    /** Where the metadata came from (a URL or a file), recorded in the lock. */
    source: string;
}

/** The public update center; a mirror serves the same layout. */
export const DEFAULT_UPDATE_CENTER = "https://updates.jenkins.io";
/**
 * Where plugin archives are downloaded from unless pluginMirror says otherwise: the update
 * center's download service, then the archive that keeps every release (jenkins-plugin-cli
 * falls back to it the same way).
 */
export const DEFAULT_SOURCES = [`${DEFAULT_UPDATE_CENTER}/download`, "https://archives.jenkins.io"];
/** The update center's id in the fixture metadata the tests and the example stacks' locks use. */
export const FIXTURE_ID = "jenkins-k8s-fixture";

export function updateCenterUrl(base: string, core: string): string {
    return `${base.replace(/\/$/, "")}/update-center.actual.json?version=${encodeURIComponent(core)}`;
}

export function pluginVersionsUrl(base: string): string {
    return `${base.replace(/\/$/, "")}/plugin-versions.json`;
}

/**
 * Whether a warning applies to a version: one of its patterns matches the whole version. The
 * patterns are Java regular expressions the update center anchors (String.matches); the ones it
 * publishes use only syntax JavaScript reads the same way.
 */
export function warningApplies(w: Warning, version: string): boolean {
    // No version ranges: every version is affected; a pattern that does not compile counts as
    // `.*` (Jenkins' UpdateSite.Warning reads both so).
    const ranges = w.versions ?? [];
    return (
        ranges.length === 0 ||
        ranges.some((v) => {
            try {
                return new RegExp(`^(?:${v.pattern})$`).test(version);
            } catch {
                return true;
            }
        })
    );
}

/** The archive's path below the downloads base: plugins/NAME/VERSION/NAME.hpi. */
export function downloadPath(release: Release): string {
    const found = /\/download\/(plugins\/.+)$/.exec(release.url);
    return found ? found[1] : `plugins/${release.name}/${release.version}/${release.name}.hpi`;
}

/** The update center's base64 SHA-256 as the hex that sha256sum prints. */
export function hexDigest(base64: string): string {
    return Buffer.from(base64, "base64").toString("hex");
}
