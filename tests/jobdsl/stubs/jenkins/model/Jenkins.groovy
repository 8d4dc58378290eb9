package jenkins.model

import hudson.init.InitMilestone

/**
 * The part of jenkins.model.Jenkins (core 2.568.2) the jobs script uses: get(), getRootDir(),
 * getInitLevel(), getItem(name), getItemByFullName(name), getPluginManager().uberClassLoader. Item
 * names are one in any case, as in Jenkins (its items map is a CopyOnWriteMap.Tree with
 * String.CASE_INSENSITIVE_ORDER). A stand-in for the tests, which set what it holds.
 */
class Jenkins {
    static Jenkins instance

    static Jenkins get() {
        instance
    }

    File rootDir
    InitMilestone initLevel
    /** Items that are loaded, by full name, in any case. */
    Map<String, Object> items = new TreeMap<String, Object>(String.CASE_INSENSITIVE_ORDER)
    /** Names of the items deleted, and disabled, in order. */
    List<String> deleted = []
    List<String> disabled = []
    final Map pluginManager = [uberClassLoader: Jenkins.classLoader]

    Object getItem(String name) {
        name.contains("/") ? null : items[name]
    }

    Object getItemByFullName(String name) {
        items[name]
    }
}
