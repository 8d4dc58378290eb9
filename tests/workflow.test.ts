// The GitHub Actions example: valid YAML, real inputs of pulumi/actions, every stack previewed
// with the policy pack, and every secret it uses documented in its header.
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { listStacks } from "../tools/stackConfig";

const FILE = path.join(__dirname, "..", "examples", "github-actions", "pulumi.yml");
const text = readFileSync(FILE, "utf8");
const workflow = parse(text);
// Inputs of pulumi/actions@v6 (its action.yml).
const ACTION_INPUTS = new Set([
    "command",
    "stack-name",
    "work-dir",
    "comment-on-pr",
    "github-token",
    "cloud-url",
    "secrets-provider",
    "parallel",
    "message",
    "configMap",
    "expect-no-changes",
    "diff",
    "replace",
    "target",
    "target-dependents",
    "policyPacks",
    "policyPackConfigs",
    "refresh",
    "upsert",
    "edit-pr-comment",
    "color",
    "pulumi-version",
    "pulumi-version-file",
]);
const pulumiSteps = (job: string) =>
    workflow.jobs[job].steps.filter((s: any) => String(s.uses).startsWith("pulumi/actions@"));

describe("examples/github-actions/pulumi.yml", () => {
    it("previews every stack on pull requests, with a diff, the policy pack and a PR comment", () => {
        expect(workflow.on.pull_request.branches).toEqual(["main"]);
        expect(workflow.jobs.preview.strategy.matrix.stack).toEqual(listStacks());
        const [step] = pulumiSteps("preview");
        expect(step.with).toMatchObject({
            command: "preview",
            diff: true,
            "comment-on-pr": true,
            policyPacks: "policy",
        });
    });

    it("checks the plugin locks against the update center on every push and every week", () => {
        expect(workflow.on.schedule).toEqual([{ cron: expect.any(String) }]);
        const steps = workflow.jobs["plugin-locks"].steps.map((st: any) => st.run).filter(Boolean);
        expect(steps).toContain("npm ci && npm run plugins:lock -- --check");
        expect(workflow.jobs.test.if).toBe("github.event_name != 'schedule'");
    });

    it("runs pulumi up on merges to main, one environment at a time", () => {
        expect(workflow.jobs.up.if).toContain("refs/heads/main");
        expect(workflow.jobs.up.strategy["max-parallel"]).toBe(1);
        expect(workflow.jobs.up.strategy.matrix.stack).toEqual(listStacks());
        expect(pulumiSteps("up")[0].with).toMatchObject({ command: "up", policyPacks: "policy" });
    });

    it("tests (the README's command) and lints before either", () => {
        const runs = workflow.jobs.test.steps.map((s: any) => s.run).filter(Boolean);
        expect(runs).toEqual(["npm ci && npm test", "npm run lint"]);
        expect(workflow.jobs.preview.needs).toBe("test");
        expect(workflow.jobs.up.needs).toBe("test");
    });

    it("runs the cluster tier on a kind cluster, with the kubeconfig it made", () => {
        const job = workflow.jobs.cluster;
        expect(job.needs).toBe("test");
        expect(job.steps.some((s: any) => String(s.uses).startsWith("helm/kind-action@"))).toBe(true);
        const tier = job.steps.find((s: any) => s.run === "npm run test:cluster");
        expect(tier.env.KUBECONFIG).toBe("${{ runner.temp }}/kubeconfig");
        expect(job.steps.map((s: any) => s.run)).toContain(
            'kind get kubeconfig --name jenkins-k8s > "$RUNNER_TEMP/kubeconfig"',
        );
    });

    it("uses only inputs pulumi/actions has", () => {
        for (const job of ["preview", "up"]) {
            for (const step of pulumiSteps(job)) {
                expect(Object.keys(step.with).filter((k) => !ACTION_INPUTS.has(k))).toEqual([]);
            }
        }
    });

    it("documents every secret and variable it uses", () => {
        const used = new Set([...text.split("\nname:")[1].matchAll(/\b(secrets|vars)\.([A-Z_]+)/g)].map((m) => m[2]));
        const header = text.split("\nname:")[0];
        for (const name of used) {
            expect([name, header.includes(name)]).toEqual([name, true]);
        }
        expect(used).toEqual(new Set(["PULUMI_ACCESS_TOKEN", "KUBECONFIG_DEV", "KUBECONFIG_PROD", "PULUMI_ORG"]));
    });
});
