// The GitHub Actions example: valid YAML, real inputs of pulumi/actions, each stack previewed with
// the policy pack and deployed in an explicit order, each with its own environment's credentials
// (none for forks), and every secret it uses documented in its header.
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { settingsFrom } from "../config/settings";
import { EXAMPLE_STACKS, listStacks, readStackConfig } from "../tools/stackConfig";

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

/** Every `${{ ... }}` expression of a job, with the step it is in. */
function expressions(job: string): string[] {
    return [...JSON.stringify(workflow.jobs[job]).matchAll(/\$\{\{(.*?)\}\}/g)].map((m) => m[1].trim());
}

describe("examples/github-actions/pulumi.yml", () => {
    it("previews each stack on pull requests from this repository, with a diff, the policy pack and a PR comment", () => {
        expect(workflow.on.pull_request.branches).toEqual(["main"]);
        expect(workflow.jobs.preview.if).toContain(
            "github.event.pull_request.head.repo.full_name == github.repository",
        );
        const [step] = pulumiSteps("preview");
        expect(step.with).toMatchObject({
            command: "preview",
            diff: true,
            "comment-on-pr": true,
            policyPacks: "policy",
        });
    });

    it("gives pull requests from forks no credentials: their stacks are rendered offline", () => {
        const job = workflow.jobs.render;
        expect(job.if).toContain("github.event.pull_request.head.repo.full_name != github.repository");
        expect(job.environment).toBeUndefined();
        expect(expressions("render").filter((e) => /secrets\./.test(e))).toEqual([]);
        expect(job.steps.map((s: any) => s.run).filter(Boolean)).toEqual([
            "npm ci && npm run render -- --stack ${{ matrix.stack }}",
        ]);
    });

    it("reads each stack's credentials from that stack's own environment, a preview's apart from a deploy's, never another's", () => {
        expect(workflow.jobs.preview.environment).toBe("${{ matrix.stack }}-preview");
        expect(workflow.jobs.up.environment).toBe("${{ matrix.stack }}");
        for (const job of ["preview", "up"]) {
            const secrets = expressions(job).filter((e) => /secrets\./.test(e));
            // One name in every environment: nothing to choose between, nothing to fall back on.
            expect(secrets.sort()).toEqual(["secrets.KUBECONFIG", "secrets.PULUMI_ACCESS_TOKEN"]);
            const pulumi = pulumiSteps(job)[0];
            expect(pulumi.env.KUBECONFIG).toBe("${{ runner.temp }}/kubeconfig");
        }
        // Only the jobs with an environment read a kubeconfig.
        for (const job of Object.keys(workflow.jobs).filter((j) => !["preview", "up"].includes(j))) {
            expect([job, expressions(job).filter((e) => /secrets\./.test(e))]).toEqual([job, []]);
        }
    });

    it("fails a job whose environment lacks its kubeconfig, naming the secret and the environment", () => {
        for (const [job, environment] of [
            ["preview", "${{ matrix.stack }}-preview"],
            ["up", "${{ matrix.stack }}"],
        ]) {
            const step = workflow.jobs[job].steps.find((s: any) => s.name === "kubeconfig");
            expect(step.run).toContain('if [ -z "$KUBECONFIG_CONTENT" ]; then');
            expect(step.run).toContain(`echo "::error::the ${environment} environment has no KUBECONFIG secret"`);
            expect(step.run).toContain("exit 1");
        }
    });

    it("shows the EKS and GKE credentials steps as alternatives", () => {
        expect(text).toContain("# - uses: aws-actions/configure-aws-credentials@v4");
        expect(text).toContain('# - run: aws eks update-kubeconfig --name "${{ vars.EKS_CLUSTER }}"');
        expect(text).toContain("# - uses: google-github-actions/get-gke-credentials@v2");
    });

    it("checks the plugin locks against the update center on every push and every week", () => {
        expect(workflow.on.schedule).toEqual([{ cron: expect.any(String) }]);
        const steps = workflow.jobs["plugin-locks"].steps.map((st: any) => st.run).filter(Boolean);
        expect(steps).toContain("npm ci && npm run plugins:lock -- --check");
        expect(workflow.jobs.test.if).toBe("github.event_name != 'schedule'");
    });

    it("runs pulumi up on merges to main in the deploy list's order, dev first, one at a time, stopping at a failure", () => {
        expect(workflow.jobs.up.if).toContain("refs/heads/main");
        expect(workflow.jobs.up.strategy).toMatchObject({ "max-parallel": 1, "fail-fast": true });
        const order = workflow.jobs.up.strategy.matrix.stack;
        expect(order).toEqual([...EXAMPLE_STACKS]);
        expect(order[0]).toBe("dev");
        // Every stack it names has a stack file; the previews and renders cover the same list.
        expect(order.filter((st: string) => !listStacks().includes(st))).toEqual([]);
        expect(workflow.jobs.preview.strategy.matrix.stack).toEqual(order);
        expect(workflow.jobs.render.strategy.matrix.stack).toEqual(order);
        expect(pulumiSteps("up")[0].with).toMatchObject({ command: "up", policyPacks: "policy" });
    });

    it("tests (the README's command) and lints before the rest", () => {
        const runs = workflow.jobs.test.steps.map((s: any) => s.run).filter(Boolean);
        expect(runs).toEqual(["npm ci && npm test", "npm run lint"]);
        for (const job of ["preview", "up", "render", "cluster"]) expect(workflow.jobs[job].needs).toBe("test");
    });

    it("runs the cluster tier on a kind cluster, with the kubeconfig it made, and says truly why prod stays out", () => {
        const job = workflow.jobs.cluster;
        expect(job.steps.some((s: any) => String(s.uses).startsWith("helm/kind-action@"))).toBe(true);
        const tier = job.steps.find((s: any) => s.run === "npm run test:cluster");
        expect(tier.env.KUBECONFIG).toBe("${{ runner.temp }}/kubeconfig");
        expect(job.steps.map((s: any) => s.run)).toContain(
            'kind get kubeconfig --name jenkins-k8s > "$RUNNER_TEMP/kubeconfig"',
        );
        const prod = settingsFrom(readStackConfig("prod")).storage;
        expect(prod.mode).not.toBe("nfs");
        expect(text).toContain(`storage class (${prod.mode === "dynamic" ? prod.storageClass : ""})`);
        expect(text).not.toMatch(/prod[^\n]*NFS/);
    });

    it("uses only inputs pulumi/actions has", () => {
        for (const job of ["preview", "up"]) {
            for (const step of pulumiSteps(job)) {
                expect(Object.keys(step.with).filter((k) => !ACTION_INPUTS.has(k))).toEqual([]);
            }
        }
    });

    it("documents every secret and variable it uses", () => {
        const body = text.split("\nname:")[1];
        const used = new Set(
            [...body.replace(/^\s*#.*$/gm, "").matchAll(/\b(secrets|vars)\.([A-Z_]+)/g)].map((m) => m[2]),
        );
        const header = text.split("\nname:")[0];
        for (const name of used) {
            expect([name, header.includes(name)]).toEqual([name, true]);
        }
        expect(used).toEqual(new Set(["PULUMI_ACCESS_TOKEN", "KUBECONFIG", "PULUMI_ORG"]));
    });
});
