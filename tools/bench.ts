// Benchmarks for the program under Pulumi's mock runtime. One run prints:
//   (a)  loading @pulumi/pulumi + @pulumi/kubernetes + @pulumi/random alone, in a fresh node process;
//   (b)  evaluating the dev stack (tools/evaluate.ts) in a fresh node process, the program
//        precompiled to plain JS as `npm run build` makes it for `pulumi up`, and b/a;
//   (b') the same under ts-node (how the tests and the render run it), and b'/a;
//   (c)  warm, in-process evaluation time for 1, 10, 50 and 200 pod templates (plus deploy
//        namespaces, which are RoleBindings), resources registered per second and growth factors;
//   and the unit suite's wall time.
//
//   npm run bench [-- --reps N] [--no-jest] [--profile]
//
// --reps N     repetitions per figure (median reported; default 5)
// --no-jest    skip the unit suite
// --profile    also CPU-profile one cold (b) child and 20 warm evaluations, and print what dominates
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as inspector from "inspector";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import * as v8 from "v8";
import * as vm from "vm";
import { evaluate } from "./evaluate";
import { readStackConfig, ROOT } from "./stackConfig";

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
    reps: number;
    jest: boolean;
    profile: boolean;
}

function parseArgs(argv: string[]): Options {
    const opts: Options = { reps: 5, jest: true, profile: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--reps" || arg.startsWith("--reps=")) {
            const value = arg.includes("=") ? arg.split("=")[1] : argv[++i];
            const n = Number(value);
            if (!Number.isInteger(n) || n < 1 || n > 100) {
                throw new Error(`--reps takes a whole number from 1 to 100 (got ${value})`);
            }
            opts.reps = n;
        } else if (arg === "--no-jest") {
            opts.jest = false;
        } else if (arg === "--profile") {
            opts.profile = true;
        } else if (arg === "--help" || arg === "-h") {
            console.log("usage: npm run bench [-- --reps N] [--no-jest] [--profile]");
            process.exit(0);
        } else {
            throw new Error(`unknown argument ${arg} (usage: npm run bench [-- --reps N] [--no-jest] [--profile])`);
        }
    }
    return opts;
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const spread = (xs: number[]): string => `${ms(Math.min(...xs))}–${ms(Math.max(...xs))}`;

function table(header: string[], rows: string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
        cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)]
        .map((l) => `  ${l}`)
        .join("\n");
}

function section(title: string): void {
    console.log(`\n${title}`);
}

// ---------------------------------------------------------------------------------------------
// Fresh-process measurements

/** What a child prints on its last line, after the marker. */
interface ChildReport {
    /** ms from process start to the first line of the child script (node's own bootstrap). */
    boot: number;
    /** Named phases, ms, measured inside the child. */
    phases: Record<string, number>;
    /** CPU time of the whole child (user + system, all threads), ms. */
    cpu: number;
    /** Peak resident set, MB. */
    rss: number;
    resources?: number;
}

interface ChildRun extends ChildReport {
    /** Wall time from spawn to exit, measured by this process, ms. */
    wall: number;
}

const MARKER = "BENCH-REPORT ";

const REPORT_FN = `
function report(phases, extra) {
    const cpu = process.cpuUsage();
    const r = Object.assign({ boot: BOOT, phases, cpu: (cpu.user + cpu.system) / 1000, rss: process.resourceUsage().maxRSS / 1024 }, extra || {});
    process.stdout.write(${JSON.stringify(MARKER)} + JSON.stringify(r) + "\\n");
}`;

const req = (p: string) => `require(${JSON.stringify(p)})`;

/** (a): the three SDKs' top-level modules, nothing else. */
function sdkScript(): string {
    return `const BOOT = performance.now();
${REPORT_FN}
const t0 = performance.now();
${req(require.resolve("@pulumi/pulumi"))};
${req(require.resolve("@pulumi/kubernetes"))};
${req(require.resolve("@pulumi/random"))};
report({ "load SDKs": performance.now() - t0 });`;
}

/**
 * (b) and (b'): load the evaluator and the program, then evaluate the dev stack once. With
 * `tsNode`, ts-node is registered first (transpileOnly, as `npm run bench`/`render` run) and the
 * sources are in `root`; without, `root` holds the program transpiled to JS.
 */
function evalScript(root: string, tsNode: boolean): string {
    return `const BOOT = performance.now();
${REPORT_FN}
const t0 = performance.now();
${tsNode ? `${req(require.resolve("ts-node"))}.register({ transpileOnly: true });` : ""}
const t1 = performance.now();
const { evaluate } = ${req(path.join(root, "tools", "evaluate"))};
const { readStackConfig } = ${req(path.join(root, "tools", "stackConfig"))};
${req(path.join(root, "index"))};
const t2 = performance.now();
evaluate(readStackConfig("dev"), { stack: "dev" }).then(
    (e) => {
        const t3 = performance.now();
        if (e.duplicateUrns.length > 0) throw new Error("duplicate URNs: " + e.duplicateUrns.join(", "));
        report(Object.assign(${tsNode ? `{ "ts-node register": t1 - t0 }` : "{}"}, { "load program + SDKs": t2 - t1, "evaluate dev": t3 - t2 }), { resources: e.resources.length });
    },
).catch((err) => { console.error(err); process.exit(1); });`;
}

function runChild(script: string, label: string, nodeArgs: string[] = []): ChildRun {
    const start = process.hrtime.bigint();
    const res = spawnSync(process.execPath, [...nodeArgs, "-e", script], {
        cwd: ROOT,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NODE_OPTIONS: "" },
    });
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    const line = (res.stdout ?? "")
        .split("\n")
        .reverse()
        .find((l) => l.startsWith(MARKER));
    if (res.status !== 0 || !line) {
        throw new Error(`${label}: child failed (exit ${res.status ?? res.signal})\n${res.stderr}\n${res.stdout}`);
    }
    return { wall, ...(JSON.parse(line.slice(MARKER.length)) as ChildReport) };
}

/**
 * Runs each script `reps` times, interleaved (a, b, b', a, b, b', ...) so that load from other
 * processes on the machine falls on every figure alike. One uncounted warm-up run each first.
 */
function repeatInterleaved(scripts: { script: string; label: string }[], reps: number): ChildRun[][] {
    const runs: ChildRun[][] = scripts.map(() => []);
    for (const { script, label } of scripts) {
        runChild(script, label); // warm the OS file cache; not counted
    }
    for (let i = 0; i < reps; i++) {
        scripts.forEach(({ script, label }, j) => runs[j].push(runChild(script, label)));
    }
    return runs;
}

interface Summary {
    wall: number[];
    cpu: number[];
    rss: number[];
    phases: Record<string, number[]>;
    boot: number[];
    resources?: number;
}

function summarize(runs: ChildRun[]): Summary {
    const phases: Record<string, number[]> = {};
    for (const r of runs) {
        for (const [k, v] of Object.entries(r.phases)) {
            (phases[k] ??= []).push(v);
        }
    }
    return {
        wall: runs.map((r) => r.wall),
        cpu: runs.map((r) => r.cpu),
        rss: runs.map((r) => r.rss),
        boot: runs.map((r) => r.boot),
        phases,
        resources: runs[0].resources,
    };
}

/**
 * The program transpiled to plain JS (tsconfig's options, no source maps) in a temporary
 * directory that mirrors the repo: what a precompiled deployment would run.
 */
function transpileProgram(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jenkins-k8s-bench-"));
    const parsed = ts.getParsedCommandLineOfConfigFile(
        path.join(ROOT, "tsconfig.json"),
        {},
        {
            ...ts.sys,
            onUnRecoverableConfigFileDiagnostic: (d) => {
                throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
            },
        },
    );
    const compilerOptions: ts.CompilerOptions = {
        ...(parsed?.options ?? {}),
        noEmit: false,
        sourceMap: false,
        inlineSourceMap: false,
        declaration: false,
    };
    const copy = (rel: string) => {
        const src = path.join(ROOT, rel);
        const dst = path.join(dir, rel);
        fs.mkdirSync(path.dirname(dst), { recursive: true });
        if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) {
            const out = ts.transpileModule(fs.readFileSync(src, "utf8"), { compilerOptions, fileName: src });
            fs.writeFileSync(dst.replace(/\.ts$/, ".js"), out.outputText);
        } else {
            fs.copyFileSync(src, dst);
        }
    };
    const walk = (rel: string) => {
        for (const entry of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
            const child = path.join(rel, entry.name);
            if (entry.isDirectory()) {
                walk(child);
            } else {
                copy(child);
            }
        }
    };
    copy("index.ts");
    walk("components");
    walk("tools");
    for (const f of fs.readdirSync(ROOT).filter((f) => /^Pulumi(\..+)?\.yaml$/.test(f))) {
        copy(f);
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    return dir;
}

// ---------------------------------------------------------------------------------------------
// Warm, in-process scaling

const PROJECT_KEY = (k: string) => `jenkins-k8s:${k}`;

/** The dev stack with `templates` pod templates and `namespaces` deploy namespaces. */
function scaledConfig(base: Record<string, string>, templates: number, namespaces: number): Record<string, string> {
    const list = Array.from({ length: templates }, (_, i) => ({
        name: `t${i}`,
        labels: [`l${i}`],
        // deployNamespaces is only meaningful with a template that deploys.
        ...(i === 0 && namespaces > 0 ? { deploy: true } : {}),
        containers: [{ name: "maven", image: "maven:3.9.9-eclipse-temurin-21" }],
    }));
    const config = { ...base, [PROJECT_KEY("podTemplates")]: JSON.stringify(list) };
    if (namespaces > 0) {
        config[PROJECT_KEY("deployNamespaces")] = JSON.stringify(
            Array.from({ length: namespaces }, (_, i) => `deploy-${i}`),
        );
    }
    return config;
}

interface Sample {
    wall: number;
    cpu: number;
    resources: number;
}

async function timeEvaluation(config: Record<string, string>): Promise<Sample> {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const e = await evaluate(config, { stack: "dev" });
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (e.duplicateUrns.length > 0) {
        throw new Error(`duplicate URNs: ${e.duplicateUrns.join(", ")}`);
    }
    return { wall, cpu: (c.user + c.system) / 1000, resources: e.resources.length };
}

interface Point {
    size: number;
    templates: number;
    namespaces: number;
    resources: number;
    wall: number[];
    cpu: number[];
}

async function measurePoint(
    base: Record<string, string>,
    size: number,
    templates: number,
    namespaces: number,
    reps: number,
): Promise<Point> {
    const config = scaledConfig(base, templates, namespaces);
    await timeEvaluation(config); // warm-up, not counted
    const samples: Sample[] = [];
    for (let i = 0; i < reps; i++) {
        samples.push(await timeEvaluation(config));
    }
    return {
        size,
        templates,
        namespaces,
        resources: samples[0].resources,
        wall: samples.map((s) => s.wall),
        cpu: samples.map((s) => s.cpu),
    };
}

function scalingTable(points: Point[], unit: string): string {
    const rows = points.map((p, i) => {
        const t = median(p.wall);
        const prev = i > 0 ? points[i - 1] : undefined;
        const growth = prev ? t / median(prev.wall) / (p.size / prev.size) : undefined;
        const marginal = prev ? (t - median(prev.wall)) / (p.size - prev.size) : undefined;
        return [
            String(p.size),
            String(p.templates),
            String(p.namespaces),
            String(p.resources),
            `${ms(t)} (${spread(p.wall)})`,
            ms(median(p.cpu)),
            ((p.resources / t) * 1000).toFixed(0),
            ms(t / p.size),
            marginal === undefined ? "" : ms(marginal),
            growth === undefined ? "" : growth.toFixed(2),
        ];
    });
    return table(
        [
            unit,
            "templates",
            "deployNs",
            "resources",
            "wall ms median (min–max)",
            "cpu ms",
            "res/s",
            `ms/${unit}`,
            `marginal ms/${unit}`,
            "growth",
        ],
        rows,
    );
}

/** A GC handle without needing --expose-gc on the command line. */
function gcHandle(): () => void {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    return () => {
        gc();
        gc();
    };
}

// ---------------------------------------------------------------------------------------------
// Profiles

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
}

interface CpuProfile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
}

function category(node: ProfileNode): string {
    const { url, functionName } = node.callFrame;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    if (pkg === "typescript") {
        return "typescript (ts-node transpiling the program)";
    }
    if (pkg === "@cspotcode" || pkg === "@jridgewell" || url.includes("source-map")) {
        return "source-map-support (rewriting Error.stack)";
    }
    if (pkg === "ts-node" || pkg === "v8-compile-cache-lib") {
        return "ts-node";
    }
    if (pkg) {
        return pkg;
    }
    if (url.startsWith("node:")) {
        return "node internals (module loader, fs, url, ...)";
    }
    if (url.startsWith("file://") || url.startsWith("/")) {
        const rel = path.relative(ROOT, url.replace(/^file:\/\//, ""));
        return rel.startsWith("..") ? `other (${url})` : `program: ${rel}`;
    }
    if (functionName === "(garbage collector)") {
        return "garbage collector";
    }
    if (functionName === "(idle)") {
        return "idle";
    }
    return `native: ${functionName || "(anonymous)"}`;
}

function profileSummary(profile: CpuProfile, top = 12): string {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    const cats = new Map<string, number>();
    const fns = new Map<string, number>();
    let total = 0;
    for (const [id, us] of selfUs) {
        const node = byId.get(id);
        if (!node) {
            continue;
        }
        total += us;
        const cat = category(node);
        cats.set(cat, (cats.get(cat) ?? 0) + us);
        const f = node.callFrame;
        const where = f.url ? `${f.url.replace(/^file:\/\//, "").replace(`${ROOT}/`, "")}:${f.lineNumber + 1}` : "";
        const key = `${f.functionName || "(anonymous)"} ${where}`.trim();
        fns.set(key, (fns.get(key) ?? 0) + us);
    }
    const rank = (m: Map<string, number>, n: number) =>
        [...m]
            .sort((a, b) => b[1] - a[1])
            .slice(0, n)
            .map(([k, us]) => [k, ms(us / 1000), `${((us / total) * 100).toFixed(1)}%`]);
    return [
        `  sampled ${ms(total / 1000)} ms of CPU`,
        table(["self time by category", "ms", "share"], rank(cats, top)),
        "",
        table(["self time by function", "ms", "share"], rank(fns, top)),
    ].join("\n");
}

function profileColdChild(script: string): CpuProfile {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jenkins-k8s-prof-"));
    try {
        runChild(script, "profiled evaluation", ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval=250"]);
        const file = fs.readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
        if (!file) {
            throw new Error("no .cpuprofile written");
        }
        return JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as CpuProfile;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function profileWarm(config: Record<string, string>, evaluations: number): Promise<CpuProfile> {
    const session = new inspector.Session();
    session.connect();
    const post = (method: string, params?: object) =>
        new Promise<any>((resolve, reject) =>
            (session.post as (m: string, p: object | undefined, cb: (err: Error | null, res: unknown) => void) => void)(
                method,
                params,
                (err, res) => (err ? reject(err) : resolve(res)),
            ),
        );
    try {
        await post("Profiler.enable");
        await post("Profiler.setSamplingInterval", { interval: 250 });
        await post("Profiler.start");
        for (let i = 0; i < evaluations; i++) {
            await evaluate(config, { stack: "dev" });
        }
        const { profile } = (await post("Profiler.stop")) as { profile: CpuProfile };
        return profile;
    } finally {
        session.disconnect();
    }
}

// ---------------------------------------------------------------------------------------------
// Unit suite

interface JestRun {
    wall: number;
    status: number | null;
    summary: string;
}

function runJest(): JestRun {
    const jest = path.join(ROOT, "node_modules", "jest", "bin", "jest.js");
    const start = process.hrtime.bigint();
    const res = spawnSync(process.execPath, [jest, "--silent"], {
        cwd: ROOT,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    const out = `${res.stdout ?? ""}\n${res.stderr ?? ""}`;
    const pick = (label: string) => new RegExp(`^${label}:\\s+(.*)$`, "m").exec(out)?.[1]?.trim();
    const summary = [
        pick("Test Suites") && `suites: ${pick("Test Suites")}`,
        pick("Tests") && `tests: ${pick("Tests")}`,
    ]
        .filter(Boolean)
        .join("; ");
    return { wall, status: res.status, summary: summary || out.trim().split("\n").slice(-5).join(" | ") };
}

// ---------------------------------------------------------------------------------------------

const SIZES = [1, 10, 50, 200];

async function main(): Promise<void> {
    const opts = parseArgs(process.argv.slice(2));
    const started = performance.now();
    const cpus = os.cpus();
    console.log("jenkins-k8s benchmark");
    console.log(
        `  ${new Date().toISOString()}  node ${process.version}  ${os.platform()}/${os.arch()}  ` +
            `${cpus.length} cpu (${cpus[0]?.model.trim() ?? "?"})  load avg ${os
                .loadavg()
                .map((l) => l.toFixed(2))
                .join(" ")}`,
    );
    console.log(
        `  reps ${opts.reps} (median; min–max in parentheses); fresh-process runs interleaved a, b, b', after one uncounted warm-up run each`,
    );

    // (a), (b), (b') -------------------------------------------------------------------------
    const jsRoot = transpileProgram();
    let a: Summary;
    let b: Summary;
    let bjs: Summary;
    try {
        [a, b, bjs] = repeatInterleaved(
            [
                { script: sdkScript(), label: "(a) SDK load" },
                { script: evalScript(ROOT, true), label: "(b) dev evaluation" },
                { script: evalScript(jsRoot, false), label: "(b') dev evaluation, precompiled" },
            ],
            opts.reps,
        ).map(summarize);
    } finally {
        fs.rmSync(jsRoot, { recursive: true, force: true });
    }

    section("Fresh process: `node -e <script>`, wall time from spawn to exit (same node binary, no extra flags)");
    const rowsFresh = [
        ["(a)  require @pulumi/pulumi, @pulumi/kubernetes, @pulumi/random", a],
        ["(b)  load the precompiled program + evaluate dev (what pulumi up runs)", bjs],
        ["(b') same under ts-node (tests, render)", b],
    ] as const;
    console.log(
        table(
            ["figure", "wall ms", "min–max", "cpu ms", "peak RSS MB", "resources"],
            rowsFresh.map(([label, s]) => [
                label,
                ms(median(s.wall)),
                spread(s.wall),
                ms(median(s.cpu)),
                ms(median(s.rss)),
                s.resources === undefined ? "" : String(s.resources),
            ]),
        ),
    );
    const ratio = median(b.wall) / median(a.wall);
    const ratioJs = median(bjs.wall) / median(a.wall);
    console.log(`  ratio b/a  = ${ratioJs.toFixed(2)}   (target ≤ 1.5: ${ratioJs <= 1.5 ? "MET" : "NOT MET"})`);
    console.log(`  ratio b'/a = ${ratio.toFixed(2)}   (the same program under ts-node)`);
    console.log(
        `  by CPU time (less sensitive to other load on the machine): b/a ${(median(bjs.cpu) / median(a.cpu)).toFixed(2)}, ` +
            `b'/a ${(median(b.cpu) / median(a.cpu)).toFixed(2)}`,
    );
    console.log(
        "  (a) includes node bootstrap and the three packages' top-level modules (@pulumi/kubernetes loads its",
    );
    console.log(
        "      API groups lazily, so core/v1, apps/v1 and rbac/v1 are not in it). (b) includes node bootstrap,",
    );
    console.log(
        "      loading the program transpiled as the build does, the SDKs, the API groups the program touches,",
    );
    console.log(
        "      one evaluation of the dev stack, and process exit. (b') adds ts-node and the TypeScript compiler.",
    );

    section("Inside the children, medians (ms):");
    const phaseRows: string[][] = [["node bootstrap", ms(median(a.boot)), ms(median(bjs.boot)), ms(median(b.boot))]];
    const phaseNames = [...new Set([...Object.keys(a.phases), ...Object.keys(b.phases), ...Object.keys(bjs.phases)])];
    for (const name of phaseNames) {
        const cell = (s: Summary) => (s.phases[name] ? ms(median(s.phases[name])) : "");
        phaseRows.push([name, cell(a), cell(bjs), cell(b)]);
    }
    console.log(table(["phase", "(a)", "(b)", "(b')"], phaseRows));
    const evalCold = median(b.phases["evaluate dev"]);
    console.log(
        `  evaluate dev, cold, excluding module loading: ${ms(evalCold)} ms under ts-node, ${ms(median(bjs.phases["evaluate dev"]))} ms precompiled`,
    );

    // (c) ------------------------------------------------------------------------------------
    section(
        "(c) Warm evaluation in this process (ts-node --transpile-only, as `npm run bench` runs), dev stack + N templates",
    );
    const gc = gcHandle();
    const base = readStackConfig("dev");
    const dev = base;
    // Warm up the lazily loaded modules, then a baseline for the leak check.
    for (let i = 0; i < 3; i++) {
        await timeEvaluation(dev);
    }
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const driftBefore: number[] = [];
    for (let i = 0; i < opts.reps; i++) {
        driftBefore.push((await timeEvaluation(dev)).cpu);
    }
    let evaluations = opts.reps;

    const series = async (label: string, make: (n: number) => [number, number]): Promise<Point[]> => {
        const points: Point[] = [];
        for (const n of SIZES) {
            const [templates, namespaces] = make(n);
            points.push(await measurePoint(base, n, templates, namespaces, opts.reps));
            evaluations += opts.reps + 1;
        }
        console.log(`\n  ${label}`);
        return points;
    };
    const combined = await series("N templates and ceil(N/10) deploy namespaces (one RoleBinding each):", (n) => [
        n,
        Math.ceil(n / 10),
    ]);
    console.log(scalingTable(combined, "N"));
    const templatesOnly = await series(
        "N templates only (they all go into the one JCasC ConfigMap; no resource per template):",
        (n) => [n, 0],
    );
    console.log(scalingTable(templatesOnly, "N"));
    const namespacesOnly = await series(
        "N deploy namespaces only (1 template; one RoleBinding per namespace):",
        (n) => [1, n],
    );
    console.log(scalingTable(namespacesOnly, "N"));
    console.log(
        "  growth = (time ratio) / (size ratio) between consecutive rows: 1.00 = linear, < 1 = per-unit cost falling.",
    );
    console.log("  marginal = (time difference) / (size difference) between consecutive rows.");

    const driftAfter: number[] = [];
    for (let i = 0; i < opts.reps; i++) {
        driftAfter.push((await timeEvaluation(dev)).cpu);
    }
    evaluations += opts.reps;
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    console.log(
        `  leak check over ${evaluations} evaluations: heap after GC ${(heapBefore / 2 ** 20).toFixed(1)} → ${(heapAfter / 2 ** 20).toFixed(1)} MB ` +
            `(${((heapAfter - heapBefore) / 1024 / evaluations).toFixed(1)} KB/evaluation); dev evaluation cpu ${ms(median(driftBefore))} ms before, ` +
            `${ms(median(driftAfter))} ms after`,
    );

    // Attribution: the SDK captures a stack trace per resource and per output promise; under
    // ts-node, source-map-support rewrites every frame of each. Same evaluation without that hook.
    const withHook: number[] = [];
    const withoutHook: number[] = [];
    const errorCtor = Error as { prepareStackTrace?: unknown };
    const hook = errorCtor.prepareStackTrace;
    for (let i = 0; i < opts.reps; i++) {
        withHook.push((await timeEvaluation(dev)).cpu);
    }
    try {
        errorCtor.prepareStackTrace = undefined;
        for (let i = 0; i < opts.reps; i++) {
            withoutHook.push((await timeEvaluation(dev)).cpu);
        }
    } finally {
        errorCtor.prepareStackTrace = hook;
    }
    console.log(
        `  dev stack, warm: ${ms(median(withHook))} ms cpu as run (ts-node's source-map-support rewriting Error.stack), ` +
            `${ms(median(withoutHook))} ms cpu with V8's default Error.prepareStackTrace`,
    );

    const flat = (points: Point[]) => {
        const at = (n: number) => points.findIndex((p) => p.size === n);
        const growths = [at(50), at(200)].map(
            (i) => median(points[i].wall) / median(points[i - 1].wall) / (points[i].size / points[i - 1].size),
        );
        return { growths, ok: growths.every((g) => g <= 1.0) };
    };
    const flatC = flat(combined);
    const flatT = flat(templatesOnly);
    console.log(
        `  time per template flat from 10 to 200 (growth ≤ 1.00 for 10→50 and 50→200): ` +
            `combined ${flatC.growths.map((g) => g.toFixed(2)).join(", ")} ${flatC.ok ? "MET" : "NOT MET"}; ` +
            `templates only ${flatT.growths.map((g) => g.toFixed(2)).join(", ")} ${flatT.ok ? "MET" : "NOT MET"}`,
    );

    // Profiles -------------------------------------------------------------------------------
    if (opts.profile) {
        section("Profile: one cold (b) child, whole process (node --cpu-prof):");
        console.log(profileSummary(profileColdChild(evalScript(ROOT, true))));
        section("Profile: 20 warm evaluations of the dev stack in this process (inspector):");
        console.log(profileSummary(await profileWarm(dev, 20)));
    }

    // Unit suite -----------------------------------------------------------------------------
    section("Unit suite");
    if (opts.jest) {
        const j = runJest();
        console.log(
            `  node node_modules/jest/bin/jest.js --silent: ${(j.wall / 1000).toFixed(1)} s wall, exit ${j.status}  (${j.summary})`,
        );
    } else {
        console.log("  skipped (--no-jest)");
    }

    section("Summary");
    console.log(
        `  (a) SDK load ${ms(median(a.wall))} ms | (b) dev evaluation, precompiled ${ms(median(bjs.wall))} ms | b/a ${ratioJs.toFixed(2)} (target ≤ 1.5: ${ratioJs <= 1.5 ? "MET" : "NOT MET"}) | b'/a (ts-node) ${ratio.toFixed(2)}`,
    );
    console.log(
        `  (c) ${combined.map((p) => `${p.size}: ${ms(median(p.wall))} ms`).join(", ")} | flat 10→200: ${flatC.ok ? "MET" : "NOT MET"}`,
    );
    console.log(
        `  load avg at end ${os
            .loadavg()
            .map((l) => l.toFixed(2))
            .join(" ")}; bench took ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
}

main().then(
    () => process.exit(0),
    (err) => {
        console.error(err instanceof Error ? (err.stack ?? err.message) : err);
        process.exit(1);
    },
);
