// The team folders' Job DSL script, run under Groovy 2.4.21 as JCasC's `jobs:` root runs it: what
// each stack's script declares (held to schemas/jobdsl.schema.json, the methods and parameters of
// the pinned plugins), and what happens across applies when teams come, go and are deleted.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT } from "../../config/metadata";
import { deriveNames } from "../../config/names";
import { settingsFrom } from "../../config/settings";
import { buildCasc, cascInput, renderCasc } from "../../jcasc/jcasc";
import { PERMISSIONS } from "../../jcasc/security";
import { MANAGED_NOTE, RETIRED_NOTE, TEAMS_STATE } from "../../jcasc/jobs";
import { listStacks, readStackConfig } from "../../tools/stackConfig";
import { Call, callsAt, Declared, jobDslProblems, JobDslOptions, runJobDsl } from "./runner";

jest.setTimeout(120_000);

type Values = Record<string, unknown>;

/**
 * The `jobs:` root of the JCasC built from these settings, as JCasC hands it to Job DSL: the
 * script with its escapes resolved (SecretSourceResolver: `^${` is a literal `${`), and each
 * providedEnv variable with a stand-in value that names it.
 */
function jobsOf(raw: Record<string, string>): { script: string; env: Record<string, string> } {
    const s = settingsFrom(raw);
    const doc = parse(renderCasc(buildCasc(cascInput(s, deriveNames(s))))) as { jobs: Record<string, any>[] };
    const text: string = doc.jobs.find((j) => j.script !== undefined)!.script;
    expect(text).not.toMatch(/(^|[^^])\$\{/);
    const env = Object.fromEntries(
        Object.keys(doc.jobs.find((j) => j.providedEnv)?.providedEnv ?? {}).map((k) => [k, `value of ${k}`]),
    );
    return { script: text.replace(/\^\$\{/g, "${"), env };
}
const raw = (values: Values) =>
    Object.fromEntries(
        Object.entries(values).map(([k, v]) => [`${PROJECT}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
    );

const folder = (run: { folders: { name: string; calls: Call[] }[] }, name: string) =>
    run.folders.find((f) => f.name === name)?.calls;
const argsOf = (calls: Call[] | undefined, method: string) => calls?.find((c) => c.method === method)?.args;
/** A folder's matrix entries as {kind name: permissions}. */
function grants(calls: Call[]): Record<string, unknown> {
    return Object.fromEntries(
        callsAt(calls, "properties", "authorizationMatrix", "entries").map((e) => [
            `${e.method} ${String(argsOf(e.body, "name")![0])}`,
            argsOf(e.body, "permissions")![0],
        ]),
    );
}
const credentialsOf = (calls: Call[]) =>
    callsAt(calls, "properties", "folderCredentialsProperty", "domainCredentials", "domainCredentials", "credentials");

/**
 * A JENKINS_HOME for each test, and `apply`: the script of these settings run in it (loaded items
 * unless `loaded: false`), held to the schema; what one run writes there, the next reads.
 */
function jenkinsHome() {
    let home = "";
    beforeEach(() => {
        home = mkdtempSync(path.join(tmpdir(), "jenkins-k8s-home-"));
    });
    afterEach(() => rmSync(home, { recursive: true, force: true }));
    return {
        home: () => home,
        apply: (
            values: Values,
            options: Omit<JobDslOptions, "loaded" | "home" | "env"> & { loaded?: boolean } = {},
        ) => {
            const { script, env } = jobsOf(raw(values));
            const run = runJobDsl(script, { home, loaded: options.loaded ?? true, env, ...options });
            expect(jobDslProblems(run)).toEqual([]);
            return run;
        },
    };
}

describe.each(listStacks())("the %s stack's team script", (stack) => {
    const { script, env } = jobsOf(readStackConfig(stack));

    it("runs under Groovy 2.4.21 and calls only what the pinned plugins' Job DSL offers", () => {
        const run = runJobDsl(script, { loaded: true, env });
        expect(jobDslProblems(run)).toEqual([]);
        const own = parse(readFileSync(path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8")).config?.[
            `${PROJECT}:teams`
        ];
        expect(run.folders.map((f) => f.name)).toEqual((own ?? []).map((t: { name: string }) => t.name));
    });
});

describe("the prod stack's folders", () => {
    const { script, env } = jobsOf(readStackConfig("prod"));
    const run = runJobDsl(script, { loaded: true, env });

    it("grant the deploy cloud to payments only; both teams may build images", () => {
        const clouds = Object.fromEntries(
            run.folders.map((f) => [
                f.name,
                argsOf(callsAt(f.calls, "properties", "kubernetes"), "permittedClouds")?.[0] ?? [],
            ]),
        );
        expect(clouds).toEqual({
            payments: ["kubernetes-baseline", "kubernetes-deploy"],
            web: ["kubernetes-baseline"],
        });
    });

    it("give members build and maintainers configure, each in their own folder only", () => {
        expect(grants(folder(run, "payments")!)).toEqual({
            "group payments-dev": [...PERMISSIONS.member].sort(),
            "group payments-leads": [...PERMISSIONS.maintainer].sort(),
        });
        expect(grants(folder(run, "web")!)).toEqual({
            "group web-dev": [...PERMISSIONS.member].sort(),
            "user alice@example.com": [...PERMISSIONS.maintainer].sort(),
        });
    });

    it("hold each team's credentials in its folder, from the values JCasC resolves (never in the script)", () => {
        const payments = credentialsOf(folder(run, "payments")!);
        expect(payments.map((c) => c.method)).toEqual(["stringCredentialsImpl"]);
        expect(argsOf(payments[0].body, "id")).toEqual(["payments-sonar"]);
        expect(argsOf(payments[0].body, "secret")).toEqual([
            { secret: "value of JENKINS_K8S_TEAM_0_CREDENTIAL_0_TEXT" },
        ]);
        const web = credentialsOf(folder(run, "web")!);
        expect(argsOf(web[0].body, "username")).toEqual(["git"]);
        expect(argsOf(callsAt(web[0].body!, "privateKeySource", "directEntryPrivateKeySource"), "privateKey")).toEqual([
            { secret: "value of JENKINS_K8S_TEAM_1_CREDENTIAL_0_PRIVATEKEY" },
        ]);
        expect(script).not.toMatch(/readFile|run\/secrets/);
    });
});

describe("teams across applies (the record in JENKINS_HOME)", () => {
    const jenkins = jenkinsHome();

    const team = (name: string, extra: Values = {}) => ({
        name,
        members: { users: [`${name}-dev`] },
        credentials: [{ id: `${name}-token`, type: "secretText", secret: `${name}-ci` }],
        ...extra,
    });
    const apply = jenkins.apply;
    const record = () =>
        (JSON.parse(readFileSync(path.join(jenkins.home(), TEAMS_STATE), "utf8")).teams as string[]).sort();

    it("a removed team's folder is kept with its jobs, with every grant, cloud and credential taken away", () => {
        apply({ teams: [team("a"), team("b")] });
        expect(record()).toEqual(["a", "b"]);
        const run = apply({ teams: [team("a")] }, { items: ["a", "b"], onDisk: ["a", "b"] });
        expect(run.deleted).toEqual([]);
        const retired = folder(run, "b")!;
        expect(argsOf(retired, "description")).toEqual([RETIRED_NOTE]);
        expect(callsAt(retired, "properties").map((c) => c.method)).toEqual(["folderCredentialsProperty"]);
        expect(credentialsOf(retired)).toEqual([]);
        expect(record()).toEqual(["a", "b"]);
    });

    it("also at a start, before items are loaded (the folder is on disk only)", () => {
        apply({ teams: [team("a"), team("b")] });
        const run = apply({ teams: [team("a")] }, { loaded: false, onDisk: ["a", "b"] });
        expect(argsOf(folder(run, "b"), "description")).toEqual([RETIRED_NOTE]);
    });

    it("a retired folder deleted by hand is forgotten, not made again", () => {
        apply({ teams: [team("a"), team("b")] });
        apply({ teams: [team("a")] }, { items: ["a", "b"], onDisk: ["a", "b"] });
        rmSync(path.join(jenkins.home(), "jobs", "b"), { recursive: true });
        const run = apply({ teams: [team("a")] }, { items: ["a"] });
        expect(folder(run, "b")).toBeUndefined();
        expect(record()).toEqual(["a"]);
    });

    it("a team listed again gets its grants back", () => {
        apply({ teams: [team("a"), team("b")] });
        apply({ teams: [team("a")] }, { items: ["a", "b"], onDisk: ["a", "b"] });
        const run = apply({ teams: [team("a"), team("b")] }, { items: ["a", "b"], onDisk: ["a", "b"] });
        expect(grants(folder(run, "b")!)).toEqual({ "user b-dev": [...PERMISSIONS.member].sort() });
        expect(run.folders.filter((f) => f.name === "b")).toHaveLength(1);
    });

    it("deletedTeams deletes a former team's folder, jobs and history with it, at the first apply with items loaded", () => {
        apply({ teams: [team("a"), team("b")] });
        const atStart = apply({ teams: [team("a")], deletedTeams: ["b"] }, { loaded: false, onDisk: ["a", "b"] });
        expect(atStart.deleted).toEqual([]);
        expect(folder(atStart, "b")).toBeUndefined();
        expect(record()).toEqual(["a", "b"]);
        const reload = apply({ teams: [team("a")], deletedTeams: ["b"] }, { items: ["a", "b"], onDisk: ["a", "b"] });
        expect(reload.deleted).toEqual(["b"]);
        expect(reload.printed).toContain("deleted the folder of the former team b");
        expect(record()).toEqual(["a"]);
    });

    it("never deletes a folder the stack did not make", () => {
        apply({ teams: [team("a")] });
        const run = apply({ teams: [team("a")], deletedTeams: ["handmade"] }, { items: ["a", "handmade"] });
        expect(run.deleted).toEqual([]);
    });

    it("deletedTeams finds a former team whatever the case it is written in", () => {
        apply({ teams: [team("a"), team("payments")] });
        const run = apply({ teams: [team("a")], deletedTeams: ["Payments"] }, { items: ["a", "payments"] });
        expect(run.deleted).toEqual(["payments"]);
    });

    it("an item on the record that is no folder any more (a job took the name) is neither deleted nor rewritten, and is forgotten", () => {
        apply({ teams: [team("a"), team("b")] });
        const job = { name: "b", kind: "pipelineJob" as const };
        const kept = apply({ teams: [team("a")] }, { onDisk: ["a", job] });
        expect(folder(kept, "b")).toBeUndefined();
        const gone = apply({ teams: [team("a")], deletedTeams: ["b"] }, { onDisk: [job] });
        expect(gone.deleted).toEqual([]);
        expect(existsSync(path.join(jenkins.home(), "jobs", "b", "config.xml"))).toBe(true);
        expect(record()).toEqual(["a"]);
    });

    it.each([
        ["a job", { name: "web", kind: "pipelineJob" as const }],
        ["a folder made by hand", { name: "web" }],
    ])("a team whose name %s holds is left out, the item untouched, and Jenkins' log says why", (_what, item) => {
        const run = apply({ teams: [team("a"), team("web")] }, { loaded: false, onDisk: [item] });
        expect(run.folders.map((f) => f.name)).toEqual(["a"]);
        expect(run.printed).toContain("an item named web");
        expect(run.printed).toContain("team web is left out: rename the team or move the item");
        expect(record()).toEqual(["a"]);
    });

    it("a folder that says it is a team folder is the stack's, should the record be lost", () => {
        const run = apply({ teams: [team("web")] }, { onDisk: [{ name: "web", description: MANAGED_NOTE }] });
        expect(run.folders.map((f) => f.name)).toEqual(["web"]);
        expect(record()).toEqual(["web"]);
    });

    it("an unreadable record: the folders that say they are team folders stand for it, so a removed team is still retired", () => {
        mkdirSync(path.join(jenkins.home(), "jenkins-k8s"), { recursive: true });
        writeFileSync(path.join(jenkins.home(), TEAMS_STATE), '{"teams": ["a", "ol');
        const run = apply(
            { teams: [team("a")] },
            {
                onDisk: [
                    { name: "a", description: MANAGED_NOTE },
                    { name: "old", description: MANAGED_NOTE },
                    "handmade",
                ],
            },
        );
        expect(run.printed).toContain("cannot be read");
        expect(argsOf(folder(run, "old"), "description")).toEqual([RETIRED_NOTE]);
        expect(folder(run, "handmade")).toBeUndefined();
        expect(record()).toEqual(["a", "old"]);
    });

    it("the record is replaced whole, never left half-written", () => {
        apply({ teams: [team("a")] });
        expect(readdirSync(path.join(jenkins.home(), "jenkins-k8s"))).toEqual(["teams.json"]);
    });

    it("keeps any text as it is: quotes, backslashes, ${...}, line breaks and non-ASCII in names and descriptions", () => {
        const name = `O'Brien "quoted" ünïcode €`;
        const description = "line one\r\nline 'two'\twith ${literal}, \\n and \\u0041\u0001";
        const run = apply({
            teams: [{ name, displayName: name, description, members: { groups: ["dev's ${group}"] } }],
            securityRealm: { type: "ldap", server: "ldaps://ldap.example.com", rootDN: "dc=example,dc=com" },
            administrators: { groups: ["admins"] },
        });
        expect(run.folders.map((f) => f.name)).toEqual([name]);
        expect(argsOf(folder(run, name), "displayName")).toEqual([name]);
        expect((argsOf(folder(run, name), "description")![0] as string).startsWith(`${description}\n\n`)).toBe(true);
        expect(Object.keys(grants(folder(run, name)!))).toEqual(["group dev's ${group}"]);
    });
});

describe("schemas/jobdsl.schema.json refuses what Job DSL would", () => {
    const { script, env } = jobsOf(readStackConfig("prod"));
    it.each([
        ["JCasC's short name of a credential type", "stringCredentialsImpl {", "string {"],
        ["a permission by its class name", "'Job/Build'", "'Item/Build'"],
        ["an ambiguous user-or-group entry", "group { name('web-dev')", "userOrGroup { name('web-dev')"],
        ["a String where a Secret goes", "privateKey(secretOf(", "privateKey(("],
        ["a credential without a required constructor parameter", "description('SonarQube token'); ", ""],
        ["an unknown folder property", "kubernetes { permittedClouds", "kubernetesCloud { permittedClouds"],
    ])("%s", (_what, from, to) => {
        expect(script).toContain(from);
        const run = runJobDsl(script.replace(from, to), { loaded: true, env });
        expect(jobDslProblems(run)).not.toEqual([]);
    });
});

describe("jobs from the stack: the test job and the teams' repositories", () => {
    const jenkins = jenkinsHome();
    const apply = jenkins.apply;
    const item = (run: { items: Declared[] }, name: string) => run.items.find((i) => i.name === name);

    it("dev's test job: a freestyle job on the original's label whose shell step says where it runs", () => {
        const { script, env } = jobsOf(readStackConfig("dev"));
        const job = item(runJobDsl(script, { loaded: true, env }), "agent-test")!;
        expect(job.kind).toBe("job");
        expect(argsOf(job.calls, "label")).toEqual(["hwzx-cmp"]);
        expect(argsOf(callsAt(job.calls, "steps"), "shell")).toEqual([
            'echo "Running on $(hostname), as $(id)"\necho "Workspace: $WORKSPACE"\nls -la "$WORKSPACE"',
        ]);
    });

    it("prod's repositories: every branch of one (multibranch), one branch of the other, each in its team's folder", () => {
        const { script, env } = jobsOf(readStackConfig("prod"));
        const run = runJobDsl(script, { loaded: true, env });
        const api = item(run, "payments/payments-api")!;
        expect(api.kind).toBe("multibranchPipelineJob");
        const git = callsAt(api.calls, "branchSources", "branchSource", "source", "git");
        expect(argsOf(git, "remote")).toEqual(["https://github.com/acme/payments-api.git"]);
        expect(argsOf(git, "credentialsId")).toEqual(["github"]);
        expect(callsAt(git, "traits").map((c) => c.method)).toEqual(["gitBranchDiscovery"]);
        expect(argsOf(callsAt(api.calls, "factory", "workflowBranchProjectFactory"), "scriptPath")).toEqual([
            "Jenkinsfile",
        ]);
        expect(argsOf(callsAt(api.calls, "triggers", "periodicFolderTrigger"), "interval")).toEqual(["1h"]);
        const deploy = item(run, "payments/payments-deploy")!;
        expect(deploy.kind).toBe("pipelineJob");
        const cps = callsAt(deploy.calls, "definition", "cpsScm");
        expect(argsOf(cps, "scriptPath")).toEqual(["deploy/Jenkinsfile"]);
        // As a ref: the form the lightweight checkout reads for any branch name.
        expect(argsOf(callsAt(cps, "scm", "git"), "branch")).toEqual(["refs/heads/main"]);
        expect(
            argsOf(callsAt(deploy.calls, "properties", "pipelineTriggers", "triggers", "pollSCM"), "scmpoll_spec"),
        ).toEqual(["H/15 * * * *"]);
        // Declared after their folder, as Job DSL needs at a start (job-dsl-plugin#2550).
        expect(run.items.map((i) => i.name).indexOf("payments")).toBeLessThan(
            run.items.map((i) => i.name).indexOf("payments/payments-api"),
        );
    });

    const repo = (url: string, extra: Values = {}) => ({ url, ...extra });
    const withRepos = (repositories: unknown[]) => ({
        teams: [{ name: "a", members: { users: ["dev"] }, repositories }],
    });

    it("a repository taken out of the stack: its job is disabled, its builds kept, and it stays on the record while it exists", () => {
        apply(withRepos([repo("https://git.example.com/x/one.git"), repo("https://git.example.com/x/two.git")]));
        const run = apply(withRepos([repo("https://git.example.com/x/one.git")]), {
            items: [
                "a",
                { name: "a/one", kind: "multibranchPipelineJob" },
                { name: "a/two", kind: "multibranchPipelineJob" },
            ],
        });
        expect(run.disabled).toEqual(["a/two"]);
        expect(run.deleted).toEqual([]);
        expect(run.printed).toContain("disabled a/two, no longer in the stack; its builds are kept");
        expect(JSON.parse(readFileSync(path.join(jenkins.home(), TEAMS_STATE), "utf8")).projects.sort()).toEqual([
            "a/one",
            "a/two",
        ]);
        const again = apply(withRepos([repo("https://git.example.com/x/one.git")]), {
            items: [
                "a",
                { name: "a/one", kind: "multibranchPipelineJob" },
                { name: "a/two", kind: "multibranchPipelineJob", disabled: true },
            ],
        });
        expect(again.disabled).toEqual([]);
    });

    it("the test job turned off is disabled too, and a retired team's jobs with it", () => {
        apply({ testJob: true, ...withRepos([repo("https://git.example.com/x/one.git")]) });
        const run = apply(
            { testJob: false },
            { items: ["a", { name: "a/one", kind: "multibranchPipelineJob" }, { name: "agent-test", kind: "job" }] },
        );
        expect(run.disabled.sort()).toEqual(["a/one", "agent-test"]);
        expect(argsOf(folder(run, "a"), "description")).toEqual([RETIRED_NOTE]);
    });

    it("a job name another item holds is left out, the item untouched", () => {
        const run = apply(withRepos([repo("https://git.example.com/x/one.git")]), {
            onDisk: [
                { name: "a", description: MANAGED_NOTE },
                { name: "a/one", kind: "pipelineJob" },
            ],
            loaded: false,
        });
        expect(item(run, "a/one")).toBeUndefined();
        expect(run.printed).toContain("an item named a/one exists that the stack did not make; it is left as it is");
    });

    it("keeps any text as it is in URLs, names and branches: quotes, a lone $, backslashes, non-ASCII", () => {
        // $NAME, ${NAME} and $$ are refused at preview in URLs, branches and script paths, since
        // Jenkins would expand them at run time (config tests); the rest reaches Jenkins as written.
        const url = "https://git.example.com/team/o'brien-$-\\z.git";
        const run = apply(
            withRepos([
                repo(url, {
                    name: `it's "the" repo €`,
                    branch: "release/it's-1.0",
                    jenkinsfile: "ci/it's $/Jenkinsfile",
                }),
                repo(url, { name: "all branches" }),
            ]),
        );
        const single = item(run, `a/it's "the" repo €`)!;
        const cps = callsAt(single.calls, "definition", "cpsScm");
        expect(argsOf(callsAt(cps, "scm", "git", "remote"), "url")).toEqual([url]);
        expect(argsOf(callsAt(cps, "scm", "git"), "branch")).toEqual(["refs/heads/release/it's-1.0"]);
        expect(argsOf(cps, "scriptPath")).toEqual(["ci/it's $/Jenkinsfile"]);
        expect(
            argsOf(
                callsAt(item(run, "a/all branches")!.calls, "branchSources", "branchSource", "source", "git"),
                "remote",
            ),
        ).toEqual([url]);
    });

    it("a repository switched from every branch to one branch replaces its job (Job DSL cannot change a kind), at the reload after a start", () => {
        const all = withRepos([repo("https://git.example.com/x/one.git")]);
        const one = withRepos([repo("https://git.example.com/x/one.git", { branch: "main" })]);
        apply(all);
        // At a start the project is on disk only: left alone, so the load goes on.
        const atStart = apply(one, { loaded: false });
        expect(item(atStart, "a/one")).toBeUndefined();
        expect(atStart.deleted).toEqual([]);
        // The reload once items are loaded: deleted, then made again as a pipeline job.
        const reload = apply(one, { items: ["a", { name: "a/one", kind: "multibranchPipelineJob" }] });
        expect(reload.deleted).toEqual(["a/one"]);
        expect(item(reload, "a/one")!.kind).toBe("pipelineJob");
        expect(reload.printed).toContain(
            "replaced a/one (org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject) by a org.jenkinsci.plugins.workflow.job.WorkflowJob",
        );
        // And back.
        const back = apply(all, { items: ["a", { name: "a/one", kind: "pipelineJob" }] });
        expect(item(back, "a/one")!.kind).toBe("multibranchPipelineJob");
    });

    it("an item of another kind that the stack did not make is never replaced", () => {
        const run = apply(withRepos([repo("https://git.example.com/x/one.git", { branch: "main" })]), {
            items: ["a", { name: "a/one", kind: "multibranchPipelineJob" }],
            onDisk: [{ name: "a", description: MANAGED_NOTE }],
        });
        expect(run.deleted).toEqual([]);
        expect(item(run, "a/one")).toBeUndefined();
        expect(run.printed).toContain("an item named a/one exists that the stack did not make");
    });

    it("the test job knows itself by its description, should the record be lost", () => {
        apply({ testJob: true });
        rmSync(path.join(jenkins.home(), TEAMS_STATE));
        const run = apply({ testJob: true }, { items: [{ name: "agent-test", kind: "job" }] });
        expect(item(run, "agent-test")).toBeDefined();
        expect(run.printed).not.toContain("an item named agent-test");
        const off = apply({ testJob: false }, { items: [{ name: "agent-test", kind: "job" }] });
        expect(off.disabled).toEqual(["agent-test"]);
    });

    it("a former job whose name an item the stack did not make now holds is neither disabled nor kept on the record", () => {
        apply(withRepos([repo("https://git.example.com/x/one.git"), repo("https://git.example.com/x/two.git")]));
        // An administrator deleted a/two and made a job of their own at the name.
        rmSync(path.join(jenkins.home(), "jobs", "a", "jobs", "two"), { recursive: true });
        const run = apply(withRepos([repo("https://git.example.com/x/one.git")]), {
            items: ["a", { name: "a/one", kind: "multibranchPipelineJob" }, { name: "a/two", kind: "pipelineJob" }],
        });
        expect(run.disabled).toEqual([]);
        expect(run.printed).toContain("a/two is no longer one of the stack jobs");
        expect(JSON.parse(readFileSync(path.join(jenkins.home(), TEAMS_STATE), "utf8")).projects).toEqual(["a/one"]);
    });

    it("names are one in any case, as in Jenkins: a repository or team renamed by case keeps its item, never a second", () => {
        apply({
            teams: [
                {
                    name: "payments",
                    members: { users: ["dev"] },
                    repositories: [repo("https://git.example.com/x/App.git")],
                },
            ],
        });
        const renamed = {
            teams: [
                {
                    name: "Payments",
                    members: { users: ["dev"] },
                    repositories: [repo("https://git.example.com/x/app.git")],
                },
            ],
        };
        // At a start: the folder on disk is declared by its own spelling.
        const atStart = apply(renamed, { loaded: false });
        expect(atStart.folders.map((f) => f.name)).toEqual(["payments"]);
        expect(item(atStart, "payments/App")).toBeDefined();
        expect(readdirSync(path.join(jenkins.home(), "jobs"))).toEqual(["payments"]);
        const reload = apply(renamed, {
            items: ["payments", { name: "payments/App", kind: "multibranchPipelineJob" }],
        });
        expect(reload.disabled).toEqual([]);
        expect(reload.deleted).toEqual([]);
        expect(readdirSync(path.join(jenkins.home(), "jobs", "payments", "jobs"))).toEqual(["App"]);
    });
});
