// jenkins-k8s: Jenkins on Kubernetes with agent pods created per build, configured as code.
//   stack config and the cluster, read and checked (preflight/) -> namespaces -> JenkinsStorage,
//   JenkinsRbac, JenkinsCloudConfig (the JCasC) -> JenkinsMaster (the controller) -> stack outputs.
// Every resource uses the default Kubernetes provider, so the stack's kubernetes:* settings apply.
import * as pulumi from "@pulumi/pulumi";
import { JenkinsCloudConfig } from "./components/cloudConfig";
import { JenkinsMaster } from "./components/master";
import { stackNamespaces } from "./components/namespaces";
import { JenkinsRbac } from "./components/rbac";
import { JenkinsStorage } from "./components/storage";
import { preflight, type Run } from "./preflight";
import { liveCluster } from "./preflight/cluster";

// Exported as a function: Pulumi calls it (with no argument: the live cluster) and the returned
// object is the stack's outputs. The offline render and the tests call it with a stand-in cluster
// under the mock runtime.
export = async (run: Run = { reader: liveCluster(), offline: false }) => {
    const { settings, names, lock, lockFile, casc, keptBy, adopt, restart, restartOf, credentialSecrets } =
        await preflight(run);
    const agents = settings.agents;
    const tiers = agents.tiers;
    const storageSettings = settings.storage;

    const namespaces = stackNamespaces({
        controller: settings.namespace,
        nfsHome: storageSettings.mode === "nfs",
        keepControllerNamespace: storageSettings.mode !== "existingClaim" && storageSettings.retainOnDestroy,
        create: settings.createNamespaces,
        tiers,
        deploy: agents.deployNamespaces,
        createDeploy: agents.createDeployNamespaces,
        deployLevel: agents.deployNamespacePodSecurity,
        labels: names.labels,
        keptBy,
        adopt: adopt.namespaces,
    });
    const controllerNamespace = namespaces.controller;
    const tierNamespaces = namespaces.tiers;

    const storage = new JenkinsStorage("jenkins", {
        namespace: controllerNamespace,
        storage: settings.storage,
        names,
        keptBy,
        adopt: { claim: adopt.claim, volume: adopt.volume },
        backups: settings.backups,
        restartTo: restartOf,
        restoreFrom: settings.restoreFromSnapshot,
    });
    const rbac = new JenkinsRbac("jenkins", {
        namespace: controllerNamespace,
        tierNamespaces,
        tiers,
        names,
        deployNamespaces: settings.agents.deployNamespaces,
        deployNamespacesReady: namespaces.deploy,
        deployClusterRole: settings.agents.deployClusterRole,
        admissionPolicy: settings.agents.admissionPolicy,
        podBounds: {
            podMaxSeconds: agents.podMaxSeconds,
            maxPriority: agents.maxPriority,
            tolerations: agents.tolerations,
        },
    });
    const cloud = new JenkinsCloudConfig("jenkins", {
        namespace: controllerNamespace,
        names,
        casc,
        tierNamespaces,
        prePull: agents.prePullImages
            ? { pauseImage: agents.pauseImage, toolImage: agents.prePullToolImage }
            : undefined,
        egress: agents.egress,
        limits: agents.limits,
        reaper: agents.reaper,
        after: storage.restorePoint ? [storage.restorePoint] : [],
    });
    const master = new JenkinsMaster("jenkins", {
        namespace: controllerNamespace,
        names,
        controller: settings.controller,
        adminUsername: settings.adminUsername,
        automationUser: settings.access.automationUser,
        credentialSecrets,
        plugins: { lock, lockFile, mirror: settings.plugins.mirror, downloads: settings.plugins.downloads },
        proxy: settings.proxy,
        agentConnection: agents.connection,
        service: settings.service,
        ingress: settings.ingress,
        gateway: settings.gateway,
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
        restart,
        after: storage.restorePoint ? [storage.restorePoint] : [],
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
        automationUsername: settings.access.automationUser,
        automationPassword: master.automationPassword,
        teams: settings.access.teams.map((t) => t.name),
        agentLabels: settings.agents.templates.flatMap((t) => t.labels),
        controllerServiceAccount: rbac.controllerServiceAccount.metadata.name,
        agentServiceAccount: rbac.agentServiceAccount.metadata.name,
        cascConfigMap: cloud.configMapName,
        homeClaim: storage.claimName,
    };
};
