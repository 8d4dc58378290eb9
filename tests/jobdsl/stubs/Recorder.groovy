/**
 * Records a Job DSL closure as the dynamic DSL receives it (job-dsl DescribableContext: every
 * method a parameter, every closure a nested context, resolved delegate first).
 */
class Recorder {
    List calls = []

    static List record(Closure body) {
        def recorder = new Recorder()
        body.delegate = recorder
        body.resolveStrategy = Closure.DELEGATE_FIRST
        body.call()
        recorder.calls
    }

    static Object value(Object v) {
        if (v instanceof hudson.util.Secret) return [secret: v.plainText]
        if (v instanceof com.cloudbees.plugins.credentials.SecretBytes) return [secretBytes: v.base64]
        v
    }

    def methodMissing(String name, Object args) {
        List list = args as List
        if (!list.isEmpty() && list.last() instanceof Closure) {
            calls << [method: name, args: list.init().collect { value(it) }, body: record(list.last() as Closure)]
        } else {
            calls << [method: name, args: list.collect { value(it) }]
        }
        null
    }
}
