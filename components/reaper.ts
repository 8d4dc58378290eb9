// The agent reaper: a CronJob in the controller's namespace that deletes the agent pods nothing
// else will (controller/reap-agents.sh says which), with an account that may list and delete pods
// in the agent tiers' namespaces and do nothing else. What each other mechanism covers is in
// docs/operations.md.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Names } from "../config/names";
import { scriptCronJob } from "./scriptJob";
import { grant, REAPER_RULES } from "./rights";
import { perTier } from "./perTier";
import { component } from "../config/metadata";

/** How often it runs; a stuck pod is gone within this of agentStuckMinutes. */
export const REAPER_SCHEDULE = "*/5 * * * *";

/** A run ends within this, before the next one is due (every 300 s). */
export const REAPER_DEADLINE_SECONDS = 240;

/** How long past its deadline a running pod is left to its kubelet before the reaper deletes it. */
export const REAPER_GRACE_SECONDS = 300;

export interface ReaperArgs {
    namespace: pulumi.Input<string>;
    names: Names;
    /** Each tier's namespace, by tier. */
    tierNamespaces: Record<string, pulumi.Input<string>>;
    stuckSeconds: number;
    image: string;
}

export function reaperResources(name: string, args: ReaperArgs, parent: pulumi.Resource): void {
    const child = { parent };
    const account = args.names.agentReaper;
    const labels = { ...args.names.labels, ...component("agent-reaper") };
    const sa = new k8s.core.v1.ServiceAccount(
        `${name}-agent-reaper`,
        { metadata: { name: account, namespace: args.namespace, labels }, automountServiceAccountToken: true },
        child,
    );
    for (const [tier, namespace] of Object.entries(args.tierNamespaces)) {
        const { name: resourceName, aliases } = perTier(name, tier, "agent-reaper");
        const metadata = { name: account, namespace, labels };
        grant(
            resourceName,
            { metadata, rules: REAPER_RULES, account: { name: sa.metadata.name, namespace: args.namespace } },
            { ...child, aliases },
        );
    }
    scriptCronJob(
        `${name}-agent-reaper`,
        {
            account,
            namespace: args.namespace,
            labels,
            script: "reap-agents.sh",
            container: "reaper",
            schedule: REAPER_SCHEDULE,
            image: args.image,
            serviceAccountName: sa.metadata.name,
            env: [
                {
                    name: "NAMESPACES",
                    value: pulumi.all(Object.values(args.tierNamespaces)).apply((ns) => ns.join(" ")),
                },
                { name: "STUCK_SECONDS", value: String(args.stuckSeconds) },
                { name: "GRACE_SECONDS", value: String(REAPER_GRACE_SECONDS) },
            ],
            // The next run tries again; it ends before the next one is due.
            backoffLimit: 0,
            deadlineSeconds: REAPER_DEADLINE_SECONDS,
        },
        child,
    );
}
