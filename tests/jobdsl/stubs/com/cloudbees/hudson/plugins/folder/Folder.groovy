package com.cloudbees.hudson.plugins.folder

/** A loaded folder (cloudbees-folder): it can be deleted, not disabled. */
class Folder extends hudson.model.AbstractItem {}
