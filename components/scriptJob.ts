// A CronJob that runs one of controller/'s shell scripts with curl against the API server, as its
// own ServiceAccount, under the restricted profile: the backups' and the agent reaper's. The
// script and what it sources (k8s-event.sh, k8s-request.sh) come from a ConfigMap of their own.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import * as path from "path";
import { restrictedContainer, RUNTIME_DEFAULT_SECCOMP } from "../config/podSecurity";

/** A shell script of controller/, as the ConfigMaps that carry it hold it. */
export const controllerScript = (file: string): string =>
    readFileSync(path.join(__dirname, "..", "controller", file), "utf8");

/** What every such script sources, beside it in its ConfigMap. */
const SOURCED = ["k8s-event.sh", "k8s-request.sh"];

/** curlimages/curl's user and group. */
const CURL_UID = 100;
const CURL_GID = 101;

export interface ScriptJobArgs {
    /** The CronJob's, the ServiceAccount's and (with `-script`) the ConfigMap's name. */
    account: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
    /** The file in controller/ the job runs. */
    script: string;
    /** The container's name. */
    container: string;
    schedule: string;
    image: string;
    serviceAccountName: pulumi.Input<string>;
    env: k8s.types.input.core.v1.EnvVar[];
    /** Tries of a run: 0 when a retry would do the work twice. */
    backoffLimit: number;
    /**
     * How long a run may take: with concurrencyPolicy Forbid, a run that never ends (its pod
     * stuck Pending on an image or the quota) would keep every later one from starting.
     */
    deadlineSeconds: number;
}

/** The ConfigMap of the script (and what it sources) and the CronJob that runs it. */
export function scriptCronJob(
    name: string,
    args: ScriptJobArgs,
    opts: pulumi.CustomResourceOptions,
): k8s.batch.v1.CronJob {
    const meta = (metaName: string) => ({ name: metaName, namespace: args.namespace, labels: args.labels });
    const scriptsMount = { name: "scripts", mountPath: "/scripts", readOnly: true };
    const workMount = { name: "work", mountPath: "/tmp" };
    const scripts = new k8s.core.v1.ConfigMap(
        `${name}-script`,
        {
            metadata: meta(`${args.account}-script`),
            data: Object.fromEntries([args.script, ...SOURCED].map((file) => [file, controllerScript(file)])),
        },
        opts,
    );
    return new k8s.batch.v1.CronJob(
        name,
        {
            metadata: meta(args.account),
            spec: {
                schedule: args.schedule,
                concurrencyPolicy: "Forbid",
                successfulJobsHistoryLimit: 3,
                failedJobsHistoryLimit: 3,
                jobTemplate: {
                    spec: {
                        backoffLimit: args.backoffLimit,
                        activeDeadlineSeconds: args.deadlineSeconds,
                        template: {
                            metadata: { labels: args.labels },
                            spec: {
                                serviceAccountName: args.serviceAccountName,
                                restartPolicy: "Never",
                                // curlimages/curl's user; the restricted profile throughout.
                                securityContext: {
                                    runAsNonRoot: true,
                                    runAsUser: CURL_UID,
                                    runAsGroup: CURL_GID,
                                    seccompProfile: RUNTIME_DEFAULT_SECCOMP,
                                },
                                containers: [
                                    {
                                        name: args.container,
                                        image: args.image,
                                        command: ["sh", `${scriptsMount.mountPath}/${args.script}`],
                                        env: args.env,
                                        resources: {
                                            requests: { cpu: "10m", memory: "16Mi" },
                                            limits: { cpu: "200m", memory: "64Mi" },
                                        },
                                        securityContext: restrictedContainer(CURL_UID),
                                        volumeMounts: [scriptsMount, workMount],
                                    },
                                ],
                                volumes: [
                                    { name: scriptsMount.name, configMap: { name: scripts.metadata.name } },
                                    { name: workMount.name, emptyDir: {} },
                                ],
                            },
                        },
                    },
                },
            },
        },
        opts,
    );
}
