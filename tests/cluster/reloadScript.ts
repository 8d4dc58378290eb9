// Runs the controller pod's scripts with the real curl, against an API server (the real one in
// the cluster tier, a loopback stand-in in the unit suite): with a token of the controller's own
// account and the cluster's CA in a ServiceAccount folder, and the controller pod's name,
// namespace and uid, as the pod gives them. No container runtime is needed: the scripts, curl and
// the API server are the real ones; what the pod would talk to besides (Jenkins' reload endpoint,
// the plugin download sources) are loopback stand-ins.
import { spawn } from "child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import { tmpdir } from "os";
import * as path from "path";

export interface ScriptRun {
    status: number | null;
    stdout: string;
    stderr: string;
}

export interface PodScriptOptions {
    /** The scripts ConfigMap's data: the script to run and the k8s-event.sh it sources. */
    scripts: Record<string, string>;
    apiServer: string;
    token: string;
    caPem: string;
    pod: { name: string; namespace: string; uid: string };
}

/** Serves `handler` on a loopback port while `use` runs with its base URL. */
export async function withLoopbackServer<T>(
    handler: http.RequestListener,
    use: (base: string) => Promise<T>,
): Promise<T> {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
        return await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
        server.closeAllConnections();
        server.close();
    }
}

/**
 * Runs `script` from the scripts in a folder of their own (as the pod mounts them), with the
 * pod's identity and account, `env` besides, and `bin` first on PATH (stand-in commands).
 */
export async function runPodScript(
    options: PodScriptOptions & { script: string; env: Record<string, string>; bin?: Record<string, string> },
): Promise<ScriptRun> {
    const dir = mkdtempSync(path.join(tmpdir(), "pod-script-"));
    try {
        const sa = path.join(dir, "serviceaccount");
        mkdirSync(sa);
        writeFileSync(path.join(sa, "token"), options.token);
        writeFileSync(path.join(sa, "ca.crt"), options.caPem);
        mkdirSync(path.join(dir, "work"));
        const scripts = path.join(dir, "scripts");
        mkdirSync(scripts);
        for (const [file, text] of Object.entries(options.scripts)) {
            writeFileSync(path.join(scripts, file), text);
        }
        const bin = path.join(dir, "bin");
        mkdirSync(bin);
        for (const [name, text] of Object.entries(options.bin ?? {})) {
            writeFileSync(path.join(bin, name), text);
            chmodSync(path.join(bin, name), 0o755);
        }
        const env = {
            PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
            KUBE_API: options.apiServer,
            KUBE_DIR: sa,
            WORK: path.join(dir, "work"),
            POD_NAME: options.pod.name,
            POD_NAMESPACE: options.pod.namespace,
            POD_UID: options.pod.uid,
            ...Object.fromEntries(Object.entries(options.env).map(([k, v]) => [k, v.replace("$DIR", dir)])),
        };
        const child = spawn("sh", [path.join(scripts, options.script)], { env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
        return { status, stdout, stderr };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

export interface ReloadRun extends ScriptRun {
    /** What reached the stand-in for Jenkins: each request's content type and body. */
    reloads: { contentType?: string; body: string }[];
}

/** The reload token the run's TOKEN_FILE holds. */
export const RELOAD_TOKEN = "reload-token";

/**
 * The JCasC reload sidecar's script, with a stand-in for Jenkins' reload endpoint and a clock that
 * makes the JCasC document change before the first check.
 */
export async function runReloadScript(
    options: PodScriptOptions & {
        /** What the stand-in for Jenkins answers to the reload: status and body. */
        jenkins: { status: number; body: string };
    },
): Promise<ReloadRun> {
    const reloads: ReloadRun["reloads"] = [];
    return withLoopbackServer(
        (req, res) => {
            let body = "";
            req.on("data", (chunk) => (body += chunk));
            req.on("end", () => {
                reloads.push({ contentType: req.headers["content-type"], body });
                res.writeHead(options.jenkins.status).end(options.jenkins.body);
            });
        },
        async (jenkinsUrl) => {
            const run = await runPodScript({
                ...options,
                scripts: { ...options.scripts, "casc-reload-token": `${RELOAD_TOKEN}\n` },
                script: "casc-reload.sh",
                bin: { sleep: `#!/bin/sh\nprintf 'jenkins:\\n  systemMessage: x\\n' >"$CASC_FILE"\n` },
                env: {
                    CASC_FILE: "$DIR/work/jenkins.yaml",
                    TOKEN_FILE: "$DIR/scripts/casc-reload-token",
                    JENKINS_URL: jenkinsUrl,
                    INTERVAL: "0",
                    MAX_CHECKS: "1",
                },
            });
            return { ...run, reloads };
        },
    );
}
