// Runs the JCasC reload sidecar's script with the real curl, against an API server (the real one
// in the cluster tier, a loopback stand-in in the unit suite):
// with a token of the controller's own account and the cluster's CA in a ServiceAccount folder,
// the controller pod's name, namespace and uid, a loopback stand-in for Jenkins' reload endpoint,
// and a clock that makes the JCasC document change before the first check. No container runtime
// is needed: the script, curl and the API server are the real ones.
import { spawn } from "child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import { tmpdir } from "os";
import * as path from "path";

export interface ReloadRun {
    status: number | null;
    stdout: string;
    stderr: string;
    /** What reached the stand-in for Jenkins: each request's content type and body. */
    reloads: { contentType?: string; body: string }[];
}

/** The reload token the run's TOKEN_FILE holds. */
export const RELOAD_TOKEN = "reload-token";

export async function runReloadScript(options: {
    /** The scripts ConfigMap's data: casc-reload.sh and the k8s-event.sh it sources. */
    scripts: Record<string, string>;
    apiServer: string;
    token: string;
    caPem: string;
    pod: { name: string; namespace: string; uid: string };
    /** What the stand-in for Jenkins answers to the reload: status and body. */
    jenkins: { status: number; body: string };
}): Promise<ReloadRun> {
    const dir = mkdtempSync(path.join(tmpdir(), "casc-reload-cluster-"));
    const reloads: ReloadRun["reloads"] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
            reloads.push({ contentType: req.headers["content-type"], body });
            res.writeHead(options.jenkins.status).end(options.jenkins.body);
        });
    });
    try {
        const sa = path.join(dir, "serviceaccount");
        mkdirSync(sa);
        writeFileSync(path.join(sa, "token"), options.token);
        writeFileSync(path.join(sa, "ca.crt"), options.caPem);
        const secrets = path.join(dir, "secrets");
        mkdirSync(secrets);
        writeFileSync(path.join(secrets, "casc-reload-token"), `${RELOAD_TOKEN}\n`);
        mkdirSync(path.join(dir, "work"));
        for (const [file, text] of Object.entries(options.scripts)) {
            writeFileSync(path.join(dir, file), text);
        }
        const script = path.join(dir, "casc-reload.sh");
        const casc = path.join(dir, "jenkins.yaml");
        // The clock: no wait, and the document appears (changes) during the first sleep.
        const bin = path.join(dir, "bin");
        mkdirSync(bin);
        writeFileSync(path.join(bin, "sleep"), `#!/bin/sh\nprintf 'jenkins:\\n  systemMessage: x\\n' >'${casc}'\n`);
        chmodSync(path.join(bin, "sleep"), 0o755);

        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const jenkinsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const child = spawn("sh", [script], {
            env: {
                PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
                CASC_FILE: casc,
                TOKEN_FILE: path.join(secrets, "casc-reload-token"),
                JENKINS_URL: jenkinsUrl,
                KUBE_API: options.apiServer,
                KUBE_DIR: sa,
                WORK: path.join(dir, "work"),
                INTERVAL: "0",
                MAX_CHECKS: "1",
                POD_NAME: options.pod.name,
                POD_NAMESPACE: options.pod.namespace,
                POD_UID: options.pod.uid,
            },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
        return { status, stdout, stderr, reloads };
    } finally {
        server.close();
        rmSync(dir, { recursive: true, force: true });
    }
}
