// The Secrets the credentials and the sign-in read (jcasc/security.ts), checked against the cluster
// at preview: each must exist in the controller's namespace with every key the stack names, or
// Jenkins would start with an empty password where a credential should be. A value JCasC would
// take for a variable (`${`) is refused too. Only key names are kept from a read, never a value.
import type { Settings } from "../config/settings";
import { credentialsWithPaths } from "../config/accessChecks";
import { realmSecrets, SecretRef } from "../config/access";
import { formatPath } from "../config/reader";
import { credentialRefs } from "../jcasc/security";
import { configKey } from "../config/keys";
import { PROJECT } from "../config/metadata";

/** What a read of a Secret keeps: its keys, those whose value holds `${`, and those that are empty. */
export interface SecretKeys {
    keys: string[];
    interpolated: string[];
    /** Empty or only blanks: a password of nothing, which oic-auth's escape hatch would accept. */
    empty: string[];
}

export interface SecretReader {
    /** The Secret's keys; undefined when it does not exist; null when no cluster is read (offline). */
    secret(namespace: string, name: string): Promise<SecretKeys | undefined | null>;
}

/** The keys of a Secret's data, those whose (base64-decoded) value holds `${`, and the empty ones. */
export function secretKeysOf(data: Record<string, string> | undefined): SecretKeys {
    const entries = Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")] as const);
    const where = (test: (value: string) => boolean) =>
        entries
            .filter(([, value]) => test(value))
            .map(([k]) => k)
            .sort();
    return {
        keys: entries.map(([k]) => k).sort(),
        interpolated: where((value) => value.includes("${")),
        empty: where((value) => value.trim() === ""),
    };
}

/** Each Secret key the stack reads, with the config path that names it and how its value is used. */
function uses(s: Settings): { path: string; ref: SecretRef; asText: boolean }[] {
    const fromRealm = realmSecrets(s.access.realm).map(({ at, ref }) => ({
        path: `${formatPath("securityRealm", at.split("."))}.key`,
        ref,
        asText: true,
    }));
    const fromCredentials = credentialsWithPaths(s.access).flatMap(({ path, credential }) =>
        Object.entries(credentialRefs(credential)).map(([role, ref]) => ({
            path: formatPath(path[0], [...path.slice(1), "keys", role]),
            ref,
            // A file is read as bytes (base64), which JCasC never interpolates.
            asText: credential.type !== "file",
        })),
    );
    return [...fromRealm, ...fromCredentials];
}

/**
 * Problems with the Secrets the stack reads, and warnings: every missing Secret or key, naming the
 * setting; offline, or with reads off, one warning that they were not checked.
 */
export async function secretProblems(
    s: Settings,
    reader: SecretReader,
    reads: boolean,
): Promise<{ problems: string[]; warnings: string[] }> {
    const all = uses(s);
    const names = [...new Set(all.map((u) => u.ref.secret))].sort();
    if (names.length === 0) return { problems: [], warnings: [] };
    const unchecked = {
        problems: [],
        warnings: [
            `the Secrets the credentials and sign-in read (${names.map((n) => `${s.namespace}/${n}`).join(", ")}) were not checked: ` +
                (reads
                    ? "no cluster was read (an offline render)"
                    : `${configKey("adoptKeptObjects")} is false, so the preview reads nothing`) +
                "; a missing one leaves its credential empty",
        ],
    };
    if (!reads) return unchecked;
    const found = new Map<string, SecretKeys | undefined>();
    for (const name of names) {
        const read = await reader.secret(s.namespace, name);
        if (read === null) return unchecked;
        found.set(name, read);
    }
    const problems: string[] = [];
    for (const name of names.filter((n) => !found.get(n))) {
        // One line per missing Secret: the settings that name it, and every key it must hold.
        const named = all.filter((u) => u.ref.secret === name);
        const [first, ...others] = [...new Set(named.map((u) => u.path.replace(/\.keys\.\w+$|\.key$/, ".secret")))];
        const keys = [...new Set(named.map((u) => u.ref.key))];
        problems.push(
            `${first} = "${name}"${others.length > 0 ? ` (and ${others.map((o) => o.slice(`${PROJECT}:`.length)).join(", ")})` : ""}: ` +
                `there is no Secret ${s.namespace}/${name}; create it before the update: kubectl create secret generic ${name} -n ${s.namespace} ` +
                keys.map((k) => `--from-literal=${k}=...`).join(" "),
        );
    }
    for (const { path, ref, asText } of all) {
        const secret = found.get(ref.secret);
        const where = `${s.namespace}/${ref.secret}`;
        if (!secret) continue;
        if (!secret.keys.includes(ref.key)) {
            problems.push(
                `${path} = "${ref.key}": the Secret ${where} has no key "${ref.key}" (its keys: ${secret.keys.join(", ") || "none"})`,
            );
        } else if (secret.empty.includes(ref.key)) {
            problems.push(
                `${path} = "${ref.key}": the value of "${ref.key}" in the Secret ${where} is empty; a credential (or a password) of nothing would be accepted as one`,
            );
        } else if (asText && secret.interpolated.includes(ref.key)) {
            problems.push(
                `${path} = "${ref.key}": the value of "${ref.key}" in the Secret ${where} contains "\${", which JCasC would resolve as a variable and so change; choose a value without it`,
            );
        }
    }
    return { problems, warnings: [] };
}
