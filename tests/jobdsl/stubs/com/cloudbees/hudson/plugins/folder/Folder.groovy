package com.cloudbees.hudson.plugins.folder

import jenkins.model.Jenkins

/** A loaded folder: deleting it removes it from Jenkins' items and its directory from disk. */
class Folder {
    String name

    void delete() {
        Jenkins.get().items.remove(name)
        Jenkins.get().deleted << name
        new File(Jenkins.get().rootDir, "jobs/" + name).deleteDir()
    }
}
