package hudson.model

/** A loaded freestyle job (config.xml root `project`). */
class FreeStyleProject extends AbstractJob {}
