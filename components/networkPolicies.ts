// Every NetworkPolicy the stack makes, as pure spec builders: who may reach the controller
// (JenkinsMaster makes it) and where each agent tier's pods may connect (JenkinsCloudConfig makes
// one per tier namespace).
import type * as k8s from "@pulumi/kubernetes";
import { AGENT_PORT, HTTP_PORT, Names } from "../config/names";
import type { AgentConnection } from "../config/keys";
import type { Settings } from "../config/settings";
import { LINK_LOCAL } from "../config/checks";
import { AGENT_POD_LABELS } from "../jcasc/jcasc";

/** A CIDR agents may connect to, less the ranges inside it they may not. */
export interface EgressRule {
    cidr: string;
    except: string[];
}

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

/** The deploy tier's egress: anywhere (the API server included) but the link-local ranges. */
export const API_EGRESS: EgressRule[] = [
    { cidr: "0.0.0.0/0", except: [LINK_LOCAL.v4] },
    // EC2's IPv6 metadata endpoint is not link-local.
    { cidr: "::/0", except: [LINK_LOCAL.v6, "fd00:ec2::254/128"] },
];

/**
 * Where a tier's pods may connect: DNS, the controller's web (and agent) port, and the configured
 * CIDRs less their excepts, which by default leave out the private and link-local ranges: the API
 * server (these pods hold no token), cluster services and the cloud's metadata endpoint. A
 * NetworkPolicy's rules add up, so a longer prefix in agentEgressCidrs re-admits one host.
 */
export function agentEgress(
    names: Pick<Names, "namespace" | "controllerSelector">,
    connection: AgentConnection,
    egress: EgressRule[],
): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        // Every pod of the namespace: the templates' and the pipelines' own.
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
            {
                ports: [
                    { port: 53, protocol: "UDP" },
                    { port: 53, protocol: "TCP" },
                ],
            },
            {
                to: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": names.namespace } },
                        podSelector: { matchLabels: names.controllerSelector },
                    },
                ],
                ports: [
                    { port: HTTP_PORT, protocol: "TCP" },
                    ...(connection === "tcp" ? [{ port: AGENT_PORT, protocol: "TCP" }] : []),
                ],
            },
            ...egress.map(({ cidr, except }) => ({
                to: [{ ipBlock: { cidr, ...(except.length > 0 ? { except } : {}) } }],
            })),
        ],
    };
}
