// What protects the controller: who may reach it (its NetworkPolicy) and what may evict it (its
// PodDisruptionBudget). Pure builders; JenkinsMaster (index.ts) makes the resources.
import * as k8s from "@pulumi/kubernetes";
import { AGENT_PORT, HTTP_PORT, Names } from "../../config/names";
import type { AgentConnection } from "../../config/keys";
import type { Settings } from "../../config/settings";
import { AGENT_POD_LABELS } from "../../jcasc/jcasc";

/**
 * Who may reach the controller. The agent port: agent pods only. The web port: agent pods (both
 * connection modes use jenkinsUrl) plus the configured CIDRs and namespaces, or anyone when
 * none are configured. Egress stays open: the controller needs the API server, the update
 * center and source hosts.
 */
export function controllerNetworkPolicy(
    names: Names,
    network: Pick<Settings["network"], "webAllowedCidrs" | "webAllowedNamespaces">,
    agentConnection: AgentConnection,
    agentNamespaces: string[],
): k8s.types.input.networking.v1.NetworkPolicySpec {
    const agents = {
        namespaceSelector: {
            matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: agentNamespaces }],
        },
        podSelector: { matchLabels: AGENT_POD_LABELS },
    };
    const webFrom = [
        ...network.webAllowedCidrs.map((cidr) => ({ ipBlock: { cidr } })),
        ...network.webAllowedNamespaces.map((ns) => ({
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
        })),
    ];
    const web = {
        ports: [{ port: HTTP_PORT, protocol: "TCP" }],
        ...(webFrom.length > 0 ? { from: [agents, ...webFrom] } : {}),
    };
    const tunnel = { ports: [{ port: AGENT_PORT, protocol: "TCP" }], from: [agents] };
    return {
        podSelector: { matchLabels: names.controllerSelector },
        policyTypes: ["Ingress"],
        ingress: agentConnection === "tcp" ? [web, tunnel] : [web],
    };
}

/**
 * One replica and no voluntary eviction: `kubectl drain` waits on this pod instead of killing
 * running builds, until an operator moves it at a quiet moment. The price: unattended node
 * upgrades stall on this node until then.
 */
export function disruptionBudgetSpec(names: Names): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
    return { maxUnavailable: 0, selector: { matchLabels: names.controllerSelector } };
}
