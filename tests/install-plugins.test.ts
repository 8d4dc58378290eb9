// Runs the real init-container script against a throwaway JENKINS_HOME with a fake curl that
// serves files from a folder per host (or fails as an unreachable host, a 404), so what an
// operator would see is checked: which URLs were fetched, what is on the volume, the exit status,
// the log and the Events. Long by design: each case lays out a home volume and a download source.
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fixtureMetadata, runStack, TEST_LOCKS, writeTestLock } from "./harness";
import { settingsFrom } from "../config/settings";
import { resolveLock } from "../plugins/resolve";
import { readStackConfig } from "../tools/stackConfig";

const CONTROLLER = path.resolve(__dirname, "..", "controller");
const SCRIPT = path.join(CONTROLLER, "install-plugins.sh");

// curl as the script calls it: -o FILE URL for archives (exit 6 for a host with no folder, 22 for
// a missing file), and -K - ... --data-binary @FILE URL for Events (kept, answered 201).
const FAKE_CURL = `#!/bin/sh
out= data= url=
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift ;;
    --data-binary) data=\${2#@}; shift ;;
    -K) cat >/dev/null; shift ;;
    -w|-H|--cacert|--max-time|--connect-timeout) shift ;;
    -*) ;;
    *) url=$1 ;;
  esac
  shift
done
case $url in
  */api/v1/namespaces/*/events)
    if [ -n "\${FAKE_API_DOWN:-}" ]; then
      echo "curl: (7) Failed to connect to api port 443" >&2
      exit 7
    fi
    cat "$data" >"$FAKE_EVENTS/$(ls "$FAKE_EVENTS" | wc -l).json"
    printf 201
    exit 0 ;;
esac
printf '%s\\n' "$url" >>"$FAKE_CURL_LOG"
rest=\${url#*://}
host=\${rest%%/*}
if [ ! -d "$FAKE_WEB/$host" ]; then
  echo "curl: (6) Could not resolve host: $host" >&2
  exit 6
fi
if [ ! -f "$FAKE_WEB/$rest" ]; then
  echo "curl: (22) The requested URL returned error: 404" >&2
  exit 22
fi
# A test's own step before the transfer (to be slow, or to die), given $url and $out.
if [ -n "\${FAKE_CURL_HOOK:-}" ]; then . "$FAKE_CURL_HOOK"; fi
cat "$FAKE_WEB/$rest" >"$out"
`;

const UPDATES = "https://updates.jenkins.io/download";
const ARCHIVES = "https://archives.jenkins.io";

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

let tmp: string;
let home: string;
let web: string;
let lockFile: string;
let curlLog: string;
let eventsDir: string;
let binDir: string;

const pluginsDir = () => path.join(home, "plugins");
const markerFile = () => path.join(pluginsDir(), ".installed-plugins.sha256");
const stagingDir = () => path.join(home, "plugins.staging");
const oldDir = () => path.join(home, "plugins.old");

const archive = (name: string, version: string) => `archive of ${name} ${version}\n`;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const archivePath = (name: string, version: string) => `plugins/${name}/${version}/${name}.hpi`;

/** Puts an archive where a download base serves it (its content, unless given). */
function serve(base: string, name: string, version: string, content = archive(name, version)): void {
    const file = path.join(web, base.replace(/^https?:\/\//, ""), archivePath(name, version));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
}

/** A host that answers (an empty folder): files not put there are 404s. */
function reachable(base: string): void {
    fs.mkdirSync(path.join(web, base.replace(/^https?:\/\//, "")), { recursive: true });
}

/** A lock of these `name:version`s, with the checksums of the archives serve() publishes. */
function lockOf(specs: string[]): string {
    const lines = specs.map((spec) => {
        const [name, version] = spec.split(":");
        return `${name} ${version} ${sha256(archive(name, version))} ${archivePath(name, version)}`;
    });
    return ["# plugin-locks/test.json: a test lock", ...lines].join("\n") + "\n";
}

function writeLock(specs: string[] | string): void {
    fs.writeFileSync(lockFile, typeof specs === "string" ? specs : lockOf(specs));
}

function runEnv(extraEnv: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
        PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
        LOCK_FILE: lockFile,
        JENKINS_HOME: home,
        PLUGIN_SOURCES: `${UPDATES} ${ARCHIVES}`,
        BACKOFF: "0",
        WORK: tmp,
        FAKE_WEB: web,
        FAKE_CURL_LOG: curlLog,
        FAKE_EVENTS: eventsDir,
        ...extraEnv,
    };
}

function run(extraEnv: Record<string, string> = {}, script = SCRIPT): Run {
    const r = spawnSync("sh", [script], { env: runEnv(extraEnv), encoding: "utf8", timeout: 20_000 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The archive URLs asked for: with a plugin's name, that plugin's in the order they were asked
 * (one worker fetches it); without, all of them sorted, since workers run in parallel.
 */
function downloads(name?: string): string[] {
    const all = fs.existsSync(curlLog) ? fs.readFileSync(curlLog, "utf8").split("\n").filter(Boolean) : [];
    return name === undefined ? all.sort() : all.filter((url) => url.includes(`/plugins/${name}/`));
}

function installed(): Record<string, string> {
    return Object.fromEntries(
        fs
            .readdirSync(pluginsDir())
            .filter((f) => f.endsWith(".jpi"))
            .sort()
            .map((f) => [f, fs.readFileSync(path.join(pluginsDir(), f), "utf8")]),
    );
}

function events(): { type: string; reason: string; message: string; source: { component: string } }[] {
    return fs
        .readdirSync(eventsDir)
        .sort()
        .map((f) => JSON.parse(fs.readFileSync(path.join(eventsDir, f), "utf8")));
}

function expectSuccess(r: Run): void {
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
}

const BASE = ["kubernetes:4540.v1", "configuration-as-code:2115.v1", "git:5.10.1"];

beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "install-plugins-"));
    home = path.join(tmp, "jenkins_home");
    fs.mkdirSync(home);
    web = path.join(tmp, "web");
    lockFile = path.join(tmp, "plugins.lock");
    curlLog = path.join(tmp, "curl.log");
    eventsDir = path.join(tmp, "events");
    fs.mkdirSync(eventsDir);
    binDir = path.join(tmp, "bin");
    fs.mkdirSync(binDir);
    fs.writeFileSync(path.join(binDir, "curl"), FAKE_CURL, { mode: 0o755 });
    // The waits between tries, recorded instead of slept.
    fs.writeFileSync(path.join(binDir, "sleep"), `#!/bin/sh\nprintf '%s\\n' "$1" >>"${tmp}/sleeps"\n`, { mode: 0o755 });
    for (const spec of BASE) serve(UPDATES, ...(spec.split(":") as [string, string]));
    writeLock(BASE);
});

afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
});

const sleeps = () => (fs.existsSync(path.join(tmp, "sleeps")) ? fs.readFileSync(path.join(tmp, "sleeps"), "utf8") : "");

describe("install-plugins.sh", () => {
    test("passes sh -n, with the event helper it sources", () => {
        expect(spawnSync("sh", ["-n", SCRIPT]).status).toBe(0);
        expect(spawnSync("sh", ["-n", path.join(CONTROLLER, "k8s-event.sh")]).status).toBe(0);
    });

    test("a clean install downloads each locked archive once, checks it, and installs exactly the lock", () => {
        const r = run();
        expectSuccess(r);
        expect(downloads()).toEqual(
            [
                `${UPDATES}/plugins/kubernetes/4540.v1/kubernetes.hpi`,
                `${UPDATES}/plugins/configuration-as-code/2115.v1/configuration-as-code.hpi`,
                `${UPDATES}/plugins/git/5.10.1/git.hpi`,
            ].sort(),
        );
        expect(installed()).toEqual({
            "configuration-as-code.jpi": archive("configuration-as-code", "2115.v1"),
            "git.jpi": archive("git", "5.10.1"),
            "kubernetes.jpi": archive("kubernetes", "4540.v1"),
        });
        expect(fs.readFileSync(markerFile(), "utf8")).toMatch(/^[0-9a-f]{64}\n$/);
        expect(fs.existsSync(stagingDir())).toBe(false);
        expect(fs.existsSync(oldDir())).toBe(false);
        expect(r.stdout).toMatch(/^install-plugins: installed the 3 locked plugins/m);
    });

    test("an unchanged lock downloads nothing, and keeps what Jenkins expanded beside the archives", () => {
        expectSuccess(run());
        fs.mkdirSync(path.join(pluginsDir(), "git"));
        fs.rmSync(curlLog);
        // Comments and line endings are not the lock.
        writeLock(lockOf(BASE).replace(/\n/g, "\r\n").replace("# plugin-locks", "# another header\n# plugin-locks"));
        const r = run();
        expectSuccess(r);
        expect(downloads()).toEqual([]);
        expect(r.stdout.trim().split("\n")).toEqual([
            expect.stringMatching(/^install-plugins: the 3 locked plugins are installed .*nothing to download$/),
        ]);
        expect(fs.existsSync(path.join(pluginsDir(), "git"))).toBe(true);
    });

    test("an unchanged start hashes no archive: each has the size and mtime it was installed with", () => {
        expectSuccess(run());
        const real = spawnSync("sh", ["-c", "command -v sha256sum"], { encoding: "utf8" }).stdout.trim();
        const hashed = path.join(tmp, "hashed");
        fs.writeFileSync(
            path.join(binDir, "sha256sum"),
            `#!/bin/sh\n[ $# -gt 0 ] && printf '%s\\n' "$@" >>"${hashed}"\nexec ${real} "$@"\n`,
            { mode: 0o755 },
        );
        expectSuccess(run());
        expect(fs.existsSync(hashed)).toBe(false);
        // One that was touched is hashed (and, still matching its lock line, kept).
        const later = new Date(Date.now() + 60_000);
        fs.utimesSync(path.join(pluginsDir(), "git.jpi"), later, later);
        expectSuccess(run());
        expect(fs.readFileSync(hashed, "utf8").trim().split("\n")).toEqual([path.join(pluginsDir(), "git.jpi")]);
    });

    test("a changed lock downloads only what changed, and plugins it dropped disappear", () => {
        expectSuccess(run());
        fs.rmSync(curlLog);
        serve(UPDATES, "git", "5.11.0");
        serve(UPDATES, "timestamper", "1.27");
        writeLock(["kubernetes:4540.v1", "git:5.11.0", "timestamper:1.27"]);
        const r = run();
        expectSuccess(r);
        expect(r.stdout).toMatch(/the plugin lock changed \(\w+ -> \w+\); installing 3 plugins/);
        expect(downloads()).toEqual([
            `${UPDATES}/plugins/git/5.11.0/git.hpi`,
            `${UPDATES}/plugins/timestamper/1.27/timestamper.hpi`,
        ]);
        expect(installed()).toEqual({
            "git.jpi": archive("git", "5.11.0"),
            "kubernetes.jpi": archive("kubernetes", "4540.v1"),
            "timestamper.jpi": archive("timestamper", "1.27"),
        });
    });

    test("an archive changed on the volume under an unchanged lock is installed again", () => {
        expectSuccess(run());
        fs.writeFileSync(path.join(pluginsDir(), "git.jpi"), "tampered");
        fs.rmSync(curlLog);
        const r = run();
        expectSuccess(r);
        expect(r.stdout).toContain("installed archives differ from the lock (git)");
        expect(downloads()).toEqual([`${UPDATES}/plugins/git/5.10.1/git.hpi`]);
        expect(installed()["git.jpi"]).toBe(archive("git", "5.10.1"));
    });

    test("a checksum mismatch is refused: with no previous set the pod fails, naming the plugin, URL and both sums", () => {
        serve(UPDATES, "git", "5.10.1", "a different archive\n");
        serve(ARCHIVES, "git", "5.10.1", "another different archive\n");
        const r = run();
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(
            "ERROR: no plugins installed and none to fall back on: git:5.10.1 could not be installed",
        );
        expect(r.stderr).toContain(
            `${UPDATES}/plugins/git/5.10.1/git.hpi: checksum mismatch (expected ${sha256(archive("git", "5.10.1"))}, got ${sha256("a different archive\n")})`,
        );
        expect(r.stderr).toContain(`${ARCHIVES}/plugins/git/5.10.1/git.hpi: checksum mismatch`);
        expect(fs.existsSync(pluginsDir())).toBe(false);
        expect(fs.existsSync(stagingDir())).toBe(false);
    });

    test("a mirror (pluginMirror) is the only source asked", () => {
        const mirror = "https://nexus.internal/repository/jenkins";
        for (const spec of BASE) serve(mirror, ...(spec.split(":") as [string, string]));
        expectSuccess(run({ PLUGIN_SOURCES: mirror }));
        expect(downloads()).toEqual(
            [
                `${mirror}/plugins/kubernetes/4540.v1/kubernetes.hpi`,
                `${mirror}/plugins/configuration-as-code/2115.v1/configuration-as-code.hpi`,
                `${mirror}/plugins/git/5.10.1/git.hpi`,
            ].sort(),
        );
        expect(Object.keys(installed())).toHaveLength(3);
    });

    test("a source that does not have an archive is followed by the next one (the update center, then its archive)", () => {
        fs.rmSync(path.join(web, "updates.jenkins.io/download", archivePath("git", "5.10.1")));
        serve(ARCHIVES, "git", "5.10.1");
        expectSuccess(run());
        expect(downloads("git")).toEqual([
            `${UPDATES}/plugins/git/5.10.1/git.hpi`,
            `${ARCHIVES}/plugins/git/5.10.1/git.hpi`,
        ]);
        expect(installed()["git.jpi"]).toBe(archive("git", "5.10.1"));
    });

    test("unreachable sources are retried with a doubling wait, then every plugin is named with its errors", () => {
        fs.rmSync(web, { recursive: true });
        const r = run({ ATTEMPTS: "3", BACKOFF: "5" });
        expect(r.status).toBe(1);
        // Each plugin waits 5 s, then 10 s; the three wait at the same time.
        expect(sleeps().split("\n").filter(Boolean).sort()).toEqual(["10", "10", "10", "5", "5", "5"]);
        expect(r.stdout).toContain("kubernetes:4540.v1 not downloaded (try 1 of 3), retrying in 5s");
        expect(r.stdout).toContain("kubernetes:4540.v1 not downloaded (try 2 of 3), retrying in 10s");
        const failures = r.stderr.replace(
            /^install-plugins: ERROR: no plugins installed and none to fall back on: /,
            "",
        );
        expect(failures.split(" | ").map((f) => f.split(" ")[0])).toEqual([
            "kubernetes:4540.v1",
            "configuration-as-code:2115.v1",
            "git:5.10.1",
        ]);
        expect(r.stderr).toContain("kubernetes:4540.v1 could not be installed after 3 tries");
        expect(r.stderr).toContain(
            `${UPDATES}/plugins/kubernetes/4540.v1/kubernetes.hpi: curl: (6) Could not resolve host: updates.jenkins.io`,
        );
        expect(r.stderr).toContain(
            `${ARCHIVES}/plugins/git/5.10.1/git.hpi: curl: (6) Could not resolve host: archives.jenkins.io`,
        );
        expect(downloads()).toHaveLength(3 * 3 * 2);
        expect(fs.existsSync(stagingDir())).toBe(false);
    });

    test("PARALLEL downloads run at once, never more", () => {
        const specs = ["a:1", "b:1", "c:1", "d:1", "e:1"];
        for (const spec of specs) serve(UPDATES, ...(spec.split(":") as [string, string]));
        writeLock(specs);
        // Each transfer holds a slot for 0.4 s and records how many were held when it began.
        const slots = path.join(tmp, "slots");
        fs.mkdirSync(slots);
        const hook = path.join(tmp, "hook.sh");
        fs.writeFileSync(
            hook,
            `: >"${slots}/$$"; ls "${slots}" | wc -l >>"${tmp}/held"; /bin/sleep 0.4; rm -f "${slots}/$$"\n`,
        );
        const held = () =>
            Math.max(...fs.readFileSync(path.join(tmp, "held"), "utf8").split("\n").filter(Boolean).map(Number));
        expectSuccess(run({ PARALLEL: "3", FAKE_CURL_HOOK: hook }));
        expect(held()).toBe(3);
        expect(Object.keys(installed())).toHaveLength(5);
        fs.rmSync(home, { recursive: true });
        fs.mkdirSync(home);
        fs.rmSync(path.join(tmp, "held"));
        expectSuccess(run({ PARALLEL: "1", FAKE_CURL_HOOK: hook }));
        expect(held()).toBe(1);
    });

    test("a plugin that fails does not stop the others; every failure is named, in the lock's order", () => {
        const specs = ["a:1", "b:1", "c:1", "d:1"];
        for (const spec of specs) serve(UPDATES, ...(spec.split(":") as [string, string]));
        // b is missing everywhere, d is served with other bytes than the lock's checksum.
        fs.rmSync(path.join(web, "updates.jenkins.io/download", archivePath("b", "1")));
        serve(UPDATES, "d", "1", "tampered\n");
        writeLock(specs);
        const r = run({ ATTEMPTS: "2" });
        expect(r.status).toBe(1);
        // a and c were downloaded (and then discarded with the staging set), not cut short by b.
        expect(downloads("a")).toEqual([`${UPDATES}/plugins/a/1/a.hpi`]);
        expect(downloads("c")).toEqual([`${UPDATES}/plugins/c/1/c.hpi`]);
        expect(downloads("b")).toHaveLength(4);
        const failures = r.stderr.replace(
            /^install-plugins: ERROR: no plugins installed and none to fall back on: /,
            "",
        );
        expect(failures.split(" | ").map((f) => f.split(" ")[0])).toEqual(["b:1", "d:1"]);
        expect(r.stderr).toContain(`${UPDATES}/plugins/b/1/b.hpi: curl: (22) The requested URL returned error: 404`);
        expect(r.stderr).toContain(
            `checksum mismatch (expected ${sha256(archive("d", "1"))}, got ${sha256("tampered\n")})`,
        );
        expect(fs.existsSync(stagingDir())).toBe(false);
        expect(fs.existsSync(pluginsDir())).toBe(false);
        expect(fs.readdirSync(tmp).filter((f) => f.startsWith("install-plugins."))).toEqual([]);
    });

    test("a download whose worker dies is a failure, never a hole in the installed set", () => {
        const hook = path.join(tmp, "hook.sh");
        // The worker fetching git is killed mid-transfer (as the OOM killer would).
        fs.writeFileSync(hook, `case $url in */git.hpi) printf half >"$out"; kill -9 $PPID ;; esac\n`);
        const r = run({ FAKE_CURL_HOOK: hook });
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("git:5.10.1 was not installed: its download stopped unfinished");
        expect(fs.existsSync(pluginsDir())).toBe(false);
        expect(fs.existsSync(markerFile())).toBe(false);
    });

    test("an interrupted run leaves nothing the next run trusts: the part it wrote is downloaded again", () => {
        expectSuccess(run());
        const before = installed();
        const marker = fs.readFileSync(markerFile(), "utf8");
        serve(UPDATES, "git", "5.11.0");
        writeLock(["kubernetes:4540.v1", "configuration-as-code:2115.v1", "git:5.11.0"]);
        // The whole pod stops while git's new archive is half written.
        const hook = path.join(tmp, "hook.sh");
        fs.writeFileSync(hook, `case $url in */git.hpi) printf half >"$out"; kill -9 0 ;; esac\n`);
        const killed = spawnSync("setsid", ["sh", SCRIPT], {
            env: { ...process.env, ...runEnv({ FAKE_CURL_HOOK: hook }) },
            encoding: "utf8",
            timeout: 20_000,
        });
        expect(killed.signal ?? killed.status).not.toBe(0);
        expect(fs.existsSync(path.join(stagingDir(), "git.jpi.part"))).toBe(true);
        // Jenkins would still find the previous set, with its marker.
        expect(installed()).toEqual(before);
        expect(fs.readFileSync(markerFile(), "utf8")).toBe(marker);
        fs.rmSync(curlLog);
        const r = run();
        expectSuccess(r);
        expect(r.stdout).toContain(`removing leftover ${stagingDir()} from an interrupted install`);
        expect(downloads()).toEqual([`${UPDATES}/plugins/git/5.11.0/git.hpi`]);
        expect(installed()["git.jpi"]).toBe(archive("git", "5.11.0"));
    });

    test("PARALLEL that is not a positive number is refused before the volume is touched", () => {
        for (const value of ["0", "eight", "-2"]) {
            const r = run({ PARALLEL: value });
            expect(r.status).toBe(1);
            expect(r.stderr).toContain(`PARALLEL=${value} is not a number of downloads at once (1 or more)`);
        }
        expect(fs.readdirSync(home)).toEqual([]);
    });

    test("unreachable sources with a complete previous set: Jenkins boots with it, says so, and the next start installs", () => {
        expectSuccess(run());
        const before = installed();
        const marker = fs.readFileSync(markerFile(), "utf8");
        writeLock(["kubernetes:4540.v1", "configuration-as-code:2115.v1", "git:5.11.0"]);
        fs.rmSync(web, { recursive: true });
        const r = run({ ATTEMPTS: "2" });
        expect(r.status).toBe(0);
        expect(r.stderr).toMatch(
            /^install-plugins: WARNING: booting with the previously installed plugins \(lock \w+\), not the new lock: git:5\.11\.0 could not be installed after 2 tries; https:\/\/updates\.jenkins\.io\/download\/plugins\/git\/5\.11\.0\/git\.hpi: curl: \(6\)/,
        );
        expect(installed()).toEqual(before);
        expect(fs.readFileSync(markerFile(), "utf8")).toBe(marker);
        expect(fs.existsSync(stagingDir())).toBe(false);

        serve(UPDATES, "git", "5.11.0");
        reachable(ARCHIVES);
        const again = run();
        expectSuccess(again);
        expect(installed()["git.jpi"]).toBe(archive("git", "5.11.0"));
    });

    test("every outcome is an Event on the pod: installed, fell back, failed", () => {
        const pod = {
            POD_NAME: "jenkins-0",
            POD_NAMESPACE: "ci",
            POD_UID: "uid-1",
            KUBE_DIR: tmp,
            KUBE_API: "https://api",
        };
        fs.writeFileSync(path.join(tmp, "token"), "sa-token");
        expectSuccess(run(pod));
        writeLock(["kubernetes:4540.v1", "configuration-as-code:2115.v1", "git:9.9"]);
        expect(run({ ...pod, ATTEMPTS: "1" }).status).toBe(0);
        fs.rmSync(pluginsDir(), { recursive: true });
        expect(run({ ...pod, ATTEMPTS: "1" }).status).toBe(1);
        expect(events().map((e) => [e.type, e.reason, e.source.component])).toEqual([
            ["Normal", "PluginsInstalled", "install-plugins"],
            ["Warning", "PluginInstallFailed", "install-plugins"],
            ["Warning", "PluginInstallFailed", "install-plugins"],
        ]);
        expect(events()[1].message).toMatch(
            /^booting with the previously installed plugins .*git:9\.9 could not be installed/,
        );
        expect(events()[2].message).toMatch(
            /^no plugins installed and none to fall back on: git:9\.9 could not be installed.*404/,
        );
    });

    test("an API server it cannot reach loses the Event, never the install or the fallback", () => {
        const pod = { POD_NAME: "jenkins-0", POD_NAMESPACE: "ci", POD_UID: "uid-1", KUBE_DIR: tmp, FAKE_API_DOWN: "1" };
        fs.writeFileSync(path.join(tmp, "token"), "sa-token");
        const first = run(pod);
        expect(first.status).toBe(0);
        expect(first.stderr).toContain("install-plugins: could not record the event PluginsInstalled (HTTP 000");
        writeLock(["kubernetes:4540.v1", "configuration-as-code:2115.v1", "git:9.9"]);
        const fallback = run({ ...pod, ATTEMPTS: "1" });
        expect(fallback.status).toBe(0);
        expect(fallback.stderr).toContain("booting with the previously installed plugins");
        expect(fallback.stderr).toContain("could not record the event PluginInstallFailed");
    });

    test("a link or copy of an unchanged archive that comes out wrong is downloaded instead, never installed", () => {
        expectSuccess(run());
        fs.rmSync(curlLog);
        // A volume that cannot link, and fills up half-way through a copy.
        fs.writeFileSync(path.join(binDir, "ln"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
        fs.writeFileSync(path.join(binDir, "cp"), '#!/bin/sh\n: >"$2"\nexit 1\n', { mode: 0o755 });
        serve(UPDATES, "git", "5.11.0");
        writeLock(["kubernetes:4540.v1", "configuration-as-code:2115.v1", "git:5.11.0"]);
        expectSuccess(run());
        expect(installed()).toEqual({
            "configuration-as-code.jpi": archive("configuration-as-code", "2115.v1"),
            "git.jpi": archive("git", "5.11.0"),
            "kubernetes.jpi": archive("kubernetes", "4540.v1"),
        });
        expect(downloads()).toHaveLength(3);
    });

    test("a plugin on the volume that the lock does not list (installed from the UI) is removed at the next start", () => {
        expectSuccess(run());
        fs.writeFileSync(path.join(pluginsDir(), "extra.jpi"), "from the update center UI");
        fs.writeFileSync(path.join(pluginsDir(), "old.hpi"), "copied in by hand");
        fs.rmSync(curlLog);
        const r = run();
        expectSuccess(r);
        expect(r.stdout).toContain("extra.jpi old.hpi (not in the lock)");
        expect(Object.keys(installed())).toEqual(["configuration-as-code.jpi", "git.jpi", "kubernetes.jpi"]);
        expect(fs.existsSync(path.join(pluginsDir(), "old.hpi"))).toBe(false);
        expect(downloads()).toEqual([]);
    });

    test("runs from the scripts folder itself (sh install-plugins.sh), finding the event helper beside it", () => {
        const r = spawnSync("sh", ["install-plugins.sh"], {
            cwd: CONTROLLER,
            env: { PATH: process.env.PATH, LOCK_FILE: path.join(tmp, "missing.lock") },
            encoding: "utf8",
        });
        expect(r.stderr).toContain("does not exist or is not readable");
        expect(r.stderr).not.toContain("k8s-event.sh");
    });

    test.each([
        ["an empty lock", "# nothing\n\n", "locks no plugins"],
        ["a line without a checksum", "git 5.10.1 plugins/git/5.10.1/git.hpi\n", "line 1: git 5.10.1"],
        [
            "a path leaving the download base",
            `git 5.10.1 ${"a".repeat(64)} ../../etc/passwd\n`,
            "is not NAME VERSION SHA256 PATH",
        ],
        ["an absolute path", `git 5.10.1 ${"a".repeat(64)} /etc/passwd\n`, "is not NAME VERSION SHA256 PATH"],
    ])("%s is refused before the volume is touched, naming LOCK_FILE", (_, text, message) => {
        writeLock(text);
        const r = run();
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`LOCK_FILE ${lockFile}`);
        expect(r.stderr).toContain(message);
        expect(downloads()).toEqual([]);
        expect(fs.readdirSync(home)).toEqual([]);
    });

    test("a missing lock file fails naming it", () => {
        fs.rmSync(lockFile);
        const r = run();
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`LOCK_FILE ${lockFile} does not exist`);
    });

    test("leftover staging from an interrupted install is removed before installing", () => {
        fs.mkdirSync(stagingDir());
        fs.writeFileSync(path.join(stagingDir(), "half.jpi.part"), "x");
        const r = run();
        expectSuccess(r);
        expect(r.stdout).toContain("removing leftover");
        expect(Object.keys(installed())).toHaveLength(3);
    });

    test("plugins.old without plugins/ (interrupted mid-swap) is restored, and is what an unreachable source falls back on", () => {
        expectSuccess(run());
        fs.renameSync(pluginsDir(), oldDir());
        writeLock(["kubernetes:4540.v1", "configuration-as-code:2115.v1", "git:9.9"]);
        const r = run({ ATTEMPTS: "1" });
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`restoring ${pluginsDir()} from leftover ${oldDir()}`);
        expect(r.stderr).toContain("booting with the previously installed plugins");
        expect(installed()["git.jpi"]).toBe(archive("git", "5.10.1"));
    });

    test("plugins.old next to a swapped-in set without its marker is removed and the install redone", () => {
        expectSuccess(run());
        fs.mkdirSync(oldDir());
        fs.rmSync(markerFile());
        fs.rmSync(curlLog);
        const r = run();
        expectSuccess(r);
        expect(r.stdout).toContain("removing leftover");
        expect(fs.existsSync(oldDir())).toBe(false);
        // Nothing downloaded: the archives on the volume match the lock and are copied.
        expect(downloads()).toEqual([]);
        expect(fs.existsSync(markerFile())).toBe(true);
    });
});

describe("install-plugins.sh with a stack's own lock", () => {
    test("installs the dev stack's lock, as rendered, from archives with the metadata's checksums", async () => {
        // dev's list locked from the fixture's metadata, whose archives this test can serve.
        const p = settingsFrom(readStackConfig("dev")).plugins;
        writeTestLock(resolveLock({ plugins: p.list, jenkins: p.jenkins, acknowledged: [] }, fixtureMetadata()));
        const dev = await runStack("dev", { pluginLockDir: TEST_LOCKS });
        const data: Record<string, string> = dev.object("ConfigMap", "jenkins-scripts").data;
        const scripts = path.join(tmp, "scripts");
        fs.mkdirSync(scripts);
        for (const [file, text] of Object.entries(data)) fs.writeFileSync(path.join(scripts, file), text);
        // The fixture's archives: the bytes its published SHA-256 values were computed from.
        for (const line of data["plugins.lock"].split("\n").filter((l) => l && !l.startsWith("#"))) {
            const [name, version] = line.split(" ");
            serve(UPDATES, name, version, `jenkins-k8s fixture archive ${name} ${version}\n`);
        }
        writeLock(data["plugins.lock"]);
        const r = run(
            {
                PLUGIN_SOURCES: dev.env("install-plugins").PLUGIN_SOURCES,
                PARALLEL: dev.env("install-plugins").PARALLEL,
            },
            path.join(scripts, "install-plugins.sh"),
        );
        expectSuccess(r);
        expect(Object.keys(installed())).toHaveLength(dev.lockedPlugins.length);
        expect(Object.keys(installed())).toEqual(expect.arrayContaining(["kubernetes.jpi", "credentials.jpi"]));
    });
});
