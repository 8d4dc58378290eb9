// The JCasC of who may do what inside Jenkins, as pure functions of the access settings
// (config/access.ts): the security realm (local, oidc, ldap), the authorization matrix, the
// credentials in the system store, and the Job DSL script (the `jobs:` root) that makes each team's
// folder with its permissions, cloud grants and credentials. Every key and Job DSL method is cited
// beside the code that writes it, with the plugin release it was read from; schemas/jcasc.schema.json
// holds the same keys for the tests.
// Long by design: four JCasC sections and one generated script, in the plugins' shapes.
import type { Access, Credential, LdapRealm, OidcRealm, Principals, SecretRef, Team } from "../config/access";
import { realmSecrets } from "../config/access";
import type { Tier } from "../config/tiers";

/**
 * JCasC's SECRETS directory in the controller: `${a/b}` is the file SECRETS/a/b, its content
 * trimmed (configuration-as-code 2115 DockerSecretSource). Below it, `controller/` holds the
 * controller's own secrets (one projected volume) and `credentials/<Secret>/` each Secret the stack
 * names, as a folder of its keys. A folder of its own: mount points in it, not in another volume.
 */
export const SECRETS_DIR = "/run/secrets/jenkins-k8s";
export const CONTROLLER_SECRETS_DIR = `${SECRETS_DIR}/controller`;
export const CREDENTIALS_DIR = `${SECRETS_DIR}/credentials`;

/**
 * A `${...}` reference JCasC must resolve, kept apart from text: the document builder escapes every
 * `${` in plain strings (JCasC would interpolate it) and writes a Reference as it is.
 */
export class Reference {
    constructor(readonly expression: string) {}
}
const reference = (expression: string) => new Reference(`\${${expression}}`);

/** A file of the controller's own secrets (SECRET_FILES), as JCasC reads it. */
export const controllerSecret = (file: string) => reference(`controller/${file}`);

/** The file a Secret's key is mounted as. */
export function secretPath(ref: SecretRef): string {
    return `${CREDENTIALS_DIR}/${ref.secret}/${ref.key}`;
}

// How a value is read (configuration-as-code 2115). Never nested (`${trim:${readFile:...}}`): a
// value inside a variable name would be parsed, and its `:-` taken for a default's separator.
/** A password, token or user name: DockerSecretSource, blanks around it trimmed (a newline `kubectl create secret --from-file` keeps). */
const text = (ref: SecretRef) => reference(`credentials/${ref.secret}/${ref.key}`);
/** A private key, exactly as stored (OpenSSH keys need their final newline): readFile. */
const exact = (ref: SecretRef) => reference(`readFile:${secretPath(ref)}`);
/** A file's bytes, base64: what SecretBytes takes (credentials 1502 SecretBytes.fromString). */
const bytes = (ref: SecretRef) => reference(`readFileBase64:${secretPath(ref)}`);

/** Every Secret the controller mounts for credentials and sign-in, by name, each with the keys read from it. */
export function mountedSecrets(access: Access): Map<string, string[]> {
    const refs = [
        ...realmSecrets(access.realm).map((r) => r.ref),
        ...[...access.credentials, ...access.teams.flatMap((t) => t.credentials)].flatMap((c) =>
            Object.values(credentialRefs(c)),
        ),
    ];
    const secrets = new Map<string, string[]>();
    for (const ref of [...refs].sort((a, b) => a.secret.localeCompare(b.secret) || a.key.localeCompare(b.key))) {
        const keys = secrets.get(ref.secret) ?? [];
        if (!keys.includes(ref.key)) keys.push(ref.key);
        secrets.set(ref.secret, keys);
    }
    return secrets;
}

/**
 * The Secret keys a credential reads, by the role each plays; a user name the stack does not write
 * comes from the key `username` unless `keys.username` names another.
 */
export function credentialRefs(c: Credential): Record<string, SecretRef> {
    const keys: Record<string, string | undefined> = { ...c.keys };
    if ((c.type === "usernamePassword" || c.type === "sshPrivateKey") && c.username === undefined) {
        keys.username ??= "username";
    }
    return Object.fromEntries(
        Object.entries(keys).flatMap(([role, key]) => (key !== undefined ? [[role, { secret: c.secret, key }]] : [])),
    );
}

// --- Sign-in ----------------------------------------------------------------------------------

type Json = string | number | boolean | null | Reference | Json[] | { [key: string]: Json };

/**
 * oic-auth 4.715.vf202e4229f61 (src/main/java/org/jenkinsci/plugins/oic/): OicSecurityRealm, no
 * @Symbol, so JCasC names it `oic` (the class name less SecurityRealm). Constructor: clientId,
 * clientSecret (Secret), serverConfiguration, userIdStrategy, groupIdStrategy; setters
 * userNameField, fullNameFieldName, emailFieldName, groupsFieldName, logoutFromOpenidProvider,
 * allowTokenAccessWithoutOicSession, properties. Not written: disableSslVerification (false by
 * default), sendScopesInTokenRequest (accepted and ignored), escapeHatchSecret (migration only).
 */
function oidc(realm: OidcRealm): Json {
    const scopes = realm.scopes.join(" ");
    const m = realm.manual;
    return {
        oic: {
            clientId: realm.clientId,
            clientSecret: text(realm.clientSecret),
            serverConfiguration: m
                ? {
                      // OicServerManualConfiguration, @Symbol("manual"): constructor issuer,
                      // tokenServerUrl, authorizationServerUrl; setters tokenAuthMethod, scopes,
                      // jwksServerUrl, userInfoServerUrl, endSessionUrl, useRefreshTokens.
                      manual: {
                          issuer: m.issuer,
                          authorizationServerUrl: m.authorizationUrl,
                          tokenServerUrl: m.tokenUrl,
                          tokenAuthMethod: m.tokenAuthMethod,
                          scopes,
                          ...(m.jwksUrl ? { jwksServerUrl: m.jwksUrl } : {}),
                          ...(m.userInfoUrl ? { userInfoServerUrl: m.userInfoUrl } : {}),
                          ...(m.endSessionUrl ? { endSessionUrl: m.endSessionUrl } : {}),
                          useRefreshTokens: m.refreshTokens,
                      },
                  }
                : {
                      // OicServerWellKnownConfiguration, @Symbol("wellKnown"): constructor
                      // wellKnownOpenIDConfigurationUrl, setter scopesOverride.
                      wellKnown: { wellKnownOpenIDConfigurationUrl: realm.wellKnown!, scopesOverride: scopes },
                  },
            // jenkins.model.IdStrategy symbols (core): user names as the provider's are matched
            // without case, groups exactly, as providers return them.
            userIdStrategy: "caseInsensitive",
            groupIdStrategy: "caseSensitive",
            userNameField: realm.userNameClaim,
            fullNameFieldName: realm.fullNameClaim,
            emailFieldName: realm.emailClaim,
            groupsFieldName: realm.groupsClaim,
            logoutFromOpenidProvider: true,
            allowTokenAccessWithoutOicSession: realm.tokensWithoutSession,
            // OidcProperty describables, named by JCasC from their class names: Pkce (`pkce`),
            // EscapeHatch(username, group, secret) (`escapeHatch`; the secret is bcrypt-hashed).
            properties: [
                ...(realm.pkce ? ["pkce"] : []),
                ...(realm.escapeHatch
                    ? [
                          {
                              escapeHatch: {
                                  username: realm.escapeHatch.username,
                                  secret: text(realm.escapeHatch.password),
                              },
                          },
                      ]
                    : []),
            ],
        },
    };
}

/**
 * ldap 807.v7d7de30930cf: LDAPSecurityRealm (`ldap`), constructor configurations,
 * disableMailAddressResolver, cache, userIdStrategy, groupIdStrategy; setter disableRolePrefixing.
 * LDAPConfiguration (jenkins/security/plugins/ldap/): constructor server, rootDN,
 * inhibitInferRootDN, managerDN, managerPasswordSecret (Secret); setters userSearchBase,
 * userSearch, groupSearchBase, groupSearchFilter, groupMembershipStrategy,
 * displayNameAttributeName, mailAddressAttributeName. `managerPassword` is no key at this release.
 */
function ldap(realm: LdapRealm): Json {
    const membership: Json =
        realm.groupMembership.type === "groupSearch"
            ? // FromGroupSearchLDAPGroupMembershipStrategy(filter)
              { fromGroupSearch: { filter: realm.groupMembership.filter } }
            : // FromUserRecordLDAPGroupMembershipStrategy(attributeName)
              { fromUserRecord: { attributeName: realm.groupMembership.attribute } };
    return {
        ldap: {
            configurations: [
                {
                    server: realm.server,
                    rootDN: realm.rootDN,
                    // rootDN is always set: no query of the server at every load to infer it.
                    inhibitInferRootDN: true,
                    userSearchBase: realm.userSearchBase,
                    userSearch: realm.userSearch,
                    groupSearchBase: realm.groupSearchBase,
                    ...(realm.groupSearchFilter ? { groupSearchFilter: realm.groupSearchFilter } : {}),
                    groupMembershipStrategy: membership,
                    ...(realm.managerDN ? { managerDN: realm.managerDN } : {}),
                    ...(realm.managerPassword ? { managerPasswordSecret: text(realm.managerPassword) } : {}),
                    displayNameAttributeName: realm.displayNameAttribute,
                    mailAddressAttributeName: realm.mailAttribute,
                },
            ],
            disableMailAddressResolver: false,
            // Groups by their own names only: without it every group Foo also comes as ROLE_FOO.
            disableRolePrefixing: true,
            userIdStrategy: "caseInsensitive",
            groupIdStrategy: "caseInsensitive",
        },
    };
}

/** Who signs in, and how: `jenkins.securityRealm`. */
export function securityRealm(
    access: Access,
    local: { adminUsername: string; adminPassword: Reference; automationPassword?: Reference },
): Json {
    switch (access.realm.type) {
        case "oidc":
            return oidc(access.realm);
        case "ldap":
            return ldap(access.realm);
        case "local":
            // HudsonPrivateSecurityRealm (`local`), users through HudsonPrivateSecurityRealmConfigurator
            // (configuration-as-code 2115): id, name, password.
            return {
                local: {
                    allowsSignup: false,
                    users: [
                        { id: local.adminUsername, name: local.adminUsername, password: local.adminPassword },
                        ...(access.automationUser && local.automationPassword
                            ? [
                                  {
                                      id: access.automationUser,
                                      name: access.automationUser,
                                      password: local.automationPassword,
                                  },
                              ]
                            : []),
                    ],
                },
            };
    }
}

// --- Permissions ------------------------------------------------------------------------------

// Permission ids as matrix-auth 3.2.8 parses them (AuthorizationContainer.parsePermission,
// PermissionFinder): "<group title>/<name>", the titles from core's Messages.properties (Overall,
// Job for hudson.model.Item, Run, View, SCM) and the credentials plugin's (Credentials). Run/Replay
// is workflow-cps's, Job/Move cloudbees-folder's. None is disabled by default in core 2.568.2
// (unlike Overall/SystemRead, Job/ExtendedRead, Job/WipeOut, Run/Artifacts), so each takes effect.
export const PERMISSIONS = {
    administer: ["Overall/Administer"],
    /** Read everything, change nothing. */
    read: ["Overall/Read", "Job/Read", "View/Read"],
    /** The automation user: what a webhook relay or another stack's trigger needs. */
    automation: ["Overall/Read", "Job/Read", "Job/Build"],
    /** A team's members and maintainers need to see Jenkins at all; the rest is their folder's. */
    teamBase: ["Overall/Read"],
    /** In the team's folder: see and build its jobs, stop them, read their workspaces. */
    member: ["Job/Read", "Job/Build", "Job/Cancel", "Job/Workspace", "View/Read"],
    /**
     * In the team's folder: also replay pipelines, delete and keep builds, tag, see the folder's
     * credentials (not their values). Never Job/Configure, Create, Delete or Move, on the folder or
     * below it: an item's configuration can be sent as XML (config.xml, createItem), which the
     * kubernetes plugin's folder property does not check (only its web form refuses a
     * non-administrator, KubernetesFolderProperty.reconfigure), so whoever may configure or create a
     * folder could grant it any usage-restricted cloud. A team's jobs come from the stack, or from an
     * administrator.
     */
    maintainer: [
        "Job/Read",
        "Job/Build",
        "Job/Cancel",
        "Job/Workspace",
        "Run/Delete",
        "Run/Update",
        "Run/Replay",
        "SCM/Tag",
        "View/Read",
        "Credentials/View",
    ],
} as const;

type Entry = { kind: "user" | "group"; name: string; permissions: string[] };

/** Entries per user and group, each with the union of what it is granted, in a stable order. */
function entries(grants: { principals: Principals; permissions: readonly string[] }[]): Entry[] {
    const byName = new Map<string, Entry>();
    for (const { principals, permissions } of grants) {
        for (const [kind, names] of [
            ["user", principals.users],
            ["group", principals.groups],
        ] as const) {
            for (const name of names) {
                const id = `${kind}:${name}`;
                const entry = byName.get(id) ?? { kind, name, permissions: [] };
                entry.permissions = [...new Set([...entry.permissions, ...permissions])];
                byName.set(id, entry);
            }
        }
    }
    return [...byName.values()]
        .sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))
        .map((e) => ({ ...e, permissions: [...e.permissions].sort() }));
}

const users = (...names: (string | undefined)[]): Principals => ({
    users: names.filter((n): n is string => n !== undefined),
    groups: [],
});

/** The global grants: administrators, readers, the automation user, and every team's people. */
export function globalEntries(access: Access, adminUsername: string): Entry[] {
    const realm = access.realm;
    return entries([
        { principals: access.administrators, permissions: PERMISSIONS.administer },
        {
            principals: users(
                realm.type === "local" ? adminUsername : undefined,
                realm.type === "oidc" ? realm.escapeHatch?.username : undefined,
            ),
            permissions: PERMISSIONS.administer,
        },
        { principals: access.readers, permissions: PERMISSIONS.read },
        { principals: users(access.automationUser), permissions: PERMISSIONS.automation },
        ...access.teams.flatMap((t) => [
            { principals: t.members, permissions: PERMISSIONS.teamBase },
            { principals: t.maintainers, permissions: PERMISSIONS.teamBase },
        ]),
    ]);
}

/** A team folder's own grants. */
export function folderEntries(team: Team): Entry[] {
    return entries([
        { principals: team.members, permissions: PERMISSIONS.member },
        { principals: team.maintainers, permissions: PERMISSIONS.maintainer },
    ]);
}

/**
 * `jenkins.authorizationStrategy`: matrix-auth 3.2.8's `projectMatrix`
 * (integrations/casc/ProjectMatrixAuthorizationStrategyConfigurator), the only strategy under which
 * a folder's own matrix counts, with `entries:` of `user`/`group` {name, permissions}
 * (DefinitionEntry; the string list `permissions:` is the deprecated form). Anonymous gets nothing.
 */
export function authorizationStrategy(access: Access, adminUsername: string): Json {
    return {
        projectMatrix: {
            entries: globalEntries(access, adminUsername).map((e) => ({
                [e.kind]: { name: e.name, permissions: e.permissions },
            })),
        },
    };
}

// --- Credentials ------------------------------------------------------------------------------

/** What a username comes from: the stack, or a key of the Secret. */
function usernameOf(c: Extract<Credential, { type: "usernamePassword" | "sshPrivateKey" }>): Json {
    return c.username ?? text(credentialRefs(c).username);
}

/**
 * A global or system credential in the JCasC `credentials:` root (credentials 1502
 * CredentialsRootConfigurator, SystemCredentialsProviderConfigurator): the keys of each type's
 * @DataBoundConstructor, named by JCasC from the class (DescribableAttribute.getSymbols):
 * usernamePassword (UsernamePasswordCredentialsImpl: scope, id, description, username, password;
 * setter usernameSecret), string (plain-credentials 199 StringCredentialsImpl: scope, id,
 * description, secret), basicSSHUserPrivateKey (ssh-credentials 361: scope, id, username,
 * privateKeySource {directEntry {privateKey}}, passphrase, description), file (FileCredentialsImpl:
 * scope, id, description, fileName, secretBytes in base64; never its `file` upload parameter).
 */
export function credentialCasc(c: Credential, scope: "GLOBAL" | "SYSTEM"): Json {
    const base = { scope, id: c.id, description: c.description };
    switch (c.type) {
        case "usernamePassword":
            return {
                usernamePassword: {
                    ...base,
                    username: usernameOf(c),
                    password: text({ secret: c.secret, key: c.keys.password }),
                    usernameSecret: c.username === undefined,
                },
            };
        case "secretText":
            return { string: { ...base, secret: text({ secret: c.secret, key: c.keys.text }) } };
        case "sshPrivateKey":
            return {
                basicSSHUserPrivateKey: {
                    ...base,
                    username: usernameOf(c),
                    usernameSecret: c.username === undefined,
                    privateKeySource: {
                        directEntry: { privateKey: exact({ secret: c.secret, key: c.keys.privateKey }) },
                    },
                    ...(c.keys.passphrase ? { passphrase: text({ secret: c.secret, key: c.keys.passphrase }) } : {}),
                },
            };
        case "file":
            return {
                file: {
                    ...base,
                    fileName: c.fileName ?? c.keys.file,
                    secretBytes: bytes({ secret: c.secret, key: c.keys.file }),
                },
            };
    }
}

/**
 * `credentials.system.domainCredentials`: the launchers' tokens (System scope: the clouds use them,
 * jobs cannot read them) and the stack's global and system credentials; undefined when there are
 * none. Once written, the stack owns the system store: JCasC replaces it whole at every load
 * (SystemCredentialsProvider.setDomainCredentialsMap; JCasC 2115 has no merge setting), so a
 * credential made in the UI there lasts until the next reload. A stack with none leaves the store
 * alone, as before it had any.
 */
export function systemCredentials(access: Access, tiers: Tier[]): Json | undefined {
    const credentials: Json[] = [
        ...tiers.flatMap((tier) =>
            tier.launcher
                ? [
                      {
                          string: {
                              scope: "SYSTEM",
                              id: tier.launcher.credentialsId,
                              description: `ServiceAccount token the ${tier.cloud} cloud launches agents with (jenkins-k8s)`,
                              secret: controllerSecret(tier.launcher.tokenFile),
                          },
                      },
                  ]
                : [],
        ),
        ...access.credentials.map((c) => credentialCasc(c, c.scope === "system" ? "SYSTEM" : "GLOBAL")),
    ];
    return credentials.length > 0 ? { system: { domainCredentials: [{ credentials }] } } : undefined;
}

// --- Team folders (the Job DSL script) --------------------------------------------------------

/** Where the script records the team folders it made, under JENKINS_HOME (so a removed team is known). */
export const TEAMS_STATE = "jenkins-k8s/teams.json";

/** Groovy's escapes of the characters a string literal cannot hold as they are. */
const GROOVY_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" };

/**
 * A Groovy string literal (single quotes: no GString interpolation) of any text. Not \uXXXX for
 * a line break: Groovy, like Java, turns those into the character before it reads the literal.
 */
export function groovyString(value: string): string {
    const escaped = value.replace(/[\\'\n\r\t\b\f]/g, (ch) => GROOVY_ESCAPES[ch] ?? `\\${ch}`);
    return `'${escaped}'`;
}

const list = (values: readonly string[]) => `[${values.map(groovyString).join(", ")}]`;

/** The `providedEnv:` variable a team credential's value reaches the script through. */
const variable = (team: number, credential: number, role: string) =>
    `JENKINS_K8S_TEAM_${team}_CREDENTIAL_${credential}_${role.toUpperCase()}`;

/**
 * What the generated folder descriptions say (under the stack's own), each with MARK: a folder
 * whose configuration holds it was made by the script, should its record be lost.
 */
export const MARK = "jenkins-k8s team folder";
export const MANAGED_NOTE = `A ${MARK}, configured by Pulumi: its permissions, clouds and credentials come from the stack's teams; changes made here are replaced at the next reload.`;
export const RETIRED_NOTE = `A former ${MARK} (no longer in the stack's teams): its jobs and build records are kept; only administrators and readers can see it. List it in deletedTeams to delete it.`;

/**
 * A team credential in Job DSL's dynamic DSL (job-dsl 3654 DescribableContext: every constructor
 * parameter must be given; a Secret or SecretBytes parameter takes an instance, never a String).
 * Names as job-dsl finds them (@Symbol, else the class name): usernamePassword,
 * stringCredentialsImpl, basicSSHUserPrivateKey with directEntryPrivateKeySource,
 * fileCredentialsImpl (its `file` upload parameter null).
 */
function credentialDsl(c: Credential, value: (role: string) => string): string {
    const base = `scope('GLOBAL'); id(${groovyString(c.id)}); description(${groovyString(c.description)})`;
    const user = (x: Extract<Credential, { type: "usernamePassword" | "sshPrivateKey" }>) =>
        x.username !== undefined ? groovyString(x.username) : value("username");
    switch (c.type) {
        case "usernamePassword":
            return `usernamePassword { ${base}; username(${user(c)}); password(${value("password")}); usernameSecret(${c.username === undefined}) }`;
        case "secretText":
            return `stringCredentialsImpl { ${base}; secret(secretOf(${value("text")})) }`;
        case "sshPrivateKey":
            return (
                `basicSSHUserPrivateKey { ${base}; username(${user(c)}); usernameSecret(${c.username === undefined}); ` +
                `passphrase(${c.keys.passphrase ? value("passphrase") : "null"}); ` +
                `privateKeySource { directEntryPrivateKeySource { privateKey(secretOf(${value("privateKey")})) } } }`
            );
        case "file":
            return `fileCredentialsImpl { ${base}; file(null); fileName(${groovyString(c.fileName ?? c.keys.file)}); secretBytes(secretBytesOf(${value("file")})) }`;
    }
}

/** The values the team credentials read, as `providedEnv` (JCasC resolves them; the script never holds a secret in its text). */
export function teamCredentialEnv(access: Access): Record<string, Reference> {
    const env: Record<string, Reference> = {};
    access.teams.forEach((team, i) =>
        team.credentials.forEach((c, j) => {
            const refs = credentialRefs(c);
            for (const [role, ref] of Object.entries(refs)) {
                env[variable(i, j, role)] =
                    c.type === "sshPrivateKey" && role === "privateKey"
                        ? exact(ref)
                        : c.type === "file"
                          ? bytes(ref)
                          : text(ref);
            }
        }),
    );
    return env;
}

/** One team's folder: its description, permissions, cloud grants and credentials, when the name is the stack's to use. */
function teamFolder(team: Team, i: number): string[] {
    const value = (j: number) => (role: string) => `provided(${groovyString(variable(i, j, role))})`;
    const description = [team.description, MANAGED_NOTE].filter((d) => d !== "").join("\n\n");
    const grants = folderEntries(team).map(
        (e) => `                    ${e.kind} { name(${groovyString(e.name)}); permissions(${list(e.permissions)}) }`,
    );
    return [
        `if (claim(${groovyString(team.name)})) {`,
        `    folder(${groovyString(team.name)}) {`,
        ...(team.displayName ? [`        displayName(${groovyString(team.displayName)})`] : []),
        `        description(${groovyString(description)})`,
        `        properties {`,
        // matrix-auth 3.2.8 AuthorizationMatrixProperty (folder), @Symbol("authorizationMatrix"):
        // constructor entries (DslUser/DslGroup: name, permissions), setter inheritanceStrategy
        // (InheritGlobalStrategy, @Symbol("inheritingGlobal")).
        `            authorizationMatrix {`,
        `                inheritanceStrategy { inheritingGlobal() }`,
        `                entries {`,
        ...grants,
        `                }`,
        `            }`,
        // kubernetes 4540 KubernetesFolderProperty, @Symbol("kubernetes"): setter permittedClouds
        // (cloud names); only folders that list a usage-restricted cloud, and their subfolders, use it.
        ...(team.clouds.length > 0 ? [`            kubernetes { permittedClouds(${list(team.clouds)}) }`] : []),
        ...folderCredentials(team.credentials.map((c, j) => credentialDsl(c, value(j)))).map((l) => `    ${l}`),
        `        }`,
        `    }`,
        `}`,
    ];
}

/**
 * cloudbees-folder 6.1100 FolderCredentialsProvider.FolderCredentialsProperty(DomainCredentials[])
 * (job-dsl names it folderCredentialsProperty), one global domain: DomainCredentials(domain,
 * credentials) with Domain(name, description) both null. Always written, empty too: Job DSL adds
 * the folder's previous credentials after the ones declared (JenkinsJobManagement.mergeCredentials),
 * and the first is the one Jenkins reads, so a credential taken out of the stack is gone.
 */
function folderCredentials(credentials: string[]): string[] {
    return [
        `        folderCredentialsProperty {`,
        `            domainCredentials {`,
        `                domainCredentials {`,
        `                    domain { name(null); description(null) }`,
        `                    credentials {`,
        ...credentials.map((c) => `                        ${c}`),
        `                    }`,
        `                }`,
        `            }`,
        `        }`,
    ];
}

/**
 * The Job DSL script of the team folders, run by JCasC on every load (job-dsl 3654
 * SeedJobConfigurator, without script security, as SYSTEM). Job DSL replaces a folder's
 * configuration and keeps its jobs. The script keeps a record of the folders it made in
 * JENKINS_HOME (TEAMS_STATE, written whole or not at all): a team removed from the stack keeps its
 * folder, jobs and build records, with every grant and credential taken away; `deletedTeams`
 * deletes it. It touches no item it did not make: a team whose name another item holds is left
 * out, with a line in Jenkins' log. At a start JCasC runs before items are loaded (core
 * Jenkins.loadTasks), so items are read from disk then, and a deletion waits for the reload the
 * sidecar makes once Jenkins answers (casc-reload.sh).
 */
export function teamsScript(access: Access): string {
    const lines = [
        "// Team folders, generated by jenkins-k8s from the stack's teams and deletedTeams: edit the stack, not this.",
        "import hudson.init.InitMilestone",
        "import java.nio.file.Files",
        "import java.nio.file.StandardCopyOption",
        "import jenkins.model.Jenkins",
        "",
        "def instance = Jenkins.get()",
        "def provided = { String variable -> binding.hasVariable(variable) ? (binding.getVariable(variable) as String) : '' }",
        "def secretOf = { String value -> hudson.util.Secret.fromString(value) }",
        "def secretBytesOf = { String base64 ->",
        "    instance.pluginManager.uberClassLoader.loadClass('com.cloudbees.plugins.credentials.SecretBytes').fromString(base64)",
        "}",
        "def FOLDER = 'com.cloudbees.hudson.plugins.folder.Folder'",
        `def MARK = ${groovyString(MARK)}`,
        "",
        `def teams = ${list(access.teams.map((t) => t.name))}`,
        `def deleted = ${list(access.deletedTeams)}`,
        "// Items load after JCasC at a start: until then an item is only on disk.",
        "def loaded = instance.initLevel >= InitMilestone.JOB_LOADED",
        "def configOf = { String item -> new File(instance.rootDir, 'jobs/' + item + '/config.xml') }",
        "def marked = { String item -> configOf(item).with { it.exists() && it.getText('UTF-8').contains(MARK) } }",
        "// The class of a top-level item: loaded, or its config.xml's root element; null when there is none.",
        "def kindOf = { String item ->",
        "    def found = instance.getItem(item)",
        "    if (found != null) return found.getClass().name",
        "    if (!configOf(item).exists()) return null",
        String.raw`    def root = configOf(item).getText('UTF-8').take(2000) =~ /^(?:\s*<\?xml[^>]*\?>)?\s*<([\w.-]+)/`,
        "    root.find() ? root.group(1) : ''",
        "}",
        `def record = new File(instance.rootDir, ${groovyString(TEAMS_STATE)})`,
        "def known = []",
        "if (record.exists()) {",
        "    try {",
        "        known = (new groovy.json.JsonSlurper().parse(record).teams ?: []) as List",
        "    } catch (Exception e) {",
        "        def dirs = new File(instance.rootDir, 'jobs').listFiles() ?: []",
        "        known = dirs.findAll { marked(it.name) }*.name",
        "        println('jenkins-k8s: ' + record + ' cannot be read (' + e.message + '); the folders marked as team folders stand for it: ' + known)",
        "    }",
        "}",
        "def remember = []",
        "// A former team's folder: kept with every grant taken away, or deleted when deletedTeams names it.",
        // Not `name`: a local of that name would take the DSL's name(...) calls below.
        "known.findAll { !(it in teams) }.each { String former ->",
        "    if (kindOf(former) != FOLDER) return // gone, or another item took the name: not ours any more",
        "    if (deleted.any { it.equalsIgnoreCase(former) }) {",
        "        def item = instance.getItem(former)",
        "        if (item != null) {",
        "            item.delete()",
        "        } else if (loaded) {",
        "            configOf(former).parentFile.deleteDir() // on disk, not in memory: nothing of it runs",
        "        } else {",
        "            remember << former // at a start: deleted at the reload once items are loaded",
        "            return",
        "        }",
        "        println('jenkins-k8s: deleted the folder of the former team ' + former + ' with its jobs and build records (deletedTeams)')",
        "        return",
        "    }",
        "    remember << former",
        "    folder(former) {",
        `        description(${groovyString(RETIRED_NOTE)})`,
        "        properties {",
        ...folderCredentials([]).map((l) => `    ${l}`),
        "        }",
        "    }",
        "}",
        "// A team's folder: one this script made (or marked as such), or a new one; never another item.",
        "def claim = { String team ->",
        "    def kind = kindOf(team)",
        "    if (kind == null || (kind == FOLDER && (team in known || marked(team)))) {",
        "        remember << team",
        "        return true",
        "    }",
        "    println('jenkins-k8s: an item named ' + team + ' (' + kind + ') exists that the stack did not make; team ' + team + ' is left out: rename the team or move the item')",
        "    false",
        "}",
        ...access.teams.flatMap((t, i) => ["", ...teamFolder(t, i)]),
        "",
        "record.parentFile.mkdirs()",
        "def next = new File(record.path + '.next')",
        "next.setText(groovy.json.JsonOutput.toJson([teams: remember]), 'UTF-8')",
        "Files.move(next.toPath(), record.toPath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)",
    ];
    return lines.join("\n") + "\n";
}

/** The `jobs:` root: the team credentials' values, then the script. */
export function jobs(access: Access): Json[] {
    const env = teamCredentialEnv(access);
    return [...(Object.keys(env).length > 0 ? [{ providedEnv: env }] : []), { script: teamsScript(access) }];
}
