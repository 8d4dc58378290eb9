import { BlockList, isIP } from "net";
import { z } from "zod";
import { isFloatingTag } from "../policy/facts";
import javaZones from "./javaZones.json";

// Value checks shared by the config table and the pod template schema. Each check returns
// `undefined` when the value is fine, or a sentence that says what is allowed; the reader
// prefixes the key and the value. The zod helpers below turn them into schemas. Long by design:
// one small check per kind of value (quantities, images, zones, JVM options, URLs, CIDRs, ...),
// each with the source of its rule.

export const ACCESS_MODES = ["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany"] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

/** A value check; `limits`, when set, says in a few words what it allows, for the config reference. */
export interface Check {
    (value: string): string | undefined;
    limits?: string;
}

/** A check with the few words the config reference prints for it. */
function limited(limits: string, check: (value: string) => string | undefined): Check {
    return Object.assign(check, { limits });
}

/** What zod keeps of a schema's shape (its `_zod.def`): the parts the reader and the docs walk. */
export type SchemaDef = {
    type: string;
    innerType?: z.ZodType;
    in?: z.ZodType;
    element?: z.ZodType;
    valueType?: z.ZodType;
    shape?: Record<string, z.ZodType>;
    options?: z.ZodType[];
    values?: unknown[];
};
export const schemaDef = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** What a schema allows, as the config reference prints it; undefined when it says nothing more than its type. */
export function limitsOf(schema: z.ZodType): string | undefined {
    const own = (schema.meta() as { limits?: string } | undefined)?.limits;
    const def = schemaDef(schema);
    if (own === undefined && def.type === "array" && def.element) {
        const each = limitsOf(def.element);
        return each && `each: ${each}`;
    }
    return own;
}

const withLimits = <T extends z.ZodType>(schema: T, limits: string | undefined): T =>
    limits === undefined ? schema : schema.meta({ limits });

/** A string schema that runs one of the checks and reports its sentence. */
export function checked(check: Check): z.ZodType<string> {
    const schema = z
        .string({
            error: (issue) =>
                typeof issue.input === "number"
                    ? `must be a string: write it in quotes ("${issue.input}")${check.limits ? `, ${check.limits}` : ""}`
                    : "must be a string",
        })
        .superRefine((value, ctx) => {
            const problem = check(value);
            if (problem) {
                ctx.addIssue({ code: "custom", message: problem });
            }
        });
    return withLimits(schema, check.limits);
}

/** The empty string means "not set" for optional strings, so every key can have a default. */
export function optionalChecked(check: Check): z.ZodType<string> {
    const schema = z.string().superRefine((value, ctx) => {
        const problem = value === "" ? undefined : check(value);
        if (problem) {
            ctx.addIssue({ code: "custom", message: `${problem} (or empty to leave it unset)` });
        }
    });
    return withLimits(schema, check.limits && `${check.limits}; or empty`);
}

export function oneOf<T extends string>(values: readonly [T, ...T[]]): z.ZodType<T> {
    return withLimits(
        z.enum(values, { error: () => `must be one of: ${values.join(", ")}` }),
        `one of ${values.join(", ")}`,
    );
}

export function wholeNumber(min: number, max: number, why = ""): z.ZodType<number> {
    const range = `must be a whole number from ${min} to ${max}${why ? ` (${why})` : ""}`;
    const schema = z
        .number({ error: () => range })
        .int({ error: () => range })
        .min(min, { error: () => range })
        .max(max, { error: () => range });
    return withLimits(schema, `${min}–${max}`);
}

/** A schema with the limits the config reference prints, where a helper above cannot say them. */
export function described<T extends z.ZodType>(schema: T, limits: string): T {
    return withLimits(schema, limits);
}

export const bool = z.boolean({ error: () => "must be true or false" });

const RFC1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const RFC1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const checkDnsLabel = limited(
    "an RFC 1123 label: lowercase letters, digits and '-', at most 63",
    (value: string): string | undefined => {
        if (value.length > 63 || !RFC1123_LABEL.test(value)) {
            return "must be an RFC 1123 label: at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit";
        }
        return undefined;
    },
);

/** A Gateway named as `<namespace>/<name>`: an RFC 1123 label, a slash, a DNS subdomain. */
export function checkGatewayRef(value: string): string | undefined {
    const [namespace, name, ...rest] = value.split("/");
    if (name === undefined || rest.length > 0 || checkDnsLabel(namespace) || checkDnsSubdomain(name)) {
        return "must be <namespace>/<name> of a Gateway, such as gateway-system/public";
    }
    return undefined;
}

export function checkDnsSubdomain(value: string): string | undefined {
    if (value.length > 253 || !RFC1123_SUBDOMAIN.test(value)) {
        return "must be an RFC 1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters";
    }
    return undefined;
}

// Kubernetes quantities, as the API server parses them (resource.Quantity): a decimal number with
// an optional binary (Ki..Ei) or decimal (m, k, M..E) suffix. Exponent forms are accepted too.
const QUANTITY = /^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const SUFFIX: Record<string, number> = {
    "": 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
};

/** A container's CPU and memory, requests and limits, as Kubernetes quantities. */
export interface Resources {
    cpuRequest: string;
    cpuLimit: string;
    memoryRequest: string;
    memoryLimit: string;
}

/** The numeric value of a Kubernetes quantity (cores for CPU, bytes for memory), or NaN. */
export function parseQuantity(value: string): number {
    const m = QUANTITY.exec(value);
    if (!m) {
        return NaN;
    }
    const suffix = m[3] ?? "";
    if (/^[eE]/.test(suffix)) {
        return Number(m[1] + suffix);
    }
    return Number(m[1]) * SUFFIX[suffix];
}

/**
 * A check of a positive quantity of one resource: `wrongUnit` refuses the other resources'
 * suffixes (Gi for CPU, m for memory), and `min` is the least that works, with its reason.
 */
function quantityCheck(
    what: string,
    examples: string,
    wrongUnit: RegExp,
    min: { value: number; least: string; why: string },
): Check {
    return limited(`at least ${min.least}`, (value) => {
        const n = parseQuantity(value);
        if (!(n > 0) || wrongUnit.test(value)) {
            return `must be a positive ${what} quantity such as ${examples}`;
        }
        return n < min.value ? `must be at least ${min.least} (${min.why})` : undefined;
    });
}

export const checkCpu = quantityCheck("CPU", "500m, 1 or 2.5", /[KMGTPE]i$/, {
    value: 0.001,
    least: "1m",
    why: "the API server's CPU precision",
});
export const checkMemory = quantityCheck("memory", "512Mi, 2Gi or 1G", /m$/, {
    value: 4 * 2 ** 20,
    least: "4Mi",
    why: "smaller limits cannot start a container",
});
export const checkStorageSize = quantityCheck("storage", "8Gi or 100Gi", /m$/, {
    value: 2 ** 30,
    least: "1Gi",
    why: "Jenkins home holds plugins, build records and logs",
});
export const checkWorkspaceSize = quantityCheck("storage", "2Gi or 20Gi", /m$/, {
    value: 2 ** 30,
    least: "1Gi",
    why: "a workspace holds the checkout and what the build makes; block-storage CSI drivers such as EBS provision 1Gi at the least",
});

// Image references as the container runtime parses them (distribution/reference), with the rule
// this project adds: a tag or digest must be given and it must not be a floating tag.
const HOST_PART = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const IMAGE = new RegExp(
    "^" +
        // A first component is a registry host only with a dot, a port, or as localhost.
        "(?:(?:(?:localhost|" +
        HOST_PART +
        "(?:\\." +
        HOST_PART +
        ")+)(?::[0-9]+)?|" +
        HOST_PART +
        ":[0-9]+)/)?" +
        "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*" +
        "(?::([\\w][\\w.-]{0,127}))?" +
        "(?:@(sha256:[a-f0-9]{64}))?" +
        "$",
);

export const checkImage = limited(
    "pinned: a tag or digest, no floating tag (latest, lts, stable, weekly)",
    (value: string): string | undefined => {
        const m = IMAGE.exec(value);
        if (!m) {
            return "must be an image reference such as registry.example.com/team/image:1.2.3 (lowercase repository, optional tag and @sha256 digest, no spaces)";
        }
        const [, tag, digest] = m;
        if (!tag && !digest) {
            return "must pin a version: add a tag (image:1.2.3) or a digest (image@sha256:...); an untagged image floats like ':latest'";
        }
        if (tag && !digest && isFloatingTag(tag)) {
            return `must pin a version: the tag '${tag}' floats and changes under you; use a versioned tag or a digest`;
        }
        return undefined;
    },
);

// The agent images Jenkins publishes run the agent on the Java their tag names (-jdk21, -alpine-jdk21);
// a tag without it leaves the version to the image's default of that day, while Jenkins 2.555 and
// later need Java 21 on agents (the kubernetes plugin pins its own default to a -jdk21 tag).
// By the repository's last two parts, so mirrors (mirror.gcr.io/jenkins/inbound-agent) count too.
const JENKINS_AGENT_IMAGES = /(^|\/)jenkins\/(inbound-agent|agent)$/;
const JAVA_21_OR_LATER = /(^|-)jdk(2[1-9]|[3-9]\d)(-|$)/;

/** The Java problem of an image that runs the Jenkins agent (the jnlp container), if any. */
export function agentJavaProblem(image: string): string | undefined {
    // A digest pins the bytes but does not say the Java version: the tag must, beside it.
    const [name] = image.split("@");
    const at = name.lastIndexOf(":");
    const slash = name.lastIndexOf("/");
    const repository = at > slash ? name.slice(0, at) : name;
    const tag = at > slash ? name.slice(at + 1) : "";
    if (!JENKINS_AGENT_IMAGES.test(repository) || JAVA_21_OR_LATER.test(tag)) return undefined;
    const older = /(^|-)jdk(\d+)(-|$)/.exec(tag);
    return older
        ? `runs Java ${older[2]} (its tag's -jdk${older[2]}), and Jenkins 2.555 and later need Java 21 or later on agents: use the -jdk21 tag of the same release`
        : "must name its Java version in the tag (such as 3385.vf1123fb_515da_-1-jdk21): Jenkins 2.555 and later need Java 21 on agents, and an unsuffixed tag leaves it to the image's default";
}

export const checkAgentImage = limited(
    "pinned, like every image; a jenkins/inbound-agent tag names its Java (-jdk21 or later)",
    (value: string) => checkImage(value) ?? agentJavaProblem(value),
);

// Jenkins refuses these characters in label and node names (Jenkins.checkGoodName), and the
// label-expression operators would turn a label into an expression.
const BAD_LABEL_CHARS = /[\s?*/\\%!@#$^&|<>[\]:;()=,'"~]/;

export const checkAgentLabel = limited(
    "1–100 characters, no spaces or ?*/\\%!@#$^&|<>[]:;()=,'\"~",
    (value: string): string | undefined => {
        if (value.length === 0 || value.length > 100 || BAD_LABEL_CHARS.test(value)) {
            return "must be a Jenkins label: 1-100 characters without spaces, quotes or any of ?*/\\%!@#$^&|<>[]:;()=,~";
        }
        return undefined;
    },
);

// jenkins-plugin-cli's plugin file: `artifactId:version`. Versions are pinned: 'latest' and
// 'experimental' would change what a restart installs.
const PLUGIN = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):([0-9][\w.+-]*)$/;

export const checkPlugin = limited("artifactId:version, the version pinned", (value: string): string | undefined => {
    if (!PLUGIN.test(value)) {
        return "must be 'artifactId:version' with a pinned version, such as kubernetes:4540.v612369217f87 (not 'latest' or a URL)";
    }
    return undefined;
});

export function pluginId(spec: string): string {
    return spec.split(":")[0];
}

/** The version part of `artifactId:version`. */
export function pluginVersion(spec: string): string {
    return spec.slice(spec.indexOf(":") + 1);
}

// Jenkins releases: weekly 2.569, LTS 2.568.2. The official images' tags start with it
// (jenkins/jenkins:2.568.2-jdk21), which is how the controller's core is read from its image.
const JENKINS_RELEASE = /^\d+\.\d+(\.\d+)?$/;

export const checkJenkinsVersion = limited("a Jenkins release such as 2.568.2", (value: string) =>
    JENKINS_RELEASE.test(value) ? undefined : "must be a Jenkins release number such as 2.568.2",
);

/** The Jenkins core an image's tag names (jenkins/jenkins:2.568.2-jdk21: 2.568.2), if it names one. */
export function imageJenkinsVersion(image: string): string | undefined {
    const tag = /:([\w][\w.-]*)(?:@sha256:[a-f0-9]{64})?$/.exec(image)?.[1];
    return /^(\d+\.\d+(?:\.\d+)?)(?:-|$)/.exec(tag ?? "")?.[1];
}

// The update center's warning ids: SECURITY-2004 (jenkins-infra/update-center2's warnings list).
export const checkWarningId = limited("SECURITY-<number>", (value: string) =>
    /^SECURITY-\d+([-_.][A-Za-z0-9]+)*$/.test(value)
        ? undefined
        : "must be a security warning id such as SECURITY-2004",
);

/** A download base: plugins are fetched from BASE/plugins/NAME/VERSION/NAME.hpi. */
export const checkMirrorUrl = limited("http(s), no query or fragment", (value: string) => checkHttpUrl(value));

// Time zones as the JVM takes them from -Duser.timezone (java.util.TimeZone.getTimeZone): a zone
// ID the JDK knows, exactly as written (IDs are case-sensitive: `asia/shanghai` or `US/EASTERN`
// silently run in GMT), or a custom ID GMT+hh:mm / GMT+hhmm / GMT+h. The JDKs' IDs are in
// javaZones.json (tools/java-zones.sh writes it from real JDKs); Node's ICU list, also exact,
// covers a zone newer than those JDKs' tz data.
const JAVA_ZONES = new Set([...javaZones.ids, ...Intl.supportedValuesOf("timeZone")]);
const JAVA_CUSTOM_ZONE = /^GMT[+-]([01]?\d|2[0-3])(:?[0-5]\d)?$/;

export const checkTimezone = limited(
    "a zone ID exactly as Java writes it (case-sensitive), or GMT+hh:mm",
    (value: string): string | undefined => {
        if (JAVA_ZONES.has(value) || JAVA_CUSTOM_ZONE.test(value)) {
            return undefined;
        }
        if (/^[+-]/.test(value)) {
            return "must be a zone ID, or an offset written as Java takes it: GMT+08:00, not +08:00";
        }
        const same = [...JAVA_ZONES].find((z) => z.toLowerCase() === value.toLowerCase());
        return same
            ? `must be written exactly as Java writes it, ${same}: zone IDs are case-sensitive, and the JVM would run in GMT`
            : "must be a time zone ID such as UTC, Europe/Berlin or Asia/Shanghai, or GMT+08:00";
    },
);

function checkHttpUrl(value: string): string | undefined {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return "must be an absolute http:// or https:// URL such as https://jenkins.example.com/";
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
        return "must be an absolute http:// or https:// URL such as https://jenkins.example.com/";
    }
    if (url.search || url.hash) {
        return "must not carry a query string or fragment";
    }
    return undefined;
}

/**
 * An HTTP proxy as curl, Jenkins and the build tools take it: http://host:port (https:// too), with
 * no credentials (they would be in every pod's environment and the JCasC), path or query.
 */
export const checkProxyUrl = limited("http://host:port, no credentials", (value: string) => {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return "must be a proxy URL such as http://proxy.example.com:3128";
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
        return "must be a proxy URL such as http://proxy.example.com:3128 (http:// or https://)";
    }
    if (url.username || url.password) {
        return "must not hold credentials: they would be in every pod's environment and the JCasC; use a proxy that admits the cluster's addresses";
    }
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
        return "must be the proxy's address alone: http://host:port, no path or query";
    }
    return undefined;
});

/** A NO_PROXY entry: a host, a domain (.example.com, its subdomains), an address, or a CIDR. */
export const checkNoProxyEntry = limited("a host, .domain, IP address or CIDR", (value: string) => {
    const host = value.startsWith(".") ? value.slice(1) : value;
    if (isIP(host) !== 0 || checkDnsSubdomain(host.toLowerCase()) === undefined) return undefined;
    if (/\//.test(value) && checkCidr(value) === undefined) return undefined;
    return "must be a host (git.internal), a domain (.example.com), an IP address or a CIDR (10.0.0.0/8)";
});

export function checkHostOrIp(value: string): string | undefined {
    if (isIP(value) !== 0 || checkDnsSubdomain(value.toLowerCase()) === undefined) {
        return undefined;
    }
    return "must be a host name or an IP address of the NFS server";
}

export function checkAbsolutePath(value: string): string | undefined {
    if (!value.startsWith("/") || /\s|\/\.\.?(\/|$)/.test(value)) {
        return "must be an absolute path without spaces or '..', such as /exports/jenkins";
    }
    return undefined;
}

export function checkCidr(value: string): string | undefined {
    const [address, prefix, ...rest] = value.split("/");
    const family = isIP(address ?? "");
    const bits = /^\d{1,3}$/.test(prefix ?? "") ? Number(prefix) : NaN;
    if (rest.length > 0 || family === 0 || !(bits <= (family === 4 ? 32 : 128))) {
        return "must be a CIDR such as 10.0.0.0/8 or fd00::/8";
    }
    return undefined;
}

export const checkUserId = limited("1–64 letters, digits, _ . -", (value: string): string | undefined => {
    if (!/^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,63}$/.test(value)) {
        return "must be a Jenkins user id: 1-64 letters, digits, '_', '.' or '-', not starting with '.' or '-'";
    }
    return undefined;
});

/**
 * JAVA_OPTS split into words as the controller image's launcher splits it (jenkinsci/docker
 * jenkins.sh: `xargs printf '%s\0' <<<"$JAVA_OPTS"`): blanks and newlines separate; single or
 * double quotes group, literally and within one line; a backslash outside quotes takes the next
 * character as it is. GNU xargs refuses an unmatched quote, and the launcher then drops every
 * option without a word, so that is an error here. No library splits the way xargs does.
 */
export function javaOptsWords(value: string): { words: string[] } | { unmatched: string } {
    const words: string[] = [];
    let word: string | undefined;
    let quote: string | undefined;
    for (let i = 0; i < value.length; i++) {
        const c = value[i];
        if (quote) {
            if (c === "\n") {
                return { unmatched: quote };
            }
            if (c === quote) {
                quote = undefined;
            } else {
                word += c;
            }
        } else if (c === " " || c === "\t" || c === "\n") {
            if (word !== undefined) {
                words.push(word);
                word = undefined;
            }
        } else if (c === "'" || c === '"') {
            quote = c;
            word ??= "";
        } else if (c === "\\" && i + 1 < value.length) {
            word = (word ?? "") + value[++i];
        } else {
            word = (word ?? "") + c;
        }
    }
    if (quote) {
        return { unmatched: quote };
    }
    return { words: word === undefined ? words : [...words, word] };
}

const HEAP_FLAGS = /^-(Xmx|Xms|XX:MaxRAMPercentage|XX:MaxRAM=)/;

// Launcher options whose value is the next word (java --help): `--add-opens java.base/x=ALL-UNNAMED`.
const TAKES_A_VALUE = new Set([
    "-cp",
    "-classpath",
    "--class-path",
    "-p",
    "--module-path",
    "--upgrade-module-path",
    "--add-modules",
    "--limit-modules",
    "--add-opens",
    "--add-exports",
    "--add-reads",
    "--patch-module",
    "--enable-native-access",
]);

export const checkJavaOpts = limited(
    "JVM options only (split as xargs does, quotes matched); no -Xmx, -Xms or -XX:MaxRAMPercentage",
    (value: string): string | undefined => {
        const split = javaOptsWords(value);
        if ("unmatched" in split) {
            return `has an unmatched ${split.unmatched} quote: the image's launcher splits JAVA_OPTS as xargs does, which refuses it, and Jenkins would start without any of these options`;
        }
        const stray = split.words.find((w, i) => !w.startsWith("-") && !TAKES_A_VALUE.has(split.words[i - 1]));
        if (stray !== undefined) {
            return `has '${stray}', which is not a JVM option (options start with '-'): the JVM would take it for the class to run and exit`;
        }
        if (split.words.some((w) => HEAP_FLAGS.test(w))) {
            return "must not size the heap (-Xmx, -Xms, -XX:MaxRAMPercentage): set heapPercent instead, so the heap follows the memory limit";
        }
        return undefined;
    },
);

/**
 * RBAC role names are path segments: anything but '/' and '%', and not '.' or '..' (the
 * built-in ones include system:aggregate-to-edit and the like).
 */
export function checkRoleName(value: string): string | undefined {
    if (value === "" || value === "." || value === ".." || /[/%\s]/.test(value) || value.length > 253) {
        return "must be a ClusterRole name such as edit or system:aggregate-to-edit (no '/', '%' or spaces)";
    }
    return undefined;
}

/** Jenkins is served at the root of its host: a path in the URL would break every link. */
export const checkRootUrl = limited("http(s), no path, query or fragment", (value: string): string | undefined => {
    const problem = checkHttpUrl(value);
    if (problem) {
        return problem;
    }
    return new URL(value).pathname.replace(/\/$/, "") === ""
        ? undefined
        : "must have no path: Jenkins is served at the root of its host";
});

/** The link-local ranges, where the nodes' cloud metadata endpoints answer (169.254.169.254 and the like). */
export const LINK_LOCAL = { v4: "169.254.0.0/16", v6: "fe80::/10" } as const;

/** Whether `inner` lies inside `outer` (both CIDRs of one family, inner at least as long a prefix). */
export function cidrWithin(inner: string, outer: string): boolean {
    const [ia, ip] = inner.split("/");
    const [oa, op] = outer.split("/");
    const family = isIP(ia);
    if (family === 0 || family !== isIP(oa) || Number(ip) < Number(op)) {
        return false;
    }
    const list = new BlockList();
    list.addSubnet(oa, Number(op), family === 4 ? "ipv4" : "ipv6");
    return list.check(ia, family === 4 ? "ipv4" : "ipv6");
}

// A CronJob schedule (batch/v1) as the API server parses it (robfig/cron v3.0.1 ParseStandard,
// parser.go getRange and spec.go's bounds): five fields, each a comma list of `*` or `?`, a number
// or a name, or a range a-b, each with an optional /step; minute 0-59, hour 0-23, day of month
// 1-31, month 1-12 or jan-dec, day of week 0-6 or sun-sat (7 is refused); or one of the macros.
const CRON_FIELDS: { name: string; min: number; max: number; names?: string[] }[] = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day of month", min: 1, max: 31 },
    {
        name: "month",
        min: 1,
        max: 12,
        names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    },
    { name: "day of week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/** What is wrong with one field of a schedule, as robfig/cron's getRange says it. */
function cronFieldProblem(expr: string, f: (typeof CRON_FIELDS)[number]): string | undefined {
    const number = (text: string): number | undefined => {
        const named = f.names?.indexOf(text.toLowerCase()) ?? -1;
        if (named >= 0) return named + (f.name === "month" ? 1 : 0);
        return /^\d+$/.test(text) ? Number(text) : undefined;
    };
    for (const part of expr.split(",")) {
        const [range, step, extra] = part.split("/");
        if (extra !== undefined) return `${f.name} ${part}: more than one /`;
        if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0)) {
            return `${f.name} ${part}: the step must be a positive number`;
        }
        if (range === "*" || range === "?") continue;
        const ends = range.split("-");
        if (ends.length > 2) return `${f.name} ${part}: more than one -`;
        const [low, high] = ends.map(number);
        if (low === undefined || (ends.length === 2 && high === undefined)) {
            return `${f.name} ${part}: not a number${f.names ? ` or a name (${f.names[0]}-${f.names[f.names.length - 1]})` : ""}`;
        }
        const end = high ?? low;
        if (low < f.min || end > f.max) return `${f.name} ${part}: outside ${f.min}-${f.max}`;
        if (low > end) return `${f.name} ${part}: the range runs backwards`;
    }
    return undefined;
}

export const checkCron = limited("5 cron fields, or @hourly, @daily, @weekly, @monthly, @yearly", (value: string) => {
    if (/^@(hourly|daily|midnight|weekly|monthly|yearly|annually)$/.test(value)) return undefined;
    const fields = value.trim().split(/\s+/);
    if (fields.length !== 5) {
        return "must be a CronJob schedule of 5 fields (minute hour day month weekday), such as 0 3 * * *, or @daily";
    }
    const problem = fields.map((field, i) => cronFieldProblem(field, CRON_FIELDS[i])).find((p) => p !== undefined);
    return problem ? `is not a schedule the API server takes: ${problem}` : undefined;
});

/** A folder of the project, below it: relative, not the project itself, without '..'. */
export const checkProjectFolder = limited(
    "a folder below the project",
    (value: string): string | undefined =>
        checkRelativePath(value) ??
        (value
            .replace(/\/+$/, "")
            .split("/")
            .every((part) => part === "." || part === "")
            ? "must be a folder below the project, not the project itself"
            : undefined),
);

/** A path inside a volume: relative, without '..' segments (the API server refuses both). */
export function checkRelativePath(value: string): string | undefined {
    if (value === "" || value.startsWith("/") || value.split("/").includes("..")) {
        return "must be a relative path without '..', such as config.json";
    }
    return undefined;
}

// Names inside Jenkins (an item, a credential, a principal) and the places secrets come from. The
// rules are Jenkins' own, each from the source file named beside it.

/**
 * A folder (item) name as Jenkins.checkGoodName takes it (jenkinsci/jenkins 2.568.2
 * core/src/main/java/jenkins/model/Jenkins.java): not empty, `.` or `..`; no control character and
 * none of ? * / \ % ! @ # $ ^ & | < > [ ] : ; ; not ending in `.`. Surrounding blanks are refused
 * too: only the web form trims them.
 */
export const checkItemName = limited(
    "a Jenkins item name: no ? * / \\ % ! @ # $ ^ & | < > [ ] : ; or control characters",
    (value: string): string | undefined => {
        if (value.trim() !== value || value === "") {
            return "must be a Jenkins item name without leading or trailing blanks";
        }
        if (value === "." || value === ".." || value.endsWith(".")) {
            return "must be a Jenkins item name that does not end in '.'";
        }
        // eslint-disable-next-line no-control-regex -- control characters are exactly what Jenkins refuses
        const bad = /[\x00-\x1f\x7f?*/\\%!@#$^&|<>[\]:;]/.exec(value);
        return bad
            ? `must be a Jenkins item name: ${JSON.stringify(bad[0])} is one of the characters Jenkins refuses (? * / \\ % ! @ # $ ^ & | < > [ ] : ; and control characters)`
            : undefined;
    },
);

/**
 * A credential id. The credentials plugin accepts any non-empty id that no other credential of the
 * store has (BaseStandardCredentials, IdCredentials.Helpers); ids end up in Jenkinsfiles
 * (`credentials('id')`), so this keeps to the characters its UI suggests: letters, digits, _ . -.
 */
export const checkCredentialId = limited("1–128 letters, digits, _ . -", (value: string): string | undefined =>
    /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value)
        ? undefined
        : "must be a credential id: 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
);

/** A key of a Secret's data, as the API server validates it (IsConfigMapKey): [-._a-zA-Z0-9]+, at most 253. */
export const checkSecretKey = limited("a Secret key: letters, digits, - _ .", (value: string): string | undefined =>
    /^[-._a-zA-Z0-9]{1,253}$/.test(value) && value !== "." && value !== ".."
        ? undefined
        : "must be a key of a Secret: 1-253 letters, digits, '-', '_' or '.'",
);

/**
 * A user or group name as the authorization matrix stores it: any text the sign-in returns, but not
 * empty, without control characters and without leading or trailing blanks (no realm returns those;
 * an entry with them would match nobody).
 */
export const checkPrincipal = limited("no control characters or surrounding blanks", (value: string) =>
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    value === "" || value.trim() !== value || /[\x00-\x1f\x7f]/.test(value)
        ? "must be a user or group name: not empty, without control characters or leading and trailing blanks"
        : undefined,
);

/** An https:// URL: where sign-in sends passwords and tokens, nothing else will do. */
export const checkHttpsUrl = limited("an https:// URL", (value: string): string | undefined => {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return "must be an absolute https:// URL";
    }
    return url.protocol === "https:" ? undefined : "must be an https:// URL: sign-in must not travel in clear text";
});

/**
 * The ldap plugin's `server`: one or more URLs separated by blanks, tried in order
 * (jenkinsci/ldap-plugin 807.v7d7de30930cf LDAPConfiguration.getServerUrl). The plugin would put
 * ldap:// before a bare host; here the scheme must be written, so that clear text is a choice.
 */
export const checkLdapServer = limited(
    "ldap:// or ldaps:// URLs, separated by blanks",
    (value: string): string | undefined => {
        const urls = value.split(/\s+/).filter((u) => u !== "");
        const bad = urls.find((u) => !/^ldaps?:\/\/[^\s/:]+(:\d{1,5})?\/?$/.test(u));
        if (urls.length === 0 || bad !== undefined) {
            return `must be ldap:// or ldaps:// URLs (host and optional port), separated by blanks${bad ? `; "${bad}" is not one` : ""}`;
        }
        return undefined;
    },
);

/**
 * What Jenkins expands from a build's environment in a repository URL and branch (git 5.10.1
 * GitSCM.getParamExpandedRepos and getSingleBranch) and a script path (CpsScmFlowDefinition), through
 * core's EnvVars.expand (Util.replaceMacro: $NAME, ${NAME} and $$), so the text written would not be
 * the text used.
 */
export const EXPANDED = /\$(\{|\$|[A-Za-z0-9_])/;
const expandedProblem = (value: string) =>
    EXPANDED.test(value)
        ? `holds ${EXPANDED.exec(value)![0]}..., which Jenkins' git plugin replaces from the build's environment: write the text without $ before a name, { or $`
        : undefined;

/**
 * A Git repository URL a build may clone: https:// or ssh:// with a host, or the scp-like
 * user@host:path. http://, git:// (clear text, no authentication: whoever sits in between serves
 * the Jenkinsfile) and file:// (the controller's own disk) are refused, and so is a password in
 * the URL: it would be in the job's configuration and description, the JCasC ConfigMap and the
 * stack's state; a credential (credentialsId) carries it instead.
 */
export const checkGitUrl = limited("https://, ssh:// or user@host:path", (value: string) => {
    const scp = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)[^\s]+$/.test(value);
    let url: URL | undefined;
    try {
        url = new URL(value);
    } catch {
        url = undefined;
    }
    if (url !== undefined && url.password !== "") {
        return "holds a password (user:password@): it would be shown in the job and kept in the JCasC and the stack's state; put it in a credential and name it in credentialsId";
    }
    const ok = scp || (url !== undefined && ["https:", "ssh:"].includes(url.protocol) && url.hostname !== "");
    return ok && !/\s/.test(value)
        ? expandedProblem(value)
        : "must be a Git URL Jenkins clones over an authenticated, encrypted connection: https:// or ssh:// with a host, or user@host:path";
});

/**
 * A branch name as `git check-ref-format --branch` takes it: no blanks, control characters,
 * ~ ^ : ? * [ \, no "..", "@{", leading "-" or "/", trailing "/" or ".lock".
 */
export const checkGitBranch = limited("a Git branch name", (value: string) =>
    value !== "" &&
    // eslint-disable-next-line no-control-regex -- control characters are what git refuses
    !/[\x00-\x20\x7f~^:?*[\\]|\.\.|@\{|^[-/]|\/$|\.lock$|\/\/|^@$|^refs\//.test(value)
        ? expandedProblem(value)
        : "must be a Git branch name (git check-ref-format), without refs/heads/: no blanks, ~ ^ : ? * [ \\, '..' or '@{'",
);

/**
 * A pipeline script's path in its repository (checkRelativePath) with nothing Jenkins would expand:
 * a single-branch job reads it through the build's environment too (workflow-cps 4350
 * CpsScmFlowDefinition.create: `build.getEnvironment(listener).expand(scriptPath)`).
 */
export const checkJenkinsfile = limited("a relative path in the repository", (value: string) => {
    const bad = checkRelativePath(value);
    return bad ?? expandedProblem(value);
});
