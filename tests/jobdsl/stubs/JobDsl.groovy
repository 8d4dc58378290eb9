/**
 * The script base class: the top-level Job DSL calls the jobs script makes (job-dsl 3654
 * DslFactory: folder, job, pipelineJob, multibranchPipelineJob, each (String, Closure)), recorded
 * with what their closures declare, in order.
 */
abstract class JobDsl extends Script {
    List items = []

    private def declare(String kind, String name, Closure body) {
        items << [kind: kind, name: name, calls: Recorder.record(body)]
    }

    def folder(String name, Closure body) {
        declare("folder", name, body)
    }

    def job(String name, Closure body) {
        declare("job", name, body)
    }

    def pipelineJob(String name, Closure body) {
        declare("pipelineJob", name, body)
    }

    def multibranchPipelineJob(String name, Closure body) {
        declare("multibranchPipelineJob", name, body)
    }
}
