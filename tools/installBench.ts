// The plugin-install figure of `npm run bench`: controller/install-plugins.sh, run as the init
// container runs it, against a download server on 127.0.0.1 that behaves like a remote one.
//
// - N synthetic archives whose sizes are drawn from a log-normal distribution (median 200 KiB,
//   sigma 1.2, so a mean near 400 KiB and a few archives of several MiB), from a fixed seed so
//   every run serves the same bytes. The shape is a model of the update center's plugin archives
//   (most are small, a few such as the Kubernetes client or the AWS SDKs are large), not a sample.
// - Every request waits LATENCY before its first byte (the round trips and the update center's
//   redirect); the bytes of all transfers together go through one link of BANDWIDTH.
// - The bound no client can beat is max(N x latency / parallelism, total bytes / bandwidth); each
//   run is printed against it.
import { spawn } from "child_process";
import { createHash } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import * as http from "http";
import { once } from "events";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./stackConfig";

export interface InstallBenchOptions {
    plugins: number;
    latencyMs: number;
    /** Bytes a second through the one shared link. */
    bandwidth: number;
    parallelism: number[];
}

export interface InstallRun {
    parallel: number;
    wallMs: number;
    boundMs: number;
}

export interface InstallBench {
    archives: number;
    totalBytes: number;
    largest: number;
    runs: InstallRun[];
    /** A start with the lock already installed (the manifest path: nothing downloaded or hashed). */
    unchangedMs: number;
}

/** mulberry32: a small seeded generator, so the archive sizes are the same on every run. */
function seeded(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** Log-normal sizes (Box-Muller), median 200 KiB, sigma 1.2, kept within 8 KiB-32 MiB. */
export function archiveSizes(n: number, seed = 24): number[] {
    const random = seeded(seed);
    return Array.from({ length: n }, () => {
        const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        return Math.round(Math.min(32 << 20, Math.max(8 << 10, 200 * 1024 * Math.exp(1.2 * z))));
    });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Serves the archives with a first-byte latency and one shared link of `bandwidth` bytes a second. */
async function downloadServer(
    archives: Map<string, Buffer>,
    latencyMs: number,
    bandwidth: number,
): Promise<{ url: string; close: () => Promise<void> }> {
    const CHUNK = 64 * 1024;
    // When the link is next free: each chunk books its share of it, whoever sends it.
    let linkFree = 0;
    const server = http.createServer((req, res) => {
        void (async () => {
            await sleep(latencyMs);
            const body = archives.get(req.url ?? "");
            if (!body) {
                res.writeHead(404).end();
                return;
            }
            res.writeHead(200, { "Content-Length": body.length, "Content-Type": "application/java-archive" });
            for (let off = 0; off < body.length; off += CHUNK) {
                const chunk = body.subarray(off, off + CHUNK);
                const now = performance.now();
                linkFree = Math.max(linkFree, now) + (chunk.length / bandwidth) * 1000;
                if (linkFree - now >= 1) await sleep(linkFree - now);
                if (!res.write(chunk)) await once(res, "drain");
            }
            res.end();
        })();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

/** Runs install-plugins.sh to the end; rejects with its output when it fails. */
function install(env: NodeJS.ProcessEnv): Promise<number> {
    const start = performance.now();
    const child = spawn("sh", [path.join(ROOT, "controller", "install-plugins.sh")], {
        env: { PATH: process.env.PATH, ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    return new Promise((resolve, reject) =>
        child.on("close", (code) =>
            code === 0
                ? resolve(performance.now() - start)
                : reject(new Error(`install-plugins.sh exited ${code}:\n${output.slice(-2000)}`)),
        ),
    );
}

export async function installBench(o: InstallBenchOptions): Promise<InstallBench> {
    const sizes = archiveSizes(o.plugins);
    const archives = new Map<string, Buffer>();
    const lock: string[] = [];
    sizes.forEach((size, i) => {
        const name = `bench-plugin-${String(i).padStart(3, "0")}`;
        const file = `plugins/${name}/1.0/${name}.hpi`;
        const body = Buffer.alloc(size, `${name} `);
        archives.set(`/${file}`, body);
        lock.push(`${name} 1.0 ${createHash("sha256").update(body).digest("hex")} ${file}`);
    });
    const totalBytes = sizes.reduce((a, b) => a + b, 0);
    const server = await downloadServer(archives, o.latencyMs, o.bandwidth);
    const dir = mkdtempSync(path.join(os.tmpdir(), "jenkins-k8s-install-bench-"));
    try {
        const lockFile = path.join(dir, "plugins.lock");
        writeFileSync(lockFile, `# a bench lock\n${lock.join("\n")}\n`);
        const envFor = (home: string, parallel: number) => ({
            LOCK_FILE: lockFile,
            JENKINS_HOME: home,
            PLUGIN_SOURCES: server.url,
            PARALLEL: String(parallel),
            WORK: dir,
        });
        const runs: InstallRun[] = [];
        let home = "";
        for (const parallel of o.parallelism) {
            home = mkdtempSync(path.join(dir, "home-"));
            const wallMs = await install(envFor(home, parallel));
            const boundMs = Math.max((o.plugins * o.latencyMs) / parallel, (totalBytes / o.bandwidth) * 1000);
            runs.push({ parallel, wallMs, boundMs });
        }
        const unchangedMs = await install(envFor(home, o.parallelism[o.parallelism.length - 1]));
        return { archives: o.plugins, totalBytes, largest: Math.max(...sizes), runs, unchangedMs };
    } finally {
        await server.close();
        rmSync(dir, { recursive: true, force: true });
    }
}
