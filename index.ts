// jenkins-k8s: Jenkins on Kubernetes with agent pods created per build, configured as code.
//   stack config -> settings and warnings (config/) -> namespaces -> JenkinsStorage, JenkinsRbac,
//   JenkinsCloudConfig (the JCasC) -> JenkinsMaster (the controller) -> stack outputs.
// Every resource uses the default Kubernetes provider, so the stack's kubernetes:* settings apply.
import * as pulumi from "@pulumi/pulumi";
import { JenkinsCloudConfig } from "./components/cloudConfig";
import { JenkinsMaster } from "./components/master";
import { deriveNames } from "./config/names";
import { stackNamespaces } from "./components/namespaces";
import { JenkinsRbac } from "./components/rbac";
import { egressNote, loadSettings } from "./config/settings";
import { JenkinsStorage } from "./components/storage";
import { cascInput, checkCasc } from "./jcasc/jcasc";
import { mountedSecrets } from "./jcasc/security";
import { cluster } from "./components/cluster";
import { backupProblems } from "./components/backups";
import { controllerRestart, restartNotice } from "./components/master/workload";
import { AUTOMATION_PASSWORD_KEY } from "./components/master/workload";
import { secretProblems } from "./components/secrets";
import { readinessProblems } from "./components/clusterReady";
import { rightsProblems } from "./components/deployerRights";
import { adoptOption, keptByValue, KeptObjectsError, keptObjects, planAdoption } from "./components/kept";
import { fixtureLockProblem } from "./plugins/lock";
import { ConfigError } from "./config/reader";

// Exported as a function: Pulumi calls it and the returned object is the stack's outputs. The
// offline render and the tests call the same function under the mock runtime.
export = async () => {
    const { settings, warnings, lock, lockFile } = loadSettings();
    const fixture = fixtureLockProblem(lock, lockFile);
    if (fixture && !cluster.offline) {
        throw new ConfigError([`jenkins-k8s:plugins: ${fixture}`]);
    }
    for (const warning of [...warnings, ...(fixture ? [fixture] : [])]) {
        void pulumi.log.warn(warning);
    }
    const names = deriveNames(settings);
    // The extra JCasC documents, merged into the program's: what they may not set, and what the
    // schema does not describe.
    const casc = cascInput(settings, names);
    const cascCheck = checkCasc(casc, new Set(Object.keys(lock.locked)));
    if (cascCheck.problems.length > 0) {
        throw new ConfigError(cascCheck.problems);
    }
    for (const warning of cascCheck.warnings) {
        void pulumi.log.warn(warning);
    }
    // What the up does, asked of the API server as the deployer: each right it lacks, named, before
    // the reads below need some of them.
    const rightsCheck = await rightsProblems(settings, cluster.reader);
    if (rightsCheck.problems.length > 0) {
        throw new ConfigError(rightsCheck.problems);
    }
    // What an earlier `pulumi destroy` of this stack kept, adopted rather than created again.
    const keptBy = keptByValue(pulumi.getOrganization(), pulumi.getProject(), pulumi.getStack());
    const kept = keptObjects(settings, names);
    const adoption = settings.adoptKeptObjects
        ? await planAdoption(kept, cluster.reader, settings, names, keptBy)
        : { adopt: new Map<string, string>(), problems: [], notes: [], live: new Map() };
    // Jenkins home's claim is there already: a running stack's, or one destroy kept.
    const homeExists =
        kept.claim !== undefined &&
        (adoption.live.has(kept.claim) ? adoption.live.get(kept.claim) : await cluster.reader.read(kept.claim)) !==
            undefined;
    // Backups and restores need the snapshot API; a restart of a running controller, a restore point.
    const restored = settings.restoreFromSnapshot !== undefined && homeExists;
    const backupCheck = await backupProblems(settings, cluster.reader, restored);
    // The Secrets the credentials and the sign-in read, with every key they name.
    const secretCheck = await secretProblems(settings, cluster.reader, settings.adoptKeptObjects);
    // What a first up needs: a Kubernetes version for the admission policy, a class for Jenkins home.
    const readyCheck = await readinessProblems(settings, cluster.reader, homeExists);
    const refused = [...backupCheck.problems, ...secretCheck.problems, ...readyCheck.problems];
    if (refused.length > 0) {
        throw new ConfigError(refused);
    }
    // What only a restart applies; the preview says when the update restarts a running controller,
    // and with backups a restore point is taken first (none in the up that restores: its new claim
    // is not the home being left, and may not bind before the pod).
    const credentialSecrets = [...mountedSecrets(settings.access).keys()];
    const restart = controllerRestart(
        settings.controller,
        lock,
        lockFile,
        [
            ...credentialSecrets,
            ...settings.agents.tiers.flatMap((t) => (t.launcher ? [t.launcher.tokenSecret] : [])),
            ...(settings.access.automationUser ? [`${names.adminSecret}/${AUTOMATION_PASSWORD_KEY}`] : []),
        ],
        settings.agents.connection,
        settings.plugins,
        settings.proxy,
    );
    const live =
        (settings.backups || settings.adoptKeptObjects) && !(settings.restoreFromSnapshot && !restored)
            ? await cluster.reader.controller(settings.namespace, names.controller)
            : undefined;
    if (adoption.problems.length > 0) {
        throw new KeptObjectsError(adoption.problems);
    }
    for (const note of [egressNote(settings), ...adoption.notes, ...backupCheck.notes]) {
        void pulumi.log.info(note);
    }
    for (const warning of [
        ...secretCheck.warnings,
        ...readyCheck.warnings,
        ...rightsCheck.warnings,
        ...[restartNotice(live, restart.parts)].filter((n) => n !== undefined),
    ]) {
        void pulumi.log.warn(warning);
    }
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
        adopt: Object.fromEntries(
            [kept.controllerNamespace, ...kept.deployNamespaces].flatMap((o) =>
                o && adoptOption(adoption, o).import ? [[o.name, adoptOption(adoption, o).import!]] : [],
            ),
        ),
    });
    const controllerNamespace = namespaces.controller;
    const tierNamespaces = namespaces.tiers;

    const storage = new JenkinsStorage("jenkins", {
        namespace: controllerNamespace,
        storage: settings.storage,
        names,
        keptBy,
        adopt: { claim: adoptOption(adoption, kept.claim).import, volume: adoptOption(adoption, kept.volume).import },
        backups: settings.backups,
        restartTo:
            settings.backups && live?.hash !== undefined && live.hash !== restart.hash
                ? { hash: restart.hash, generation: live.generation }
                : undefined,
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
