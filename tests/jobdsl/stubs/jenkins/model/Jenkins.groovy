package jenkins.model

import hudson.init.InitMilestone

/**
 * The part of jenkins.model.Jenkins (core 2.568.2) the team script uses: get(), getRootDir(),
 * getInitLevel(), getItem(name), getPluginManager().uberClassLoader. A stand-in for the tests,
 * which set what it holds; it models no behaviour of Jenkins beyond those getters.
 */
class Jenkins {
    static Jenkins instance

    static Jenkins get() {
        instance
    }

    File rootDir
    InitMilestone initLevel
    /** Top-level items that are loaded, by name. */
    Map<String, Object> items = [:]
    /** Names of the items deleted, in order. */
    List<String> deleted = []
    final Map pluginManager = [uberClassLoader: Jenkins.classLoader]

    Object getItem(String name) {
        items[name]
    }
}
