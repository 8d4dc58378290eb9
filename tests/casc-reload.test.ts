// Runs the real JCasC reload sidecar script with a fake `curl` (records every
// call, exit code read from a file) and a fake `sleep` first on PATH. The fake
// sleep is the clock: on its k-th call it runs the action scripted for k, so a
// "kubelet update" of the mounted ConfigMap lands exactly between check k-1 and
// check k. Nothing waits on real time and nothing touches the network.
// Long by design: each reload case scripts the fake clock step by step.
import { createHash } from "crypto";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.resolve(__dirname, "..", "controller", "casc-reload.sh");
const JENKINS_URL = "http://jenkins.test:8080";
const ENDPOINT = `${JENKINS_URL}/reload-configuration-as-code/`;

// Records its argv (tab-separated, one invocation per line); exits with the code
// in $FAKE/curl.rc (0 when absent) and, on failure, complains like curl -sS does.
const FAKE_CURL = `#!/bin/sh
printf '%s\\t' "$@" >>"$FAKE/curl.log"
printf '\\n' >>"$FAKE/curl.log"
rc=$(cat "$FAKE/curl.rc" 2>/dev/null || echo 0)
if [ "$rc" -ne 0 ]; then
  echo "curl: (22) The requested URL returned error: 503" >&2
fi
exit "$rc"
`;

// Returns at once. Counts its calls, logs its argument, and on call k runs
// $FAKE/actions/k.sh (if any); a failing action is recorded for the test to see.
const FAKE_SLEEP = `#!/bin/sh
n=$(( $(cat "$FAKE/sleep.count" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$FAKE/sleep.count"
printf '%s\\n' "$*" >>"$FAKE/sleep.log"
if [ -f "$FAKE/actions/$n.sh" ]; then
  sh -eu "$FAKE/actions/$n.sh" || echo "action $n failed" >>"$FAKE/action-errors"
fi
exit 0
`;

interface Run {
    status: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

interface Curl {
    args: string[];
    url: string;
}

let tmp: string;
let fake: string; // $FAKE: logs, counters, actions, prepared contents
let cascDir: string; // the ConfigMap volume mount
let cascFile: string; // $CASC_DIR/jenkins.yaml -> ..data/jenkins.yaml
let tokenFile: string;
let seq: number;

const CONFIG_A = 'jenkins:\n  systemMessage: "version A"\n  numExecutors: 0\n';
const CONFIG_B = 'jenkins:\n  systemMessage: "version B"\n  numExecutors: 0\n';
const CONFIG_C = 'jenkins:\n  systemMessage: "version C"\n  numExecutors: 0\n';

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

function writeExecutable(file: string, content: string): void {
    fs.writeFileSync(file, content);
    fs.chmodSync(file, 0o755);
}

/** Keeps `content` in a file the shell actions can copy from; returns its path. */
function prepared(content: string): string {
    const file = path.join(fake, "contents", `${++seq}`);
    fs.writeFileSync(file, content);
    return file;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The kubelet's ConfigMap update, as a shell snippet: the new content goes into a
 * fresh timestamped dir, `..data` is swapped to it atomically (rename of a
 * symlink), and the previous dir is removed. `jenkins.yaml` itself never changes.
 */
function kubeletUpdate(content: string): string {
    const src = prepared(content);
    const dir = `..2025_01_01_00_00_${String(++seq).padStart(2, "0")}`;
    return [
        `old=$(readlink ${q(path.join(cascDir, "..data"))})`,
        `mkdir ${q(path.join(cascDir, dir))}`,
        `cp ${q(src)} ${q(path.join(cascDir, dir, "jenkins.yaml"))}`,
        `ln -s ${q(dir)} ${q(path.join(cascDir, "..data_tmp"))}`,
        `mv -T ${q(path.join(cascDir, "..data_tmp"))} ${q(path.join(cascDir, "..data"))}`,
        `rm -rf ${q(cascDir)}/"$old"`,
    ].join("\n");
}

/** Creates the mount as the kubelet leaves it, holding `content`. */
function mountConfigMap(content: string): void {
    fs.mkdirSync(cascDir, { recursive: true });
    const dir = "..2025_01_01_00_00_00";
    fs.mkdirSync(path.join(cascDir, dir));
    fs.writeFileSync(path.join(cascDir, dir, "jenkins.yaml"), content);
    fs.symlinkSync(dir, path.join(cascDir, "..data"));
    fs.symlinkSync(path.join("..data", "jenkins.yaml"), cascFile);
}

/** Shell snippet that makes the mounted file appear (first mount of the ConfigMap). */
function kubeletFirstMount(content: string): string {
    const src = prepared(content);
    const dir = "..2025_01_01_00_00_00";
    return [
        `mkdir -p ${q(path.join(cascDir, dir))}`,
        `cp ${q(src)} ${q(path.join(cascDir, dir, "jenkins.yaml"))}`,
        `ln -s ${q(dir)} ${q(path.join(cascDir, "..data"))}`,
        `ln -s ..data/jenkins.yaml ${q(cascFile)}`,
    ].join("\n");
}

function rotateToken(token: string): string {
    return `cp ${q(prepared(token))} ${q(tokenFile)}`;
}

function curlExits(code: number): string {
    return `echo ${code} >${q(path.join(fake, "curl.rc"))}`;
}

/** Runs the script; `actions[k]` happens during the k-th sleep, i.e. just before check k. */
function run(maxChecks: number, actions: Record<number, string[]> = {}, extraEnv: Record<string, string> = {}): Run {
    for (const [k, steps] of Object.entries(actions)) {
        fs.writeFileSync(path.join(fake, "actions", `${k}.sh`), steps.join("\n") + "\n");
    }
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ["CASC_FILE", "TOKEN_FILE", "JENKINS_URL", "INTERVAL", "MAX_CHECKS"]) delete env[k];
    Object.assign(env, {
        PATH: `${path.join(fake, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
        FAKE: fake,
        CASC_FILE: cascFile,
        TOKEN_FILE: tokenFile,
        JENKINS_URL,
        INTERVAL: "0",
        MAX_CHECKS: String(maxChecks),
        ...extraEnv,
    });
    const r = spawnSync("sh", [SCRIPT], { env, encoding: "utf8", timeout: 5_000 });
    if (r.error) throw r.error;
    const actionErrors = path.join(fake, "action-errors");
    if (fs.existsSync(actionErrors)) throw new Error(`test setup broken: ${fs.readFileSync(actionErrors, "utf8")}`);
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function curlCalls(): Curl[] {
    const log = path.join(fake, "curl.log");
    if (!fs.existsSync(log)) return [];
    return fs
        .readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => {
            const args = l.split("\t");
            args.pop(); // every argument is followed by a tab
            return { args, url: args[args.length - 1] };
        });
}

function sleeps(): string[] {
    const log = path.join(fake, "sleep.log");
    return fs.existsSync(log)
        ? fs
              .readFileSync(log, "utf8")
              .split("\n")
              .filter((l) => l !== "")
        : [];
}

const reloadUrl = (token: string): string => `${ENDPOINT}?casc-reload-token=${token}`;

/** A POST that fails on HTTP errors (a 401/403/500 from Jenkins must not count as applied). */
function expectReloadPost(call: Curl, token: string): void {
    expect(call.url).toBe(reloadUrl(token));
    const x = call.args.indexOf("-X");
    expect(x).toBeGreaterThanOrEqual(0);
    expect(call.args[x + 1]).toBe("POST");
    expect(call.args.some((a) => a === "--fail" || /^-[a-zA-Z]*f[a-zA-Z]*$/.test(a))).toBe(true);
}

const lines = (s: string): string[] => s.split("\n").filter((l) => l !== "");

function expectClean(r: Run): void {
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: "" });
}

beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "casc-reload-"));
    fake = path.join(tmp, "fake");
    for (const d of ["bin", "actions", "contents"]) fs.mkdirSync(path.join(fake, d), { recursive: true });
    writeExecutable(path.join(fake, "bin", "curl"), FAKE_CURL);
    writeExecutable(path.join(fake, "bin", "sleep"), FAKE_SLEEP);
    cascDir = path.join(tmp, "var", "jenkins_casc");
    cascFile = path.join(cascDir, "jenkins.yaml");
    const secrets = path.join(tmp, "run", "secrets", "jenkins");
    fs.mkdirSync(secrets, { recursive: true });
    tokenFile = path.join(secrets, "casc-reload-token");
    fs.writeFileSync(tokenFile, "tok1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
    seq = 0;
});

afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
});

const TOKEN_1 = "tok1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const TOKEN_2 = "tok2BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

describe("casc-reload.sh", () => {
    test("script passes sh -n", () => {
        expect(spawnSync("sh", ["-n", SCRIPT]).status).toBe(0);
    });

    test("no change: never calls curl, sleeps INTERVAL before each of MAX_CHECKS checks, exits 0 and says what it watches", () => {
        mountConfigMap(CONFIG_A);
        const r = run(4, {}, { INTERVAL: "7" });
        expectClean(r);
        expect(curlCalls()).toEqual([]);
        expect(sleeps()).toEqual(["7", "7", "7", "7"]);
        expect(lines(r.stdout)).toEqual([`casc-reload: watching ${cascFile} (${sha256(CONFIG_A)})`]);
    });

    test("one change: exactly one POST to the JCasC reload endpoint with the token from TOKEN_FILE, logged as applied", () => {
        mountConfigMap(CONFIG_A);
        const r = run(5, { 2: [kubeletUpdate(CONFIG_B)] });
        expectClean(r);
        const calls = curlCalls();
        expect(calls).toHaveLength(1);
        expectReloadPost(calls[0], TOKEN_1);
        expect(lines(r.stdout)).toEqual([
            `casc-reload: watching ${cascFile} (${sha256(CONFIG_A)})`,
            `casc-reload: ${cascFile} changed (${sha256(CONFIG_B)}), reloading`,
            `casc-reload: applied ${sha256(CONFIG_B)}`,
        ]);
    });

    test("the reload happens at the first check after the update, not later", () => {
        mountConfigMap(CONFIG_A);
        // Updated during sleep 3; check 3 must POST, then the last sleep is the 4th.
        const actions = { 3: [kubeletUpdate(CONFIG_B)], 4: [`test -f ${q(path.join(fake, "curl.log"))}`] };
        expectClean(run(4, actions));
        expect(curlCalls()).toHaveLength(1);
    });

    test("same content written again (kubelet's symlink swap with identical bytes): no POST", () => {
        mountConfigMap(CONFIG_A);
        const r = run(4, { 1: [kubeletUpdate(CONFIG_A)], 3: [kubeletUpdate(CONFIG_A)] });
        expectClean(r);
        expect(curlCalls()).toEqual([]);
        expect(lines(r.stdout)).toHaveLength(1);
    });

    test("same content after an applied change: one POST only", () => {
        mountConfigMap(CONFIG_A);
        const r = run(5, { 1: [kubeletUpdate(CONFIG_B)], 3: [kubeletUpdate(CONFIG_B)] });
        expectClean(r);
        expect(curlCalls()).toHaveLength(1);
    });

    test("two successive changes: two POSTs, each logged as applied with its own hash", () => {
        mountConfigMap(CONFIG_A);
        const r = run(5, { 1: [kubeletUpdate(CONFIG_B)], 3: [kubeletUpdate(CONFIG_C)] });
        expectClean(r);
        const calls = curlCalls();
        expect(calls).toHaveLength(2);
        calls.forEach((c) => expectReloadPost(c, TOKEN_1));
        expect(lines(r.stdout).filter((l) => l.includes("applied"))).toEqual([
            `casc-reload: applied ${sha256(CONFIG_B)}`,
            `casc-reload: applied ${sha256(CONFIG_C)}`,
        ]);
    });

    test("a change reverted to the original content is applied too (Jenkins is running B at that point)", () => {
        mountConfigMap(CONFIG_A);
        const r = run(4, { 1: [kubeletUpdate(CONFIG_B)], 2: [kubeletUpdate(CONFIG_A)] });
        expectClean(r);
        expect(curlCalls()).toHaveLength(2);
        expect(lines(r.stdout).filter((l) => l.includes("applied"))).toEqual([
            `casc-reload: applied ${sha256(CONFIG_B)}`,
            `casc-reload: applied ${sha256(CONFIG_A)}`,
        ]);
    });

    test("curl fails once: failure goes to stderr, the next check retries and succeeds, then no further POSTs", () => {
        mountConfigMap(CONFIG_A);
        const r = run(5, {
            1: [curlExits(22), kubeletUpdate(CONFIG_B)],
            2: [curlExits(0)],
        });
        expect(r.status).toBe(0);
        expect(r.stderr).toMatch(/^casc-reload: reload failed; retrying on the next check$/m);
        expect(lines(r.stderr).filter((l) => l.startsWith("casc-reload:"))).toHaveLength(1);
        const calls = curlCalls();
        expect(calls).toHaveLength(2);
        calls.forEach((c) => expectReloadPost(c, TOKEN_1));
        expect(lines(r.stdout)).toEqual([
            `casc-reload: watching ${cascFile} (${sha256(CONFIG_A)})`,
            `casc-reload: ${cascFile} changed (${sha256(CONFIG_B)}), reloading`,
            `casc-reload: ${cascFile} changed (${sha256(CONFIG_B)}), reloading`,
            `casc-reload: applied ${sha256(CONFIG_B)}`,
        ]);
    });

    test("curl keeps failing: every check retries, nothing is logged as applied, the loop still ends", () => {
        mountConfigMap(CONFIG_A);
        const r = run(4, { 1: [curlExits(7), kubeletUpdate(CONFIG_B)] });
        expect(r.status).toBe(0);
        expect(curlCalls()).toHaveLength(4);
        expect(r.stdout).not.toMatch(/applied/);
        expect(lines(r.stderr).filter((l) => l.startsWith("casc-reload: reload failed"))).toHaveLength(4);
    });

    test("a newer change arriving while a reload is failing: the retry applies the newest content once", () => {
        mountConfigMap(CONFIG_A);
        const r = run(5, {
            1: [curlExits(22), kubeletUpdate(CONFIG_B)],
            2: [curlExits(0), kubeletUpdate(CONFIG_C)],
        });
        expect(r.status).toBe(0);
        expect(curlCalls()).toHaveLength(2);
        expect(lines(r.stdout).filter((l) => l.includes("applied"))).toEqual([
            `casc-reload: applied ${sha256(CONFIG_C)}`,
        ]);
    });

    test("a token rotated in TOKEN_FILE between two changes is the one used for the second POST", () => {
        mountConfigMap(CONFIG_A);
        const r = run(5, {
            1: [kubeletUpdate(CONFIG_B)],
            2: [rotateToken(`${TOKEN_2}\n`)],
            3: [kubeletUpdate(CONFIG_C)],
        });
        expectClean(r);
        const calls = curlCalls();
        expect(calls).toHaveLength(2);
        expectReloadPost(calls[0], TOKEN_1);
        expectReloadPost(calls[1], TOKEN_2);
    });

    test("CASC file missing at start: says so, stays quiet while it is missing, and reloads once it appears", () => {
        // The controller started without the document, so the first version to appear
        // has never been applied: it must be reloaded, exactly once.
        const r = run(5, { 3: [kubeletFirstMount(CONFIG_A)] });
        expectClean(r);
        expect(lines(r.stdout)).toEqual([
            `casc-reload: watching ${cascFile} (missing)`,
            `casc-reload: ${cascFile} changed (${sha256(CONFIG_A)}), reloading`,
            `casc-reload: applied ${sha256(CONFIG_A)}`,
        ]);
        const calls = curlCalls();
        expect(calls).toHaveLength(1);
        expectReloadPost(calls[0], TOKEN_1);
    });

    test("CASC file missing for the whole run: no POST, no error noise, exits 0", () => {
        const r = run(3);
        expectClean(r);
        expect(curlCalls()).toEqual([]);
        expect(lines(r.stdout)).toEqual([`casc-reload: watching ${cascFile} (missing)`]);
    });

    test("file briefly missing then back with the same content: no POST; back with new content: one POST", () => {
        mountConfigMap(CONFIG_A);
        const unmount = `rm -rf ${q(cascDir)}`;
        const r = run(6, {
            1: [unmount],
            2: [kubeletFirstMount(CONFIG_A)],
            3: [unmount],
            4: [kubeletFirstMount(CONFIG_B)],
        });
        expectClean(r);
        expect(curlCalls()).toHaveLength(1);
        expect(lines(r.stdout).filter((l) => l.includes("applied"))).toEqual([
            `casc-reload: applied ${sha256(CONFIG_B)}`,
        ]);
    });
});
