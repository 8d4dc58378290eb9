// The pre-flight step: what the program reads and checks before it composes a resource. The
// stack's settings and plugin lock, the extra JCasC, the deployer's rights, what an earlier destroy
// kept, what backups, a restore, the credentials and a first up need of the cluster, and the running
// controller (whether this update restarts it). It stops at the first stage with problems (the
// settings, the extra JCasC, the deployer's rights, what the cluster lacks, kept objects in the
// way), listing every problem of that stage. What is left is a plan index.ts composes with no
// further reads of its own (the provider still reads the existing deploy namespaces, which the
// bindings wait for: components/namespaces.ts).
import * as pulumi from "@pulumi/pulumi";
import { deriveNames, type Names } from "../config/names";
import { egressNote } from "../config/settings";
import { loadSettings, type StackSettings } from "./settings";
import { ConfigError } from "../config/reader";
import { cascInput, checkCasc, type CascInput } from "../jcasc/jcasc";
import { mountedSecrets } from "../jcasc/security";
import { fixtureLockProblem } from "../plugins/lock";
import { AUTOMATION_PASSWORD_KEY, controllerRestart, restartNotice } from "../components/master/workload";
import type { ClusterReader } from "./reader";
import { adoptOption, keptByValue, KeptObjectsError, keptObjects, planAdoption, type AdoptionPlan } from "./kept";
import { backupProblems } from "./backups";
import { secretProblems } from "./secrets";
import { readinessProblems } from "./clusterReady";
import { rightsProblems } from "./deployerRights";
import { configKey } from "../config/keys";

/** How a run reads the cluster: `pulumi up` reads the live one; the render and the tests a stand-in. */
export interface Run {
    reader: ClusterReader;
    /** No cluster and no engine (the render, the tests): a fixture plugin lock is allowed. */
    offline: boolean;
}

/** What the composition needs, read and checked. */
export interface Plan extends Pick<StackSettings, "settings" | "lock" | "lockFile"> {
    names: Names;
    /** The JCasC's input, its extra documents checked. */
    casc: CascInput;
    /** The label value that marks what this stack keeps on destroy. */
    keptBy: string;
    /** Import IDs of the kept objects this stack adopts (namespaces by name). */
    adopt: { namespaces: Record<string, string>; claim?: string; volume?: string };
    /** What only a restart of the controller applies, as its pods' annotations will say. */
    restart: ReturnType<typeof controllerRestart>;
    /** With backups, the restart of a running controller a restore point is taken before. */
    restartOf?: { hash: string; generation: number };
    /** The Secrets the credentials and the sign-in read, mounted into the controller. */
    credentialSecrets: string[];
}

/**
 * Stops the preview at a stage with problems; the cluster's warnings found so far are printed
 * first, since a refused preview's output is all the user sees (a successful one prints them at
 * the end, after its notes).
 */
function stop(problems: string[], warnings: string[] = [], error = (p: string[]) => new ConfigError(p)): void {
    if (problems.length === 0) return;
    for (const warning of warnings) void pulumi.log.warn(warning);
    throw error(problems);
}

/**
 * Reads and checks what the stack needs before anything is composed; throws for every problem,
 * and logs what the preview reports (warnings, notes) once.
 */
export async function preflight(run: Run): Promise<Plan> {
    const reader = run.reader;
    const { settings, warnings, lock, lockFile } = loadSettings();
    const fixtureLock = fixtureLockProblem(lock, lockFile);
    for (const warning of warnings) void pulumi.log.warn(warning);
    if (fixtureLock && !run.offline) stop([`${configKey("plugins")}: ${fixtureLock}`]);
    if (fixtureLock) void pulumi.log.warn(fixtureLock);
    const names = deriveNames(settings);
    // The extra JCasC documents, merged into the program's: what they may not set, and what the
    // schema does not describe.
    const casc = cascInput(settings, names);
    const cascCheck = checkCasc(casc, new Set(Object.keys(lock.locked)));
    for (const warning of cascCheck.warnings) void pulumi.log.warn(warning);
    stop(cascCheck.problems);
    // What the up does, asked of the API server as the deployer: each right it lacks, named, before
    // the reads below need some of them.
    const rightsCheck = await rightsProblems(settings, reader);
    stop(rightsCheck.problems, rightsCheck.warnings);
    // What an earlier `pulumi destroy` of this stack kept, adopted rather than created again.
    const keptBy = keptByValue(pulumi.getOrganization(), pulumi.getProject(), pulumi.getStack());
    const kept = keptObjects(settings, names);
    const adoption: AdoptionPlan & { live: Map<unknown, unknown> } = settings.adoptKeptObjects
        ? await planAdoption(kept, reader, settings, names, keptBy)
        : { adopt: new Map(), problems: [], notes: [], live: new Map() };
    // Jenkins home's claim is there already: a running stack's, or one destroy kept.
    const homeExists =
        kept.claim !== undefined &&
        (adoption.live.has(kept.claim) ? adoption.live.get(kept.claim) : await reader.read(kept.claim)) !== undefined;
    // Backups and restores need the snapshot API; a restart of a running controller, a restore point.
    const restoreDone = settings.restoreFromSnapshot !== undefined && homeExists;
    const backupCheck = await backupProblems(settings, reader, restoreDone);
    const secretCheck = await secretProblems(settings, reader, settings.adoptKeptObjects);
    // What a first up needs: a Kubernetes version for the admission policy, a default priority
    // agent pods may run at, the deploy namespaces it does not create, a class for Jenkins home.
    const readyCheck = await readinessProblems(settings, reader, homeExists);
    const clusterWarnings = [...secretCheck.warnings, ...readyCheck.warnings, ...rightsCheck.warnings];
    stop([...backupCheck.problems, ...secretCheck.problems, ...readyCheck.problems], clusterWarnings);
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
    const running =
        (settings.backups || settings.adoptKeptObjects) && !(settings.restoreFromSnapshot && !restoreDone)
            ? await reader.controller(settings.namespace, names.controller)
            : undefined;
    stop(adoption.problems, clusterWarnings, (p) => new KeptObjectsError(p));

    for (const note of [egressNote(settings), ...adoption.notes, ...backupCheck.notes]) void pulumi.log.info(note);
    for (const warning of [...clusterWarnings, restartNotice(running, restart.parts)].filter((w) => w !== undefined)) {
        void pulumi.log.warn(warning);
    }
    const importOf = (o: Parameters<typeof adoptOption>[1]) => adoptOption(adoption, o).import;
    return {
        settings,
        lock,
        lockFile,
        names,
        casc,
        keptBy,
        adopt: {
            namespaces: Object.fromEntries(
                [kept.controllerNamespace, ...kept.deployNamespaces].flatMap((o) => {
                    const id = importOf(o);
                    return o && id ? [[o.name, id]] : [];
                }),
            ),
            claim: importOf(kept.claim),
            volume: importOf(kept.volume),
        },
        restart,
        restartOf:
            settings.backups && running?.hash !== undefined && running.hash !== restart.hash
                ? { hash: restart.hash, generation: running.generation }
                : undefined,
        credentialSecrets,
    };
}
