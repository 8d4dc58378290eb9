package org.jenkinsci.plugins.workflow.multibranch

/** A loaded multibranch project (workflow-multibranch; config.xml root its class name). */
class WorkflowMultiBranchProject extends hudson.model.AbstractJob {}
