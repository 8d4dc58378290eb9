// Jobs as code under the mock runtime: extra JCasC documents merged as JCasC merges several files
// (and refused where they touch what the program writes), the jobs' plugins, and what reloads in
// place. The generated Job DSL itself runs in the Job DSL tier (tests/jobdsl/).
import { parse } from "yaml";
import { ConfigError } from "../config/reader";
import { mergeExtra } from "../jcasc/extra";
import { readStackConfig } from "../tools/stackConfig";
import { evaluate } from "../tools/evaluate";
import { MINIMAL_PLUGINS, runDefaults, Stack, warningsOf, withLock } from "./harness";

const problemsOf = async (values: Record<string, unknown>): Promise<string[]> => {
    try {
        await runDefaults(values);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    throw new Error(`${JSON.stringify(values)} was accepted`);
};

const LIBRARY = {
    unclassified: {
        globalLibraries: {
            libraries: [
                {
                    name: "acme",
                    defaultVersion: "v3",
                    retriever: { modernSCM: { scm: { git: { remote: "https://github.com/acme/lib.git" } } } },
                },
            ],
        },
    },
};

describe("extra JCasC documents", () => {
    it("are merged into the program's document: mappings key by key, lists one after the other, YAML text too", async () => {
        const second =
            "unclassified:\n  globalLibraries:\n    libraries:\n      - name: other\n        retriever:\n          modernSCM:\n            scm:\n              git:\n                remote: https://github.com/acme/other.git\n";
        const doc = parse((await runDefaults({ extraCasc: [LIBRARY, second] })).casc);
        expect(doc.unclassified.location.url).toBe("http://jenkins.jenkins.svc:8080/");
        expect(doc.unclassified.globalLibraries.libraries.map((l: any) => l.name)).toEqual(["acme", "other"]);
        expect(doc.jenkins.clouds).toHaveLength(2);
    });

    it("may not set what the program writes, nor a setting twice (even to the same value), nor ${...}; each named at once", async () => {
        expect(
            await problemsOf({
                extraCasc: [
                    { jenkins: { securityRealm: { local: { allowsSignup: true } } }, jobs: [{ script: "job('x')" }] },
                    { unclassified: { location: { url: "http://jenkins.jenkins.svc:8080/" } } },
                    { credentials: { system: { domainCredentials: [] } } },
                    { unclassified: { mailer: { smtpHost: "smtp.example.com", smtpPassword: "${SMTP}" } } },
                    { jenkins: { numExecutors: 2 } },
                ],
            }),
        ).toEqual([
            "jenkins-k8s:extraCasc[0].jenkins.securityRealm: is written by the program, from jenkins-k8s:securityRealm; set it there",
            "jenkins-k8s:extraCasc[0].jobs: is written by the program, from jenkins-k8s:teams[].repositories and testJob; set it there",
            "jenkins-k8s:extraCasc[1].unclassified.location.url: is set already: JCasC refuses a setting made twice, even to the same value (errorOnConflict), and Jenkins would not start",
            "jenkins-k8s:extraCasc[2].credentials: is written by the program, from jenkins-k8s:credentials and teams[].credentials; set it there",
            "jenkins-k8s:extraCasc[3].unclassified.mailer.smtpPassword: holds ${...}, which JCasC would resolve (and, with nothing to resolve it from, stop the load); write ^${ for the characters themselves",
            "jenkins-k8s:extraCasc[4].jenkins.numExecutors: is set already: JCasC refuses a setting made twice, even to the same value (errorOnConflict), and Jenkins would not start",
        ]);
    });

    it("are held to the schema where it describes them; elsewhere the preview says they are not checked", async () => {
        const typo = structuredClone(LIBRARY) as any;
        typo.unclassified.globalLibraries.libraries[0].retriever.modernSCM.scm.git.remotee = "x";
        typo.unclassified.globalLibraries.libraries[0].implicit = "yes";
        expect((await problemsOf({ extraCasc: [typo] })).sort()).toEqual([
            'jenkins-k8s:extraCasc[0].unclassified.globalLibraries.libraries[0].implicit = "yes": must be boolean',
            'jenkins-k8s:extraCasc[0].unclassified.globalLibraries.libraries[0].retriever.modernSCM.scm.git.remotee = "x": is not a key JCasC takes here',
        ]);
        const { warnings } = await warningsOf(() =>
            runDefaults({
                extraCasc: [{ unclassified: { mailer: { smtpHost: "smtp.example.com" } }, tool: { git: {} } }],
            }),
        );
        expect(warnings.filter((w) => /^jenkins-k8s:extraCasc.*not checked/.test(w))).toEqual([
            "jenkins-k8s:extraCasc[0].tool: not checked: schemas/jcasc.schema.json does not describe this section, so a key JCasC refuses there shows only when Jenkins loads it",
            "jenkins-k8s:extraCasc[0].unclassified.mailer: not checked: schemas/jcasc.schema.json does not describe this section, so a key JCasC refuses there shows only when Jenkins loads it",
        ]);
    });

    it("keys are one in any case, as JCasC reads them: an owned section or a setting made twice in another case is refused", async () => {
        expect(
            await problemsOf({
                extraCasc: [
                    { Jobs: [{ script: "job('x')" }] },
                    { jenkins: { NumExecutors: 2 } },
                    { unclassified: { Location: { adminAddress: "ci@example.com" } } },
                    // The stack writes no system credentials: JCasC would still replace the store.
                    { Credentials: { system: { domainCredentials: [] } } },
                    { items: [{ name: "agent-test" }] },
                ],
            }),
        ).toEqual([
            "jenkins-k8s:extraCasc[0].Jobs: is written by the program, from jenkins-k8s:teams[].repositories and testJob; set it there",
            'jenkins-k8s:extraCasc[1].jenkins.NumExecutors: is "numExecutors" in another case, which is set already: JCasC reads keys in any case, so it would be set twice and Jenkins would not start; write "numExecutors"',
            'jenkins-k8s:extraCasc[2].unclassified.Location: is "location" in another case, which is set already: JCasC reads keys in any case, so it would be set twice and Jenkins would not start; write "location"',
            "jenkins-k8s:extraCasc[3].Credentials: is written by the program, from jenkins-k8s:credentials and teams[].credentials; set it there",
            "jenkins-k8s:extraCasc[4].items: is written by the program, from jenkins-k8s:teams[].repositories and testJob; set it there",
        ]);
    });

    it("a schema error in a later document's list item is named at that document's own path", async () => {
        const other = structuredClone(LIBRARY) as any;
        other.unclassified.globalLibraries.libraries[0].name = "other";
        other.unclassified.globalLibraries.libraries[0].bogusKey = "x";
        expect(await problemsOf({ extraCasc: [LIBRARY, other] })).toEqual([
            'jenkins-k8s:extraCasc[1].unclassified.globalLibraries.libraries[0].bogusKey = "x": is not a key JCasC takes here',
        ]);
    });

    it("what would take the security model apart is refused; what widens a Jenkinsfile's reach is named", async () => {
        expect(
            await problemsOf({
                extraCasc: [
                    { jenkins: { remotingSecurity: { enabled: false } } },
                    { jenkins: { markupFormatter: { rawHtml: { disableSyntaxHighlighting: false } } } },
                ],
            }),
        ).toEqual([
            "jenkins-k8s:extraCasc[0].jenkins.remotingSecurity.enabled: turns off agent-to-controller access control: every agent runs a Jenkinsfile's code, which could then act on the controller; it stays on",
            "jenkins-k8s:extraCasc[1].jenkins.markupFormatter: rawHtml renders descriptions as they are: anyone who sets one (a Jenkinsfile's currentBuild.description) runs script in every viewer's browser; use safeHtml (antisamy-markup-formatter)",
        ]);
        const open = structuredClone(LIBRARY) as any;
        open.unclassified.globalLibraries.libraries.push({
            ...open.unclassified.globalLibraries.libraries[0],
            name: "pinned",
            allowVersionOverride: false,
        });
        const { warnings } = await warningsOf(() =>
            runDefaults({
                extraCasc: [
                    { security: { scriptApproval: { approvedSignatures: ["method java.lang.String trim"] } } },
                    { security: { apiToken: { creationOfLegacyTokenEnabled: true } } },
                    { jenkins: { crumbIssuer: { standard: { excludeClientIPFromCrumb: true } } } },
                    open,
                ],
            }),
        );
        expect(warnings.filter((w) => w.startsWith("jenkins-k8s:extraCasc"))).toEqual([
            "jenkins-k8s:extraCasc[0].security.scriptApproval: approves signatures or scripts for the Groovy sandbox: each one is then open to every Jenkinsfile's author, in every team",
            "jenkins-k8s:extraCasc[1].security.apiToken: allows legacy API tokens, which Jenkins stores so that it can show them again",
            "jenkins-k8s:extraCasc[2].jenkins.crumbIssuer: changes Jenkins' CSRF protection (its crumb issuer)",
            "jenkins-k8s:extraCasc[3].unclassified.globalLibraries: trusted libraries run outside the Groovy sandbox with Jenkins' own rights, and acme lets a Jenkinsfile pick any branch or commit (allowVersionOverride, true by default): whoever can push a branch to its repository could run code on the controller and read every team's credentials; set allowVersionOverride: false",
            "jenkins-k8s:extraCasc[0].security.scriptApproval: not checked: schemas/jcasc.schema.json does not describe this section, so a key JCasC refuses there shows only when Jenkins loads it",
        ]);
    });

    it("an implementation the schema does not know (another plugin's) is a warning, not a refusal", async () => {
        const legacy = structuredClone(LIBRARY) as any;
        legacy.unclassified.globalLibraries.libraries[0].retriever = { legacySCM: { scm: { git: {} } } };
        const { warnings } = await warningsOf(() => runDefaults({ extraCasc: [legacy] }));
        expect(warnings).toContain(
            "jenkins-k8s:extraCasc[0].unclassified.globalLibraries.libraries[0].retriever.legacySCM: not checked: schemas/jcasc.schema.json does not describe legacySCM here (another plugin's?), so a key JCasC refuses there shows only when Jenkins loads it",
        );
    });

    it("YAML text keeps what JCasC reads: a version 1.10 stays 1.10, not the number 1.1", async () => {
        const text =
            "unclassified:\n  globalLibraries:\n    libraries:\n      - name: acme\n        defaultVersion: 1.10\n        retriever:\n          modernSCM:\n            scm:\n              git:\n                remote: https://github.com/acme/lib.git\n";
        const doc = parse((await runDefaults({ extraCasc: [text] })).casc);
        expect(doc.unclassified.globalLibraries.libraries[0].defaultVersion).toBe("1.10");
    });

    it("a section whose plugin the stack does not install is refused, naming the plugin", async () => {
        expect(await problemsOf(withLock({ plugins: MINIMAL_PLUGINS, extraCasc: [LIBRARY] }))).toEqual([
            "jenkins-k8s:extraCasc[0].unclassified.globalLibraries: needs the pipeline-groovy-lib plugin, which the stack's plugins do not install (JCasC would find nothing to read it with and stop the load): add it, or workflow-aggregator, to jenkins-k8s:plugins",
        ]);
    });

    it("a value of another kind than the program's is named", () => {
        const merged = mergeExtra({ unclassified: { location: { url: "x" } } }, [{ unclassified: ["a"] }]);
        expect(merged.problems).toEqual([
            "jenkins-k8s:extraCasc[0].unclassified: is of another kind (a mapping, a list or a value) where it is set already",
        ]);
    });
});

describe("jobs and their plugins", () => {
    it("repositories bring the pipeline and Git plugins when the stack's list has neither", async () => {
        const s = await runDefaults(
            withLock({
                plugins: MINIMAL_PLUGINS,
                teams: [{ name: "a", repositories: [{ url: "https://git.example.com/x/app.git" }] }],
            }),
        );
        expect(s.lockedPlugins).toEqual(
            expect.arrayContaining(["workflow-aggregator:608.v67378e9d3db_1", "git:5.10.1"]),
        );
    });
});

describe("what reloads in place", () => {
    const prod = readStackConfig("prod");
    const run = (overrides: Record<string, string>) =>
        evaluate({ ...prod, ...overrides }, { stack: "prod" }).then((e) => new Stack(e));
    const teams = JSON.parse(prod["jenkins-k8s:teams"]);

    it("a repository, the test job or an extra document changes the JCasC only: no restart", async () => {
        const before = await run({});
        const after = await run({
            "jenkins-k8s:testJob": "true",
            "jenkins-k8s:teams": JSON.stringify([
                { ...teams[0], repositories: [...teams[0].repositories, { url: "https://github.com/acme/more.git" }] },
                teams[1],
            ]),
            "jenkins-k8s:extraCasc": JSON.stringify([LIBRARY]),
        });
        expect(JSON.stringify(after.object("Deployment", "jenkins"))).toBe(
            JSON.stringify(before.object("Deployment", "jenkins")),
        );
        expect(after.casc).not.toBe(before.casc);
    });
});
