// `npm run build`: compiles the program to bin/ (what `pulumi up` runs: Pulumi.yaml's main), copies
// the shell scripts the controller pod runs, and records a hash of every source it was built from,
// so a stale bin/ refuses to run (components/buildCheck.ts) instead of deploying old code.
"use strict";
const { execFileSync } = require("child_process");
const { createHash } = require("crypto");
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
// Another output directory (the tests build into a scratch one) may be given as the argument.
const BIN = path.resolve(ROOT, process.argv[2] ?? "bin");

/** Source files the build depends on, relative to the root, in a stable order. */
function sources() {
    const out = ["index.ts"];
    const walk = (rel) => {
        for (const entry of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
            const child = path.posix.join(rel, entry.name);
            if (entry.isDirectory()) {
                walk(child);
            } else {
                out.push(child);
            }
        }
    };
    walk("components");
    return out.sort();
}

fs.rmSync(BIN, { recursive: true, force: true });
execFileSync(
    process.execPath,
    [require.resolve("typescript/bin/tsc"), "-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", BIN],
    { stdio: "inherit" },
);
fs.cpSync(path.join(ROOT, "components", "scripts"), path.join(BIN, "components", "scripts"), { recursive: true });
const hashes = Object.fromEntries(
    sources().map((f) => [
        f,
        createHash("sha256")
            .update(fs.readFileSync(path.join(ROOT, f)))
            .digest("hex"),
    ]),
);
fs.writeFileSync(path.join(BIN, "sources.json"), JSON.stringify(hashes, null, 2) + "\n");
console.log(`${path.relative(ROOT, BIN)}/: built from ${Object.keys(hashes).length} source files`);
