// Agent trust tiers. The Kubernetes plugin creates every agent pod, a pipeline's own `podTemplate`
// included, with the account of the cloud that launches it, in whatever namespace and as whatever
// ServiceAccount the template names. So a boundary between what pipelines can do and what they
// cannot is a namespace (its Pod Security level, the accounts that live in it, who may create pods
// in it) together with the Jenkins cloud that launches into it (its own account, held as a
// System-scoped credential that jobs cannot read, and `usageRestricted` to the folders of the teams
// the stack grants it). A template's own fields are never a boundary.
//
//   build       restricted   the default cloud `kubernetes`; pipelines land here
//   baseline    baseline     image builds (kaniko: root in its container, no node root)
//   privileged  privileged   only with allowPrivilegedAgents; root on the node
//   deploy      restricted   runs as the deployer account (bound in deployNamespaces)
//
// A tier whose cloud every job may use is launched with the controller's own account: a second
// account would keep out nobody, since any Jenkinsfile can name that cloud. A tier that grants
// more than every job has (node root, deploy rights, or Secrets its templates mount, such as
// registry credentials) is usage restricted, and only then has a launcher of its own, whose token
// is the one credential that can create pods in its namespace.
import { DEFAULT_CLOUD } from "../policy/facts";
import { AGENT_SERVICE_ACCOUNT, DEPLOYER_SERVICE_ACCOUNT } from "./names";
import { PodTemplate, SecurityLevel, TierName, tierOf } from "./podTemplates";

export type { TierName };

export const TIER_NAMES: readonly TierName[] = ["build", "baseline", "privileged", "deploy"];

/** The Pod Security level each tier's namespace enforces. */
const TIER_LEVEL: Record<TierName, SecurityLevel> = {
    build: "restricted",
    baseline: "baseline",
    privileged: "privileged",
    deploy: "restricted",
};

/** The longest suffix a tier adds to agentNamespace, so that every tier namespace is a DNS label. */
export const LONGEST_TIER_SUFFIX = Math.max(...TIER_NAMES.map((t) => t.length + 1));

/**
 * The pod template every template of a restricted-by-default cloud inherits from (the cloud's
 * defaultsProviderTemplate): pod-level uid and gid 1000, so that `runAsNonRoot`, which the cloud
 * fills into every container, can be verified by the kubelet for images whose USER is a name
 * (jenkins/inbound-agent's is `jenkins`). A template or a container that sets its own user wins.
 */
export const DEFAULTS_TEMPLATE = "jenkins-k8s-defaults";

export interface Launcher {
    /** Its ServiceAccount, in the controller's namespace; its Role is in the tier's namespace only. */
    serviceAccount: string;
    /** The Secret that holds its long-lived token (type kubernetes.io/service-account-token). */
    tokenSecret: string;
    /** The file the token is mounted as in the controller's secrets directory; JCasC reads `${file}`. */
    tokenFile: string;
    /** The System-scoped Jenkins credential (Secret text) the cloud authenticates with. */
    credentialsId: string;
}

export interface Tier {
    name: TierName;
    namespace: string;
    level: SecurityLevel;
    /** The Jenkins cloud that launches into the namespace. */
    cloud: string;
    /** The cloud's own account, for a usage-restricted tier; otherwise the controller's is used. */
    launcher?: Launcher;
    /** The one ServiceAccount pods of this tier run as (pinned by the admission policy). */
    podServiceAccount: string;
    /** Only the folders of the teams whose `clouds` list it may use the cloud. */
    usageRestricted: boolean;
    /** The cloud fills the restricted securityContext into every container that sets none. */
    restrictedPss: boolean;
    /** Pods of this tier talk to the API server (deploy), so their egress is not limited. */
    apiAccess: boolean;
    /** The configured templates of this tier, in the order they were given. */
    templates: PodTemplate[];
}

export interface TierInputs {
    agentNamespace: string;
    templates: PodTemplate[];
    deployNamespaces: string[];
    allowPrivilegedAgents: boolean;
}

export function tierNamespace(agentNamespace: string, tier: TierName): string {
    return tier === "build" ? agentNamespace : `${agentNamespace}-${tier}`;
}

/** Whether a template mounts a Secret: every pod of its cloud's namespace could then read it. */
export function mountsSecret(t: Pick<PodTemplate, "volumes">): boolean {
    return t.volumes.some((v) => v.type === "secret");
}

/** Whether the stack has this tier: build always; the others when they have templates or a purpose. */
function present(tier: TierName, s: TierInputs): boolean {
    switch (tier) {
        case "build":
            return true;
        case "baseline":
            return s.templates.some((t) => tierOf(t) === "baseline");
        case "privileged":
            return s.allowPrivilegedAgents;
        case "deploy":
            return s.deployNamespaces.length > 0;
    }
}

/** The stack's tiers, build first. */
export function deriveTiers(s: TierInputs): Tier[] {
    return TIER_NAMES.filter((name) => present(name, s)).map((name) => {
        const templates = s.templates.filter((t) => tierOf(t) === name);
        // The default cloud stays open to every job: it is where pipelines' own pods go.
        const usageRestricted =
            name === "privileged" || name === "deploy" || (name !== "build" && templates.some(mountsSecret));
        return {
            name,
            namespace: tierNamespace(s.agentNamespace, name),
            level: TIER_LEVEL[name],
            cloud: name === "build" ? DEFAULT_CLOUD : `${DEFAULT_CLOUD}-${name}`,
            launcher: usageRestricted
                ? {
                      serviceAccount: `jenkins-${name}-launcher`,
                      tokenSecret: `jenkins-${name}-launcher-token`,
                      tokenFile: `${name}-launcher-token`,
                      credentialsId: `jenkins-${name}-launcher`,
                  }
                : undefined,
            podServiceAccount: name === "deploy" ? DEPLOYER_SERVICE_ACCOUNT : AGENT_SERVICE_ACCOUNT,
            usageRestricted,
            restrictedPss: name !== "privileged",
            apiAccess: name === "deploy",
            templates,
        };
    });
}
