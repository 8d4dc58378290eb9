// jenkins-k8s: Jenkins on Kubernetes with agent pods created per build, configured as code.
// Config -> one validated settings object -> components -> stack outputs.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { assertBuildIsCurrent } from "./components/buildCheck";
import { JenkinsCloudConfig } from "./components/cloudConfig";
import { JenkinsMaster } from "./components/master";
import { deriveNames } from "./components/names";
import { controllerLevel, namespaceLevels, podSecurityLabels } from "./components/podSecurity";
import { JenkinsRbac } from "./components/rbac";
import { loadSettings } from "./components/settings";
import { JenkinsStorage } from "./components/storage";

// Exported as a function: Pulumi calls it (compiled, from bin/index.js), and the returned object
// is the stack's outputs. The offline render and the tests call the same function under the
// mock runtime, from the TypeScript source.
export = () => {
    assertBuildIsCurrent(__dirname);
    const settings = loadSettings();
    const names = deriveNames(settings);

    // The default Kubernetes provider, with the stack's kubernetes:* settings. Pulumi.yaml sets
    // kubernetes:enableConfigMapMutable, so a changed JCasC ConfigMap is patched in place and the
    // reload sidecar applies it without restarting the controller.

    /**
     * A Namespace resource when the program owns it; otherwise the name of one that exists.
     * Deleting a namespace deletes the claims in it, so the one that holds Jenkins home is kept on
     * `pulumi destroy` whenever the home is.
     */
    const levels = namespaceLevels(settings);
    if (
        settings.agentNamespace === settings.namespace &&
        levels.get(settings.namespace) !== controllerLevel(settings)
    ) {
        void pulumi.log.warn(
            `agents share the namespace ${settings.namespace} with the controller, so it must allow what the agent ` +
                `templates need (Pod Security ${levels.get(settings.namespace)}) next to the admin Secret; give agents ` +
                `their own namespace (jenkins-k8s:agentNamespace) to keep the controller's at ${controllerLevel(settings)}`,
        );
    }
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
    const agentNamespace =
        settings.agentNamespace === settings.namespace
            ? controllerNamespace
            : namespace("agent-namespace", settings.agentNamespace);

    const storage = new JenkinsStorage("jenkins", { namespace: controllerNamespace, storage: settings.storage, names });
    const rbac = new JenkinsRbac("jenkins", {
        namespace: controllerNamespace,
        agentNamespace,
        names,
        deployNamespaces: settings.agents.deployNamespaces,
        deployClusterRole: settings.agents.deployClusterRole,
        agentClaims: settings.agents.templates.some((t) => t.workspaceVolume.type === "dynamicPVC"),
    });
    const cloud = new JenkinsCloudConfig("jenkins", {
        namespace: controllerNamespace,
        agentNamespace,
        settings,
        names,
    });
    const master = new JenkinsMaster("jenkins", {
        namespace: controllerNamespace,
        settings,
        names,
        homeClaimName: storage.claimName,
        serviceAccountName: rbac.controllerServiceAccount.metadata.name,
        cascConfigMapName: cloud.configMapName,
    });

    return {
        namespace: controllerNamespace,
        agentNamespace,
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
