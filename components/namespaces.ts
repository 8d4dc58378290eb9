// The stack's namespaces: the controller's and each agent tier's (made by the program, each at the
// Pod Security level of what runs in it), and the deploy namespaces (applications' own: created
// only on request, otherwise read). Plain resources, not a component: their URNs stay those of
// the stacks that exist, so an upgrade never replaces a namespace (and the claims in it).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { controllerLevel, podSecurityLabels, SecurityLevel } from "../config/podSecurity";
import type { Tier } from "../config/tiers";
import { KEPT_ANNOTATIONS, KEPT_BY } from "../config/metadata";
import { perTier } from "./perTier";

export interface StackNamespacesArgs {
    /** The controller's namespace. */
    controller: string;
    /** Jenkins home is on NFS: the controller's namespace allows the baseline ownership fix. */
    nfsHome: boolean;
    /** Keep the controller's namespace on `pulumi destroy`: it holds the kept home claim. */
    keepControllerNamespace: boolean;
    /** Create the controller's and the tiers' namespaces; false: they must exist. */
    create: boolean;
    /** The agent tiers, each with its namespace and level. */
    tiers: Pick<Tier, "name" | "namespace" | "level">[];
    /** Namespaces the deployer deploys to; created (kept on destroy) when `createDeploy`, else read. */
    deploy: string[];
    createDeploy: boolean;
    /** The Pod Security level the deploy namespaces must enforce. */
    deployLevel: SecurityLevel;
    /** Labels of every namespace the program creates. */
    labels: Record<string, string>;
    /** The stack's KEPT_BY label value, put on the namespaces kept on destroy. */
    keptBy: string;
    /** Kept namespaces to adopt (preflight/kept.ts), by name: their `import` IDs. */
    adopt: Record<string, string>;
}

export interface StackNamespaces {
    controller: pulumi.Output<string>;
    /** By tier name. */
    tiers: Record<string, pulumi.Output<string>>;
    /** The deploy namespaces as resources (created or read), for what must wait for them. */
    deploy: pulumi.Resource[];
}

/** One namespace the stack makes: its Pulumi name (and earlier ones), name, level, and whether destroy keeps it. */
interface Made {
    resourceName: string;
    aliases?: pulumi.Alias[];
    name: string;
    level: SecurityLevel;
    retain: boolean;
}

/**
 * Makes (or names) the stack's namespaces. Deleting a namespace deletes the claims in it, so the
 * one that holds Jenkins home is kept on `pulumi destroy` whenever the home is. The deploy
 * namespaces must enforce a Pod Security level, or deploy rights (edit: create any pod) would be
 * root on a node: created ones are labelled so; an existing one is read here so the bindings wait
 * for it, and the preview, when it reads the cluster, has checked that it exists and enforces
 * enough (preflight/clusterReady.ts).
 */
export function stackNamespaces(args: StackNamespacesArgs): StackNamespaces {
    const namespace = ({ resourceName, aliases, name, level, retain }: Made) =>
        new k8s.core.v1.Namespace(
            resourceName,
            {
                metadata: {
                    name,
                    labels: {
                        ...args.labels,
                        ...podSecurityLabels(level),
                        ...(retain ? { [KEPT_BY]: args.keptBy } : {}),
                    },
                    ...(retain ? { annotations: KEPT_ANNOTATIONS } : {}),
                },
            },
            { retainOnDelete: retain, aliases, ...(args.adopt[name] ? { import: args.adopt[name] } : {}) },
        );
    // Made by the program when it makes namespaces; named otherwise.
    const own = (made: Made): pulumi.Output<string> =>
        args.create ? namespace(made).metadata.name : pulumi.output(made.name);

    const deploy = args.deploy.map((ns) => {
        if (args.createDeploy) {
            return namespace({
                resourceName: `deploy-namespace-${ns}`,
                name: ns,
                level: args.deployLevel,
                retain: true,
            });
        }
        // Read by the provider, so the bindings wait for it (a missing one fails the preview here
        // too); that it exists and enforces enough Pod Security is checked at preview when the
        // cluster is read (preflight/clusterReady.ts).
        return k8s.core.v1.Namespace.get(`deploy-namespace-${ns}`, ns);
    });

    return {
        controller: own({
            resourceName: "controller-namespace",
            name: args.controller,
            level: controllerLevel(args.nfsHome),
            retain: args.keepControllerNamespace,
        }),
        tiers: Object.fromEntries(
            args.tiers.map((t) => {
                const { name: resourceName, aliases } = perTier("", t.name, "agent-namespace");
                return [t.name, own({ resourceName, aliases, name: t.namespace, level: t.level, retain: false })];
            }),
        ),
        deploy,
    };
}
