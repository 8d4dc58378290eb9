// The code's shape, held: folders depend on one another in one direction (madge finds file cycles
// in `npm run lint`; this finds the folder cycles it cannot see).
import madge from "madge";
import * as path from "path";
import { ROOT } from "../tools/stackConfig";

/** A file's top folder ("." for the root's files). */
const folderOf = (file: string) => (file.includes("/") ? file.split("/")[0] : ".");

describe("the program's folders", () => {
    it("depend on one another in one direction: config <- plugins, jcasc <- components <- preflight <- index.ts", async () => {
        const graph = (
            await madge(ROOT, {
                fileExtensions: ["ts"],
                tsConfig: path.join(ROOT, "tsconfig.json"),
                excludeRegExp: [/node_modules/, /^render\//, /^tests\//, /^tools\//, /^examples\//],
            })
        ).obj();
        const edges = new Map<string, Set<string>>();
        for (const [file, deps] of Object.entries(graph)) {
            for (const dep of deps) {
                const [from, to] = [folderOf(file), folderOf(dep)];
                if (from !== to) edges.set(from, new Set([...(edges.get(from) ?? []), to]));
            }
        }
        // Every folder reachable from itself through another is a cycle.
        const reach = (from: string, seen = new Set<string>()): Set<string> => {
            for (const to of edges.get(from) ?? []) {
                if (!seen.has(to)) {
                    seen.add(to);
                    reach(to, seen);
                }
            }
            return seen;
        };
        const cycles = [...edges.keys()].filter((f) => reach(f).has(f));
        expect(cycles).toEqual([]);
        // What the test looks at: the folders it found, so an empty graph does not pass.
        expect([...edges.keys()].sort()).toEqual([".", "components", "config", "jcasc", "plugins", "preflight"]);
    }, 60_000);
});
