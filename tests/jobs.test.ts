// Jobs as code under the mock runtime: extra JCasC documents merged as JCasC merges several files
// (and refused where they touch what the program writes), the jobs' plugins, and what reloads in
// place. The generated Job DSL itself runs in the Job DSL tier (tests/jobdsl/).
import { parse } from "yaml";
import { ConfigError } from "../config/reader";
import { mergeExtra } from "../jcasc/extra";
import { readStackConfig } from "../tools/stackConfig";
import { evaluate } from "../tools/evaluate";
import { runDefaults, Stack, warningsOf, withLock } from "./harness";

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
        expect(warnings.filter((w) => /not checked/.test(w))).toEqual([
            "jenkins-k8s:extraCasc[0].tool: not checked: schemas/jcasc.schema.json does not describe this section, so a key JCasC refuses there shows only when Jenkins loads it",
            "jenkins-k8s:extraCasc[0].unclassified.mailer: not checked: schemas/jcasc.schema.json does not describe this section, so a key JCasC refuses there shows only when Jenkins loads it",
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
                plugins: [
                    "kubernetes:4540.v612369217f87",
                    "configuration-as-code:2115.vf6de120eef70",
                    "instance-identity:203.v15e81a_1b_7a_38",
                ],
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
