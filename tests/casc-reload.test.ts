// Runs the real JCasC reload sidecar script with a fake `curl` (records every
// call, exit code read from a file) and a fake `sleep` first on PATH. The fake
// sleep is the clock: on its k-th call it runs the action scripted for k, so a
// "kubelet update" of the mounted ConfigMap lands exactly between check k-1 and
// check k. Nothing waits on real time and nothing touches the network.
// Long by design: each reload case scripts the fake clock step by step.
import { createHash } from "crypto";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import { RELOAD_TOKEN, runReloadScript } from "./cluster/reloadScript";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.resolve(__dirname, "..", "controller", "casc-reload.sh");
const JENKINS_URL = "http://jenkins.test:8080";
const ENDPOINT = `${JENKINS_URL}/reload-configuration-as-code/`;

// Records its argv (tab-separated, one invocation per line) and its stdin (curl's config, where
// the script puts secrets), and answers like curl -sS -w '%{http_code}' -o FILE:
// - the events endpoint: appends the posted JSON to $FAKE/events.log, prints $FAKE/event.code (201);
// - the login page (the readiness check): prints $FAKE/login.code (200);
// - the reload endpoint: exits with $FAKE/curl.rc (0) as a refused connection does, printing 000;
//   else writes $FAKE/reload.body (empty) to -o and prints $FAKE/reload.code (200).
const FAKE_CURL = `#!/bin/sh
stdin=$(cat)
out=/dev/null
data=
prev=
for a in "$@"; do
  case "$prev" in
    -o) out=$a ;;
    --data-binary) data=$a ;;
  esac
  prev=$a
  url=$a
done
printf '%s\t' "$@" >>"$FAKE/curl.log"
printf '\n' >>"$FAKE/curl.log"
printf '%s' "$stdin" | tr '\n' '\t' >>"$FAKE/curl.stdin"
printf '\n' >>"$FAKE/curl.stdin"
case "$url" in
  */login)
    printf '%s' "$(cat "$FAKE/login.code" 2>/dev/null || echo 200)"
    exit 0 ;;
  */events)
    cat "\${data#@}" >>"$FAKE/events.log"
    printf '%s' "$(cat "$FAKE/event.code" 2>/dev/null || echo 201)"
    exit 0 ;;
esac
rc=$(cat "$FAKE/curl.rc" 2>/dev/null || echo 0)
if [ "$rc" -ne 0 ]; then
  echo "curl: (7) Failed to connect to jenkins.test port 8080: Connection refused" >&2
  printf 000
  exit "$rc"
fi
cat "$FAKE/reload.body" >"$out" 2>/dev/null || : >"$out"
printf '%s' "$(cat "$FAKE/reload.code" 2>/dev/null || echo 200)"
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
    /** What the script gave curl on stdin (its config), lines joined by tabs. */
    stdin: string;
}

let tmp: string;
let fake: string; // $FAKE: logs, counters, actions, prepared contents
let cascDir: string; // the ConfigMap volume mount
let cascFile: string; // $CASC_DIR/jenkins.yaml -> ..data/jenkins.yaml
let tokenFile: string;
let work: string; // the sidecar's /tmp
let kubeDir: string; // the ServiceAccount's mounted token and CA
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
    for (const k of [
        "CASC_FILE",
        "TOKEN_FILE",
        "JENKINS_URL",
        "INTERVAL",
        "MAX_CHECKS",
        "MAX_BACKOFF",
        "POD_NAME",
        "RELOAD_AT_START",
    ])
        delete env[k];
    Object.assign(env, {
        PATH: `${path.join(fake, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
        FAKE: fake,
        CASC_FILE: cascFile,
        TOKEN_FILE: tokenFile,
        JENKINS_URL,
        INTERVAL: "0",
        MAX_CHECKS: String(maxChecks),
        WORK: work,
        KUBE_DIR: kubeDir,
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
    const stdins = fs.readFileSync(path.join(fake, "curl.stdin"), "utf8").split("\n");
    return fs
        .readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l, i) => {
            const args = l.split("\t");
            args.pop(); // every argument is followed by a tab
            return { args, url: args[args.length - 1], stdin: stdins[i] };
        });
}

/** The calls to Jenkins' reload endpoint (not the events the script records). */
const reloadCalls = (): Curl[] => curlCalls().filter((c) => c.url === ENDPOINT);

/** The Events the script posted, as the API server would get them. */
function events(): any[] {
    const log = path.join(fake, "events.log");
    return fs.existsSync(log) ? lines(fs.readFileSync(log, "utf8")).map((l) => JSON.parse(l)) : [];
}

/** Jenkins' next answers to the reload: HTTP code and body (until changed). */
function jenkinsAnswers(code: number, body = ""): string {
    return [
        `printf '%s' ${q(String(code))} >${q(path.join(fake, "reload.code"))}`,
        `printf '%s' ${q(body)} >${q(path.join(fake, "reload.body"))}`,
    ].join("\n");
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

/**
 * A POST to the reload endpoint whose token travels in curl's config on stdin (as the form field
 * casc-reload-token), never on its command line or in the URL.
 */
function expectReloadPost(call: Curl, token: string): void {
    expect(call.url).toBe(ENDPOINT);
    expect(call.args.join(" ")).not.toContain(token);
    expect(call.stdin).toBe(`data-urlencode = "casc-reload-token=${token}"`);
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
    work = path.join(tmp, "work");
    fs.mkdirSync(work);
    kubeDir = path.join(tmp, "serviceaccount");
    fs.mkdirSync(kubeDir);
    fs.writeFileSync(path.join(kubeDir, "token"), SA_TOKEN);
    fs.writeFileSync(path.join(kubeDir, "ca.crt"), "ca");
    fs.writeFileSync(tokenFile, "tok1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
    seq = 0;
});

afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
});

const TOKEN_1 = "tok1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const TOKEN_2 = "tok2BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
const SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.sa-token.signature";

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

    test("Jenkins down once: the failure and its cause go to stderr, the next check retries and succeeds, then no further POSTs", () => {
        mountConfigMap(CONFIG_A);
        const r = run(5, {
            1: [curlExits(7), kubeletUpdate(CONFIG_B)],
            2: [curlExits(0)],
        });
        expect(r.status).toBe(0);
        expect(lines(r.stderr)).toEqual([
            `casc-reload: reload of ${sha256(CONFIG_B)} failed: Jenkins did not answer at ${JENKINS_URL} (curl: (7) Failed to connect to jenkins.test port 8080: Connection refused); retrying in 0s`,
        ]);
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
        expect(
            lines(r.stderr).filter((l) => l.startsWith(`casc-reload: reload of ${sha256(CONFIG_B)} failed`)),
        ).toHaveLength(4);
    });

    test("a newer change arriving while a reload is failing: the retry applies the newest content once", () => {
        mountConfigMap(CONFIG_A);
        const r = run(5, {
            1: [curlExits(7), kubeletUpdate(CONFIG_B)],
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

    describe("RELOAD_AT_START: once more after a start, when Jenkins answers, with its items loaded", () => {
        const START = {
            RELOAD_AT_START: "1",
            POD_NAME: "jenkins-7d9f-abcde",
            POD_NAMESPACE: "kube-ops",
            POD_UID: "0b7e-uid",
        };
        const loginAnswers = (code: number) => `printf '%s' ${code} >${q(path.join(fake, "login.code"))}`;
        const loginCalls = () => curlCalls().filter((c) => c.url === `${JENKINS_URL}/login`);

        test("waits, quietly, while Jenkins starts (503), then reloads the same document once and says why", () => {
            mountConfigMap(CONFIG_A);
            fs.writeFileSync(path.join(fake, "login.code"), "503");
            const r = run(3, { 2: [loginAnswers(200)] }, START);
            expectClean(r);
            expect(loginCalls()).toHaveLength(3);
            expect(reloadCalls()).toHaveLength(1);
            expectReloadPost(reloadCalls()[0], TOKEN_1);
            expect(lines(r.stdout)).toEqual([
                `casc-reload: watching ${cascFile} (${sha256(CONFIG_A)})`,
                `casc-reload: Jenkins is up; applying ${cascFile} again, now that its items are loaded`,
                `casc-reload: ${cascFile} changed (${sha256(CONFIG_A)}), reloading`,
                `casc-reload: applied ${sha256(CONFIG_A)}`,
            ]);
            expect(events().map((e) => [e.type, e.reason, e.message])).toEqual([
                [
                    "Normal",
                    "CascReloaded",
                    `JCasC applied the configuration again after the start, with the items loaded (${sha256(CONFIG_A)})`,
                ],
            ]);
        });

        test("a login page that redirects (a sign-in elsewhere) counts as up, as the pod's probes take it", () => {
            mountConfigMap(CONFIG_A);
            fs.writeFileSync(path.join(fake, "login.code"), "302");
            expectClean(run(2, {}, START));
            expect(reloadCalls()).toHaveLength(1);
        });

        test("after the start's reload only changes reload, as without it", () => {
            mountConfigMap(CONFIG_A);
            const r = run(5, { 3: [kubeletUpdate(CONFIG_B)] }, START);
            expectClean(r);
            expect(reloadCalls()).toHaveLength(2);
            expect(events().map((e) => e.message)).toEqual([
                expect.stringContaining("again after the start"),
                `JCasC applied the new configuration (${sha256(CONFIG_B)})`,
            ]);
        });

        test("a refused reload after the start is reported and retried like any other", () => {
            mountConfigMap(CONFIG_A);
            fs.writeFileSync(path.join(fake, "reload.code"), "401");
            const r = run(3, { 2: [jenkinsAnswers(200)] }, START);
            expect(r.stderr).toContain("the reload token was refused (HTTP 401)");
            expect(reloadCalls()).toHaveLength(2);
            expect(lines(r.stdout)).toContain(`casc-reload: applied ${sha256(CONFIG_A)}`);
        });

        test("Jenkins restarted (it stops answering, then answers): applied once more, and no reload is tried meanwhile", () => {
            mountConfigMap(CONFIG_A);
            const r = run(6, { 3: [loginAnswers(503), kubeletUpdate(CONFIG_B)], 5: [loginAnswers(200)] }, START);
            expectClean(r);
            expect(reloadCalls()).toHaveLength(2);
            expect(lines(r.stdout)).toEqual([
                `casc-reload: watching ${cascFile} (${sha256(CONFIG_A)})`,
                `casc-reload: Jenkins is up; applying ${cascFile} again, now that its items are loaded`,
                `casc-reload: ${cascFile} changed (${sha256(CONFIG_A)}), reloading`,
                `casc-reload: applied ${sha256(CONFIG_A)}`,
                `casc-reload: Jenkins stopped answering; applying ${cascFile} again once it is back`,
                `casc-reload: Jenkins is up; applying ${cascFile} again, now that its items are loaded`,
                `casc-reload: ${cascFile} changed (${sha256(CONFIG_B)}), reloading`,
                `casc-reload: applied ${sha256(CONFIG_B)}`,
            ]);
            expect(events().map((e) => e.message)).toEqual([
                expect.stringContaining("again after the start"),
                expect.stringContaining("again after the start"),
            ]);
        });

        test("the sidecar restarted while a reload was failing: the document it never applied is applied at its start", () => {
            // A first life: B arrives, JCasC refuses the reload, and the container ends (OOM, a probe).
            mountConfigMap(CONFIG_A);
            fs.writeFileSync(path.join(fake, "reload.code"), "500");
            const first = run(3, { 2: [kubeletUpdate(CONFIG_B)] }, START);
            expect(first.stderr).toContain(`reload of ${sha256(CONFIG_B)} failed`);
            expect(lines(first.stdout)).not.toContain(`casc-reload: applied ${sha256(CONFIG_B)}`);
            // Its restart keeps no state, and needs none: with Jenkins up, it applies what is mounted.
            fs.writeFileSync(path.join(fake, "reload.code"), "200");
            const second = run(1, {}, START);
            expectClean(second);
            expect(lines(second.stdout)).toEqual([
                `casc-reload: watching ${cascFile} (${sha256(CONFIG_B)})`,
                `casc-reload: Jenkins is up; applying ${cascFile} again, now that its items are loaded`,
                `casc-reload: ${cascFile} changed (${sha256(CONFIG_B)}), reloading`,
                `casc-reload: applied ${sha256(CONFIG_B)}`,
            ]);
        });

        test("Jenkins never up within MAX_CHECKS: no reload, exits 0", () => {
            mountConfigMap(CONFIG_A);
            fs.writeFileSync(path.join(fake, "login.code"), "503");
            expectClean(run(3, {}, START));
            expect(reloadCalls()).toEqual([]);
        });

        test("without it (the default), nothing is asked of Jenkins until the document changes", () => {
            mountConfigMap(CONFIG_A);
            expectClean(run(3));
            expect(curlCalls()).toEqual([]);
        });
    });

    describe("JCasC's answer is read, not only its status", () => {
        const ERROR_BODY = JSON.stringify({
            status: "error",
            message:
                'Failed to reload configuration: Invalid configuration elements for type: class jenkins.model.Jenkins : "systemMesage"',
        });

        test.each([
            [200, "JCasC 2115 (HttpResponses.errorJSON sets no status)"],
            [500, "later JCasC releases"],
        ])("an error body with HTTP %s (%s) is a failure, reported with JCasC's message, and retried", (code) => {
            mountConfigMap(CONFIG_A);
            const r = run(3, {
                1: [jenkinsAnswers(code, ERROR_BODY), kubeletUpdate(CONFIG_B)],
                2: [jenkinsAnswers(200)],
            });
            expect(r.status).toBe(0);
            expect(lines(r.stderr)).toEqual([
                `casc-reload: reload of ${sha256(CONFIG_B)} failed: JCasC refused the document (HTTP ${code}): Failed to reload configuration: Invalid configuration elements for type: class jenkins.model.Jenkins : \\"systemMesage\\"; retrying in 0s`,
            ]);
            expect(lines(r.stdout).filter((l) => l.includes("applied"))).toEqual([
                `casc-reload: applied ${sha256(CONFIG_B)}`,
            ]);
            expect(reloadCalls()).toHaveLength(2);
        });

        test("a 200 with a page instead of JCasC's empty answer (a login form, a proxy) is not taken for applied", () => {
            mountConfigMap(CONFIG_A);
            const r = run(1, {
                1: [jenkinsAnswers(200, "<html>\n<body>Sign in</body></html>"), kubeletUpdate(CONFIG_B)],
            });
            expect(r.stdout).not.toMatch(/applied/);
            expect(r.stderr).toContain(
                "failed: HTTP 200 with a body that is not JCasC's answer: <html> <body>Sign in</body></html>",
            );
        });

        test("JCasC's message is found wherever it stands in the body, escapes and all", () => {
            mountConfigMap(CONFIG_A);
            const body = '{"message":"bad key \\"x\\"","status":"error","data":{"line":3}}';
            const r = run(1, { 1: [jenkinsAnswers(500, body), kubeletUpdate(CONFIG_B)] });
            expect(r.stderr).toContain('failed: JCasC refused the document (HTTP 500): bad key \\"x\\"; retrying');
        });

        test.each([
            [401, "the reload token was refused (HTTP 401)"],
            [404, "reloading is off (HTTP 404)"],
            [503, "HTTP 503 from the reload endpoint: busy"],
        ])("HTTP %s is a failure that says why", (code, why) => {
            mountConfigMap(CONFIG_A);
            const r = run(2, { 1: [jenkinsAnswers(code, code === 503 ? "busy" : ""), kubeletUpdate(CONFIG_B)] });
            expect(r.stdout).not.toMatch(/applied/);
            expect(r.stderr).toContain(`failed: ${why}`);
        });
    });

    test("backs off after each failure (twice the last wait, up to MAX_BACKOFF) and returns to INTERVAL once applied", () => {
        mountConfigMap(CONFIG_A);
        const r = run(
            8,
            { 1: [curlExits(7), kubeletUpdate(CONFIG_B)], 6: [curlExits(0)] },
            { INTERVAL: "10", MAX_BACKOFF: "40" },
        );
        expect(r.status).toBe(0);
        // Checks 1-5 fail; check 6 applies; 7 and 8 are ordinary checks again.
        expect(sleeps()).toEqual(["10", "10", "20", "40", "40", "40", "10", "10"]);
        expect(lines(r.stderr).map((l) => l.replace(/.*; /, ""))).toEqual([
            "retrying in 10s",
            "retrying in 20s",
            "retrying in 40s",
            "retrying in 40s",
            "retrying in 40s",
        ]);
        expect(reloadCalls()).toHaveLength(6);
    });

    describe("every outcome is an Event on the controller pod", () => {
        const POD = { POD_NAME: "jenkins-7d9f-abcde", POD_NAMESPACE: "kube-ops", POD_UID: "0b7e-uid" };

        test("applied: a Normal CascReloaded event about the pod, posted with the pod's ServiceAccount token", () => {
            mountConfigMap(CONFIG_A);
            expectClean(run(2, { 1: [kubeletUpdate(CONFIG_B)] }, POD));
            const [event] = events();
            expect(events()).toHaveLength(1);
            expect(event).toMatchObject({
                apiVersion: "v1",
                kind: "Event",
                metadata: { generateName: "jenkins-7d9f-abcde.casc-reload-", namespace: "kube-ops" },
                involvedObject: {
                    apiVersion: "v1",
                    kind: "Pod",
                    name: POD.POD_NAME,
                    namespace: "kube-ops",
                    uid: "0b7e-uid",
                },
                type: "Normal",
                reason: "CascReloaded",
                message: `JCasC applied the new configuration (${sha256(CONFIG_B)})`,
                source: { component: "casc-reload" },
                count: 1,
            });
            expect(event.firstTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
            const [post] = curlCalls().filter((c) => c.url.endsWith("/events"));
            expect(post.url).toBe("https://kubernetes.default.svc/api/v1/namespaces/kube-ops/events");
            expect(post.stdin).toBe(`header = "Authorization: Bearer ${SA_TOKEN}"`);
            expect(post.args).toEqual(expect.arrayContaining(["--cacert", path.join(kubeDir, "ca.crt")]));
        });

        test("failed: a Warning CascReloadFailed event with JCasC's message, quotes and line breaks kept valid JSON", () => {
            mountConfigMap(CONFIG_A);
            const body =
                '{"status":"error","message":"Failed to reload configuration: no such key \\"foo\\"\\n at line 3"}';
            run(1, { 1: [jenkinsAnswers(200, body), kubeletUpdate(CONFIG_B)] }, POD);
            expect(events().map((e) => [e.type, e.reason])).toEqual([["Warning", "CascReloadFailed"]]);
            expect(events()[0].message).toContain(
                "JCasC refused the document (HTTP 200): Failed to reload configuration",
            );
            expect(events()[0].message).toContain("retrying in 0s");
        });

        test("an event the API server refuses is logged, and watching goes on", () => {
            mountConfigMap(CONFIG_A);
            fs.writeFileSync(path.join(fake, "event.code"), "403");
            const r = run(3, { 1: [kubeletUpdate(CONFIG_B)], 2: [kubeletUpdate(CONFIG_C)] }, POD);
            expect(r.status).toBe(0);
            expect(lines(r.stdout).filter((l) => l.includes("applied"))).toHaveLength(2);
            expect(lines(r.stderr)).toEqual([
                "casc-reload: could not record the event CascReloaded (HTTP 403)",
                "casc-reload: could not record the event CascReloaded (HTTP 403)",
            ]);
        });

        test("a body with control characters still makes a valid Event", () => {
            mountConfigMap(CONFIG_A);
            const body = '{"status":"error","message":"bad\u001b[31m red \f form feed"}';
            run(1, { 1: [jenkinsAnswers(500, body), kubeletUpdate(CONFIG_B)] }, POD);
            expect(events().map((e) => e.reason)).toEqual(["CascReloadFailed"]);
            expect(events()[0].message).toContain("bad[31m red  form feed");
        });

        test("no secret is on any process's command line: every command the script runs is logged", () => {
            // Shims for each external command the script uses, before the real ones on PATH.
            const shims = path.join(tmp, "shims");
            fs.mkdirSync(shims);
            for (const cmd of ["cat", "tr", "sed", "grep", "cut", "sha256sum", "date", "head"]) {
                const real = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim();
                writeExecutable(
                    path.join(shims, cmd),
                    `#!/bin/sh\nprintf '%s ' ${cmd} "$@" >>"$FAKE/argv.log"\necho >>"$FAKE/argv.log"\nexec ${real} "$@"\n`,
                );
            }
            mountConfigMap(CONFIG_A);
            run(
                4,
                { 1: [jenkinsAnswers(401), kubeletUpdate(CONFIG_B)], 2: [jenkinsAnswers(200)] },
                {
                    ...POD,
                    PATH: `${path.join(fake, "bin")}${path.delimiter}${shims}${path.delimiter}${process.env.PATH ?? ""}`,
                },
            );
            const argv = [
                ...fs.readFileSync(path.join(fake, "argv.log"), "utf8").split("\n"),
                ...curlCalls().map((c) => c.args.join(" ")),
            ].filter((l) => l !== "");
            expect(argv.some((l) => l.startsWith("cat ") && l.includes(tokenFile))).toBe(true);
            expect(argv.filter((l) => l.includes(TOKEN_1.slice(0, 8)) || l.includes(SA_TOKEN.slice(0, 12)))).toEqual(
                [],
            );
        });

        test("no secret is ever on curl's command line: not the reload token, not the ServiceAccount token", () => {
            mountConfigMap(CONFIG_A);
            run(4, { 1: [jenkinsAnswers(401), kubeletUpdate(CONFIG_B)], 2: [jenkinsAnswers(200)] }, POD);
            const calls = curlCalls();
            expect(calls.length).toBeGreaterThanOrEqual(4);
            for (const c of calls) {
                expect(c.args.join(" ")).not.toContain(TOKEN_1.slice(0, 8));
                expect(c.args.join(" ")).not.toContain(SA_TOKEN.slice(0, 12));
            }
        });
    });

    test("with the real curl: the form field and the bearer header reach a JCasC-like endpoint and an API server on loopback", async () => {
        const events: { path?: string; auth?: string; type?: string; body: string }[] = [];
        const api = http.createServer((req, res) => {
            let body = "";
            req.on("data", (chunk) => (body += chunk));
            req.on("end", () => {
                events.push({
                    path: req.url,
                    auth: req.headers.authorization,
                    type: req.headers["content-type"],
                    body,
                });
                res.writeHead(201, { "content-type": "application/json" }).end("{}");
            });
        });
        await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
        try {
            const run = await runReloadScript({
                scripts: Object.fromEntries(
                    ["casc-reload.sh", "k8s-event.sh"].map((f) => [
                        f,
                        fs.readFileSync(path.join(path.dirname(SCRIPT), f), "utf8"),
                    ]),
                ),
                apiServer: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
                token: SA_TOKEN,
                caPem: "ca",
                pod: { name: "jenkins-0", namespace: "kube-ops", uid: "uid-1" },
                jenkins: { status: 200, body: "" },
            });
            expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
            expect(run.stdout).toContain("casc-reload: applied");
            expect(run.reloads).toEqual([
                { contentType: "application/x-www-form-urlencoded", body: `casc-reload-token=${RELOAD_TOKEN}` },
            ]);
            expect(events).toHaveLength(1);
            expect(events[0]).toMatchObject({
                path: "/api/v1/namespaces/kube-ops/events",
                auth: `Bearer ${SA_TOKEN}`,
                type: "application/json",
            });
            expect(JSON.parse(events[0].body)).toMatchObject({
                reason: "CascReloaded",
                involvedObject: { name: "jenkins-0" },
            });
        } finally {
            api.close();
        }
    });
});
