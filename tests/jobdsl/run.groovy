// Runs a Job DSL script the way JCasC's `jobs:` root runs it (job-dsl 3654 SeedJobConfigurator:
// a script whose top-level calls are Job DSL's, with JCasC's providedEnv values as binding
// variables) against the stand-ins in stubs/, and writes what it declared as JSON.
//   java -cp groovy-all-2.4.21.jar:stubs groovy.ui.GroovyMain run.groovy SCRIPT OPTIONS.json OUT.json
// OPTIONS: {home, loaded (items are loaded, as after a start), items (loaded items: a folder's
// full name, or {name, kind: "project"} for a job),
// onDisk (items whose config.xml exists: a name for a folder, or {name, kind, description}),
// env (providedEnv)}. The declarations are
// recorded as Job DSL's dynamic DSL receives them: every call with its arguments, and the
// calls inside its closure; Secret and SecretBytes arguments as {secret} and {secretBytes}.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import hudson.init.InitMilestone
import jenkins.model.Jenkins
import org.codehaus.groovy.control.CompilerConfiguration

def options = new JsonSlurper().parse(new File(args[1]))
def home = new File(options.home as String)
(options.onDisk ?: []).each { entry ->
    def item = entry instanceof Map ? entry : [name: entry]
    def kind = item.kind ?: "com.cloudbees.hudson.plugins.folder.Folder"
    def dir = new File(home, "jobs/" + item.name.split("/").join("/jobs/"))
    dir.mkdirs()
    new File(dir, "config.xml").setText(
        "<?xml version='1.1' encoding='UTF-8'?>\n<" + kind + ">\n  <description>" + (item.description ?: "") +
            "</description>\n</" + kind + ">\n",
        "UTF-8",
    )
}
def jenkins = new Jenkins(rootDir: home, initLevel: options.loaded ? InitMilestone.COMPLETED : InitMilestone.SYSTEM_CONFIG_LOADED)
(options.items ?: []).each { entry ->
    def item = entry instanceof Map ? entry : [name: entry]
    jenkins.items[item.name] = item.kind == "project"
        ? new org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject(name: item.name, disabled: item.disabled ?: false)
        : new com.cloudbees.hudson.plugins.folder.Folder(name: item.name)
}
Jenkins.instance = jenkins

def config = new CompilerConfiguration()
config.scriptBaseClass = JobDsl.name
def shell = new GroovyShell(this.class.classLoader, new Binding(options.env ?: [:]), config)
def out = new StringWriter()
def script = shell.parse(new File(args[0]))
script.setProperty("out", new PrintWriter(out))
script.run()
new File(args[2]).text = JsonOutput.toJson([
    items: script.items,
    deleted: jenkins.deleted,
    disabled: jenkins.disabled,
    printed: out.toString(),
])
