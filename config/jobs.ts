// Jobs as code: each team's repositories (a multibranch pipeline, or one branch's pipeline, in the
// team's folder), the original's test job, and extra JCasC documents for what the program does not
// model. The schemas here; the Job DSL they become is jcasc/jobs.ts, and extra documents are merged
// into the JCasC there.
import { parseDocument, visit } from "yaml";
import { z } from "zod";
import * as v from "./checks";
import { checked } from "./checks";

/**
 * The intervals a multibranch project's periodic scan takes (cloudbees-folder 6.1100
 * PeriodicFolderTrigger.doFillIntervalItems). The trigger accepts any string but reads one it cannot
 * parse as 1 unit: "1w" is one minute. So only these.
 */
export const SCAN_INTERVALS = [
    "1m",
    "2m",
    "3m",
    "5m",
    "10m",
    "15m",
    "20m",
    "25m",
    "30m",
    "1h",
    "2h",
    "4h",
    "8h",
    "12h",
    "1d",
    "2d",
    "7d",
    "14d",
    "28d",
] as const;
export type ScanInterval = (typeof SCAN_INTERVALS)[number];

export const repositorySchema = z.strictObject({
    /** The repository: https://, ssh:// or user@host:path. */
    url: checked(v.checkGitUrl),
    /** The job's name in the team's folder; default: the URL's last part, without .git. */
    name: checked(v.checkItemName).optional(),
    /** A credential the job checks out with: a global one, or one of this team's. */
    credentialsId: checked(v.checkCredentialId).optional(),
    /** One branch (a pipeline job); unset: every branch (a multibranch project). */
    branch: checked(v.checkGitBranch).optional(),
    /** The pipeline's path in the repository. */
    jenkinsfile: checked(v.checkJenkinsfile).default("Jenkinsfile"),
    /** How often the repository is looked at for new commits and branches (besides the scan on creation). */
    scanInterval: v
        .described(
            z.enum(SCAN_INTERVALS, {
                error: () =>
                    `must be one of ${SCAN_INTERVALS.join(", ")}: the scan trigger reads any other value wrongly (1w would be one minute; a week is 7d)`,
            }),
            `one of ${SCAN_INTERVALS.join(", ")}`,
        )
        .default("1h"),
});
export type Repository = z.output<typeof repositorySchema>;

/** The test job's name (testJob), at the top level. */
export const TEST_JOB = "agent-test";

/** The job name a repository makes: its own, or its URL's last part without .git. */
export function repositoryName(r: { url: string; name?: string }): string {
    return (
        r.name ??
        r.url
            .replace(/\/+$/, "")
            .replace(/\.git$/, "")
            .split(/[/:]/)
            .pop()!
    );
}

/** A document as JCasC reads it: a mapping of root elements. */
export type CascDocument = Record<string, unknown>;

const isMapping = (value: unknown): value is CascDocument =>
    value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * YAML text as JCasC reads it: YAML 1.1, one document, and a plain scalar as its text where a number,
 * date or boolean read from it would write back otherwise (`1.10`, `0587`, `1e3`, `2024-01-01`,
 * `yes`): JCasC converts the scalar's text to each attribute's type (configuration-as-code Scalar),
 * so a version 1.10 stays 1.10.
 */
function readYaml(text: string): unknown {
    const doc = parseDocument(text, { version: "1.1" });
    if (doc.errors.length > 0) throw doc.errors[0];
    visit(doc, {
        Scalar(_key, node) {
            const { value, source } = node;
            const typed = typeof value === "number" || typeof value === "boolean" || value instanceof Date;
            if (typed && source !== undefined && (value instanceof Date ? "" : String(value)) !== source) {
                node.value = source;
            }
        },
    });
    return doc.toJS();
}

/**
 * Extra JCasC documents: each a mapping (in the stack file) or YAML text, read the way JCasC reads
 * it (readYaml). Any other shape is refused here; what they may set is checked against the
 * program's own document (jcasc/extra.ts).
 */
export const extraCascSchema = z.array(
    z.unknown().transform((value, ctx): CascDocument => {
        let doc = value;
        if (typeof value === "string") {
            try {
                doc = readYaml(value);
            } catch (err) {
                ctx.addIssue({
                    code: "custom",
                    message: `is not YAML: ${((err as Error).message ?? String(err)).split("\n")[0]}`,
                });
                return z.NEVER;
            }
        }
        if (!isMapping(doc)) {
            ctx.addIssue({
                code: "custom",
                message: "must be a JCasC document: a mapping of root elements such as unclassified:",
            });
            return z.NEVER;
        }
        return doc;
    }),
    { error: () => "must be a list of JCasC documents (mappings, or YAML text)" },
);
