package hudson.model

import jenkins.model.Jenkins

/**
 * What the jobs script uses of a loaded item (core 2.568.2 AbstractItem): its full name, delete(),
 * and for jobs makeDisabled(boolean) and isDisabled() (ParameterizedJobMixIn, branch-api's
 * MultiBranchProject); a folder has neither, as in Jenkins.
 */
abstract class AbstractItem {
    String name

    String getFullName() {
        name
    }

    void delete() {
        Jenkins.get().items.remove(name)
        Jenkins.get().deleted << name
        new File(Jenkins.get().rootDir, "jobs/" + name.split("/").join("/jobs/")).deleteDir()
    }
}
