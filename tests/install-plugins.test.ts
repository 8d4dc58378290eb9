// Runs the real init-container script against a throwaway JENKINS_HOME with a
// fake jenkins-plugin-cli, so the skip/reinstall/swap behaviour is checked the
// way an operator would see it: CLI calls, files on the volume, exit status.
// Long by design: each install case lays out a home volume and reads back what the script did.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.resolve(__dirname, "..", "controller", "install-plugins.sh");

// Records its argv (tab-separated, one invocation per line) and, like the real
// CLI, creates <artifactId>.jpi in the download directory for every plugin line.
const FAKE_CLI = `#!/bin/sh
set -eu
printf '%s\\t' "$@" >>"$FAKE_CLI_LOG"
printf '\\n' >>"$FAKE_CLI_LOG"
dir= file=
while [ $# -gt 0 ]; do
  case $1 in
    --plugin-download-directory) dir=$2; shift ;;
    --plugin-file) file=$2; shift ;;
  esac
  shift
done
mkdir -p "$dir"
tr -d '\\r' <"$file" | sed -e 's/[[:space:]]#.*$//' -e 's/[[:space:]]//g' -e '/^#/d' -e '/^$/d' |
while IFS= read -r line; do
  printf '%s\\n' "$line" >"$dir/\${line%%:*}.jpi"
done
`;

// Fails half-way through a download, as a network error would.
const FAILING_CLI = `#!/bin/sh
printf '%s\\t' "$@" >>"$FAKE_CLI_LOG"
printf '\\n' >>"$FAKE_CLI_LOG"
while [ $# -gt 0 ]; do
  [ "$1" = --plugin-download-directory ] && mkdir -p "$2" && : >"$2/partial.jpi.tmp"
  shift
done
echo "ERROR: failed to download kubernetes:4.0" >&2
exit 1
`;

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

let tmp: string;
let home: string;
let pluginsFile: string;
let war: string;
let cliLog: string;
let binDir: string;
let failingCli: string;

const pluginsDir = (): string => path.join(home, "plugins");
const markerFile = (): string => path.join(pluginsDir(), ".installed-plugins.sha256");
const stagingDir = (): string => path.join(home, "plugins.staging");
const oldDir = (): string => path.join(home, "plugins.old");

function writeExecutable(file: string, content: string): void {
    fs.writeFileSync(file, content);
    fs.chmodSync(file, 0o755);
}

function writePlugins(content: string): void {
    fs.writeFileSync(pluginsFile, content);
}

function run(extraEnv: Record<string, string> = {}): Run {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ["PLUGIN_CLI", "PLUGINS_FILE", "JENKINS_HOME", "JENKINS_WAR"]) delete env[k];
    Object.assign(env, {
        PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
        PLUGINS_FILE: pluginsFile,
        JENKINS_HOME: home,
        JENKINS_WAR: war,
        FAKE_CLI_LOG: cliLog,
        ...extraEnv,
    });
    const r = spawnSync("sh", [SCRIPT], { env, encoding: "utf8", timeout: 10_000 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function cliCalls(): string[][] {
    if (!fs.existsSync(cliLog)) return [];
    return fs
        .readFileSync(cliLog, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split("\t").filter((a) => a !== ""));
}

function installedArchives(): string[] {
    return fs
        .readdirSync(pluginsDir())
        .filter((f) => f.endsWith(".jpi"))
        .sort();
}

function expectSuccess(r: Run): void {
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
}

const BASE_LIST = "kubernetes:4.0\nconfiguration-as-code:1900.v1\ngit:5.7.0\n";

beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "install-plugins-"));
    home = path.join(tmp, "jenkins_home");
    fs.mkdirSync(home);
    pluginsFile = path.join(tmp, "plugins.txt");
    war = path.join(tmp, "jenkins.war");
    fs.writeFileSync(war, "fake war 2.568.2");
    cliLog = path.join(tmp, "cli.log");
    binDir = path.join(tmp, "bin");
    fs.mkdirSync(binDir);
    writeExecutable(path.join(binDir, "jenkins-plugin-cli"), FAKE_CLI);
    failingCli = path.join(tmp, "failing-cli");
    writeExecutable(failingCli, FAILING_CLI);
    writePlugins(BASE_LIST);
});

afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
});

describe("install-plugins.sh", () => {
    test("script passes sh -n", () => {
        expect(spawnSync("sh", ["-n", SCRIPT]).status).toBe(0);
    });

    test("first run calls the CLI once with war, plugin file and staging dir, then installs and writes the marker", () => {
        const r = run();
        expectSuccess(r);

        const calls = cliCalls();
        expect(calls).toHaveLength(1);
        expect(calls[0]).toEqual([
            "--war",
            war,
            "--plugin-file",
            pluginsFile,
            "--plugin-download-directory",
            stagingDir(),
            "--latest",
            "false",
            "--verbose",
        ]);

        expect(installedArchives()).toEqual(["configuration-as-code.jpi", "git.jpi", "kubernetes.jpi"]);
        expect(fs.readFileSync(markerFile(), "utf8")).toMatch(/^[0-9a-f]{64}\n$/);
        expect(fs.existsSync(stagingDir())).toBe(false);
        expect(fs.existsSync(oldDir())).toBe(false);
        expect(r.stdout).toMatch(/^install-plugins: installed 3 plugin archives/m);
    });

    test("second run with the same list does not call the CLI and says up to date", () => {
        expectSuccess(run());
        const marker = fs.readFileSync(markerFile(), "utf8");
        // Jenkins expands archives next to them at runtime; a skipped run must keep that.
        fs.mkdirSync(path.join(pluginsDir(), "git"));

        const r = run();
        expectSuccess(r);
        expect(cliCalls()).toHaveLength(1);
        expect(r.stdout.trim().split("\n")).toEqual([
            expect.stringMatching(/^install-plugins: plugins are up to date/),
        ]);
        expect(fs.readFileSync(markerFile(), "utf8")).toBe(marker);
        expect(fs.existsSync(path.join(pluginsDir(), "git"))).toBe(true);
    });

    test("cosmetic edits (order, comments, blank lines, CRLF, trailing spaces) do not trigger a reinstall", () => {
        expectSuccess(run());
        writePlugins(
            "# managed by pulumi\r\n\r\ngit:5.7.0   \r\n  # core\r\nkubernetes:4.0 # cloud\r\n\r\nconfiguration-as-code:1900.v1\t\r\n",
        );
        const r = run();
        expectSuccess(r);
        expect(cliCalls()).toHaveLength(1);
        expect(r.stdout).toMatch(/up to date/);
    });

    test.each([
        [
            "version bump",
            "kubernetes:4.1\nconfiguration-as-code:1900.v1\ngit:5.7.0\n",
            ["configuration-as-code.jpi", "git.jpi", "kubernetes.jpi"],
        ],
        [
            "plugin added",
            BASE_LIST + "timestamper:1.27\n",
            ["configuration-as-code.jpi", "git.jpi", "kubernetes.jpi", "timestamper.jpi"],
        ],
        [
            "plugin removed",
            "kubernetes:4.0\nconfiguration-as-code:1900.v1\n",
            ["configuration-as-code.jpi", "kubernetes.jpi"],
        ],
    ])("changed list (%s) reinstalls and the plugins dir matches the new list exactly", (name, list, expected) => {
        expectSuccess(run());
        const firstMarker = fs.readFileSync(markerFile(), "utf8");
        writePlugins(list);

        const r = run();
        expectSuccess(r);
        expect(r.stdout).toMatch(/^install-plugins: plugin list or Jenkins WAR changed/m);
        expect(cliCalls()).toHaveLength(2);
        expect(installedArchives()).toEqual(expected);
        expect(fs.readFileSync(markerFile(), "utf8")).not.toBe(firstMarker);
        if (name === "version bump") {
            expect(fs.readFileSync(path.join(pluginsDir(), "kubernetes.jpi"), "utf8")).toBe("kubernetes:4.1\n");
        }
        expect(fs.existsSync(stagingDir())).toBe(false);
        expect(fs.existsSync(oldDir())).toBe(false);

        expectSuccess(run());
        expect(cliCalls()).toHaveLength(2);
    });

    test("a changed Jenkins WAR triggers a reinstall", () => {
        expectSuccess(run());
        fs.writeFileSync(war, "fake war 2.570.1");
        const r = run();
        expectSuccess(r);
        expect(cliCalls()).toHaveLength(2);
        expect(r.stdout).toMatch(/changed/);
    });

    test("CLI failure exits non-zero, keeps the old plugins and marker, removes staging, and the next run retries", () => {
        expectSuccess(run());
        const marker = fs.readFileSync(markerFile(), "utf8");
        const before = installedArchives();
        writePlugins(BASE_LIST + "timestamper:1.27\n");

        const failed = run({ PLUGIN_CLI: failingCli });
        expect(failed.status).not.toBe(0);
        expect(failed.stderr).toMatch(/^install-plugins: ERROR: jenkins-plugin-cli failed/m);
        expect(installedArchives()).toEqual(before);
        expect(fs.readFileSync(markerFile(), "utf8")).toBe(marker);
        expect(fs.existsSync(stagingDir())).toBe(false);
        expect(fs.existsSync(oldDir())).toBe(false);
        expect(cliCalls()).toHaveLength(2);

        const retry = run();
        expectSuccess(retry);
        expect(cliCalls()).toHaveLength(3);
        expect(installedArchives()).toContain("timestamper.jpi");
    });

    test("CLI failure on the very first run leaves no plugins dir and no marker", () => {
        const r = run({ PLUGIN_CLI: failingCli });
        expect(r.status).not.toBe(0);
        expect(fs.existsSync(pluginsDir())).toBe(false);
        expect(fs.existsSync(stagingDir())).toBe(false);
    });

    test("CLI that succeeds without downloading anything does not replace the plugins dir", () => {
        expectSuccess(run());
        const before = installedArchives();
        const noop = path.join(tmp, "noop-cli");
        writeExecutable(noop, "#!/bin/sh\nexit 0\n");
        writePlugins(BASE_LIST + "timestamper:1.27\n");

        const r = run({ PLUGIN_CLI: noop });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/downloaded no \.jpi\/\.hpi files/);
        expect(installedArchives()).toEqual(before);
        expect(fs.existsSync(stagingDir())).toBe(false);
    });

    test("leftover plugins.staging from an interrupted install is removed", () => {
        expectSuccess(run());
        fs.mkdirSync(stagingDir());
        fs.writeFileSync(path.join(stagingDir(), "half.jpi"), "");

        const r = run();
        expectSuccess(r);
        expect(r.stdout).toMatch(/removing leftover .*plugins\.staging/);
        expect(fs.existsSync(stagingDir())).toBe(false);
        expect(cliCalls()).toHaveLength(1);
    });

    test("leftover plugins.old without plugins/ (interrupted mid-swap) is restored, then the changed list is installed", () => {
        expectSuccess(run());
        // State after `mv plugins plugins.old` but before `mv staging plugins`.
        fs.renameSync(pluginsDir(), oldDir());
        fs.mkdirSync(stagingDir());
        writePlugins("kubernetes:4.0\n");

        const r = run();
        expectSuccess(r);
        expect(r.stdout).toMatch(/restoring .*plugins from leftover .*plugins\.old/);
        expect(cliCalls()).toHaveLength(2);
        expect(installedArchives()).toEqual(["kubernetes.jpi"]);
        expect(fs.existsSync(oldDir())).toBe(false);
        expect(fs.existsSync(stagingDir())).toBe(false);
    });

    test("leftover plugins.old without plugins/ and an unchanged list is restored without a download", () => {
        expectSuccess(run());
        fs.renameSync(pluginsDir(), oldDir());

        const r = run();
        expectSuccess(r);
        expect(r.stdout).toMatch(/up to date/);
        expect(cliCalls()).toHaveLength(1);
        expect(installedArchives()).toEqual(["configuration-as-code.jpi", "git.jpi", "kubernetes.jpi"]);
        expect(fs.existsSync(oldDir())).toBe(false);
    });

    test("leftover plugins.old next to a swapped-in plugins/ without marker is removed and the install is redone", () => {
        expectSuccess(run());
        // State after both renames but before the marker was written.
        fs.mkdirSync(oldDir());
        fs.writeFileSync(path.join(oldDir(), "stale.jpi"), "");
        fs.rmSync(markerFile());

        const r = run();
        expectSuccess(r);
        expect(r.stdout).toMatch(/removing leftover .*plugins\.old/);
        expect(cliCalls()).toHaveLength(2);
        expect(fs.existsSync(oldDir())).toBe(false);
        expect(fs.existsSync(markerFile())).toBe(true);
    });

    test("leftover plugins.old next to a complete install (marker written) is removed without a download", () => {
        expectSuccess(run());
        // State after the marker was written but before `rm -rf plugins.old`.
        fs.mkdirSync(oldDir());
        fs.writeFileSync(path.join(oldDir(), "stale.jpi"), "");

        const r = run();
        expectSuccess(r);
        expect(r.stdout).toMatch(/removing leftover .*plugins\.old/);
        expect(r.stdout).toMatch(/up to date/);
        expect(cliCalls()).toHaveLength(1);
        expect(fs.existsSync(oldDir())).toBe(false);
    });

    test.each([
        ["empty", ""],
        ["only comments and blank lines", "# nothing here\n\n   \r\n"],
    ])("%s plugin file fails with a message naming PLUGINS_FILE and never calls the CLI", (_name, content) => {
        writePlugins(content);
        const r = run();
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain(`PLUGINS_FILE ${pluginsFile}`);
        expect(cliCalls()).toHaveLength(0);
        expect(fs.existsSync(pluginsDir())).toBe(false);
    });

    test("missing plugin file fails with a message naming PLUGINS_FILE", () => {
        fs.rmSync(pluginsFile);
        const r = run();
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain(`PLUGINS_FILE ${pluginsFile}`);
        expect(cliCalls()).toHaveLength(0);
    });

    test("missing WAR fails with a message naming JENKINS_WAR", () => {
        fs.rmSync(war);
        const r = run();
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain(`JENKINS_WAR ${war}`);
        expect(cliCalls()).toHaveLength(0);
    });
});
