// jenkins-k8s: Jenkins on Kubernetes with agent pods created per build, configured as code.
// Config -> one validated settings object -> components -> stack outputs.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { JenkinsCloudConfig } from "./components/cloudConfig";
import { JenkinsMaster } from "./components/master";
import { deriveNames } from "./config/names";
import { namespaceLevels, podSecurityLabels, weakerThan } from "./components/podSecurity";
import { JenkinsRbac } from "./components/rbac";
import { loadSettings } from "./config/settings";
import { JenkinsStorage } from "./components/storage";
import { cascInput } from "./jcasc/jcasc";

// Exported as a function: Pulumi calls it and the returned object is the stack's outputs. The
// offline render and the tests call the same function under the mock runtime.
export = () => {
    const { settings, warnings } = loadSettings();
    for (const warning of warnings) {
        void pulumi.log.warn(warning);
    }
    const names = deriveNames(settings);
    const tiers = settings.agents.tiers;

    // The default Kubernetes provider, with the stack's kubernetes:* settings. Pulumi.yaml sets
    // kubernetes:enableConfigMapMutable, so a changed JCasC ConfigMap is patched in place and the
    // reload sidecar applies it without restarting the controller.

    // Namespaces the program owns, each at the Pod Security level of what runs in it. Deleting a
    // namespace deletes the claims in it, so the one that holds Jenkins home is kept on
    // `pulumi destroy` whenever the home is.
    const levels = namespaceLevels(settings, tiers);
    const keepsHome = (name: string) =>
        name === settings.namespace && settings.storage.mode !== "existingClaim" && settings.storage.retainOnDestroy;
    const namespace = (resourceName: string, name: string): pulumi.Output<string> =>
        settings.createNamespaces
            ? new k8s.core.v1.Namespace(
                  resourceName,
                  { metadata: { name, labels: { ...names.labels, ...podSecurityLabels(levels.get(name)!) } } },
                  { retainOnDelete: keepsHome(name) },
              ).metadata.name
            : pulumi.output(name);
    const controllerNamespace = namespace("controller-namespace", settings.namespace);
    const tierNamespaces = Object.fromEntries(
        tiers.map((t) => [
            t.name,
            namespace(t.name === "build" ? "agent-namespace" : `${t.name}-agent-namespace`, t.namespace),
        ]),
    );

    // The namespaces the deployer deploys to hold applications: created (and never deleted) only
    // on request; otherwise each must exist, and the read fails the preview naming the one that
    // does not, before anything is applied. Either way they must enforce a Pod Security level,
    // or deploy rights (edit: create any pod) would be root on a node.
    const deployLevel = settings.agents.deployNamespacePodSecurity;
    const deployNamespaces = settings.agents.deployNamespaces.map((ns) => {
        if (settings.agents.createDeployNamespaces) {
            return new k8s.core.v1.Namespace(
                `deploy-namespace-${ns}`,
                { metadata: { name: ns, labels: { ...names.labels, ...podSecurityLabels(deployLevel) } } },
                { retainOnDelete: true },
            );
        }
        const existing = k8s.core.v1.Namespace.get(`deploy-namespace-${ns}`, ns);
        existing.metadata.labels.apply((labels) => {
            // The API server always sets kubernetes.io/metadata.name: no labels at all means the
            // namespace was not read (an offline render), not that it is unlabelled.
            if (labels === undefined) {
                return;
            }
            const enforced = labels["pod-security.kubernetes.io/enforce"] ?? "privileged";
            if (weakerThan(enforced, deployLevel)) {
                void pulumi.log.warn(
                    `deploy namespace ${ns} enforces Pod Security ${enforced}${labels["pod-security.kubernetes.io/enforce"] ? "" : " (no label)"}: ` +
                        `jobs allowed to deploy there could run pods that are root on a node. Label it ` +
                        `pod-security.kubernetes.io/enforce=${deployLevel} (jenkins-k8s:deployNamespacePodSecurity).`,
                );
            }
        });
        return existing;
    });

    const storage = new JenkinsStorage("jenkins", { namespace: controllerNamespace, storage: settings.storage, names });
    const rbac = new JenkinsRbac("jenkins", {
        namespace: controllerNamespace,
        tierNamespaces,
        tiers,
        names,
        deployNamespaces: settings.agents.deployNamespaces,
        deployNamespacesReady: deployNamespaces,
        deployClusterRole: settings.agents.deployClusterRole,
        admissionPolicy: settings.agents.admissionPolicy,
    });
    const agents = settings.agents;
    const cloud = new JenkinsCloudConfig("jenkins", {
        namespace: controllerNamespace,
        names,
        casc: cascInput(settings, names),
        tierNamespaces,
        prePull: agents.prePullImages
            ? {
                  images: [...new Set(agents.templates.flatMap((t) => t.containers.map((c) => c.image)))],
                  pauseImage: agents.pauseImage,
              }
            : undefined,
        egress: agents.egress,
    });
    const master = new JenkinsMaster("jenkins", {
        namespace: controllerNamespace,
        names,
        controller: settings.controller,
        adminUsername: settings.adminUsername,
        plugins: settings.plugins,
        agentConnection: agents.connection,
        service: settings.service,
        ingress: settings.ingress,
        serviceMonitor: settings.metrics.serviceMonitor,
        networkPolicy: settings.network.policy ? settings.network : undefined,
        disruptionBudget: settings.disruptionBudget,
        publicUrl: settings.publicUrl,
        nfsHome: settings.storage.mode === "nfs",
        agentNamespaces: tiers.map((t) => t.namespace),
        launcherTokens: tiers.flatMap((t) =>
            t.launcher ? [{ secretName: rbac.launcherTokenSecretNames[t.name]!, file: t.launcher.tokenFile }] : [],
        ),
        homeClaimName: storage.claimName,
        serviceAccountName: rbac.controllerServiceAccount.metadata.name,
        cascConfigMapName: cloud.configMapName,
    });

    return {
        namespace: controllerNamespace,
        agentNamespace: tierNamespaces.build,
        agentNamespaces: pulumi.all(tierNamespaces),
        agentClouds: Object.fromEntries(tiers.map((t) => [t.name, t.cloud])),
        serviceName: master.service.metadata.name,
        jenkinsUrl: names.jenkinsUrl,
        externalUrl: master.externalUrl,
        adminUsername: settings.adminUsername,
        adminPassword: master.adminPassword,
        agentLabels: settings.agents.templates.flatMap((t) => t.labels),
        controllerServiceAccount: rbac.controllerServiceAccount.metadata.name,
        agentServiceAccount: rbac.agentServiceAccount.metadata.name,
        cascConfigMap: cloud.configMapName,
        homeClaim: storage.claimName,
    };
};
