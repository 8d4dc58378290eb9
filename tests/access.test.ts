// Who may do what inside Jenkins, under the mock runtime: the sign-in and the permission matrix in
// the JCasC (held to schemas/jcasc.schema.json, with each new section's unknown, deprecated and
// mistyped keys refused), the plugins each feature brings, the Secrets mounted into the
// controller and checked at preview, what reloads in place and what restarts, and the warnings.
// (The team folders' Job DSL runs in the Job DSL tier; the cluster tier asks the API server.)
import Ajv from "ajv";
import { parse } from "yaml";
import { EMPTY_CLUSTER } from "../preflight/cluster";
import type { ClusterReader } from "../preflight/reader";
import { secretKeysOf, SecretKeys } from "../preflight/secrets";
import { ConfigError } from "../config/reader";
import { PERMISSIONS } from "../jcasc/security";
import schema from "../schemas/jcasc.schema.json";
import { evaluate } from "../tools/evaluate";
import { readStackConfig } from "../tools/stackConfig";
import { MINIMAL_PLUGINS, runDefaults, runDefaultsWarned, Stack, warningsOf, withLock } from "./harness";

const validateCasc = new Ajv({ allErrors: true, strict: true }).compile(schema);
const cascErrors = (doc: unknown) =>
    validateCasc(doc) ? [] : (validateCasc.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

const prod = readStackConfig("prod");
const OIDC = {
    type: "oidc",
    wellKnown: "https://sso.example.com/realms/eng/.well-known/openid-configuration",
    clientId: "jenkins",
    clientSecret: { secret: "jenkins-oidc", key: "client-secret" },
};
const LDAP = {
    type: "ldap",
    server: "ldaps://ldap1.example.com ldaps://ldap2.example.com:636",
    rootDN: "dc=example,dc=com",
    userSearchBase: "ou=people",
    groupSearchBase: "ou=groups",
    managerDN: "cn=jenkins,ou=services,dc=example,dc=com",
    managerPassword: { secret: "jenkins-ldap", key: "password" },
};
const cascOf = (s: Stack) => parse(s.casc) as Record<string, any>;

describe("sign-in and the permission matrix in the JCasC", () => {
    it("local: the generated admin administers, the automation user reads and builds, anonymous gets nothing", async () => {
        const doc = cascOf(await runDefaults());
        expect(cascErrors(doc)).toEqual([]);
        expect(doc.jenkins.securityRealm.local.users).toEqual([
            { id: "admin", name: "admin", password: "${controller/jenkins-admin-password}" },
            { id: "automation", name: "automation", password: "${controller/jenkins-automation-password}" },
        ]);
        const entries = doc.jenkins.authorizationStrategy.projectMatrix.entries;
        expect(entries).toEqual([
            { user: { name: "admin", permissions: ["Overall/Administer"] } },
            { user: { name: "automation", permissions: [...PERMISSIONS.automation].sort() } },
        ]);
        expect(JSON.stringify(entries)).not.toMatch(/anonymous|authenticated/);
    });

    it("no automation user when it is empty: no user, no password, no output", async () => {
        const s = await runDefaults({ automationUser: "" });
        expect(cascOf(s).jenkins.securityRealm.local.users.map((u: any) => u.id)).toEqual(["admin"]);
        expect(Object.keys(s.object("Secret", "jenkins-admin").stringData.value)).not.toContain("automation-password");
        expect(s.outputs.automationPassword).toBeUndefined();
    });

    it("oidc (discovery): the client secret and the escape hatch's password from the mounted Secret, PKCE, the claims", async () => {
        const realm = {
            ...OIDC,
            escapeHatch: { username: "break-glass", password: { secret: "jenkins-oidc", key: "hatch" } },
        };
        const doc = cascOf(
            await runDefaults(withLock({ securityRealm: realm, administrators: { groups: ["platform-admins"] } })),
        );
        expect(cascErrors(doc)).toEqual([]);
        expect(doc.jenkins.securityRealm).toEqual({
            oic: {
                clientId: "jenkins",
                clientSecret: "${credentials/jenkins-oidc/client-secret}",
                serverConfiguration: {
                    wellKnown: {
                        wellKnownOpenIDConfigurationUrl: OIDC.wellKnown,
                        scopesOverride: "openid profile email",
                    },
                },
                userIdStrategy: "caseInsensitive",
                groupIdStrategy: "caseSensitive",
                userNameField: "preferred_username",
                fullNameFieldName: "name",
                emailFieldName: "email",
                groupsFieldName: "groups",
                logoutFromOpenidProvider: true,
                allowTokenAccessWithoutOicSession: false,
                properties: [
                    "pkce",
                    {
                        escapeHatch: {
                            username: "break-glass",
                            secret: "${credentials/jenkins-oidc/hatch}",
                        },
                    },
                ],
            },
        });
        expect(doc.jenkins.authorizationStrategy.projectMatrix.entries).toEqual([
            { group: { name: "platform-admins", permissions: ["Overall/Administer"] } },
            { user: { name: "break-glass", permissions: ["Overall/Administer"] } },
        ]);
    });

    it("oidc (manual endpoints), with scopes, claims and token access set", async () => {
        const manual = {
            issuer: "https://login.example.com/tenant/v2.0",
            authorizationUrl: "https://login.example.com/tenant/oauth2/v2.0/authorize",
            tokenUrl: "https://login.example.com/tenant/oauth2/v2.0/token",
            jwksUrl: "https://login.example.com/tenant/discovery/v2.0/keys",
            endSessionUrl: "https://login.example.com/tenant/oauth2/v2.0/logout",
        };
        const doc = cascOf(
            await runDefaults(
                withLock({
                    securityRealm: {
                        ...OIDC,
                        wellKnown: undefined,
                        manual,
                        scopes: ["openid", "profile", "email", "groups"],
                        userNameClaim: "upn",
                        tokensWithoutSession: true,
                        pkce: false,
                    },
                    administrators: { users: ["ops@example.com"] },
                }),
            ),
        );
        expect(cascErrors(doc)).toEqual([]);
        expect(doc.jenkins.securityRealm.oic.serverConfiguration).toEqual({
            manual: {
                issuer: manual.issuer,
                authorizationServerUrl: manual.authorizationUrl,
                tokenServerUrl: manual.tokenUrl,
                tokenAuthMethod: "client_secret_basic",
                scopes: "openid profile email groups",
                jwksServerUrl: manual.jwksUrl,
                endSessionUrl: manual.endSessionUrl,
                useRefreshTokens: false,
            },
        });
        expect(doc.jenkins.securityRealm.oic).toMatchObject({
            userNameField: "upn",
            allowTokenAccessWithoutOicSession: true,
            properties: [],
        });
    });

    it("ldap: failover servers, the search bases, groups by their own names, the manager's password from the Secret", async () => {
        const doc = cascOf(
            await runDefaults(withLock({ securityRealm: LDAP, administrators: { groups: ["jenkins-admins"] } })),
        );
        expect(cascErrors(doc)).toEqual([]);
        expect(doc.jenkins.securityRealm).toEqual({
            ldap: {
                configurations: [
                    {
                        server: LDAP.server,
                        rootDN: "dc=example,dc=com",
                        inhibitInferRootDN: true,
                        userSearchBase: "ou=people",
                        userSearch: "uid={0}",
                        groupSearchBase: "ou=groups",
                        groupMembershipStrategy: { fromGroupSearch: { filter: "" } },
                        managerDN: LDAP.managerDN,
                        managerPasswordSecret: "${credentials/jenkins-ldap/password}",
                        displayNameAttributeName: "displayname",
                        mailAddressAttributeName: "mail",
                    },
                ],
                disableMailAddressResolver: false,
                disableRolePrefixing: true,
                userIdStrategy: "caseInsensitive",
                groupIdStrategy: "caseInsensitive",
            },
        });
    });

    it("every principal gets the union of its grants, once; team people can see Jenkins, their folder does the rest", async () => {
        const doc = cascOf(await runStack());
        const entries = Object.fromEntries(
            doc.jenkins.authorizationStrategy.projectMatrix.entries.map((e: any) => {
                const [kind, v] = Object.entries(e)[0] as [string, any];
                return [`${kind} ${v.name}`, v.permissions];
            }),
        );
        expect(entries).toEqual({
            "group engineering": [...PERMISSIONS.read].sort(),
            "group payments-dev": ["Overall/Read"],
            "group payments-leads": ["Overall/Read"],
            "group platform-admins": ["Overall/Administer"],
            "group web-dev": ["Overall/Read"],
            "user alice@example.com": ["Overall/Read"],
            "user jenkins-break-glass": ["Overall/Administer"],
        });
    });
});

/** The prod stack under the mock runtime, with a cluster reader (EMPTY_CLUSTER's, plus these). */
function runStack(overrides: Record<string, string> = {}, reader: Partial<ClusterReader> = {}): Promise<Stack> {
    return evaluate({ ...prod, ...overrides }, { stack: "prod", cluster: { ...EMPTY_CLUSTER, ...reader } }).then(
        (e) => new Stack(e),
    );
}

describe("each new JCasC section refuses an unknown key, a deprecated key and a wrong type", () => {
    const base = async () => cascOf(await runStack());
    const mutations: [string, (doc: any) => void][] = [
        ["oic: an unknown key", (d) => (d.jenkins.securityRealm.oic.clientID = "x")],
        ["oic: the removed escapeHatchEnabled", (d) => (d.jenkins.securityRealm.oic.escapeHatchEnabled = true)],
        [
            "oic: sendScopesInTokenRequest, accepted and ignored",
            (d) => (d.jenkins.securityRealm.oic.sendScopesInTokenRequest = true),
        ],
        ["oic: a boolean as a string", (d) => (d.jenkins.securityRealm.oic.logoutFromOpenidProvider = "yes")],
        ["oic: an unknown property", (d) => d.jenkins.securityRealm.oic.properties.push("nonce")],
        [
            "wellKnown: the 3.x key at the realm",
            (d) => (d.jenkins.securityRealm.oic.wellKnownOpenIDConfigurationUrl = "https://x"),
        ],
        [
            "ldap: the removed managerPassword",
            (d) =>
                (d.jenkins.securityRealm = {
                    ldap: { configurations: [{ server: "ldaps://x", managerPassword: "p" }] },
                }),
        ],
        [
            "ldap: configurations not a list",
            (d) => (d.jenkins.securityRealm = { ldap: { configurations: { server: "ldaps://x" } } }),
        ],
        [
            "projectMatrix: the deprecated permissions strings",
            (d) => (d.jenkins.authorizationStrategy.projectMatrix.permissions = ["GROUP:Overall/Read:authenticated"]),
        ],
        [
            "projectMatrix: an ambiguous userOrGroup entry",
            (d) =>
                d.jenkins.authorizationStrategy.projectMatrix.entries.push({
                    userOrGroup: { name: "x", permissions: [] },
                }),
        ],
        [
            "projectMatrix: a permission by its class name",
            (d) =>
                d.jenkins.authorizationStrategy.projectMatrix.entries.push({
                    group: { name: "x", permissions: ["Item/Read"] },
                }),
        ],
        [
            "projectMatrix: an entry without its permissions list",
            (d) => d.jenkins.authorizationStrategy.projectMatrix.entries.push({ group: { name: "x" } }),
        ],
        [
            "usernamePassword: an unknown key",
            (d) => (d.credentials.system.domainCredentials[0].credentials[2].usernamePassword.user = "x"),
        ],
        [
            "usernamePassword: a wrong type",
            (d) => (d.credentials.system.domainCredentials[0].credentials[2].usernamePassword.usernameSecret = "no"),
        ],
        [
            "file: the deprecated data key",
            (d) =>
                d.credentials.system.domainCredentials[0].credentials.push({
                    file: { scope: "GLOBAL", id: "f", fileName: "f", secretBytes: "", data: "x" },
                }),
        ],
        [
            "basicSSHUserPrivateKey: a deprecated key source",
            (d) =>
                d.credentials.system.domainCredentials[0].credentials.push({
                    basicSSHUserPrivateKey: {
                        scope: "GLOBAL",
                        id: "k",
                        username: "git",
                        privateKeySource: { fileOnMaster: { privateKeyFile: "/x" } },
                    },
                }),
        ],
        [
            "a credential scope that is not one",
            (d) => (d.credentials.system.domainCredentials[0].credentials[2].usernamePassword.scope = "global"),
        ],
        ["jobs: an unknown source", (d) => d.jobs.push({ seed: "x" })],
        ["jobs: providedEnv with a number", (d) => (d.jobs[0].providedEnv.X = 1)],
    ];
    it.each(mutations)("%s", async (_what, mutate) => {
        const doc = await base();
        expect(cascErrors(doc)).toEqual([]);
        mutate(doc);
        expect(cascErrors(doc)).not.toEqual([]);
    });
});

describe("plugins a feature needs join the list only when used, and are locked like the rest", () => {
    const list = async (values: Record<string, unknown>) => (await runDefaults(withLock(values))).lockedPlugins;
    const has = (plugins: string[], id: string) => plugins.some((p) => p.startsWith(`${id}:`));

    it("every stack: matrix-auth and job-dsl (cloudbees-folder with it); no sign-in plugin for local", async () => {
        const plugins = await list({});
        expect(["matrix-auth", "job-dsl", "cloudbees-folder"].every((id) => has(plugins, id))).toBe(true);
        expect(has(plugins, "oic-auth") || has(plugins, "ldap")).toBe(false);
    });

    it.each([
        ["oidc sign-in", { securityRealm: OIDC, administrators: { groups: ["a"] } }, "oic-auth"],
        ["ldap sign-in", { securityRealm: LDAP, administrators: { groups: ["a"] } }, "ldap"],
        [
            "a secret text credential",
            { credentials: [{ id: "t", type: "secretText", secret: "s" }] },
            "plain-credentials",
        ],
        [
            "an SSH key credential",
            { credentials: [{ id: "k", type: "sshPrivateKey", secret: "s", username: "git" }] },
            "ssh-credentials",
        ],
    ])("%s brings %s", async (_what, values, id) => {
        expect(has(await list(values), id)).toBe(true);
    });

    it("a version the stack's list names wins over the feature's", async () => {
        const s = await runDefaults(
            withLock({
                plugins: [...MINIMAL_PLUGINS, "matrix-auth:3.2.7"],
            }),
        );
        expect(s.lockedPlugins).toContain("matrix-auth:3.2.7");
    });
});

describe("the Secrets credentials and sign-in read", () => {
    const mounted = (s: Stack) =>
        s.controllerPod.volumes.filter((v: any) => v.secret && v.name.startsWith("credentials-"));

    it("exactly those are mounted, each whole and read-only, into the jenkins container alone", async () => {
        const s = await runStack();
        const volumes = mounted(s);
        expect(volumes.map((v: any) => v.secret.secretName).sort()).toEqual([
            "jenkins-github",
            "jenkins-oidc",
            "payments-ci",
            "web-deploy-key",
        ]);
        expect(volumes.every((v: any) => v.secret.items === undefined && v.secret.defaultMode === 0o440)).toBe(true);
        for (const c of [...s.controllerPod.containers, ...s.controllerPod.initContainers]) {
            const mounts = (c.volumeMounts ?? []).filter((m: any) => m.name.startsWith("credentials-"));
            if (c.name !== "jenkins") {
                expect([c.name, mounts]).toEqual([c.name, []]);
                continue;
            }
            expect(
                Object.fromEntries(
                    mounts.map((m: any) => [
                        volumes.find((v: any) => v.name === m.name).secret.secretName,
                        [m.mountPath, m.readOnly],
                    ]),
                ),
            ).toEqual({
                "jenkins-github": ["/run/secrets/jenkins-k8s/credentials/jenkins-github", true],
                "jenkins-oidc": ["/run/secrets/jenkins-k8s/credentials/jenkins-oidc", true],
                "payments-ci": ["/run/secrets/jenkins-k8s/credentials/payments-ci", true],
                "web-deploy-key": ["/run/secrets/jenkins-k8s/credentials/web-deploy-key", true],
            });
        }
    });

    const all: Record<string, Record<string, string>> = {
        "jenkins-github": { token: "ghp_x" },
        "jenkins-oidc": { "client-secret": "s3cret", "escape-hatch-password": "hatch" },
        "payments-ci": { "sonar-token": "squ_x" },
        "web-deploy-key": { "ssh-privatekey": "-----BEGIN OPENSSH PRIVATE KEY-----\n" },
    };
    /** A reader whose Secrets are these (values as the API returns them: base64). */
    const secrets = (present: Record<string, Record<string, string>>): Partial<ClusterReader> => ({
        secret: (_ns, name) =>
            Promise.resolve<SecretKeys | undefined>(
                present[name] &&
                    secretKeysOf(
                        Object.fromEntries(
                            Object.entries(present[name]).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
                        ),
                    ),
            ),
    });
    const problems = async (present: Record<string, Record<string, string>>) => {
        try {
            await runStack({}, secrets(present));
        } catch (err) {
            expect(err).toBeInstanceOf(ConfigError);
            return (err as ConfigError).problems;
        }
        return [];
    };

    it("a missing Secret is one line: every setting that names it, and the command that makes it with every key", async () => {
        const { "jenkins-oidc": _gone, ...rest } = all;
        expect(await problems(rest)).toEqual([
            'jenkins-k8s:securityRealm.clientSecret.secret = "jenkins-oidc" (and securityRealm.escapeHatch.password.secret): there is no Secret ci/jenkins-oidc; create it before the update: kubectl create secret generic jenkins-oidc -n ci --from-literal=client-secret=... --from-literal=escape-hatch-password=...',
        ]);
    });

    it("with all of them there, the preview passes and warns of nothing about them", async () => {
        const { warnings } = await warningsOf(() => runStack({}, secrets(all)));
        expect(warnings.filter((w) => /Secret/.test(w))).toEqual([]);
    });

    it("each missing Secret and key fails the preview at once, naming the setting, the Secret and the key", async () => {
        const { "jenkins-github": _gone, ...rest } = all;
        expect(
            await problems({
                ...rest,
                "jenkins-oidc": { "client-secret": "s3cret" },
                "web-deploy-key": { id_rsa: "x" },
            }),
        ).toEqual([
            'jenkins-k8s:credentials[0].secret = "jenkins-github": there is no Secret ci/jenkins-github; create it before the update: kubectl create secret generic jenkins-github -n ci --from-literal=token=...',
            'jenkins-k8s:securityRealm.escapeHatch.password.key = "escape-hatch-password": the Secret ci/jenkins-oidc has no key "escape-hatch-password" (its keys: client-secret)',
            'jenkins-k8s:teams[1].credentials[0].keys.privateKey = "ssh-privatekey": the Secret ci/web-deploy-key has no key "ssh-privatekey" (its keys: id_rsa)',
        ]);
    });

    it("a value JCasC would take for a variable is refused, without showing it", async () => {
        const found = await problems({ ...all, "jenkins-github": { token: "abc${HOME}def" } });
        expect(found).toEqual([
            'jenkins-k8s:credentials[0].keys.password = "token": the value of "token" in the Secret ci/jenkins-github contains "${", which JCasC would resolve as a variable and so change; choose a value without it',
        ]);
        expect(found.join("")).not.toContain("abc");
    });

    it("offline, or with reads off, one warning says they were not checked", async () => {
        const offline = await warningsOf(() => runStack());
        expect(offline.warnings.filter((w) => /Secrets .* were not checked/.test(w))).toEqual([
            "the Secrets the credentials and sign-in read (ci/jenkins-github, ci/jenkins-oidc, ci/payments-ci, ci/web-deploy-key) were not checked: no cluster was read (an offline render); a missing one leaves its credential empty",
        ]);
        const off = await warningsOf(() => runStack({ "jenkins-k8s:adoptKeptObjects": "false" }, secrets({})));
        expect(
            off.warnings.filter((w) => /Secrets .*were not checked|reads nothing/.test(w) && !/version/.test(w)),
        ).toEqual([expect.stringContaining("jenkins-k8s:adoptKeptObjects is false, so the preview reads nothing")]);
    });
});

describe("what reloads in place and what restarts the controller", () => {
    const deploymentOf = (s: Stack) => JSON.stringify(s.object("Deployment", "jenkins"));
    const withTeams = (teams: unknown[]) => ({ "jenkins-k8s:teams": JSON.stringify(teams) });
    const teams = JSON.parse(prod["jenkins-k8s:teams"]);

    it("a team's grant, a permission or a credential's key within its Secret changes only the JCasC", async () => {
        const before = await runStack();
        const changed = await runStack({
            ...withTeams([
                { ...teams[0], clouds: ["kubernetes-baseline"], members: { groups: ["payments-dev", "qa"] } },
                { ...teams[1], credentials: [{ ...teams[1].credentials[0], keys: { privateKey: "id_ed25519" } }] },
            ]),
            "jenkins-k8s:readers": JSON.stringify({ groups: ["engineering", "support"] }),
        });
        expect(deploymentOf(changed)).toBe(deploymentOf(before));
        expect(changed.casc).not.toBe(before.casc);
    });

    it("a credential from a Secret not mounted yet restarts, and the preview says why when the controller runs", async () => {
        const parts = (s: Stack) => s.object("Deployment", "jenkins").spec.template.metadata.annotations;
        const running = parts(await runStack());
        const live = {
            controller: () =>
                Promise.resolve({
                    hash: running["jenkins-k8s/restart-hash"],
                    parts: running["jenkins-k8s/restart-parts"],
                    generation: 3,
                }),
        };
        const same = await warningsOf(() => runStack({}, live));
        expect(same.warnings.filter((w) => /restarts/.test(w))).toEqual([]);
        const more = withTeams([
            ...teams,
            { name: "data", credentials: [{ id: "warehouse", type: "secretText", secret: "data-ci" }] },
        ]);
        const { warnings } = await warningsOf(() => runStack(more, live));
        expect(warnings.filter((w) => /restarts/.test(w))).toEqual([
            "this update restarts the Jenkins controller (the mounted Secrets changed): Jenkins is down until it has started again, and running builds are interrupted (pipelines resume)",
        ]);
    });

    it("a sign-in that needs a new plugin restarts, and says it is the plugin lock", async () => {
        const base = { securityRealm: OIDC, administrators: { groups: ["a"] } };
        const before = await runDefaults(withLock({}));
        const a = before.object("Deployment", "jenkins").spec.template.metadata.annotations;
        const { warnings } = await warningsOf(() =>
            evaluate(
                Object.fromEntries(
                    Object.entries(withLock(base)).map(([k, v]) => [
                        `jenkins-k8s:${k}`,
                        typeof v === "string" ? v : JSON.stringify(v),
                    ]),
                ),
                {
                    cluster: {
                        ...EMPTY_CLUSTER,
                        controller: () =>
                            Promise.resolve({
                                hash: a["jenkins-k8s/restart-hash"],
                                parts: a["jenkins-k8s/restart-parts"],
                                generation: 1,
                            }),
                    },
                },
            ),
        );
        expect(warnings.filter((w) => /restarts/.test(w))).toEqual([
            expect.stringContaining("(the plugin lock, the mounted Secrets changed)"),
        ]);
    });
});

describe("grants the preview warns about", () => {
    it("a usage-restricted cloud no team lists: nobody could build there", async () => {
        const { warnings } = await runDefaultsWarned({ deployNamespaces: ["staging"] });
        expect(warnings).toContain(
            "the cloud kubernetes-deploy is usage restricted and no team lists it (jenkins-k8s:teams[].clouds): no job can run on its tier",
        );
    });

    it("a grant of a cloud every job may use does nothing", async () => {
        const { warnings } = await runDefaultsWarned({ teams: [{ name: "web", clouds: ["kubernetes"] }] });
        expect(warnings).toContain(
            'team "web" lists the cloud kubernetes, which every job may use already: the grant has no effect',
        );
    });

    it("prod grants each of its usage-restricted clouds to a team", async () => {
        const { warnings } = await warningsOf(() => runStack());
        expect(warnings.filter((w) => /usage restricted/.test(w))).toEqual([]);
    });
});

describe("how JCasC reads the values", () => {
    it("no reference is nested: a value inside a variable name would be parsed (its ':-' taken for a default)", async () => {
        const text = (await runStack()).casc;
        const references = text.match(/(?<!\^)\$\{[^}\n]*\}?/g) ?? [];
        expect(references.length).toBeGreaterThan(5);
        for (const r of references) {
            expect([r, r.indexOf("${", 2)]).toEqual([r, -1]);
        }
        // Text below SECRETS (trimmed by DockerSecretSource), a key's bytes by absolute path.
        const kinds = references.map((r) =>
            r.startsWith("${readFile:/run/secrets/jenkins-k8s/credentials/")
                ? "a key's bytes"
                : /^\$\{(controller|credentials)\/[^:]+\}$/.test(r)
                  ? "text below SECRETS"
                  : r,
        );
        expect(new Set(kinds)).toEqual(new Set(["text below SECRETS", "a key's bytes"]));
    });
});
