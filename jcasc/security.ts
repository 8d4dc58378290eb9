// The JCasC of who may do what inside Jenkins, as pure functions of the access settings
// (config/access.ts): where the controller's secrets are and how JCasC reads them, the security
// realm (local, oidc, ldap), the authorization matrix, and the credentials in the system store.
// The team folders' Job DSL script is jobs.ts. Every key is cited beside the code that writes it,
// with the plugin release it was read from; schemas/jcasc.schema.json holds the same keys.
// Long by design: three JCasC sections in the plugins' shapes.
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
export const text = (ref: SecretRef) => reference(`credentials/${ref.secret}/${ref.key}`);
/** A private key, exactly as stored (OpenSSH keys need their final newline): readFile. */
export const exact = (ref: SecretRef) => reference(`readFile:${secretPath(ref)}`);
/** A file's bytes, base64: what SecretBytes takes (credentials 1502 SecretBytes.fromString). */
export const bytes = (ref: SecretRef) => reference(`readFileBase64:${secretPath(ref)}`);

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

export type Json = string | number | boolean | null | Reference | Json[] | { [key: string]: Json };

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
