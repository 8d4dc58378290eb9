// Runs a Job DSL script the way JCasC's `jobs:` root runs it (job-dsl 3654 SeedJobConfigurator:
// a script whose top-level calls are Job DSL's, with JCasC's providedEnv values as binding
// variables) against the stand-ins in stubs/, and writes what it declared as JSON.
//   java -cp groovy-all-2.4.21.jar:stubs groovy.ui.GroovyMain run.groovy SCRIPT OPTIONS.json OUT.json
// OPTIONS: {home, loaded (items are loaded, as after a start), items (loaded items: a folder's
// full name, or {name, kind, disabled}), onDisk (items whose config.xml exists: a folder's name,
// or {name, kind, description}), env (providedEnv)}; a kind is the DslFactory method that makes
// it: folder, job, pipelineJob or multibranchPipelineJob. The declarations are recorded as Job
// DSL's dynamic DSL receives them: every call with its arguments, and the calls inside its
// closure; Secret and SecretBytes arguments as {secret} and {secretBytes}. Then, as Job DSL does
// once the script has run, each declared item is checked against the one it would update (a
// different kind fails the run, as job-dsl 3654 JenkinsJobManagement.checkItemType fails the load)
// and written to disk as a config.xml of its kind with its description, for the next run to read.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import hudson.init.InitMilestone
import jenkins.model.Jenkins
import org.codehaus.groovy.control.CompilerConfiguration

// Each kind: its loaded class, and its config.xml root element (core's XStream aliases).
def KINDS = [
    folder: [type: com.cloudbees.hudson.plugins.folder.Folder, root: "com.cloudbees.hudson.plugins.folder.Folder"],
    job: [type: hudson.model.FreeStyleProject, root: "project"],
    pipelineJob: [type: org.jenkinsci.plugins.workflow.job.WorkflowJob, root: "flow-definition"],
    multibranchPipelineJob: [
        type: org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject,
        root: "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject",
    ],
]
def kindOf = { entry -> KINDS[entry.kind ?: "folder"] ?: { throw new IllegalArgumentException("no kind " + entry.kind) }() }

def options = new JsonSlurper().parse(new File(args[1]))
def home = new File(options.home as String)
// An item's folder on disk, each part matched in any case; a new one where none matches.
def dirOf = { String name ->
    def dir = home
    for (String part : name.split("/")) {
        def jobs = new File(dir, "jobs")
        dir = (jobs.listFiles() ?: []).find { it.directory && it.name.equalsIgnoreCase(part) } ?: new File(jobs, part)
    }
    dir
}
def write = { String name, String root, String description ->
    def dir = dirOf(name)
    dir.mkdirs()
    new File(dir, "config.xml").setText(
        "<?xml version='1.1' encoding='UTF-8'?>\n<" + root + ">\n  <description>" +
            groovy.xml.XmlUtil.escapeXml(description ?: "") + "</description>\n</" + root + ">\n",
        "UTF-8",
    )
}
(options.onDisk ?: []).each { entry ->
    def item = entry instanceof Map ? entry : [name: entry]
    write(item.name, kindOf(item).root, item.description)
}
def jenkins = new Jenkins(rootDir: home, initLevel: options.loaded ? InitMilestone.COMPLETED : InitMilestone.SYSTEM_CONFIG_LOADED)
(options.items ?: []).each { entry ->
    def item = entry instanceof Map ? entry : [name: entry]
    def made = kindOf(item).type.newInstance()
    made.name = item.name
    if (item.disabled) made.disabled = true
    jenkins.items[item.name] = made
    // A loaded item is on disk too: as it was written, or with no description.
    if (!new File(dirOf(item.name), "config.xml").exists()) write(item.name, kindOf(item).root, "")
}
Jenkins.instance = jenkins

def config = new CompilerConfiguration()
config.scriptBaseClass = JobDsl.name
def shell = new GroovyShell(this.class.classLoader, new Binding(options.env ?: [:]), config)
def out = new StringWriter()
def script = shell.parse(new File(args[0]))
script.setProperty("out", new PrintWriter(out))
script.run()

// The item each declaration would update: loaded (in any case), or its config.xml on disk.
def existingRoot = { String name ->
    def loaded = jenkins.getItemByFullName(name)
    if (loaded != null) return KINDS.values().find { it.type.isInstance(loaded) }.root
    def file = new File(dirOf(name), "config.xml")
    if (!file.exists()) return null
    (file.getText("UTF-8") =~ /<([\w.-]+)>/).with { it.find() ? it.group(1) : null }
}
script.items.each { declared ->
    def was = existingRoot(declared.name)
    if (was != null && was != KINDS[declared.kind].root) {
        System.err.println("Type of item \"" + declared.name + "\" does not match existing type, item type can not be changed (" + was + " -> " + KINDS[declared.kind].root + ")")
        System.exit(3)
    }
}
// What Job DSL then writes: each declared item's config.xml, of its kind, with its description.
script.items.each { declared ->
    def description = declared.calls.find { it.method == "description" }?.args?.getAt(0)
    write(declared.name, KINDS[declared.kind].root, description as String)
}
new File(args[2]).text = JsonOutput.toJson([
    items: script.items,
    deleted: jenkins.deleted,
    disabled: jenkins.disabled,
    printed: out.toString(),
])
