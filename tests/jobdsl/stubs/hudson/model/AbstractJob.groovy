package hudson.model

import jenkins.model.Jenkins

/** A job the script may disable (core's and branch-api's makeDisabled, isDisabled). */
abstract class AbstractJob extends AbstractItem {
    boolean disabled

    boolean isDisabled() {
        disabled
    }

    void makeDisabled(boolean disable) {
        disabled = disable
        if (disable) Jenkins.get().disabled << name
    }
}
