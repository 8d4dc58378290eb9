// `pulumi up` runs the TypeScript sources through the require hook Pulumi.yaml names, with no
// build step. Run the program that way in a child process and check it renders exactly what the
// tests' own compilation (ts-jest) renders, so what is reviewed is what is deployed.
import { execFileSync, spawnSync } from "child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse } from "yaml";
import { precompile } from "../tools/bench";
import { renderStack } from "../tools/render";
import { readStackConfig } from "../tools/stackConfig";

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

describe("the render tool's own messages", () => {
    const render = (args: string[], env: NodeJS.ProcessEnv = {}) => {
        const r = spawnSync(process.execPath, ["--require", "sucrase/register/ts", "tools/render.ts", ...args], {
            cwd: ROOT,
            encoding: "utf8",
            env: { ...process.env, NODE_OPTIONS: "", ...env },
            timeout: 60_000,
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };

    it("--help prints the usage and what each option does, --set included", () => {
        const r = render(["--help"]);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("usage: npm run render -- --stack <name>");
        expect(r.stdout).toMatch(/--set <key>=<value> +a setting on top of the stack file's/);
    });

    it("a stack file that is not YAML: its name, line and column, in one line", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "jenkins-k8s-yaml-"));
        try {
            for (const f of ["Pulumi.yaml"]) writeFileSync(path.join(dir, f), readFileSync(path.join(ROOT, f)));
            writeFileSync(
                path.join(dir, "Pulumi.broken.yaml"),
                "config:\n  jenkins-k8s:namespace: [a\n  jenkins-k8s:x: 1\n",
            );
            expect(() => readStackConfig("broken", dir)).toThrow(
                /^.*Pulumi\.broken\.yaml:3:3: Flow sequence in block collection must be sufficiently indented and end with a \]$/,
            );
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("--cluster with no kubeconfig anywhere says so, instead of dialling localhost:8080", () => {
        const home = mkdtempSync(path.join(tmpdir(), "jenkins-k8s-home-"));
        try {
            const r = render(["--stack", "dev", "--cluster", "--out", path.join(home, "out")], {
                HOME: home,
                KUBECONFIG: "",
                KUBERNETES_SERVICE_HOST: "",
            });
            expect(r.status).toBe(1);
            expect(r.stderr).toContain(
                "there is none: KUBECONFIG is not set, ~/.kube/config does not exist, and this is not a pod with a ServiceAccount; set KUBECONFIG, or kubernetes:kubeconfig",
            );
            expect(r.stderr).not.toContain("HTTP protocol is not allowed");
        } finally {
            rmSync(home, { recursive: true, force: true });
        }
    });
});
