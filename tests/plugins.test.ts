// The plugin lock: Jenkins' version order, the generator (a pure function of the update
// center's metadata), the checks a preview runs on a committed lock, and the plugins:lock
// command on a copy of the project, reading the fixture metadata from a folder and over HTTP.
// Long by design: one metadata builder, then each resolution rule with the case that shows it.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as http from "http";
import * as net from "net";
import { AddressInfo } from "net";
import { tmpdir } from "os";
import * as path from "path";
import { ConfigError } from "../config/reader";
import { settingsFrom } from "../config/settings";
import { checkLock, Lock, lockFileName, serialiseLock, stackLock } from "../plugins/lock";
import { FIXTURE_ID, Metadata, Release, Warning } from "../plugins/metadata";
import { LockError, resolveLock } from "../plugins/resolve";
import { compareVersions } from "../plugins/version";
import { loadMetadata, main } from "../tools/pluginsLock";
import { listStacks, readStackConfig, ROOT } from "../tools/stackConfig";
import { fixtureMetadata, runStack, TEST_LOCKS, warningsOf, writeTestLock } from "./harness";

const FIXTURE = path.join(ROOT, "tests", "fixtures", "update-center");

/** The update center's two documents, as updates.jenkins.io serves them, from the fixture. */
function serveFixture(req: http.IncomingMessage, res: http.ServerResponse): void {
    const file = req.url!.startsWith("/update-center.actual.json?version=")
        ? "update-center.actual.json"
        : req.url === "/plugin-versions.json"
          ? "plugin-versions.json"
          : undefined;
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(readFileSync(path.join(FIXTURE, file)));
}

/** A list's lock as plugins:lock makes it from the fixture metadata. */
const fixtureLock = (plugins: string[], jenkins: string, acknowledged: string[] = []): Lock =>
    resolveLock({ plugins, jenkins, acknowledged }, fixture());

const fixture = fixtureMetadata;

describe("Jenkins' version order (hudson.util.VersionNumber)", () => {
    // jenkinsci/lib-version-number's own VersionNumberTest, case by case: [newer, older]. (Its
    // older "1.12-SNAPSHOT is newer than 1.12-rc9999..." predates snapshot's move to the front
    // of the qualifiers; the vectors below hold today's order.)
    it.each([
        ["2.0.*", "2.0"],
        ["2.1-SNAPSHOT", "2.0.*"],
        ["2.1", "2.1-SNAPSHOT"],
        ["2.0.*", "2.0.1"],
        ["2.0.1", "2.0.1-SNAPSHOT"],
        ["2.0.1-SNAPSHOT", "2.0.0.99"],
        ["2.0.0.99", "2.0.0"],
        ["2.0.0", "2.0.ea"],
        ["2.0", "2.0.ea"],
        ["2.0", "2.0-alpha-1"],
        ["2.0-alpha-1", "2.0-alpha-1-rc9999.abc123def456"],
        ["2.0.ea2", "2.0.ea1"],
        ["2.0.ea1", "2.0.ea"],
        ["1.12", "1.12-SNAPSHOT (private-08/24/2008 12:13-hudson)"],
        ["1.12-SNAPSHOT (private-08/24/2008 12:13-hudson)", "1.11"],
        ["1.11.*", "1.11.9"],
        ["2.0.3-20170207.105042-1", "2.0.2"],
        ["2.0.3", "2.0.3-20170207.105042-1"],
        ["2.0.3-20170207.105043-2", "2.0.3-20170207.105042-1"],
        ["2.0.3-20170207.105042-2", "2.0.3-20170207.105042-1"],
        ["2.0.3-20170207.105042-13", "2.0.3-20170207.105042-2"],
    ])("%s is newer than %s", (newer, older) => {
        // Asked one way, as VersionNumber.isNewerThan asks it (a wildcard is not antisymmetric).
        expect(compareVersions(newer, older)).toBe(1);
    });

    it.each([
        ["2.0.0", "2.0"],
        ["2.0.ea", "2.0.ea0"],
        ["1.12-SNAPSHOT (private-08/24/2008 12:13-hudson)", "1.12-SNAPSHOT"],
        ["2.0.3-20170207.105042-1", "2.0.3-SNAPSHOT"],
    ])("%s equals %s", (a, b) => {
        expect(compareVersions(a, b)).toBe(0);
    });

    it("orders every pair of tests/fixtures/version-order.tsv as the Java class itself does (qualifiers, incrementals, snapshots)", () => {
        const pairs = readFileSync(path.join(ROOT, "tests", "fixtures", "version-order.tsv"), "utf8")
            .split("\n")
            .filter((line) => line !== "" && !line.startsWith("#"))
            .map((line) => line.split("\t"));
        expect(pairs.length).toBeGreaterThan(2000);
        const wrong = pairs.filter(([a, b, sign]) => compareVersions(a, b) !== Number(sign));
        expect(wrong).toEqual([]);
    });
});

/** "name:version" -> its dependencies ("dep:min", "dep:min?" optional) and required core. */
type Spec = Record<string, { deps?: string[]; core?: string }>;

function metadata(spec: Spec, warnings: Warning[] = []): Metadata {
    const plugins: Record<string, Record<string, Release>> = {};
    for (const [id, { deps = [], core = "2.400" }] of Object.entries(spec)) {
        const [name, version] = id.split(":");
        (plugins[name] ??= {})[version] = {
            name,
            version,
            url: `https://updates.jenkins.io/download/plugins/${name}/${version}/${name}.hpi`,
            sha256: Buffer.from(`${name}@${version}`.padEnd(32, "#")).toString("base64"),
            requiredCore: core,
            dependencies: deps.map((d) => {
                const optional = d.endsWith("?");
                const [depName, depVersion] = d.replace(/\?$/, "").split(":");
                return { name: depName, version: depVersion, optional };
            }),
        };
    }
    return { updateCenter: { id: "default", warnings, plugins: {} }, pluginVersions: { plugins }, source: "test" };
}

const lockOf = (plugins: string[], meta: Metadata, acknowledged: string[] = []) =>
    resolveLock({ plugins, jenkins: "2.568.2", acknowledged }, meta);

const versions = (lock: Lock) => Object.fromEntries(Object.entries(lock.locked).map(([name, p]) => [name, p.version]));

function problemsOf(run: () => unknown): string[] {
    try {
        run();
    } catch (e) {
        expect(e).toBeInstanceOf(LockError);
        return (e as LockError).problems;
    }
    throw new Error("expected the lock to be refused");
}

describe("the lock generator", () => {
    it("locks the listed plugins at their pins and each dependency at the version its dependents need", () => {
        const lock = lockOf(
            ["app:1"],
            metadata({
                "app:1": { deps: ["lib:2"] },
                "lib:1": {},
                "lib:2": { deps: ["base:1"] },
                "lib:3": {},
                "base:1": {},
            }),
        );
        // Not lib:3, the newest: --latest false takes what app asks for.
        expect(versions(lock)).toEqual({ app: "1", lib: "2", base: "1" });
        expect(lock.locked.app).toMatchObject({ requested: true, neededBy: [] });
        expect(lock.locked.lib).toMatchObject({ requested: false, neededBy: ["app"], dependencies: { base: "1" } });
        expect(lock.locked.lib.path).toBe("plugins/lib/2/lib.hpi");
        expect(lock.locked.lib.sha256).toBe(Buffer.from("lib@2".padEnd(32, "#")).toString("hex"));
    });

    it("a diamond takes the higher of two requirements, with that version's own dependencies", () => {
        const lock = lockOf(
            ["left:1", "right:1"],
            metadata({
                "left:1": { deps: ["shared:1"] },
                "right:1": { deps: ["shared:2"] },
                "shared:1": { deps: ["old-helper:1"] },
                "shared:2": { deps: ["new-helper:1"] },
                "old-helper:1": {},
                "new-helper:1": {},
            }),
        );
        expect(versions(lock)).toEqual({ left: "1", right: "1", shared: "2", "new-helper": "1" });
        expect(lock.locked.shared.neededBy).toEqual(["left", "right"]);
    });

    it("a dependency raised past a version no longer carries that version's requirements", () => {
        const meta = metadata({
            "a:1": { deps: ["b:1"] },
            "c:1": { deps: ["f:1"] },
            "f:1": { deps: ["b:2"] },
            "b:1": { deps: ["d:1", "y:3"] },
            "b:2": {},
            "d:1": { deps: ["e:5"] },
            "e:3": {},
            "e:5": {},
            "x:1": { deps: ["y:1"] },
            "y:1": {},
            "y:3": { deps: ["z:1"] },
            "z:1": {},
        });
        // b ends at 2, so b:1's d (and its e 5 above the pin) and y 3 (and its z) are not needed.
        expect(versions(lockOf(["a:1", "c:1", "e:3", "x:1"], meta))).toEqual({
            a: "1",
            b: "2",
            c: "1",
            e: "3",
            f: "1",
            x: "1",
            y: "1",
        });
    });

    it("an optional dependency is left out unless something needs it, and then raised to what the optional user wants", () => {
        const meta = metadata({
            "app:1": { deps: ["metrics:2?"] },
            "other:1": { deps: ["metrics:1"] },
            "metrics:1": {},
            "metrics:2": {},
        });
        expect(versions(lockOf(["app:1"], meta))).toEqual({ app: "1" });
        const both = lockOf(["app:1", "other:1"], meta);
        // Jenkins refuses app next to metrics 1: the lock takes 2.
        expect(versions(both)).toEqual({ app: "1", other: "1", metrics: "2" });
        expect(both.locked.app.optionalDependencies).toEqual({ metrics: "2" });
        expect(both.locked.metrics.neededBy).toEqual(["other"]);
    });

    it("a plugin that needs a newer core than the controller image is refused, naming both versions", () => {
        const problems = problemsOf(() =>
            lockOf(["app:1"], metadata({ "app:1": { deps: ["lib:1"] }, "lib:1": { core: "2.600.1" } })),
        );
        expect(problems).toEqual(["lib:1 needs Jenkins 2.600.1 or newer; the controller image runs 2.568.2"]);
    });

    it("a version with a security warning is refused until the stack acknowledges that warning by id", () => {
        const warning: Warning = {
            id: "SECURITY-2004",
            type: "plugin",
            name: "lib",
            message: "Missing permission check",
            url: "https://www.jenkins.io/security/advisory/2020-09-23/#SECURITY-2004",
            versions: [{ lastVersion: "1.6", pattern: "1[.][0-6](|[.-].+)" }],
        };
        const meta = metadata({ "app:1": { deps: ["lib:1.5"] }, "lib:1.5": {}, "lib:1.7": {} }, [warning]);
        expect(problemsOf(() => lockOf(["app:1"], meta))).toEqual([
            "lib:1.5 has the security warning SECURITY-2004 (Missing permission check; https://www.jenkins.io/security/advisory/2020-09-23/#SECURITY-2004): pin a version the warning does not cover, or accept the risk by adding SECURITY-2004 to jenkins-k8s:pluginSecurityWarnings",
        ]);
        const acknowledged = lockOf(["app:1"], meta, ["SECURITY-2004"]);
        expect(acknowledged.warnings).toEqual([
            { id: "SECURITY-2004", plugin: "lib", version: "1.5", message: warning.message, url: warning.url },
        ]);
        // A version past the pattern carries no warning.
        expect(lockOf(["app:1", "lib:1.7"], meta).warnings).toEqual([]);
    });

    it("a plugin or a release missing from the metadata is refused, naming it and who needs it", () => {
        const meta = metadata({ "app:1": { deps: ["gone:1"] }, "lib:1": {}, "lib:2": {} });
        expect(problemsOf(() => lockOf(["app:1", "typo:1", "lib:9"], meta))).toEqual([
            "typo:1 is not in the update center's metadata (test): check the plugin id",
            "lib:9 is not a published release (the metadata knows 1, 2)",
            "gone (needed by app) is not in the update center's metadata (test)",
        ]);
    });

    it("a pin below what another listed plugin needs is refused rather than raised (jenkins-plugin-cli refuses it too)", () => {
        const meta = metadata({ "app:1": { deps: ["lib:2"] }, "lib:1": {}, "lib:2": {} });
        expect(problemsOf(() => lockOf(["app:1", "lib:1"], meta))).toEqual([
            "app:1 needs lib 2 or newer, but the list pins lib:1: raise that pin",
        ]);
    });

    it("is deterministic: the same list and metadata give the same file", () => {
        const meta = metadata({ "a:1": { deps: ["c:1"] }, "b:1": { deps: ["c:1"] }, "c:1": {} });
        expect(serialiseLock(lockOf(["b:1", "a:1"], meta))).toBe(serialiseLock(lockOf(["a:1", "b:1"], meta)));
        expect(lockFileName(["b:1", "a:1"], "2.568.2")).toBe(lockFileName(["a:1", "b:1"], "2.568.2"));
        expect(lockFileName(["a:1", "b:1"], "2.568.3")).not.toBe(lockFileName(["a:1", "b:1"], "2.568.2"));
    });
});

describe("the committed locks", () => {
    it.each(listStacks())(
        "stack %s has its lock, whole and consistent (and, made from the fixture, exactly what plugins:lock makes)",
        (stack) => {
            const p = settingsFrom(readStackConfig(stack)).plugins;
            const found = stackLock({ ...p, plugins: p.list }, ROOT, stack);
            expect(found.problems).toEqual([]);
            if (found.lock!.updateCenter.id === FIXTURE_ID) {
                const text = readFileSync(path.join(ROOT, found.file), "utf8");
                expect(text).toBe(serialiseLock(fixtureLock(p.list, p.jenkins, p.acknowledged)));
            }
        },
    );

    it("every lock in plugin-locks/ is used by a stack", () => {
        const used = listStacks().map((stack) => {
            const p = settingsFrom(readStackConfig(stack)).plugins;
            return lockFileName(p.list, p.jenkins);
        });
        expect(readdirSync(path.join(ROOT, "plugin-locks")).filter((f) => !used.includes(f))).toEqual([]);
    });

    it("a plugin version changed in a stack without a new lock fails the preview, naming the plugin and the command", async () => {
        const error = await runStack("prod", {
            plugins: [
                "kubernetes:4540.v612369217f87",
                "configuration-as-code:2115.vf6de120eef70",
                "workflow-aggregator:608.v67378e9d3db_1",
                "git:5.7.0",
            ],
        }).catch((e) => e);
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).problems).toEqual([
            expect.stringMatching(
                /^jenkins-k8s:plugins: no plugin lock for this list on Jenkins 2\.568\.2 \(plugin-locks\/\w+\.json\); the closest lock differs: git:5\.7\.0 is locked at git:5\.10\.1: run `npm run plugins:lock -- --stack prod` and commit plugin-locks\/$/,
            ),
        ]);
    });

    it("a new controller core without a new lock fails the preview, saying which core the lock is for", async () => {
        const error = await runStack("dev", { controllerImage: "jenkins/jenkins:2.568.3-jdk21" }).catch((e) => e);
        expect((error as ConfigError).problems[0]).toContain(
            "the lock was resolved for Jenkins 2.568.2; the controller image runs 2.568.3: run `npm run plugins:lock -- --stack dev`",
        );
    });

    describe("a lock edited by hand (or merged wrongly) fails the preview, naming the plugin", () => {
        const dev = settingsFrom(readStackConfig("dev")).plugins;
        const want = { plugins: dev.list, jenkins: dev.jenkins, acknowledged: [] };
        // The dev list's lock as the fixture's metadata gives it (whatever is committed).
        const committed = (): Lock => fixtureLock(dev.list, dev.jenkins);

        it.each<[string, (l: Lock) => void, string]>([
            [
                "a dependency removed",
                (l) => delete l.locked["git-client"],
                "git:5.10.1 needs git-client 6.4.0 or newer, which the lock does not contain",
            ],
            [
                "a dependency lowered",
                (l) => (l.locked.credentials.version = "1300.v1"),
                "kubernetes:4540.v612369217f87 needs credentials 1405.vb_cda_74a_f8974 or newer; the lock has credentials:1300.v1",
            ],
            [
                "a core requirement raised",
                (l) => (l.locked.git.requiredCore = "2.600.1"),
                "git:5.10.1 needs Jenkins 2.600.1 or newer; the controller image runs 2.568.2",
            ],
            [
                "a listed plugin's entry moved",
                (l) => (l.locked.git.version = "5.11.0"),
                "git is installed at 5.11.0, not the 5.10.1 the list pins",
            ],
        ])("%s", (_, edit, problem) => {
            const lock = committed();
            edit(lock);
            expect(checkLock(lock, want).problems).toContain(problem);
        });

        it("a warning in the lock the stack has not acknowledged; acknowledged, the preview reports it", () => {
            const lock = committed();
            lock.warnings = [
                { id: "SECURITY-3501", plugin: "git", version: "5.10.1", message: "Stored XSS", url: "https://x" },
            ];
            expect(checkLock(lock, want).problems).toEqual([
                expect.stringContaining(
                    "git:5.10.1 has the security warning SECURITY-3501 (Stored XSS; https://x): pin a version",
                ),
            ]);
            const acked = checkLock(lock, { ...want, acknowledged: ["SECURITY-3501"] });
            expect(acked).toEqual({
                problems: [],
                notes: [expect.stringContaining("deployed anyway, acknowledged in jenkins-k8s:pluginSecurityWarnings")],
            });
        });
    });
});

describe("npm run plugins:lock", () => {
    let root: string;
    let out: string[];
    const lock = (...args: string[]) => main(args, (line) => out.push(line), root);

    beforeEach(() => {
        root = mkdtempSync(path.join(tmpdir(), "plugins-lock-"));
        for (const f of readdirSync(ROOT).filter((x) => /^Pulumi(\..+)?\.yaml$/.test(x))) {
            copyFileSync(path.join(ROOT, f), path.join(root, f));
        }
        out = [];
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    const setPlugins = (stack: string, plugins: string[], extra = "") => {
        const file = path.join(root, `Pulumi.${stack}.yaml`);
        const text = readFileSync(file, "utf8").replace(/ {2}jenkins-k8s:plugins:\n( {4}- .*\n)+/, "");
        writeFileSync(
            file,
            text.replace(
                "config:\n",
                `config:\n  jenkins-k8s:plugins:\n${plugins.map((p) => `    - ${p}\n`).join("")}${extra}`,
            ),
        );
    };

    it("writes every stack's lock from a folder of metadata, explaining each dependency, and a rerun changes nothing", async () => {
        expect(await lock("--update-center", FIXTURE)).toBe(0);
        for (const stack of listStacks(root)) {
            const p = settingsFrom(readStackConfig(stack, root)).plugins;
            const expected = fixtureLock(p.list, p.jenkins, p.acknowledged);
            expected.updateCenter.source = path.relative(root, FIXTURE);
            expect(readFileSync(path.join(root, "plugin-locks", lockFileName(p.list, p.jenkins)), "utf8")).toBe(
                serialiseLock(expected),
            );
        }
        expect(out).toContain("  + git-client:6.4.0 (needed by git)");
        expect(out).toContain("  + configuration-as-code:2115.vf6de120eef70 (listed)");
        out = [];
        expect(await lock("--update-center", FIXTURE)).toBe(0);
        expect(out.every((l) => l.startsWith("stack "))).toBe(true);
    });

    it("an upgrade shows in its output as the lock diff a reviewer sees, and the old lock goes", async () => {
        await lock("--update-center", FIXTURE);
        const before = readdirSync(path.join(root, "plugin-locks"));
        setPlugins("prod", [
            "kubernetes:4540.v612369217f87",
            "configuration-as-code:1971.vf9280461ea_89",
            "workflow-aggregator:608.v67378e9d3db_1",
            "git:5.10.1",
        ]);
        out = [];
        expect(await lock("--stack", "prod", "--update-center", FIXTURE)).toBe(0);
        expect(out).toEqual(
            expect.arrayContaining([
                "  ~ configuration-as-code: 2115.vf6de120eef70 -> 1971.vf9280461ea_89 (listed)",
                expect.stringMatching(/^removed plugin-locks\/\w+\.json: no stack uses it$/),
            ]),
        );
        expect(readdirSync(path.join(root, "plugin-locks"))).toHaveLength(before.length);
    });

    it("--check passes while the locks are what the metadata gives, and fails, writing nothing, once one is not", async () => {
        await lock("--update-center", FIXTURE);
        out = [];
        expect(await lock("--check", "--update-center", FIXTURE)).toBe(0);
        const dir = path.join(root, "plugin-locks");
        const [file] = readdirSync(dir);
        const edited = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Lock;
        edited.locked["git-client"].version = "6.1.2";
        writeFileSync(path.join(dir, file), serialiseLock(edited));
        out = [];
        expect(await lock("--check", "--update-center", FIXTURE)).toBe(1);
        expect(out).toContain(
            `  plugin-locks/${file} is not what the metadata gives today: run npm run plugins:lock -- --update-center ${FIXTURE} and review the diff`,
        );
        expect(JSON.parse(readFileSync(path.join(dir, file), "utf8")).locked["git-client"].version).toBe("6.1.2");
    });

    it("a bad argument is said as one usage line", async () => {
        await expect(lock("--stak", "dev")).rejects.toThrow(
            /^Unknown option '--stak'.*; usage: npm run plugins:lock \[-- \[--stack <name>\] \[--update-center <url or folder>\] \[--check\]\]$/,
        );
    });

    it("cleans only lock files: other JSON beside them stays, and an unreadable lock is named, not deleted", async () => {
        await lock("--update-center", FIXTURE);
        const dir = path.join(root, "plugin-locks");
        writeFileSync(path.join(dir, "notes.json"), "{}");
        writeFileSync(path.join(dir, "0123456789abcdef.json"), "<<<<<<< HEAD\n");
        out = [];
        expect(await lock("--update-center", FIXTURE)).toBe(1);
        expect(out).toContain(
            "plugin-locks/0123456789abcdef.json cannot be read: " +
                out.find((l) => l.includes("cannot be read"))!.split("cannot be read: ")[1],
        );
        expect(readdirSync(dir)).toEqual(expect.arrayContaining(["notes.json", "0123456789abcdef.json"]));
    });

    it("a preview names an unreadable lock file (a merge conflict left in it) instead of failing with a parse error", async () => {
        const raw = readStackConfig("dev");
        writeTestLock(fixtureLock(settingsFrom(raw).plugins.list, "2.568.2"));
        writeFileSync(path.join(ROOT, TEST_LOCKS, "fedcba9876543210.json"), "<<<<<<< HEAD\n");
        try {
            const error = await runStack("dev", { pluginLockDir: TEST_LOCKS }).catch((e) => e);
            expect((error as ConfigError).problems).toEqual([
                expect.stringMatching(
                    /^jenkins-k8s:plugins: node_modules\/.cache\/jenkins-k8s-test-locks\/fedcba9876543210\.json cannot be read: .*: fix or delete it, then run `npm run plugins:lock -- --stack dev`/,
                ),
            ]);
        } finally {
            rmSync(path.join(ROOT, TEST_LOCKS, "fedcba9876543210.json"));
        }
    });

    it("refuses a version with a security warning, naming it; acknowledged in the stack, locks it and says so", async () => {
        const plugins = ["kubernetes:4540.v612369217f87", "configuration-as-code:2115.vf6de120eef70", "git:5.7.0"];
        setPlugins("prod", plugins);
        expect(await lock("--stack", "prod", "--update-center", FIXTURE)).toBe(1);
        expect(out.join("\n")).toContain(
            "stack prod: the plugins cannot be locked:\n  - git:5.7.0 has the security warning SECURITY-3501",
        );
        setPlugins("prod", plugins, "  jenkins-k8s:pluginSecurityWarnings: [SECURITY-3501]\n");
        out = [];
        expect(await lock("--stack", "prod", "--update-center", FIXTURE)).toBe(0);
        expect(out).toContain(
            "  ! git:5.7.0: SECURITY-3501 acknowledged (https://www.jenkins.io/security/advisory/2026-01-14/#SECURITY-3501)",
        );
    });

    it("reads the update center over HTTP, as at updates.jenkins.io: the core's update-center.actual.json and plugin-versions.json", async () => {
        const asked: string[] = [];
        const server = http.createServer((req, res) => {
            asked.push(req.url!);
            serveFixture(req, res);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
            const meta = await loadMetadata(base, "2.568.2");
            expect(asked.sort()).toEqual(["/plugin-versions.json", "/update-center.actual.json?version=2.568.2"]);
            expect(meta.source).toBe(base);
            expect(meta.updateCenter.id).toBe("jenkins-k8s-fixture");
            await expect(loadMetadata(`${base}/missing`, "2.568.2")).rejects.toThrow(/HTTP 404/);
        } finally {
            server.closeAllConnections();
            server.close();
        }
    });

    it("goes through the proxy HTTP_PROXY names (Node's own fetch would not), and around it for NO_PROXY's hosts", async () => {
        // The origin answers 502: only the proxy's tunnel reaches the documents.
        const origin = http.createServer((_req, res) => void res.writeHead(502).end("not through the proxy"));
        const documents = http.createServer(serveFixture);
        // A forward proxy as squid is one: CONNECT host:port, then a tunnel (here, to the documents).
        const tunnels: string[] = [];
        const proxy = http.createServer((_req, res) => void res.writeHead(405).end());
        proxy.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
            tunnels.push(req.url!);
            const upstream = net.connect(port(documents), "127.0.0.1", () => {
                client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
                upstream.write(head);
                upstream.pipe(client);
                client.pipe(upstream);
            });
            for (const s of [client, upstream]) s.on("error", () => undefined);
        });
        const servers = [origin, documents, proxy];
        await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve))));
        const port = (s: http.Server) => (s.address() as AddressInfo).port;
        const base = `http://127.0.0.1:${port(origin)}`;
        const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
        try {
            process.env.HTTP_PROXY = `http://127.0.0.1:${port(proxy)}`;
            delete process.env.NO_PROXY;
            expect((await loadMetadata(base, "2.568.2")).updateCenter.id).toBe("jenkins-k8s-fixture");
            expect(new Set(tunnels)).toEqual(new Set([`127.0.0.1:${port(origin)}`]));
            const through = tunnels.length;
            process.env.NO_PROXY = "127.0.0.1";
            await expect(loadMetadata(base, "2.568.2")).rejects.toThrow(/HTTP 502/);
            expect(tunnels).toHaveLength(through);
        } finally {
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
            for (const s of servers) {
                s.closeAllConnections();
                s.close();
            }
        }
    });

    it("a stack's preview reports each security warning it acknowledged, and refuses one it did not", async () => {
        const overrides = {
            plugins: ["kubernetes:4540.v612369217f87", "configuration-as-code:2115.vf6de120eef70", "git:5.7.0"],
            pluginSecurityWarnings: ["SECURITY-3501"],
            pluginLockDir: TEST_LOCKS,
        };
        const raw = readStackConfig("prod");
        for (const [k, v] of Object.entries(overrides)) raw[`jenkins-k8s:${k}`] = JSON.stringify(v);
        const p = settingsFrom({ ...raw, "jenkins-k8s:pluginLockDir": TEST_LOCKS }).plugins;
        writeTestLock(resolveLock({ plugins: p.list, jenkins: p.jenkins, acknowledged: p.acknowledged }, fixture()));

        const { warnings } = await warningsOf(() => runStack("prod", overrides));
        expect(warnings).toContainEqual(
            "git:5.7.0 has the security warning SECURITY-3501 (Stored XSS vulnerability in build descriptions; https://www.jenkins.io/security/advisory/2026-01-14/#SECURITY-3501); deployed anyway, acknowledged in jenkins-k8s:pluginSecurityWarnings",
        );
        const error = await runStack("prod", { ...overrides, pluginSecurityWarnings: [] }).catch((e) => e);
        expect((error as ConfigError).problems).toEqual([
            expect.stringContaining("accept the risk by adding SECURITY-3501 to jenkins-k8s:pluginSecurityWarnings"),
        ]);
    });
});
