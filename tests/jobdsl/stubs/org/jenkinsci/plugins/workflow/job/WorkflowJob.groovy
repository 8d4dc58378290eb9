package org.jenkinsci.plugins.workflow.job

/** A loaded pipeline job (workflow-job; config.xml root `flow-definition`). */
class WorkflowJob extends hudson.model.AbstractJob {}
