// Groovy 2.4.21, the Groovy Jenkins runs Job DSL scripts with (core bundles groovy-all 2.4.21), for
// the tests that run the generated Job DSL (npm run test:jobdsl, and the cluster tier). It comes
// from Maven Central, pinned by its SHA-256, into node_modules/.cache; running it needs a JDK.
//
//   npm run groovy:fetch      (once; the test tiers that need it say so when it is missing)
import { get } from "./http";
import { createHash } from "crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const VERSION = "2.4.21";
const URL = `https://repo1.maven.org/maven2/org/codehaus/groovy/groovy-all/${VERSION}/groovy-all-${VERSION}.jar`;
const SHA256 = "de65260cf2070442e99882f2f3d72e7531725c1e6a257446cc0cea525c607bd0";

/** Where the jar is kept. */
export const GROOVY_JAR = path.join(ROOT, "node_modules", ".cache", "jenkins-k8s-groovy", `groovy-all-${VERSION}.jar`);

/** Why Groovy cannot run here, or undefined when it can. */
export function groovyMissing(): string | undefined {
    return existsSync(GROOVY_JAR)
        ? undefined
        : `Groovy ${VERSION} is not fetched (${path.relative(ROOT, GROOVY_JAR)}): run \`npm run groovy:fetch\` once (it needs Maven Central), then again`;
}

/** Downloads the jar when it is not there, and checks its SHA-256. */
export async function fetchGroovy(): Promise<void> {
    if (existsSync(GROOVY_JAR) && sha256(readFileSync(GROOVY_JAR)) === SHA256) return;
    const response = await get(URL);
    if (!response.ok) throw new Error(`GET ${URL}: HTTP ${response.status}`);
    const body = Buffer.from(await response.arrayBuffer());
    if (sha256(body) !== SHA256) throw new Error(`${URL}: SHA-256 ${sha256(body)}, expected ${SHA256}`);
    mkdirSync(path.dirname(GROOVY_JAR), { recursive: true });
    writeFileSync(`${GROOVY_JAR}.part`, body);
    renameSync(`${GROOVY_JAR}.part`, GROOVY_JAR);
}

function sha256(data: Buffer): string {
    return createHash("sha256").update(data).digest("hex");
}

if (require.main === module) {
    fetchGroovy().then(
        () => console.log(`Groovy ${VERSION}: ${path.relative(ROOT, GROOVY_JAR)}`),
        (err: Error) => {
            console.error(`groovy:fetch: ${err.message}`);
            process.exit(1);
        },
    );
}
