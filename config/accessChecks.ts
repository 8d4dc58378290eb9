// The rules across the access settings (config/access.ts) and the rest of the stack: names that
// collide, grants of clouds the stack does not have, credential ids used twice, a sign-in that
// cannot return the groups the grants name, and a matrix nobody could administer. Each problem
// names the key and the value; every one is found before any is reported.
import type { Credential, Principals, Team } from "./access";
import { checkItemName, checkUserId } from "./checks";
import { repositoryName } from "./jobs";
import { configKey, KEYS, KeyName, ValidValues } from "./keys";
import { formatPath, RefusedKey } from "./reader";
import type { Tier } from "./tiers";
import { DEFAULT_CLOUD } from "../policy/facts";
import { TIER_NAMES } from "./tiers";

const show = (value: unknown) => JSON.stringify(value);

/** User ids no user can have (jenkins 2.568.2 hudson.model.User: isIdOrFullnameAllowed). */
const RESERVED_USERS = ["anonymous", "system", "unknown"];

/**
 * What oic-auth 4.715 does to a groups claim that is a single string: it splits it on blanks,
 * commas and brackets (OicSecurityRealm.ensureString, `[\s\[\],]`), so a group with one of those
 * in its name can never be returned as a whole.
 */
const OIDC_GROUP_SPLIT = /[\s[\],]/;

/**
 * The access settings as the rules read them: the validated values, where reading a refused key
 * throws (crossChecks then skips the rule, since that key's own problem is listed already).
 */
export type AccessValues = Pick<
    ValidValues,
    | "securityRealm"
    | "administrators"
    | "readers"
    | "automationUser"
    | "adminUsername"
    | "teams"
    | "deletedTeams"
    | "credentials"
>;

/**
 * The access values with each refused key (its own check failed, and its problem is listed
 * already) left out and named in `refused`, so that each rule judges what it can and no more.
 */
export type AccessView = Partial<AccessValues> & { refused: Set<keyof AccessValues> };

export function accessView(v: AccessValues): AccessView {
    const view: AccessView = { refused: new Set() };
    for (const k of [
        "securityRealm",
        "administrators",
        "readers",
        "automationUser",
        "adminUsername",
        "teams",
        "deletedTeams",
        "credentials",
    ] as const) {
        try {
            (view as Record<string, unknown>)[k] = v[k];
        } catch (err) {
            if (!(err instanceof RefusedKey)) throw err;
            view.refused.add(k);
        }
    }
    return view;
}

/** Every place a user or group is named: its config path and the principals there. */
function principalLists(a: AccessView): { path: Path; principals: Principals }[] {
    return [
        ...(a.administrators ? [{ path: pathOf("administrators"), principals: a.administrators }] : []),
        ...(a.readers ? [{ path: pathOf("readers"), principals: a.readers }] : []),
        ...(a.teams ?? []).flatMap((t, i) => [
            { path: pathOf("teams", i, "members"), principals: t.members },
            { path: pathOf("teams", i, "maintainers"), principals: t.maintainers },
        ]),
    ];
}

/** A config path: the key, then the fields and indexes below it. */
type Path = [KeyName, ...(string | number)[]];
const pathOf = (...path: Path): Path => path;
const at = ([key, ...path]: Path) => formatPath(key, path);

/** Problems of the sign-in and of the names the grants give. */
export function principalProblems(a: AccessView): string[] {
    const problems: string[] = [];
    // A refused sign-in is judged by nothing that depends on it.
    const realm = a.refused.has("securityRealm") ? undefined : (a.securityRealm ?? { type: "local" as const });
    for (const { path, principals } of principalLists(a)) {
        principals.users.forEach((user, i) => {
            const where = `${at([...path, "users", i])} = ${show(user)}`;
            if (RESERVED_USERS.includes(user.toLowerCase())) {
                problems.push(`${where}: is a name Jenkins reserves; no one can sign in as it`);
            } else if (realm?.type === "local" && checkUserId(user) !== undefined) {
                problems.push(`${where}: ${checkUserId(user)} (local sign-in)`);
            }
        });
        principals.groups.forEach((group, i) => {
            const where = `${at([...path, "groups", i])} = ${show(group)}`;
            if (group.toLowerCase() === "anonymous") {
                // Jenkins' anonymous visitor carries the authority "anonymous" (core ACL, Jenkins.ANONYMOUS2).
                problems.push(`${where}: is what Jenkins calls visitors who are not signed in; grant nothing to them`);
            } else if (realm?.type === "local" && group !== "authenticated") {
                problems.push(
                    `${where}: local sign-in has no groups (only "authenticated", every signed-in user); name users, or sign in with oidc or ldap`,
                );
            } else if (realm?.type === "oidc" && OIDC_GROUP_SPLIT.test(group)) {
                problems.push(
                    `${where}: the oidc sign-in splits a groups claim given as one string at blanks, commas and brackets, so this group can never be returned whole; rename it at the provider`,
                );
            }
        });
    }
    if (!realm) return problems;
    if (realm.type !== "local") {
        const admins = a.administrators ?? { users: [], groups: [] };
        if (!a.refused.has("administrators") && admins.users.length === 0 && admins.groups.length === 0) {
            problems.push(
                `${configKey("administrators")} = ${show(a.administrators ?? {})}: with ${realm.type} sign-in at least one user or group must administer Jenkins; with none, no one could (a lock-out)`,
            );
        }
        if (!a.refused.has("automationUser") && a.automationUser !== KEYS.automationUser.default) {
            problems.push(
                `${configKey("automationUser")} = ${show(a.automationUser)}: only applies with local sign-in; with ${realm.type}, make a service account at the provider (docs/access.md)`,
            );
        }
    } else if (
        a.automationUser !== undefined &&
        a.adminUsername !== undefined &&
        a.automationUser !== "" &&
        a.automationUser.toLowerCase() === a.adminUsername.toLowerCase()
    ) {
        problems.push(
            `${configKey("automationUser")} = ${show(a.automationUser)}: is also ${configKey("adminUsername")}; the automation user must be a user of its own (user ids are case-insensitive)`,
        );
    }
    if (realm.type === "oidc" && realm.wellKnown !== undefined && realm.manual !== undefined) {
        problems.push(
            `${configKey("securityRealm")}.manual = ${show(realm.manual)}: set wellKnown (the provider's discovery document) or manual (its endpoints), not both; wellKnown is ${show(realm.wellKnown)}`,
        );
    } else if (realm.type === "oidc" && realm.wellKnown === undefined && realm.manual === undefined) {
        problems.push(
            `${configKey("securityRealm")}.wellKnown: is required (the provider's …/.well-known/openid-configuration URL), unless manual gives its endpoints`,
        );
    }
    if (realm.type === "ldap" && (realm.managerDN === undefined) !== (realm.managerPassword === undefined)) {
        problems.push(
            realm.managerDN !== undefined
                ? `${configKey("securityRealm")}.managerPassword: is required with managerDN (${show(realm.managerDN)}), the account the searches bind as`
                : `${configKey("securityRealm")}.managerDN: is required with managerPassword: the account the searches bind as`,
        );
    }
    return problems;
}

/** Every credential of the stack with its config path. */
export function credentialsWithPaths(a: {
    credentials?: Credential[];
    teams?: Team[];
}): { path: Path; credential: Credential; team?: string }[] {
    return [
        ...(a.credentials ?? []).map((credential, i) => ({ path: pathOf("credentials", i), credential })),
        ...(a.teams ?? []).flatMap((t, i) =>
            t.credentials.map((credential, j) => ({
                path: pathOf("teams", i, "credentials", j),
                credential,
                team: t.name,
            })),
        ),
    ];
}

/** `tiers` is unset when the templates or the tier settings were refused. */
export function credentialProblems(a: AccessView, tiers: Tier[] | undefined): string[] {
    const problems: string[] = [];
    const seen = new Map<string, string>();
    const launchers = new Set((tiers ?? []).flatMap((t) => (t.launcher ? [t.launcher.credentialsId] : [])));
    for (const { path, credential: c } of credentialsWithPaths(a)) {
        const where = `${at([...path, "id"])} = ${show(c.id)}`;
        const other = seen.get(c.id.toLowerCase());
        if (other) {
            problems.push(`${where}: is also the id of ${other}; a credential id must be used once in the stack`);
        }
        seen.set(c.id.toLowerCase(), at(path));
        if (launchers.has(c.id)) {
            problems.push(`${where}: is the id of a cloud's launcher credential, which the stack writes itself`);
        }
        if ((c.type === "usernamePassword" || c.type === "sshPrivateKey") && c.username && c.keys.username) {
            problems.push(
                `${at([...path, "username"])} = ${show(c.username)}: set the user name or keys.username (${show(c.keys.username)}, read from the Secret), not both`,
            );
        }
    }
    return problems;
}

/** The cloud each tier name stands for, and why a tier the stack lacks is off. */
const TIER_OFF: Record<string, string> = {
    baseline: "no pod template has podSecurity: baseline",
    privileged: `${configKey("allowPrivilegedAgents")} is false`,
    deploy: `${configKey("deployNamespaces")} is empty`,
};

export function teamProblems(a: AccessView, tiers: Tier[] | undefined): string[] {
    const problems: string[] = [];
    const teams = a.teams ?? [];
    const names = new Map<string, number>();
    const clouds = new Map((tiers ?? []).map((t) => [t.cloud, t]));
    teams.forEach((t, i) => {
        const other = names.get(t.name.toLowerCase());
        if (other !== undefined) {
            problems.push(
                `${formatPath("teams", [i, "name"])} = ${show(t.name)}: is also the name of teams[${other}] (${show(teams[other].name)}); folder names must differ, in case too`,
            );
        }
        names.set(t.name.toLowerCase(), i);
        t.clouds.forEach((cloud, j) => {
            if (!tiers) return;
            const where = `${formatPath("teams", [i, "clouds", j])} = ${show(cloud)}`;
            if (clouds.has(cloud)) return;
            const tier = TIER_NAMES.find((n) => n !== "build" && (cloud === `${DEFAULT_CLOUD}-${n}` || cloud === n));
            if (tier && cloud === tier && clouds.has(`${DEFAULT_CLOUD}-${tier}`)) {
                problems.push(`${where}: name the cloud, ${show(`${DEFAULT_CLOUD}-${tier}`)}`);
            } else if (tier) {
                problems.push(`${where}: the ${tier} tier's cloud is not enabled in this stack (${TIER_OFF[tier]})`);
            } else {
                problems.push(
                    `${where}: is not a cloud of this Jenkins (its clouds: ${[...clouds.keys()].join(", ")})`,
                );
            }
        });
    });
    problems.push(...repositoryProblems(a));
    (a.deletedTeams ?? []).forEach((name) => {
        if (names.has(name.toLowerCase())) {
            problems.push(
                `${configKey("deletedTeams")} = ${show(a.deletedTeams)}: ${show(name)} is also in ${configKey("teams")}; a team's folder is either kept or deleted`,
            );
        }
    });
    return problems;
}

/**
 * Each team's repositories: a job name Jenkins takes, once per folder, and a credential the job can
 * use: a global one, or one of its own team's (a system credential is for Jenkins alone, another
 * team's is seen by that team's jobs alone).
 */
function repositoryProblems(a: AccessView): string[] {
    const problems: string[] = [];
    const global = new Map(
        (a.credentials ?? []).map((c, i) => [c.id, { scope: c.scope ?? "global", type: c.type, at: i }]),
    );
    const teams = a.teams ?? [];
    teams.forEach((team, i) => {
        const names = new Map<string, number>();
        team.repositories.forEach((r, j) => {
            const at = (field: string) => formatPath("teams", [i, "repositories", j, field]);
            const name = repositoryName(r);
            const bad = r.name === undefined ? checkItemName(name) : undefined;
            if (bad) {
                problems.push(
                    `${at("url")} = ${show(r.url)}: makes the job name ${show(name)}, which ${bad.replace(/^must be/, "is not")}; set name`,
                );
            }
            const other = names.get(name.toLowerCase());
            if (other !== undefined) {
                problems.push(
                    `${at(r.name === undefined ? "url" : "name")} = ${show(r.name ?? r.url)}: makes the job ${team.name}/${name}, as teams[${i}].repositories[${other}] does; give one a name`,
                );
            }
            names.set(name.toLowerCase(), j);
            const id = r.credentialsId;
            if (id === undefined) return;
            const where = `${at("credentialsId")} = ${show(id)}`;
            const own = team.credentials.find((c) => c.id === id);
            const elsewhere = teams.findIndex((t, k) => k !== i && t.credentials.some((c) => c.id === id));
            const g = global.get(id);
            const usable = own ?? (g?.scope === "global" ? g : undefined);
            if (usable) {
                const kind = gitCredentialProblem(usable.type, r.url);
                if (kind) problems.push(`${where}: ${kind}`);
                return;
            }
            if (g) {
                problems.push(
                    `${where}: credentials[${g.at}] is scope system, for Jenkins itself: no job can use it; make it scope global, or a credential of team ${show(team.name)}`,
                );
            } else if (elsewhere >= 0) {
                problems.push(
                    `${where}: is a credential of team ${show(teams[elsewhere].name)} (teams[${elsewhere}].credentials), which only that team's jobs can use`,
                );
            } else {
                problems.push(`${where}: no credential has this id (in credentials, or teams[${i}].credentials)`);
            }
        });
    });
    return problems;
}

/**
 * Whether git can use a credential of this type for this URL. The git plugin looks a checkout's
 * credential up as StandardUsernameCredentials only (git 5.10.1 AbstractGitSCMSource.getCredentials,
 * GitSCMFileSystem; git-client's CREDENTIALS_MATCHER): a secret text or file is not found, and the
 * scan and checkout run anonymously. A username and password authenticates over https, an SSH key
 * over ssh.
 */
function gitCredentialProblem(type: string, url: string): string | undefined {
    const ssh = !/^https:/i.test(url);
    if (type === "usernamePassword") {
        return ssh
            ? "is a username and password, which git uses over https only; this URL is ssh: use an sshPrivateKey credential, or the https URL"
            : undefined;
    }
    if (type === "sshPrivateKey") {
        return ssh
            ? undefined
            : "is an SSH key, which git uses over ssh only; this URL is https: use a usernamePassword credential (a token as the password), or the ssh URL";
    }
    return `is a ${type} credential, which git does not use (it looks up usernames with a password or an SSH key): the checkout would run anonymously; use a usernamePassword (https) or sshPrivateKey (ssh) credential`;
}

/** What is allowed but deserves a line in the preview: grants that do nothing, clouds no one can use. */
export function accessWarnings(teams: Team[], tiers: Tier[]): string[] {
    const warnings: string[] = [];
    for (const tier of tiers) {
        const granted = teams.filter((t) => t.clouds.includes(tier.cloud));
        if (tier.usageRestricted && granted.length === 0) {
            warnings.push(
                `the cloud ${tier.cloud} is usage restricted and no team lists it (${configKey("teams")}[].clouds): no job can run on its ${tier.templates.length > 0 ? `templates (${tier.templates.map((t) => t.name).join(", ")})` : "tier"}`,
            );
        }
        if (!tier.usageRestricted) {
            for (const team of granted) {
                warnings.push(
                    `team ${show(team.name)} lists the cloud ${tier.cloud}, which every job may use already: the grant has no effect`,
                );
            }
        }
    }
    return warnings;
}
