// `pulumi up` runs the compiled program in bin/. If a source changed after the last
// `npm run build`, running bin/ would deploy old code while the diff under review shows new code:
// refuse, and say which file is newer.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { existsSync, readFileSync } from "fs";
import * as path from "path";

/**
 * Checks a build directory's recorded source hashes against the sources under `root`. Returns
 * the first source that differs, or undefined when the build is current (or there is no record,
 * as when the program runs from TypeScript).
 */
export function staleSource(buildDir: string, root: string): string | undefined {
    const record = path.join(buildDir, "sources.json");
    if (!existsSync(record)) {
        return undefined;
    }
    const hashes = JSON.parse(readFileSync(record, "utf8")) as Record<string, string>;
    return Object.entries(hashes).find(([file, hash]) => {
        const source = path.join(root, file);
        return !existsSync(source) || createHash("sha256").update(readFileSync(source)).digest("hex") !== hash;
    })?.[0];
}

/** Throws when the program runs from a bin/ that is older than its sources. */
export function assertBuildIsCurrent(programDir: string): void {
    const root = path.resolve(programDir, "..");
    const stale = staleSource(programDir, root);
    if (stale !== undefined) {
        throw new pulumi.RunError(
            `bin/ was built before ${stale} changed (or it was removed): run \`npm run build\` before \`pulumi preview\` or \`pulumi up\``,
        );
    }
}
