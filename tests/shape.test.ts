// The code's shape, held: folders depend on one another in one direction (madge finds file cycles
// in `npm run lint`; this finds the folder cycles it cannot see), and a restructuring moves no
// resource of a deployed stack: every URN the example stacks had is still one, or an alias of one.
import madge from "madge";
import { readFileSync } from "fs";
import * as path from "path";
import { EXAMPLE_STACKS, ROOT } from "../tools/stackConfig";
import { runStack } from "./harness";

/** A file's top folder ("." for the root's files). */
const folderOf = (file: string) => (file.includes("/") ? file.split("/")[0] : ".");

describe("the program's folders", () => {
    it("depend on one another in one direction: index.ts, preflight, components, jcasc, plugins, config, policy, schemas", async () => {
        // Each folder may use only the folders after it.
        const order = [".", "preflight", "components", "jcasc", "plugins", "config", "policy", "schemas"];
        const graph = (
            await madge(ROOT, {
                fileExtensions: ["ts"],
                tsConfig: path.join(ROOT, "tsconfig.json"),
                excludeRegExp: [/node_modules/, /^render\//, /^tests\//, /^tools\//, /^examples\//],
            })
        ).obj();
        const edges = new Set<string>();
        for (const [file, deps] of Object.entries(graph)) {
            for (const dep of deps) {
                const [from, to] = [folderOf(file), folderOf(dep)];
                if (from !== to) edges.add(`${from} -> ${to}`);
            }
        }
        const against = [...edges].filter((edge) => {
            const [from, to] = edge.split(" -> ").map((f) => order.indexOf(f));
            return from < 0 || to < 0 || from > to;
        });
        expect(against).toEqual([]);
        // What the test looks at, so an empty graph does not pass.
        expect(edges).toContain("preflight -> components");
        expect(edges.size).toBeGreaterThan(8);
    }, 60_000);
});

describe.each([...EXAMPLE_STACKS])("the %s stack's URNs", (stack) => {
    // Recorded from the release before the tier resources were renamed; a resource added, removed
    // or renamed on purpose updates this list in the same commit.
    const recorded = new Set(
        readFileSync(path.join(__dirname, "fixtures", "urns", `${stack}.txt`), "utf8")
            .split("\n")
            .filter((line) => line !== ""),
    );

    it("are each still a resource's URN or an alias of one, so an update replaces nothing; a new URN is recorded", async () => {
        const resources = (await runStack(stack)).resources;
        const reached = new Set(resources.flatMap((r) => [r.urn, ...r.aliases]));
        expect([...recorded].filter((urn) => !reached.has(urn))).toEqual([]);
        const unrecorded = resources.filter((r) => ![r.urn, ...r.aliases].some((urn) => recorded.has(urn)));
        expect(unrecorded.map((r) => r.urn)).toEqual([]);
        // The build tier's resources took the tier's name, their old one as an alias.
        const renamed = resources.filter((r) => r.aliases.some((a) => recorded.has(a) && !a.endsWith(`::${r.name}`)));
        expect(renamed.map((r) => r.name).sort()).toEqual(
            expect.arrayContaining(["build-agent-namespace", "jenkins-build-agent", "jenkins-build-agent-egress"]),
        );
    }, 60_000);
});
