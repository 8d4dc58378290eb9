// What `pulumi up` runs is the compiled program in bin/ (Pulumi.yaml's main). Build it the way
// `npm run build` does, into a scratch directory, and check that it renders exactly what the
// TypeScript source renders, and that a stale build refuses to run.
import { execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { readFileSync } from "fs";
import { staleSource } from "../components/buildCheck";
import { evaluate } from "../tools/evaluate";
import { renderFiles } from "../tools/render";
import { readStackConfig } from "../tools/stackConfig";

const ROOT = path.join(__dirname, "..");

describe("the compiled program (npm run build)", () => {
    // Inside the project, so the compiled modules resolve the same node_modules as the tests.
    const out = mkdtempSync(path.join(ROOT, ".build-test-"));
    beforeAll(() => {
        execFileSync(process.execPath, [path.join(ROOT, "tools", "build.js"), out], { stdio: "pipe" });
    }, 60_000);
    afterAll(() => rmSync(out, { recursive: true, force: true }));

    it("is what Pulumi.yaml runs", () => {
        const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
        expect(project.main).toBe("bin/index.js");
        expect(project.runtime).toEqual({ name: "nodejs", options: { typescript: false } });
    });

    it.each(["dev", "prod"])("renders stack %s exactly as the TypeScript source does", async (stack) => {
        const fromSource = renderFiles(await evaluate(readStackConfig(stack), { stack }));
        const compiled = renderFiles(
            await evaluate(readStackConfig(stack), { stack, program: path.join(out, "index.js") }),
        );
        expect([...compiled.keys()]).toEqual([...fromSource.keys()]);
        for (const [file, content] of fromSource) {
            expect([file, compiled.get(file)]).toEqual([file, content]);
        }
    });

    it("records the hash of every source, and a fresh build is current", () => {
        const hashes = JSON.parse(readFileSync(path.join(out, "sources.json"), "utf8"));
        expect(Object.keys(hashes)).toEqual(
            expect.arrayContaining(["index.ts", "components/config.ts", "components/scripts/install-plugins.sh"]),
        );
        expect(staleSource(out, ROOT)).toBeUndefined();
    });
});

describe("a stale build", () => {
    it("names the first source that changed or went away since the build", () => {
        const root = mkdtempSync(path.join(ROOT, ".stale-test-"));
        try {
            mkdirSync(path.join(root, "bin"));
            mkdirSync(path.join(root, "components"));
            writeFileSync(path.join(root, "index.ts"), "a");
            writeFileSync(path.join(root, "components", "x.ts"), "b");
            const hash = (s: string) => require("crypto").createHash("sha256").update(s).digest("hex");
            writeFileSync(
                path.join(root, "bin", "sources.json"),
                JSON.stringify({ "index.ts": hash("a"), "components/x.ts": hash("b") }),
            );
            expect(staleSource(path.join(root, "bin"), root)).toBeUndefined();
            writeFileSync(path.join(root, "components", "x.ts"), "b changed");
            expect(staleSource(path.join(root, "bin"), root)).toBe("components/x.ts");
            rmSync(path.join(root, "index.ts"));
            expect(staleSource(path.join(root, "bin"), root)).toBe("index.ts");
            // Running from TypeScript (no record): nothing to check.
            expect(staleSource(path.join(root, "components"), root)).toBeUndefined();
        } finally {
            rmSync(root, { recursive: true, force: true });
        }
    });

    it("stops the program with a message that says to build", async () => {
        const { assertBuildIsCurrent } = await import("../components/buildCheck");
        const root = mkdtempSync(path.join(ROOT, ".stale-test-"));
        try {
            mkdirSync(path.join(root, "bin"));
            writeFileSync(path.join(root, "bin", "sources.json"), JSON.stringify({ "index.ts": "0".repeat(64) }));
            expect(() => assertBuildIsCurrent(path.join(root, "bin"))).toThrow(
                "bin/ was built before index.ts changed (or it was removed): run `npm run build` before `pulumi preview` or `pulumi up`",
            );
        } finally {
            rmSync(root, { recursive: true, force: true });
        }
    });
});
