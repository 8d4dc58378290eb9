/**
 * The script base class: the top-level Job DSL call the team script makes (job-dsl 3654
 * DslFactory.folder(String, Closure)), recorded with what its closure declares.
 */
abstract class JobDsl extends Script {
    List folders = []

    def folder(String name, Closure body) {
        folders << [name: name, calls: Recorder.record(body)]
    }
}
