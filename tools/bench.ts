// `npm run bench`: what running the program costs, measured under Pulumi's mock runtime.
//   floor        a fresh node process loading @pulumi/pulumi, @pulumi/kubernetes and @pulumi/random
//   precompiled  a fresh node process evaluating the dev stack, the program transpiled to JS first
//   loader       the same from the TypeScript sources through Pulumi.yaml's nodeargs (sucrase's
//                require hook): what `pulumi up` runs, with no build step
//                (each child evaluates dev, then prod, the largest stack: its time is flagged when
//                it is more than 20 % above the baseline BENCHMARKS.md records)
//   scaling      warm, in-process evaluation of 1 to 200 pod templates
//   install      controller/install-plugins.sh against a local download server (installBench.ts)
//   suite        the unit suite's wall time
//
//   npm run bench [-- --reps N] [--no-jest] [--no-install]
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "child_process";
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync, mkdirSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { parseArgs } from "util";
import { parse } from "yaml";
import { evaluate } from "./evaluate";
import { readStackConfig, ROOT } from "./stackConfig";
import { LOCK_DIR } from "../plugins/lock";
import { KEYS } from "../config/keys";
import { installBench } from "./installBench";

const MARKER = "BENCH ";

const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** A child script that times its phases and reports them on one marked line. */
function childScript(body: string): string {
    return `const t0 = performance.now();
const phases = {};
const mark = (name, since) => { phases[name] = performance.now() - since; return performance.now(); };
Promise.resolve().then(async () => { ${body} }).then(
    () => process.stdout.write(${JSON.stringify(MARKER)} + JSON.stringify(phases) + "\\n"),
    (err) => { console.error(err); process.exit(1); },
);`;
}

const SDKS = childScript(`
    let t = t0;
    require("@pulumi/pulumi"); require("@pulumi/kubernetes"); require("@pulumi/random");
    mark("load SDKs", t);`);

/** Evaluates the dev stack, then prod, with the program and tools found under `root`. */
const evaluateStacks = (root: string) =>
    childScript(`
    let t = t0;
    const { evaluate } = require(${JSON.stringify(path.join(root, "tools", "evaluate"))});
    const { readStackConfig } = require(${JSON.stringify(path.join(root, "tools", "stackConfig"))});
    require(${JSON.stringify(path.join(root, "index"))});
    t = mark("load program and SDKs", t);
    const e = await evaluate(readStackConfig("dev"), { stack: "dev" });
    if (e.resources.length === 0) throw new Error("nothing registered");
    t = mark("evaluate dev", t);
    const p = await evaluate(readStackConfig("prod"), { stack: "prod" });
    if (p.resources.length === 0) throw new Error("nothing registered");
    mark("evaluate prod", t);`);

interface Run {
    wall: number;
    phases: Record<string, number>;
}

function runChild(nodeArgs: string[], script: string): Run {
    const start = performance.now();
    const res = spawnSync(process.execPath, [...nodeArgs, "-e", script], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: "" },
    });
    const line = res.stdout.split("\n").find((l) => l.startsWith(MARKER));
    if (res.status !== 0 || !line) {
        throw new Error(`bench child failed (exit ${res.status})\n${res.stderr}`);
    }
    return { wall: performance.now() - start, phases: JSON.parse(line.slice(MARKER.length)) as Record<string, number> };
}

/** The project transpiled to JS (tsconfig's files and options) in a scratch copy of the repo. */
export function precompile(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "jenkins-k8s-bench-"));
    const config = ts.getParsedCommandLineOfConfigFile(
        path.join(ROOT, "tsconfig.json"),
        {},
        {
            ...ts.sys,
            onUnRecoverableConfigFileDiagnostic: (d) => {
                throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
            },
        },
    )!;
    const copy = (rel: string) => {
        const dst = path.join(dir, rel);
        mkdirSync(path.dirname(dst), { recursive: true });
        const text = readFileSync(path.join(ROOT, rel), "utf8");
        writeFileSync(
            rel.endsWith(".ts") ? dst.replace(/\.ts$/, ".js") : dst,
            rel.endsWith(".ts")
                ? ts.transpileModule(text, { compilerOptions: { ...config.options, noEmit: false } }).outputText
                : text,
        );
    };
    const walk = (rel: string): void => {
        for (const e of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
            if (e.isDirectory()) {
                walk(path.join(rel, e.name));
            } else {
                copy(path.join(rel, e.name));
            }
        }
    };
    // Every source tsconfig includes (so a new folder is never missed), the JSON data beside
    // them (imported through resolveJsonModule), the schemas the program checks JCasC with, the
    // pod's scripts and the plugin locks.
    config.fileNames.forEach((f) => copy(path.relative(ROOT, f)));
    for (const dir of new Set(config.fileNames.map((f) => path.dirname(path.relative(ROOT, f))))) {
        readdirSync(path.join(ROOT, dir))
            .filter((f) => f.endsWith(".json"))
            .forEach((f) => copy(path.join(dir, f)));
    }
    walk("schemas");
    walk("controller");
    walk(LOCK_DIR);
    readdirSync(ROOT)
        .filter((f) => /^Pulumi(\..+)?\.yaml$/.test(f))
        .forEach(copy);
    symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    return dir;
}

/** The node arguments Pulumi runs the program with (Pulumi.yaml's runtime options). */
function pulumiNodeArgs(): string[] {
    const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    return String(project.runtime?.options?.nodeargs ?? "")
        .split(/\s+/)
        .filter(Boolean);
}

async function scaling(): Promise<string[]> {
    const base = readStackConfig("dev");
    // The preview's warnings (the example lock is fixture-made) are not what is measured.
    pulumi.log.warn = () => Promise.resolve();
    const rows: string[] = [];
    let oneTemplate = 0;
    for (const n of [1, 10, 50, 200]) {
        const templates = Array.from({ length: n }, (_, i) => ({
            name: `t${i}`,
            labels: [`l${i}`],
            containers: [{ name: "maven", image: "maven:3.9.9-eclipse-temurin-21" }],
        }));
        const config = { ...base, "jenkins-k8s:podTemplates": JSON.stringify(templates) };
        await evaluate(config, { stack: "dev" }); // warm-up
        const times: number[] = [];
        for (let i = 0; i < 9; i++) {
            const t = performance.now();
            await evaluate(config, { stack: "dev" });
            times.push(performance.now() - t);
        }
        const m = median(times);
        oneTemplate ||= m;
        rows.push(
            `  ${String(n).padStart(3)} templates  ${fmt(m).padStart(6)} ms${n > 1 ? `  (+${((m - oneTemplate) / (n - 1)).toFixed(2)} ms a template)` : ""}`,
        );
    }
    return rows;
}

/** The prod evaluation the last recorded run measured: BENCHMARKS.md's `bench baseline` line. */
const BASELINE = /^bench baseline: evaluate prod (\d+(?:\.\d+)?) ms/m;

/** The prod evaluation against the baseline, flagged when it rose by more than 20 %. */
function evaluationFlag(prodMs: number): string {
    const recorded = BASELINE.exec(readFileSync(path.join(ROOT, "BENCHMARKS.md"), "utf8"));
    if (!recorded)
        return `  evaluate prod ${fmt(prodMs)} ms: BENCHMARKS.md records no baseline (a "bench baseline: evaluate prod N ms" line)`;
    const rise = prodMs / Number(recorded[1]) - 1;
    const percent = Math.round(rise * 100);
    return `  evaluate prod ${fmt(prodMs)} ms against ${recorded[1]} ms in BENCHMARKS.md (${percent > 0 ? "+" : ""}${percent} %)${
        rise > 0.2
            ? "   RISE OVER 20 %: find what made the program slower, or record the new baseline with the reason"
            : ""
    }`;
}

/** install-plugins.sh: 100 archives at 200 ms a request through a 20 MiB/s link, sequential and parallel. */
async function installFigures(): Promise<string[]> {
    const chosen = KEYS.pluginDownloads.default;
    const latencyMs = 200;
    const bandwidth = 20 * 2 ** 20;
    const r = await installBench({ plugins: 100, latencyMs, bandwidth, parallelism: [1, 4, chosen, 16] });
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const at = (p: number) => r.runs.find((x) => x.parallel === p)!;
    const ratio = at(chosen).wallMs / at(chosen).boundMs;
    const share = at(chosen).wallMs / at(1).wallMs;
    return [
        `plugin install (controller/install-plugins.sh): ${r.archives} archives, ${mib(r.totalBytes)} MiB (largest ${mib(r.largest)} MiB), ${latencyMs} ms before each response, one ${mib(bandwidth)} MiB/s link:`,
        ...r.runs.map(
            (x) =>
                `  parallel ${String(x.parallel).padStart(2)}${x.parallel === chosen ? " (default)" : "          "}  ${s(x.wallMs).padStart(8)}   bound ${s(x.boundMs).padStart(8)}   ratio ${(x.wallMs / x.boundMs).toFixed(2)}`,
        ),
        `  at the default: ${ratio.toFixed(2)} of the bound (target 1.5 or less), ${share.toFixed(2)} of the sequential time (target a third or less)${ratio > 1.5 || share > 1 / 3 ? "   MISSED" : ""}`,
        `  unchanged start (the lock installed, nothing downloaded or hashed): ${s(r.unchangedMs)}`,
    ];
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            reps: { type: "string", default: "7" },
            "no-jest": { type: "boolean", default: false },
            "no-install": { type: "boolean", default: false },
        },
    });
    const reps = Number(values.reps);
    if (!Number.isInteger(reps) || reps < 1 || reps > 100) {
        throw new Error(`--reps takes a whole number from 1 to 100 (got ${values.reps})`);
    }
    const compiled = precompile();
    try {
        const nodeArgs = pulumiNodeArgs();
        const cases: [string, string[], string][] = [
            ["floor (SDKs only)", [], SDKS],
            ["precompiled JS", [], evaluateStacks(compiled)],
            [`loader (${nodeArgs.join(" ")})`, nodeArgs, evaluateStacks(ROOT)],
        ];
        const runs: Run[][] = cases.map(() => []);
        cases.forEach(([, args, script]) => runChild(args, script)); // warm the file cache
        // Interleaved, so that load from elsewhere on the machine falls on every case alike.
        for (let i = 0; i < reps; i++) {
            cases.forEach(([, args, script], j) => runs[j].push(runChild(args, script)));
        }
        const walls = runs.map((r) => median(r.map((x) => x.wall)));
        console.log(`fresh node processes, median of ${reps} (ms wall):`);
        cases.forEach(([label], j) => {
            const phases = Object.keys(runs[j][0].phases)
                .map((k) => `${k} ${fmt(median(runs[j].map((r) => r.phases[k])))}`)
                .join(", ");
            console.log(`  ${label.padEnd(46)} ${fmt(walls[j]).padStart(6)}   ${phases}`);
        });
        console.log(
            `  loader / precompiled: ${(walls[2] / walls[1]).toFixed(2)}   loader / floor: ${(walls[2] / walls[0]).toFixed(2)}   precompiled / floor: ${(walls[1] / walls[0]).toFixed(2)}`,
        );
        console.log(evaluationFlag(median(runs[2].map((r) => r.phases["evaluate prod"]))));
    } finally {
        rmSync(compiled, { recursive: true, force: true });
    }
    console.log("\nwarm evaluation of the dev stack with N pod templates (median of 9):");
    (await scaling()).forEach((row) => console.log(row));
    if (!values["no-install"]) {
        console.log("");
        (await installFigures()).forEach((row) => console.log(row));
    }
    if (!values["no-jest"]) {
        const start = performance.now();
        const res = spawnSync("npx", ["jest", "--silent"], { cwd: ROOT, encoding: "utf8" });
        const summary = `${res.stdout}\n${res.stderr}`.split("\n").find((l) => /passed, \d+ failed/.test(l));
        console.log(
            `\nunit suite: ${((performance.now() - start) / 1000).toFixed(1)} s wall (${summary ?? `exit ${res.status}`})`,
        );
    }
}

if (require.main === module) {
    main().then(
        () => process.exit(0),
        (err) => {
            console.error(err instanceof Error ? err.message : err);
            process.exit(1);
        },
    );
}
