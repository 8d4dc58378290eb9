package org.jenkinsci.plugins.workflow.multibranch

import jenkins.model.Jenkins

/** A loaded job (any kind but a folder, for the script): it can be disabled, as core's and branch-api's are. */
class WorkflowMultiBranchProject {
    String name
    boolean disabled

    boolean isDisabled() {
        disabled
    }

    void makeDisabled(boolean disable) {
        disabled = disable
        if (disable) Jenkins.get().disabled << name
    }
}
