// `pulumi up` runs the TypeScript sources through the require hook Pulumi.yaml names, with no
// build step. Run the program that way in a child process and check it renders exactly what the
// tests' own compilation (ts-jest) renders, so what is reviewed is what is deployed.
import { execFileSync } from "child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse } from "yaml";
import { precompile } from "../tools/bench";
import { renderStack } from "../tools/render";

const ROOT = path.join(__dirname, "..");
const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));

describe("the program as pulumi up runs it", () => {
    it("is the TypeScript entry point, loaded by a require hook that is a runtime dependency", () => {
        expect(project.main).toBe("index.ts");
        expect(pkg.main).toBe("index.ts");
        expect(project.runtime).toEqual({
            name: "nodejs",
            options: { typescript: false, nodeargs: "--require sucrase/register/ts" },
        });
        expect(Object.keys(pkg.dependencies)).toContain("sucrase");
        // The tools run the same way, so there is one way to load the sources.
        for (const script of ["render", "bench", "docs:update"]) {
            expect([script, pkg.scripts[script]]).toEqual([
                script,
                expect.stringContaining(`node ${project.runtime.options.nodeargs} `),
            ]);
        }
    });

    /** Runs tools/render under `root` in a child node, and checks it wrote what the tests render. */
    async function rendersAsTests(root: string, nodeArgs: string[], script: string, stack: string): Promise<void> {
        const out = mkdtempSync(path.join(tmpdir(), "jenkins-k8s-loader-"));
        try {
            execFileSync(process.execPath, [...nodeArgs, script, "--stack", stack, "--out", out], {
                cwd: root,
                stdio: "pipe",
            });
            const expected = await renderStack(stack);
            const written = readdirSync(out)
                .filter((f) => f.endsWith(".yaml"))
                .sort();
            expect(written).toEqual([...expected.keys()].sort());
            for (const [file, content] of expected) {
                expect([file, readFileSync(path.join(out, file), "utf8")]).toEqual([file, content]);
            }
        } finally {
            rmSync(out, { recursive: true, force: true });
        }
    }

    it.each(["dev", "prod"])(
        "renders stack %s through the hook exactly as the tests' compilation does",
        (stack) => rendersAsTests(ROOT, String(project.runtime.options.nodeargs).split(" "), "tools/render.ts", stack),
        60_000,
    );

    it("renders dev from the precompiled copy npm run bench measures, exactly as the tests do", async () => {
        const compiled = precompile();
        try {
            await rendersAsTests(compiled, [], "tools/render.js", "dev");
        } finally {
            rmSync(compiled, { recursive: true, force: true });
        }
    }, 60_000);
});
