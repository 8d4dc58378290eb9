// The Job DSL script in the JCasC's `jobs:` root, as a pure function of the settings: each team's
// folder (its permissions, cloud grants and credentials) and the jobs of its repositories, the
// original's test job, and the record in JENKINS_HOME by which a later load knows what it made.
// Every Job DSL method is cited beside the code that writes it, with the plugin release it was read
// from; schemas/jobdsl.schema.json holds the same methods for the Job DSL tier.
// Long by design: one generated script, with the Groovy that keeps it from touching what it did not make.
import type { Access, Credential, Team } from "../config/access";
import type { Repository, ScanInterval } from "../config/jobs";
import { repositoryName, TEST_JOB } from "../config/jobs";
import { bytes, credentialRefs, exact, folderEntries, Json, Reference, text } from "./security";

/** Where the script records the team folders and jobs it made, under JENKINS_HOME (so a removed one is known). */
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
const groovyMap = (entries: Record<string, string>) =>
    `[${Object.entries(entries)
        .map(([k, v]) => `(${groovyString(k)}): ${groovyString(v)}`)
        .join(", ")}]`;

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
export function teamCredentialEnv(access: Pick<Access, "teams">): Record<string, Reference> {
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

/** What the jobs made from repositories and the test job say they are (and how the script knows them, in any case). */
export const PROJECT_MARK = "made by jenkins-k8s from the stack";

/**
 * The class of each item the script makes, as a loaded item names it and as its config.xml's root
 * element does (core's XStream aliases: `project` for a freestyle job, workflow-job's
 * `flow-definition`). Job DSL refuses to write an item of one kind over another (job-dsl 3654
 * JenkinsJobManagement.checkItemType: "item type can not be changed"), which would stop the load.
 */
const KINDS = {
    folder: { type: "com.cloudbees.hudson.plugins.folder.Folder", root: "com.cloudbees.hudson.plugins.folder.Folder" },
    job: { type: "hudson.model.FreeStyleProject", root: "project" },
    pipelineJob: { type: "org.jenkinsci.plugins.workflow.job.WorkflowJob", root: "flow-definition" },
    multibranchPipelineJob: {
        type: "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject",
        root: "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject",
    },
} as const;
export type ItemKind = keyof typeof KINDS;

/**
 * The single-branch pipeline's SCM polling for each scan interval (a multibranch project scans on
 * the interval itself): a hashed Jenkins cron line of about that period.
 */
const POLL: Record<ScanInterval, string> = {
    "1m": "* * * * *",
    "2m": "H/2 * * * *",
    "3m": "H/3 * * * *",
    "5m": "H/5 * * * *",
    "10m": "H/10 * * * *",
    "15m": "H/15 * * * *",
    "20m": "H/20 * * * *",
    "25m": "H/25 * * * *",
    "30m": "H/30 * * * *",
    "1h": "H * * * *",
    "2h": "H H/2 * * *",
    "4h": "H H/4 * * *",
    "8h": "H H/8 * * *",
    "12h": "H H/12 * * *",
    "1d": "H H * * *",
    "2d": "H H H/2 * *",
    "7d": "H H * * H",
    "14d": "H H H/14 * *",
    "28d": "H H H * *",
};

/**
 * A repository's job in its team's folder, when the name is the stack's to use.
 * - Every branch: job-dsl 3654 `multibranchPipelineJob` (workflow-multibranch), a `branchSource`
 *   (branch-api BranchSource, by its class name) with the git plugin 5.10.1's GitSCMSource
 *   (@Symbol "git": constructor remote; setters id, credentialsId, traits) and its
 *   `gitBranchDiscovery` trait, the `workflowBranchProjectFactory` (workflow-multibranch, setter
 *   scriptPath) and cloudbees-folder's `periodicFolderTrigger(interval)`. Old branches' jobs are
 *   kept (no orphanedItemStrategy: discardOldItems with no count would delete every one). Making
 *   or changing it from XML schedules a scan (branch-api MultiBranchProject.onLoad).
 * - One branch: `pipelineJob` with `definition { cpsScm { scm { git { remote { url; credentials };
 *   branch } }; scriptPath; lightweight } }` (job-dsl-core WorkflowDefinitionContext, CpsScmContext,
 *   GitContext; workflow-cps CpsScmFlowDefinition) and SCM polling through the `pipelineTriggers`
 *   job property (`pollSCM`, core SCMTrigger(scmpoll_spec)), not job-dsl's deprecated
 *   pipelineJob.triggers. A job with no build yet builds at its first poll. The branch is written
 *   refs/heads/NAME: the only form of a name with a slash (release/1.0) that the lightweight
 *   checkout reads (git 5.10.1 GitSCMFileSystem.BuilderImpl.supports); any other falls back to a
 *   full clone on the controller.
 */
function repositoryJob(team: Team, r: Repository): string[] {
    const full = `${team.name}/${repositoryName(r)}`;
    const description = groovyString(
        `${r.branch ? `The ${r.branch} branch` : "The branches"} of ${r.url}, ${PROJECT_MARK} (teams[].repositories); changes made here are replaced at the next reload.`,
    );
    const credentials = r.credentialsId ? [`credentialsId(${groovyString(r.credentialsId)})`] : [];
    const body = r.branch
        ? [
              `    pipelineJob(existing(${groovyString(full)})) {`,
              `        description(${description})`,
              `        definition {`,
              `            cpsScm {`,
              `                scm {`,
              `                    git {`,
              `                        remote { url(${groovyString(r.url)})${r.credentialsId ? `; credentials(${groovyString(r.credentialsId)})` : ""} }`,
              `                        branch(${groovyString(`refs/heads/${r.branch}`)})`,
              `                    }`,
              `                }`,
              `                scriptPath(${groovyString(r.jenkinsfile)})`,
              `                lightweight(true)`,
              `            }`,
              `        }`,
              `        properties { pipelineTriggers { triggers { pollSCM { scmpoll_spec(${groovyString(POLL[r.scanInterval])}) } } } }`,
              `    }`,
          ]
        : [
              `    multibranchPipelineJob(existing(${groovyString(full)})) {`,
              `        description(${description})`,
              `        branchSources {`,
              `            branchSource {`,
              `                source {`,
              `                    git {`,
              `                        id(${groovyString(full)})`,
              `                        remote(${groovyString(r.url)})`,
              ...credentials.map((c) => `                        ${c}`),
              `                        traits { gitBranchDiscovery() }`,
              `                    }`,
              `                }`,
              `            }`,
              `        }`,
              `        factory { workflowBranchProjectFactory { scriptPath(${groovyString(r.jenkinsfile)}) } }`,
              `        triggers { periodicFolderTrigger { interval(${groovyString(r.scanInterval)}) } }`,
              `    }`,
          ];
    const kind: ItemKind = r.branch ? "pipelineJob" : "multibranchPipelineJob";
    return [`if (claimProject(${groovyString(full)}, ${groovyString(KINDS[kind].type)})) {`, ...body, `}`];
}

/**
 * The original's test (job-dsl-core `job`: a freestyle project; Project.label, steps, StepContext.shell,
 * core's hudson.tasks.Shell): one click, and a pod appears in the build tier, says where it runs, and goes.
 */
function testJob(label: string): string[] {
    const shell = [
        'echo "Running on $(hostname), as $(id)"',
        'echo "Workspace: $WORKSPACE"',
        'ls -la "$WORKSPACE"',
    ].join("\n");
    return [
        `if (claimProject(${groovyString(TEST_JOB)}, ${groovyString(KINDS.job.type)})) {`,
        `    job(existing(${groovyString(TEST_JOB)})) {`,
        `        description(${groovyString(`The original's test: Build now, and an agent pod for ${label} appears in the build tier, runs this step, and is deleted when the build ends. This job is ${PROJECT_MARK} (testJob).`)})`,
        `        label(${groovyString(label)})`,
        `        steps { shell(${groovyString(shell)}) }`,
        `    }`,
        `}`,
    ];
}

/** One team's folder: its description, permissions, cloud grants and credentials, and its repositories' jobs. */
function teamFolder(team: Team, i: number): string[] {
    const value = (j: number) => (role: string) => `provided(${groovyString(variable(i, j, role))})`;
    const description = [team.description, MANAGED_NOTE].filter((d) => d !== "").join("\n\n");
    const grants = folderEntries(team).map(
        (e) => `                    ${e.kind} { name(${groovyString(e.name)}); permissions(${list(e.permissions)}) }`,
    );
    return [
        `if (claim(${groovyString(team.name)})) {`,
        `    folder(existing(${groovyString(team.name)})) {`,
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
        ...team.repositories.flatMap((r) => repositoryJob(team, r).map((l) => `    ${l}`)),
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

/** What the script makes: the teams' folders and their repositories' jobs, and the test job. */
export interface JobsInput {
    access: Pick<Access, "teams" | "deletedTeams">;
    /** The test job's label; unset: no test job. */
    testJob?: { label: string };
}

/** Every job the script makes, by full name. */
export function projectNames(input: JobsInput): string[] {
    return [
        ...input.access.teams.flatMap((t) => t.repositories.map((r) => `${t.name}/${repositoryName(r)}`)),
        ...(input.testJob ? [TEST_JOB] : []),
    ];
}

/**
 * The Job DSL script, run by JCasC on every load (job-dsl 3654 SeedJobConfigurator, without script
 * security, as SYSTEM). Job DSL replaces an item's configuration and keeps a folder's jobs. The
 * script keeps a record of what it made in JENKINS_HOME (TEAMS_STATE, written whole or not at all):
 * a team removed from the stack keeps its folder, jobs and build records, with every grant and
 * credential taken away, and `deletedTeams` deletes it; a job no longer in the stack (a removed
 * repository, the test job turned off, a retired team's) is disabled, its builds kept. It touches
 * no item it did not make: a name another item holds is left out, with a line in Jenkins' log. At a
 * start JCasC runs before items are loaded (core Jenkins.loadTasks), so items are read from disk
 * then, and what needs a loaded item (deleting, disabling) waits for the reload the sidecar makes
 * once Jenkins answers (casc-reload.sh).
 */
export function jobsScript(input: JobsInput): string {
    const { access } = input;
    const lines = [
        "// Made by jenkins-k8s from the stack's teams, deletedTeams and testJob: edit the stack, not this.",
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
        `def FOLDER = ${groovyString(KINDS.folder.type)}`,
        `def MARK = ${groovyString(MARK)}`,
        `def PROJECT_MARK = ${groovyString(PROJECT_MARK)}`,
        "",
        `def teams = ${list(access.teams.map((t) => t.name))}`,
        `def deleted = ${list(access.deletedTeams)}`,
        `def projects = ${list(projectNames(input))}`,
        "// Items load after JCasC at a start: until then an item is only on disk.",
        "def loaded = instance.initLevel >= InitMilestone.JOB_LOADED",
        "// Jenkins' item names are one in any case (core Jenkins.items, CASE_INSENSITIVE_ORDER); so are these.",
        "def among = { List names, String item -> names.any { it.equalsIgnoreCase(item) } }",
        "// An item's folder on disk and its name there, each part matched in any case.",
        "def locate = { String item ->",
        "    def dir = instance.rootDir",
        "    def parts = []",
        "    for (String part : item.split('/')) {",
        "        def jobs = new File(dir, 'jobs')",
        "        dir = (jobs.listFiles() ?: []).find { it.directory && it.name.equalsIgnoreCase(part) } ?: new File(jobs, part)",
        "        parts << dir.name",
        "    }",
        "    [config: new File(dir, 'config.xml'), name: parts.join('/')]",
        "}",
        "def configOf = { String item -> locate(item).config }",
        "// The name to declare an item by: an existing one's own spelling, so Job DSL updates it, never makes a second.",
        "def existing = { String item -> instance.getItemByFullName(item)?.fullName ?: locate(item).name }",
        "def marked = { String item, String mark -> configOf(item).with { it.exists() && it.getText('UTF-8').toLowerCase().contains(mark.toLowerCase()) } }",
        "// The class of an item: loaded, or from its config.xml's root element; null when there is none.",
        `def ALIASES = ${groovyMap(Object.fromEntries(Object.values(KINDS).map((k) => [k.root, k.type])))}`,
        "def kindOf = { String item ->",
        "    def found = instance.getItemByFullName(item)",
        "    if (found != null) return found.getClass().name",
        "    if (!configOf(item).exists()) return null",
        String.raw`    def root = configOf(item).getText('UTF-8').take(2000) =~ /^(?:\s*<\?xml[^>]*\?>)?\s*<([\w.-]+)/`,
        "    root.find() ? (ALIASES[root.group(1)] ?: root.group(1)) : ''",
        "}",
        `def record = new File(instance.rootDir, ${groovyString(TEAMS_STATE)})`,
        "def known = [teams: [], projects: []]",
        "if (record.exists()) {",
        "    try {",
        "        def read = new groovy.json.JsonSlurper().parse(record)",
        "        known = [teams: (read.teams ?: []) as List, projects: (read.projects ?: []) as List]",
        "    } catch (Exception e) {",
        "        def dirs = new File(instance.rootDir, 'jobs').listFiles() ?: []",
        "        known.teams = dirs.findAll { marked(it.name, MARK) }*.name",
        "        println('jenkins-k8s: ' + record + ' cannot be read (' + e.message + '); the folders marked as team folders stand for it: ' + known.teams)",
        "    }",
        "}",
        "def remember = [teams: [], projects: []]",
        "// Deletes an item of the stack's: loaded, or only on disk once items are loaded (nothing of it runs);",
        "// false at a start, when the reload that follows it does it.",
        "def remove = { String item ->",
        "    def found = instance.getItemByFullName(item)",
        "    if (found != null) {",
        "        found.delete()",
        "    } else if (loaded) {",
        "        configOf(item).parentFile.deleteDir()",
        "    } else {",
        "        return false",
        "    }",
        "    true",
        "}",
        "// A former team's folder: kept with every grant taken away, or deleted when deletedTeams names it.",
        // Not `name`: a local of that name would take the DSL's name(...) calls below.
        "known.teams.findAll { !among(teams, it) }.each { String former ->",
        "    if (kindOf(former) != FOLDER) return // gone, or another item took the name: not ours any more",
        "    if (among(deleted, former)) {",
        "        if (!remove(former)) {",
        "            remember.teams << former // at a start: deleted at the reload once items are loaded",
        "            return",
        "        }",
        "        println('jenkins-k8s: deleted the folder of the former team ' + former + ' with its jobs and build records (deletedTeams)')",
        "        return",
        "    }",
        "    remember.teams << former",
        "    folder(existing(former)) {",
        `        description(${groovyString(RETIRED_NOTE)})`,
        "        properties {",
        ...folderCredentials([]).map((l) => `    ${l}`),
        "        }",
        "    }",
        "}",
        "// A job no longer in the stack: disabled, its builds kept; forgotten once it is gone, or once",
        "// an item that does not say it is the stack's holds the name.",
        "known.projects.findAll { !among(projects, it) }.each { String former ->",
        "    if (kindOf(former) == null) return",
        "    if (!marked(former, PROJECT_MARK)) {",
        "        println('jenkins-k8s: ' + former + ' is no longer one of the stack jobs (an item it did not make holds the name); it is left as it is')",
        "        return",
        "    }",
        "    remember.projects << former",
        "    def item = instance.getItemByFullName(former)",
        "    if (item == null || (item.respondsTo('isDisabled') && item.isDisabled())) return",
        "    try {",
        "        item.makeDisabled(true)",
        "        println('jenkins-k8s: disabled ' + former + ', no longer in the stack; its builds are kept')",
        "    } catch (MissingMethodException e) {",
        "        println('jenkins-k8s: ' + former + ' is no longer in the stack and cannot be disabled: ' + e.message)",
        "    }",
        "}",
        "// A team's folder: one this script made (or marked as such), or a new one; never another item.",
        "def claim = { String team ->",
        "    def kind = kindOf(team)",
        "    if (kind == null || (kind == FOLDER && (among(known.teams, team) || marked(team, MARK)))) {",
        "        remember.teams << team",
        "        return true",
        "    }",
        "    println('jenkins-k8s: an item named ' + team + ' (' + kind + ') exists that the stack did not make; team ' + team + ' is left out: rename the team or move the item')",
        "    false",
        "}",
        "// A job of this kind: a new one, or one this script made (or marked as such). One of the stack's of",
        "// another kind (a repository switched between every branch and one branch) is replaced, its builds",
        "// with it, since Job DSL cannot change an item's kind; at a start that waits for the reload.",
        "def claimProject = { String project, String kind ->",
        "    def found = kindOf(project)",
        "    if (found == null) {",
        "        remember.projects << project",
        "        return true",
        "    }",
        "    if (!among(known.projects, project) && !marked(project, PROJECT_MARK)) {",
        "        println('jenkins-k8s: an item named ' + project + ' exists that the stack did not make; it is left as it is: rename the repository (name) or move the item')",
        "        return false",
        "    }",
        "    remember.projects << project",
        "    if (found == kind) return true",
        "    if (!remove(project)) return false",
        "    println('jenkins-k8s: replaced ' + project + ' (' + found + ') by a ' + kind + ', as the stack now makes it; the builds of the former job were deleted with it')",
        "    true",
        "}",
        ...access.teams.flatMap((t, i) => ["", ...teamFolder(t, i)]),
        ...(input.testJob ? ["", ...testJob(input.testJob.label)] : []),
        "",
        "record.parentFile.mkdirs()",
        "def next = new File(record.path + '.next')",
        "next.setText(groovy.json.JsonOutput.toJson(remember), 'UTF-8')",
        "Files.move(next.toPath(), record.toPath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)",
    ];
    return lines.join("\n") + "\n";
}

/** The `jobs:` root: the team credentials' values, then the script. */
export function jobs(input: JobsInput): Json[] {
    const env = teamCredentialEnv(input.access);
    return [...(Object.keys(env).length > 0 ? [{ providedEnv: env }] : []), { script: jobsScript(input) }];
}
