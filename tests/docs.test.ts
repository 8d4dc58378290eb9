// The README and docs/ hold to the code: the generated configuration reference, the diagrams, the
// layout, the template limits, the commands; the README stays short and leads a newcomer; every
// link resolves; nothing names the machine the project is developed on.
import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import { limitsOf, schemaDef } from "../config/checks";
import { templatesSchema } from "../config/podTemplates";
import { configTable, documentedTable } from "../tools/docs";
import { deployerRights, KINDS } from "../preflight/deployerRights";
import { settingsFrom } from "../config/settings";
import { ROOT } from "../tools/stackConfig";
import { runStack, Stack } from "./harness";

const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const README = read("README.md");
const DOCS = readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md"));

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchor = (heading: string) =>
    heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, "")
        .replace(/ /g, "-");

describe("README", () => {
    it("is short: 250 lines at most", () => {
        expect(README.split("\n").length).toBeLessThanOrEqual(250);
    });

    it("gives the two commands, set up and deploy, set up and test; and CI runs the test command", () => {
        expect(README).toContain(
            "npm ci && npm run plugins:lock -- --stack dev && pulumi stack select --create dev && pulumi up --stack dev",
        );
        expect(README).toContain("npm ci && npm test");
        expect(read(".ci/run")).toMatch(/npm ci[^\n]*\n(.*\n)*npm test/);
        // The deploy command keeps the user's Pulumi backend: no login that switches it.
        expect(README).not.toContain("pulumi login --local");
    });

    it("walks a newcomer from the clone to their own stack, and says where to read more", () => {
        for (const heading of ["## Deploy", "## Test", "## Your own stack", "## Check it works", "## Read more"]) {
            expect([heading, README.includes(heading)]).toEqual([heading, true]);
        }
        const linked = [...README.matchAll(/\]\(docs\/([\w-]+\.md)/g)].map((m) => m[1]);
        expect(DOCS.filter((d) => !linked.includes(d))).toEqual([]);
    });
});

describe("README and docs/", () => {
    const pages: [string, string][] = [
        ["README.md", README],
        ["BENCHMARKS.md", read("BENCHMARKS.md")],
        ...DOCS.map((d): [string, string] => [`docs/${d}`, read(`docs/${d}`)]),
    ];

    it.each(pages)("%s: every link to a file of the project, and its anchor, resolves", (file, text) => {
        const broken: string[] = [];
        for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
            if (/^(https?:|mailto:)/.test(target)) continue;
            const [to, hash] = target.split("#");
            const resolved = to === "" ? file : path.join(path.dirname(file), to);
            let content: string;
            try {
                content = read(resolved);
            } catch {
                broken.push(`${target}: no file ${resolved}`);
                continue;
            }
            if (hash && resolved.endsWith(".md")) {
                const anchors = [...content.matchAll(/^#+ (.*)$/gm)].map((m) => anchor(m[1]));
                if (!anchors.includes(hash)) broken.push(`${target}: no heading #${hash} in ${resolved}`);
            }
        }
        expect(broken).toEqual([]);
    });

    it.each(pages)("%s: names no path or word of the machine it was written on", (_file, text) => {
        expect(text).not.toMatch(/\.\.\/shared|\/work\/|realcluster|this machine/i);
    });
});

describe("docs/configuration.md", () => {
    const doc = read("docs/configuration.md");

    it("has the reference of every key, as generated from the config table (npm run docs:update)", () => {
        expect(documentedTable()).toEqual(configTable());
    });

    it("states every limit the reader enforces on a template field, in the podTemplates table", () => {
        const table = doc.slice(doc.indexOf("### `podTemplates`"));
        const fields = schemaDef(schemaDef(templatesSchema).element!).shape!;
        const unstated = Object.entries(fields).flatMap(([field, schema]) => {
            const limits = limitsOf(schemaDef(schema).innerType ?? schema);
            const row = table
                .split("\n")
                .find((line) => line.startsWith("| ") && line.split(" | ")[0].includes(`\`${field}\``));
            return limits && !row?.includes(limits.replace(/\|/g, "\\|")) ? [`${field}: ${limits}`] : [];
        });
        expect(unstated).toEqual([]);
    });
});

describe("docs/ci.md", () => {
    it("names every resource the deployer may need, as the preview asks for it", () => {
        const doc = read("docs/ci.md");
        const section = doc.slice(doc.indexOf("## What the deployer may need"));
        const prod = deployerRights(settingsFrom({ "jenkins-k8s:deployNamespaces": '["staging"]' }));
        const resources = new Set([
            ...Object.values(KINDS).map((k) => k.resource),
            ...[...prod.needed, ...prod.granted].map((r) => r.resource),
        ]);
        for (const resource of resources) {
            expect(section).toMatch(new RegExp(`\\b${resource.replace("/", "\\/")}\\b`));
        }
    });
});

describe("docs/architecture.md", () => {
    const doc = read("docs/architecture.md");
    let dev: Stack;
    beforeAll(async () => {
        dev = await runStack("dev");
    });

    it("has the architecture diagram, naming every component and object kind, and the build sequence", () => {
        const blocks = [...doc.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
        expect(blocks.map((b) => b.split("\n")[0])).toEqual(["flowchart LR", "sequenceDiagram"]);
        // The dev stack's kinds, and those only other settings create.
        const kinds = new Set(["PersistentVolume", "Ingress", "ServiceMonitor", "DaemonSet"]);
        for (const r of dev.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"))) {
            kinds.add(r.inputs.kind);
        }
        const components = ["JenkinsStorage", "JenkinsRbac", "JenkinsCloudConfig", "JenkinsMaster"];
        for (const name of [...components, ...kinds]) {
            expect([name, new RegExp(`\\b${name}\\b`).test(blocks[0])]).toEqual([name, true]);
        }
        for (const step of ["create pod", "connects", "delete the pod"]) {
            expect([step, blocks[1].includes(step)]).toEqual([step, true]);
        }
    });

    it("has a Layout that names every folder, and every source file of the program's folders", () => {
        const layout = /## Layout\n[\s\S]*?```\n([\s\S]*?)```/.exec(doc)![1];
        const folders = readdirSync(ROOT, { withFileTypes: true })
            .filter(
                (e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules" && e.name !== "render",
            )
            .map((e) => `${e.name}/`);
        const sources = [
            "config",
            "components",
            "preflight",
            "components/master",
            "jcasc",
            "controller",
            "tools",
            "policy",
            "docs",
        ].flatMap((dir) =>
            readdirSync(path.join(ROOT, dir))
                .filter((f) => /\.(ts|sh|md)$/.test(f) && !(dir === "policy" && f === "README.md"))
                .map((f) => (dir === "components/master" ? "master/" : f)),
        );
        const missing = [...folders, "index.ts", ...sources].filter((name) => !layout.includes(name));
        expect(missing).toEqual([]);
    });
});
