// Names that several components need, derived once from the settings so that no component reads
// another's resources to learn them (no cycles: the JCasC can be built before the controller).

import { component, PART_OF } from "./metadata";
import { CONTROLLER_COMPONENT } from "../policy/facts";

export const HTTP_PORT = 8080;
export const AGENT_PORT = 50000;
/** What agent pods run as (no rights, no token); the deploy tier's run as the deployer. */
export const AGENT_SERVICE_ACCOUNT = "jenkins-agent";
export const DEPLOYER_SERVICE_ACCOUNT = "jenkins-deployer";

export interface Names {
    /** The controller's namespace. */
    namespace: string;
    controller: string;
    service: string;
    agentService: string;
    cascConfigMap: string;
    /** The plugin lock and the scripts the controller pod runs. */
    scriptsConfigMap: string;
    adminSecret: string;
    controllerServiceAccount: string;
    agentServiceAccount: string;
    /** Agents of templates with `deploy: true`; bound in the deploy namespaces only. */
    deployerServiceAccount: string;
    prePuller: string;
    agentManagerRole: string;
    /** The Role (and binding) that lets the controller's account report reloads as Events. */
    reloadEventsRole: string;
    /** The NetworkPolicy that limits agent pods' egress, in each agent tier's namespace. */
    agentEgressPolicy: string;
    /** The ResourceQuota and the LimitRange of each agent tier's namespace. */
    agentLimits: string;
    /** The agent reaper's CronJob and account (controller namespace), and its Role in each tier's. */
    agentReaper: string;
    /** The ValidatingAdmissionPolicy (and binding) that pins agent pods' ServiceAccounts; cluster-scoped. */
    agentAccountsPolicy: string;
    homeClaim: string;
    /** PersistentVolumes are cluster-scoped: the namespace keeps two stacks' PVs apart. */
    homeVolume: string;
    /** In-cluster URL of the web UI, as agents and other workloads reach it. */
    jenkinsUrl: string;
    /** host:port of the inbound agent port, for TCP agents. */
    jenkinsTunnel: string;
    /** Labels on everything the program creates. */
    labels: Record<string, string>;
    /** The controller pod's labels; the Services select on these. */
    controllerSelector: Record<string, string>;
}

/** What the names follow of the settings (settings.ts's Settings has it). */
export interface NamesInput {
    namespace: string;
    restoreFromSnapshot?: string;
    storage: { mode: "existingClaim"; claimName: string } | { mode: "dynamic" | "nfs" };
}

export function deriveNames(s: NamesInput): Names {
    const base = "jenkins";
    const service = base;
    const agentService = `${base}-agent`;
    return {
        namespace: s.namespace,
        controller: base,
        service,
        agentService,
        cascConfigMap: `${base}-casc`,
        scriptsConfigMap: `${base}-scripts`,
        adminSecret: `${base}-admin`,
        controllerServiceAccount: base,
        agentServiceAccount: AGENT_SERVICE_ACCOUNT,
        deployerServiceAccount: DEPLOYER_SERVICE_ACCOUNT,
        prePuller: `${base}-agent-images`,
        agentManagerRole: `${base}-agent-manager`,
        reloadEventsRole: `${base}-casc-reload-events`,
        agentEgressPolicy: `${base}-agent-egress`,
        agentLimits: `${base}-agent-limits`,
        agentReaper: `${base}-agent-reaper`,
        // Cluster-scoped: the controller's namespace keeps two stacks' policies apart.
        agentAccountsPolicy: `${base}-k8s.${s.namespace}.agent-accounts`,
        homeClaim:
            s.storage.mode === "existingClaim"
                ? s.storage.claimName
                : s.restoreFromSnapshot
                  ? `${base}-home-from-${s.restoreFromSnapshot}`
                  : `${base}-home`,
        homeVolume: `${s.namespace}-${base}-home`,
        jenkinsUrl: `http://${service}.${s.namespace}.svc:${HTTP_PORT}/`,
        jenkinsTunnel: `${agentService}.${s.namespace}.svc:${AGENT_PORT}`,
        labels: {
            "app.kubernetes.io/name": base,
            ...PART_OF,
            "app.kubernetes.io/managed-by": "pulumi",
        },
        controllerSelector: {
            "app.kubernetes.io/name": base,
            ...component(CONTROLLER_COMPONENT),
        },
    };
}
