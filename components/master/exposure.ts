// How users and agents reach the controller: the web Service (ClusterIP, NodePort or
// LoadBalancer), the agent Service for TCP agents, an Ingress, a ServiceMonitor, and the
// external URL the stack reports. Pure builders; JenkinsMaster (index.ts) makes the resources.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AGENT_PORT, HTTP_PORT, Names } from "../../config/names";
import type { Settings } from "../../config/settings";
import { SKIP_AWAIT } from "../../config/metadata";

export function webServiceSpec(names: Names, service: Settings["service"]): k8s.types.input.core.v1.ServiceSpec {
    return {
        type: service.type,
        selector: names.controllerSelector,
        ports: [
            {
                name: "http",
                port: HTTP_PORT,
                targetPort: "http",
                ...(service.nodePort !== undefined ? { nodePort: service.nodePort } : {}),
            },
        ],
        ...(service.loadBalancerSourceRanges.length > 0
            ? { loadBalancerSourceRanges: service.loadBalancerSourceRanges }
            : {}),
    };
}

/** The inbound agent port, for TCP agents only. */
export function agentServiceSpec(names: Names): k8s.types.input.core.v1.ServiceSpec {
    return {
        type: "ClusterIP",
        selector: names.controllerSelector,
        ports: [{ name: "agent", port: AGENT_PORT, targetPort: "agent" }],
    };
}

/**
 * The HTTPRoute (Gateway API v1, standard channel) that sends the Gateway's traffic for the
 * hostnames to the web Service: the alternative to the Ingress. TLS, certificates and who may
 * attach are the Gateway's (its listeners and their allowedRoutes).
 */
export function httpRouteSpec(gateway: NonNullable<Settings["gateway"]>, serviceName: pulumi.Input<string>) {
    return {
        parentRefs: [
            {
                group: "gateway.networking.k8s.io",
                kind: "Gateway",
                namespace: gateway.namespace,
                name: gateway.name,
                ...(gateway.sectionName ? { sectionName: gateway.sectionName } : {}),
            },
        ],
        ...(gateway.hostnames.length > 0 ? { hostnames: gateway.hostnames } : {}),
        rules: [
            {
                matches: [{ path: { type: "PathPrefix", value: "/" } }],
                backendRefs: [{ name: serviceName, port: HTTP_PORT }],
            },
        ],
    };
}

/**
 * The Ingress's annotations: the stack's, and the provider's skipAwait unless the stack waits for
 * an address (the provider otherwise waits up to 10 minutes for .status.loadBalancer, and fails
 * on controllers that never publish one).
 */
export function ingressAnnotations(ingress: NonNullable<Settings["ingress"]>): Record<string, string> {
    return ingress.await ? ingress.annotations : { ...ingress.annotations, [SKIP_AWAIT]: "true" };
}

export function ingressSpec(
    ingress: NonNullable<Settings["ingress"]>,
    serviceName: pulumi.Input<string>,
): k8s.types.input.networking.v1.IngressSpec {
    const { host, className, tlsSecret } = ingress;
    return {
        ...(className ? { ingressClassName: className } : {}),
        ...(tlsSecret ? { tls: [{ hosts: [host], secretName: tlsSecret }] } : {}),
        rules: [
            {
                host,
                http: {
                    paths: [
                        {
                            path: "/",
                            pathType: "Prefix",
                            backend: { service: { name: serviceName, port: { name: "http" } } },
                        },
                    ],
                },
            },
        ],
    };
}

/** Scrapes /prometheus/ (the Prometheus plugin) on the web Service, selected by its labels. */
export function serviceMonitorSpec(namespace: string, webLabels: Record<string, string>) {
    return {
        selector: { matchLabels: webLabels },
        namespaceSelector: { matchNames: [namespace] },
        endpoints: [{ port: "http", path: "/prometheus/", interval: "30s" }],
    };
}

/** The URL outside the cluster: publicUrl (or the Ingress's), else a LoadBalancer's address. */
export function externalUrl(
    publicUrl: string | undefined,
    service: Settings["service"],
    web: k8s.core.v1.Service,
): pulumi.Output<string | undefined> {
    if (publicUrl !== undefined) {
        return pulumi.output<string | undefined>(publicUrl);
    }
    if (service.type !== "LoadBalancer") {
        return pulumi.output<string | undefined>(undefined);
    }
    return web.status.apply((st) => {
        const ingress = st?.loadBalancer?.ingress?.[0];
        const host = ingress?.hostname || ingress?.ip;
        return host ? `http://${host}:${HTTP_PORT}/` : undefined;
    });
}
