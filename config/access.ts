// Who may do what inside Jenkins, from the stack: sign-in (`securityRealm`), the global grants
// (`administrators`, `readers`, the automation user), `teams` (a folder each, with its own
// permissions, cloud grants and credentials) and `credentials` read from Kubernetes Secrets. The
// schemas and the checks between them are here; the JCasC they become is jcasc/security.ts.
// Long by design: one schema per setting, and the rules a preview applies across them.
import { z } from "zod";
import * as v from "./checks";
import { bool, checked, oneOf } from "./checks";
import { repositorySchema } from "./jobs";

/** A key of a Secret in the controller's namespace: what a credential or the sign-in reads. */
const secretRef = z.strictObject({ secret: checked(v.checkDnsSubdomain), key: checked(v.checkSecretKey) });
export type SecretRef = z.output<typeof secretRef>;

const principal = checked(v.checkPrincipal);
const principals = z.strictObject({
    users: z.array(principal, { error: () => "must be a list of user names" }).default([]),
    groups: z.array(principal, { error: () => "must be a list of group names" }).default([]),
});
export type Principals = z.output<typeof principals>;

// Credentials: each reads named keys of one Secret; the Kubernetes defaults of each Secret type
// are the default keys (kubernetes.io/basic-auth: username and password; kubernetes.io/ssh-auth:
// ssh-privatekey).
const key = checked(v.checkSecretKey);
const credentialBase = {
    id: checked(v.checkCredentialId),
    /** The Secret, in the controller's namespace. */
    secret: checked(v.checkDnsSubdomain),
    description: z.string().default(""),
};
/** A user name written in the stack, or read from the Secret (`keys.username`), not both. */
const username = z
    .string()
    .min(1, { error: () => "must not be empty" })
    .optional();

export const CREDENTIAL_TYPES = ["usernamePassword", "secretText", "sshPrivateKey", "file"] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

/** The credential types, each with `extra` fields (the scope, where a credential has one). */
function credentialSchema<E extends z.core.$ZodLooseShape>(extra: E) {
    return z.discriminatedUnion(
        "type",
        [
            z.strictObject({
                ...credentialBase,
                ...extra,
                type: z.literal("usernamePassword"),
                username,
                keys: z
                    .strictObject({ username: key.optional(), password: key.default("password") })
                    .default({ password: "password" }),
            }),
            z.strictObject({
                ...credentialBase,
                ...extra,
                type: z.literal("secretText"),
                keys: z.strictObject({ text: key.default("text") }).default({ text: "text" }),
            }),
            z.strictObject({
                ...credentialBase,
                ...extra,
                type: z.literal("sshPrivateKey"),
                username,
                keys: z
                    .strictObject({
                        username: key.optional(),
                        privateKey: key.default("ssh-privatekey"),
                        passphrase: key.optional(),
                    })
                    .default({ privateKey: "ssh-privatekey" }),
            }),
            z.strictObject({
                ...credentialBase,
                ...extra,
                type: z.literal("file"),
                /** The file name jobs see (`withCredentials([file(...)])`); default: the key's name. */
                fileName: checked(v.checkSecretKey).optional(),
                keys: z.strictObject({ file: key }),
            }),
        ],
        { error: () => `must have a type: ${CREDENTIAL_TYPES.join(", ")}` },
    );
}
const teamCredential = credentialSchema({});
const globalCredential = credentialSchema({
    /** global: every job may use it; system: only Jenkins itself (clouds, agents), never a job. */
    scope: oneOf(["global", "system"] as const).default("global"),
});
/** A credential as the JCasC is written from it; team credentials have no scope of their own. */
export type Credential = z.output<typeof teamCredential> & { scope?: "global" | "system" };

export const credentialsSchema = z.array(globalCredential, { error: () => "must be a list of credentials" });

const teamSchema = z.strictObject({
    /** The folder's name (its URL); also what `deletedTeams` and the cloud grants refer to. */
    name: checked(v.checkItemName),
    displayName: z.string().optional(),
    description: z.string().default(""),
    /** May see and build the folder's jobs. */
    members: principals.default({ users: [], groups: [] }),
    /** May also replay pipelines, delete and keep builds, tag; never configure or create items (jcasc/security.ts PERMISSIONS). */
    maintainers: principals.default({ users: [], groups: [] }),
    /** Usage-restricted clouds the folder's jobs may launch agents in (kubernetes-deploy, ...). */
    clouds: z.array(z.string(), { error: () => "must be a list of cloud names" }).default([]),
    /** Credentials only the folder's jobs can use. */
    credentials: z.array(teamCredential, { error: () => "must be a list of credentials" }).default([]),
    /** Repositories, each a pipeline job (or a multibranch project) in the folder (config/jobs.ts). */
    repositories: z.array(repositorySchema, { error: () => "must be a list of repositories" }).default([]),
});
export const teamsSchema = z.array(teamSchema, { error: () => "must be a list of teams" });
export type Team = z.output<typeof teamSchema>;

export const principalsSchema = principals;

const https = checked(v.checkHttpsUrl);
const oidcRealm = z.strictObject({
    type: z.literal("oidc"),
    clientId: z.string().min(1, { error: () => "must not be empty" }),
    clientSecret: secretRef,
    /** The provider's discovery document (…/.well-known/openid-configuration); or `manual`. */
    wellKnown: https.optional(),
    manual: z
        .strictObject({
            issuer: https,
            authorizationUrl: https,
            tokenUrl: https,
            /** Required: without the provider's keys no ID token can be verified (oic-auth signs in no one). */
            jwksUrl: https,
            userInfoUrl: https.optional(),
            endSessionUrl: https.optional(),
            tokenAuthMethod: oneOf(["client_secret_basic", "client_secret_post"] as const).default(
                "client_secret_basic",
            ),
            refreshTokens: bool.default(false),
        })
        .optional(),
    scopes: z
        .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: () => "must be one scope token" }))
        .min(1)
        .default(["openid", "profile", "email"]),
    /** Claims (JMESPath expressions, as the plugin reads them). */
    userNameClaim: z.string().min(1).default("preferred_username"),
    fullNameClaim: z.string().min(1).default("name"),
    emailClaim: z.string().min(1).default("email"),
    groupsClaim: z.string().min(1).default("groups"),
    /** A local administrator that signs in when the provider is down; its password from a Secret. */
    escapeHatch: z.strictObject({ username: checked(v.checkUserId), password: secretRef }).optional(),
    /** PKCE (S256) on the authorization code flow. */
    pkce: bool.default(true),
    /** API tokens keep working when the user's provider session has expired (machine identities). */
    tokensWithoutSession: bool.default(false),
});
const ldapRealm = z.strictObject({
    type: z.literal("ldap"),
    server: checked(v.checkLdapServer),
    rootDN: z.string().min(1, { error: () => "must be set (without it the plugin asks the server at every load)" }),
    userSearchBase: z.string().default(""),
    userSearch: z.string().min(1).default("uid={0}"),
    groupSearchBase: z.string().default(""),
    groupSearchFilter: z.string().min(1).optional(),
    groupMembership: z
        .discriminatedUnion(
            "type",
            [
                z.strictObject({ type: z.literal("groupSearch"), filter: z.string().default("") }),
                z.strictObject({ type: z.literal("userAttribute"), attribute: z.string().min(1).default("memberOf") }),
            ],
            { error: () => "must have a type: groupSearch or userAttribute" },
        )
        .default({ type: "groupSearch", filter: "" }),
    managerDN: z.string().min(1).optional(),
    managerPassword: secretRef.optional(),
    displayNameAttribute: z.string().min(1).default("displayname"),
    mailAttribute: z.string().min(1).default("mail"),
});
export const securityRealmSchema = z.discriminatedUnion(
    "type",
    [z.strictObject({ type: z.literal("local") }), oidcRealm, ldapRealm],
    { error: () => "must have a type: local, oidc or ldap" },
);
export type SecurityRealm = z.output<typeof securityRealmSchema>;
export type OidcRealm = Extract<SecurityRealm, { type: "oidc" }>;
export type LdapRealm = Extract<SecurityRealm, { type: "ldap" }>;

/** Every Secret key the sign-in reads, with where it is set (for messages). */
export function realmSecrets(realm: SecurityRealm): { at: string; ref: SecretRef }[] {
    switch (realm.type) {
        case "oidc":
            return [
                { at: "clientSecret", ref: realm.clientSecret },
                ...(realm.escapeHatch ? [{ at: "escapeHatch.password", ref: realm.escapeHatch.password }] : []),
            ];
        case "ldap":
            return realm.managerPassword ? [{ at: "managerPassword", ref: realm.managerPassword }] : [];
        case "local":
            return [];
    }
}

/** Who may do what inside Jenkins, as the components get it. */
export interface Access {
    realm: SecurityRealm;
    /** Besides the local administrator (`adminUsername`) and the escape hatch, which always are. */
    administrators: Principals;
    readers: Principals;
    /** The generated build-only user (local sign-in only). */
    automationUser?: string;
    teams: Team[];
    /** Former teams whose folders are deleted, jobs and history with them. */
    deletedTeams: string[];
    /** Global and system credentials; each team's own are in `teams`. */
    credentials: Credential[];
}

/**
 * Plugins a feature needs, joined to the stack's list when the feature is used (a version the list
 * names wins). matrix-auth and job-dsl are always used: the permissions, and the team folders'
 * bookkeeping (a removed team's folder is retired even when no team is left).
 */
export const FEATURE_PLUGINS = {
    "matrix-auth": "matrix-auth:3.2.8",
    "job-dsl": "job-dsl:3654.vdf58f53e2d15",
    "oic-auth": "oic-auth:4.715.vf202e4229f61",
    ldap: "ldap:807.v7d7de30930cf",
    "plain-credentials": "plain-credentials:199.v9f8e1f741799",
    "ssh-credentials": "ssh-credentials:361.vb_f6760818e8c",
    // A repository's job: pipelines (workflow-aggregator brings workflow-multibranch and
    // workflow-cps) from Git (not a dependency of either).
    "workflow-aggregator": "workflow-aggregator:608.v67378e9d3db_1",
    git: "git:5.10.1",
} as const;

/** The plugins (`artifactId:version`) this access needs. */
export function accessPlugins(access: Access): string[] {
    const all = [...access.credentials, ...access.teams.flatMap((t) => t.credentials)];
    const needed: (keyof typeof FEATURE_PLUGINS)[] = [
        "matrix-auth",
        "job-dsl",
        ...(access.realm.type === "oidc" ? (["oic-auth"] as const) : []),
        ...(access.realm.type === "ldap" ? (["ldap"] as const) : []),
        ...(all.some((c) => c.type === "secretText" || c.type === "file") ? (["plain-credentials"] as const) : []),
        ...(all.some((c) => c.type === "sshPrivateKey") ? (["ssh-credentials"] as const) : []),
        ...(access.teams.some((t) => t.repositories.length > 0) ? (["workflow-aggregator", "git"] as const) : []),
    ];
    return needed.map((p) => FEATURE_PLUGINS[p]);
}
