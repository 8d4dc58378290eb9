// A user's own stack, as the README tells them to make one: in a copy of the project, dev's stack
// file copied to Pulumi.acme.yaml with three settings changed; then the suites that check every
// stack file, and the offline render of acme, pass with no other file touched (no golden to
// regenerate, no workflow to edit). Slow by nature: it runs those suites again in the copy.
import { spawnSync } from "child_process";
import {
    cpSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    rmSync,
    symlinkSync,
    writeFileSync,
} from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { ROOT } from "../tools/stackConfig";

jest.setTimeout(600_000);

/** The project's files as a clone has them: what git tracks, and what it would (not ignored). */
function projectFiles(): string[] {
    const git = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
        cwd: ROOT,
        encoding: "utf8",
    });
    if (git.status !== 0) throw new Error(`git ls-files: ${git.stderr}`);
    return git.stdout.split("\0").filter((f) => f !== "" && existsSync(path.join(ROOT, f)));
}

/** Runs node with these arguments in `dir`; its exit status and output. */
function node(dir: string, args: string[]): { status: number | null; output: string } {
    const r = spawnSync(process.execPath, args, {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: "" },
        timeout: 540_000,
    });
    return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

describe("a user's own stack, added as the README says", () => {
    let copy: string;
    beforeAll(() => {
        copy = mkdtempSync(path.join(tmpdir(), "jenkins-k8s-own-stack-"));
        for (const file of projectFiles()) {
            mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
            cpSync(path.join(ROOT, file), path.join(copy, file));
        }
        symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"), "dir");
        const dev = readFileSync(path.join(copy, "Pulumi.dev.yaml"), "utf8");
        const acme = dev
            .replace("jenkins-k8s:namespace: kube-ops\n", "jenkins-k8s:namespace: acme-ci\n")
            .replace("jenkins-k8s:agentNamespace: kube-ops-agents\n", "jenkins-k8s:agentNamespace: acme-ci-agents\n")
            .replace("jenkins-k8s:agentLabel: hwzx-cmp\n", "jenkins-k8s:agentLabel: acme-build\n");
        expect(acme.split("\n").filter((line, i) => line !== dev.split("\n")[i])).toHaveLength(3);
        writeFileSync(path.join(copy, "Pulumi.acme.yaml"), acme);
    });
    afterAll(() => rmSync(copy, { recursive: true, force: true }));

    it("every suite that checks each stack file passes with it, no golden or workflow touched", () => {
        const suites = ["render", "policy", "plugins", "workflow"].map((s) => `tests/${s}.test.ts`);
        const run = node(copy, ["node_modules/jest/bin/jest.js", "--silent", "--ci", "--verbose", ...suites]);
        expect({ status: run.status, failed: run.output.match(/^.*(✕|●).*$/gm) ?? [] }).toEqual({
            status: 0,
            failed: [],
        });
        // acme was among the stacks checked: its schema, JCasC, cross-references, policies and lock.
        expect(run.output).toContain("stack acme");
        expect(run.output).toMatch(/passes every policy for stack acme/);
        expect(run.output).toMatch(/stack acme has its lock/);
        expect(readdirSync(path.join(copy, "tests", "__golden__")).sort()).toEqual(["dev", "prod"]);
    });

    it("renders offline (npm run render -- --stack acme)", () => {
        const run = node(copy, ["--require", "sucrase/register/ts", "tools/render.ts", "--stack", "acme"]);
        expect(run.status).toBe(0);
        const deployment = readdirSync(path.join(copy, "render", "acme")).find((f) =>
            /deployment-acme-ci-jenkins/.test(f),
        );
        expect(deployment).toBeDefined();
        expect(readFileSync(path.join(copy, "render", "acme", "jcasc.yaml"), "utf8")).toContain("label: acme-build");
    });
});
