// The Pod the Jenkins Kubernetes plugin creates from a JCasC pod template, so the cluster tier
// can create exactly that pod as the account the plugin uses. A model of the plugin's code, from
// its source (jenkinsci/kubernetes-plugin, src/main/java/org/csanchez/jenkins/plugins/kubernetes):
//   PodTemplateUtils.unwrap(t, defaults)  the cloud's defaultsProviderTemplate under every template
//   PodTemplateBuilder.build()            the generated pod, the agent container and its env
//   PodTemplateUtils.combine(yaml, pod)   the template's yaml is the parent, the generated pod wins
//   pod/decorator/*                       restartPolicy Never, default nodeSelector, safe-to-evict
//   RestrictedPssSecurityContextInjector  the cloud's restrictedPssSecurityContext
//   volumes/workspace/*                   workspace-volume (emptyDir, dynamicPVC, genericEphemeralVolume)
// Long by design: a faithful model of the plugin's pod builder, step by step, with its source cited.
import { createHash } from "crypto";
import { readPodYaml } from "../../policy/podYaml";

type Obj = Record<string, any>;

const AGENT = "jnlp";
const DEFAULT_WORKDIR = "/home/jenkins/agent";
const WORKSPACE = "workspace-volume";
/** The image the plugin uses when a template's jnlp container names none (its bundled Dockerfile's FROM). */
export const PLUGIN_DEFAULT_AGENT_IMAGE = "jenkins/inbound-agent:3383.vc8881d4b_0e76-1-jdk25";

/** PodTemplateUtils.sanitizeLabel: the last 57 characters, label-safe, alphanumeric at both ends. */
export function sanitizeLabel(value: string): string {
    let s = value.slice(-57).replace(/[^_a-zA-Z0-9-]/g, "_");
    s = s.replace(/^[^a-zA-Z0-9]/, "x").replace(/[^a-zA-Z0-9]$/, "x");
    return s;
}

/** ContainerTemplate command/args: split on spaces, double-quoted runs kept together, quotes removed. */
export function parseDockerCommand(text: string | undefined): string[] | undefined {
    if (!text || text.trim() === "") {
        return undefined;
    }
    return [...text.matchAll(/([^"]\S*|".+?")\s*/g)].map((m) => m[1].replace(/"/g, ""));
}

function envList(vars: Obj[] | undefined): Obj[] {
    return (vars ?? []).flatMap((v): Obj[] => {
        if (v.envVar) {
            return [{ name: v.envVar.key, value: v.envVar.value ?? "" }];
        }
        if (v.secretEnvVar) {
            const s = v.secretEnvVar;
            return [
                {
                    name: s.key,
                    valueFrom: {
                        secretKeyRef: { name: s.secretName, key: s.secretKey, optional: s.optional ?? false },
                    },
                },
            ];
        }
        return [];
    });
}

/** Later entries win, by name; the order of first appearance is kept. */
function mergeEnv(...lists: Obj[][]): Obj[] {
    const out = new Map<string, Obj>();
    for (const list of lists) {
        for (const e of list) {
            out.set(e.name, e);
        }
    }
    return [...out.values()];
}

/** A template volume as the pod volume the plugin makes of it, and its mount. */
function volume(entry: Obj, name: string): { volume: Obj; mount: Obj } {
    const [type, v] = Object.entries(entry)[0] as [string, Obj];
    const mount = { name, mountPath: v.mountPath, readOnly: v.readOnly ?? false };
    switch (type) {
        case "emptyDirVolume":
            return { volume: { name, emptyDir: { medium: v.memory ? "Memory" : "" } }, mount };
        case "secretVolume":
            return {
                volume: {
                    name,
                    secret: {
                        secretName: v.secretName,
                        optional: v.optional ?? false,
                        ...(v.defaultMode ? { defaultMode: Number(v.defaultMode) } : {}),
                        ...(v.items ? { items: v.items } : {}),
                    },
                },
                mount,
            };
        case "configMapVolume":
            return {
                volume: { name, configMap: { name: v.configMapName, optional: v.optional ?? false } },
                mount: { ...mount, ...(v.subPath ? { subPath: v.subPath } : {}) },
            };
        case "persistentVolumeClaim":
            return {
                volume: { name, persistentVolumeClaim: { claimName: v.claimName, readOnly: v.readOnly ?? false } },
                mount,
            };
        case "nfsVolume":
            return {
                volume: { name, nfs: { server: v.serverAddress, path: v.serverPath, readOnly: v.readOnly ?? false } },
                mount,
            };
        case "hostPathVolume":
            return { volume: { name, hostPath: { path: v.hostPath } }, mount };
        default:
            throw new Error(`agentPod: no model of the plugin's ${type}`);
    }
}

/**
 * A per-pod workspace claim: the plugin creates a dynamicPVC one (DynamicPVC.createPVC) before
 * the pod; Kubernetes creates a genericEphemeralVolume one with the pod.
 */
export interface WorkspaceClaim {
    name: string;
    accessModes: string[];
    storage: string;
    storageClassName?: string;
    createdBy?: "kubernetes";
}

function workspace(t: Obj, podName: string): { volume: Obj; claim?: WorkspaceClaim } {
    const [type, w] = Object.entries<Obj>(t.workspaceVolume ?? { emptyDirWorkspaceVolume: {} })[0];
    const spec = {
        accessModes: [w.accessModes ?? "ReadWriteOnce"],
        storage: w.requestsSize ?? "10Gi",
        ...(w.storageClassName ? { storageClassName: w.storageClassName } : {}),
    };
    switch (type) {
        case "emptyDirWorkspaceVolume":
            return { volume: { name: WORKSPACE, emptyDir: { medium: w.memory ? "Memory" : "" } } };
        case "dynamicPVC": {
            const name = `pvc-workspace-${podName}`;
            return {
                volume: { name: WORKSPACE, persistentVolumeClaim: { claimName: name, readOnly: false } },
                claim: { name, ...spec },
            };
        }
        case "genericEphemeralVolume":
            return {
                // Kubernetes' ephemeral volume controller creates it, named <pod>-<volume>, owned by the pod.
                claim: { name: `${podName}-${WORKSPACE}`, ...spec, createdBy: "kubernetes" },
                volume: {
                    name: WORKSPACE,
                    ephemeral: {
                        volumeClaimTemplate: {
                            spec: {
                                accessModes: spec.accessModes,
                                ...(spec.storageClassName ? { storageClassName: spec.storageClassName } : {}),
                                resources: { requests: { storage: spec.storage } },
                            },
                        },
                    },
                },
            };
        default:
            throw new Error(`agentPod: no model of the plugin's workspace ${type}`);
    }
}

function resources(c: Obj): Obj {
    const pick = (fields: [string, string][]) =>
        Object.fromEntries(
            fields.filter(([f]) => c[f] !== undefined && c[f] !== "").map(([f, k]) => [k, String(c[f])]),
        );
    const requests = pick([
        ["resourceRequestCpu", "cpu"],
        ["resourceRequestMemory", "memory"],
        ["resourceRequestEphemeralStorage", "ephemeral-storage"],
    ]);
    const limits = pick([
        ["resourceLimitCpu", "cpu"],
        ["resourceLimitMemory", "memory"],
        ["resourceLimitEphemeralStorage", "ephemeral-storage"],
    ]);
    return { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) };
}

function container(c: Obj, templateEnv: Obj[], mounts: Obj[]): Obj {
    const privileged = c.privileged === true;
    const runAs = Object.fromEntries(
        [
            ["runAsUser", c.runAsUser],
            ["runAsGroup", c.runAsGroup],
        ]
            .filter(([, v]) => v !== undefined && v !== "")
            .map(([k, v]) => [k, Number(v)]),
    );
    const volumeMounts = [...mounts];
    if (c.workingDir && !volumeMounts.some((m) => m.mountPath === c.workingDir)) {
        volumeMounts.push({ name: WORKSPACE, mountPath: c.workingDir, readOnly: false });
    }
    return {
        name: c.name,
        image: c.image,
        imagePullPolicy: c.alwaysPullImage ? "Always" : "IfNotPresent",
        ...(parseDockerCommand(c.command) ? { command: parseDockerCommand(c.command) } : {}),
        args: parseDockerCommand(c.args) ?? [],
        tty: c.ttyEnabled === true,
        ...(c.workingDir ? { workingDir: c.workingDir } : {}),
        resources: resources(c),
        ...(privileged || Object.keys(runAs).length > 0
            ? { securityContext: { ...(privileged ? { privileged: true } : {}), ...runAs } }
            : {}),
        env: mergeEnv(templateEnv, envList(c.envVars)),
        volumeMounts,
    };
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const nonEmpty = (v: unknown) => v !== undefined && v !== null && v !== "";

/** Items of two lists matched by a key: the parent's order, then the child's new ones; `merge` combines a pair. */
function byKey(parent: Obj[] = [], child: Obj[] = [], key: string, merge: (p: Obj, c: Obj) => Obj): Obj[] {
    const out = parent.map((p) => {
        const c = child.find((x) => x[key] === p[key]);
        return c ? merge(p, c) : p;
    });
    return [...out, ...child.filter((c) => !parent.some((p) => p[key] === c[key]))];
}

/** PodTemplateUtils.combine(Container, Container): the yaml's container, the template's fields over it. */
function combineContainer(parent: Obj, child: Obj): Obj {
    const out: Obj = { ...parent };
    for (const k of ["image", "imagePullPolicy", "workingDir"]) {
        if (nonEmpty(child[k])) {
            out[k] = child[k];
        }
    }
    for (const k of ["command", "args"]) {
        if (Array.isArray(child[k]) && child[k].length > 0) {
            out[k] = child[k];
        }
    }
    if (child.tty !== undefined) {
        out.tty = child.tty;
    }
    out.resources = {
        requests: { ...parent.resources?.requests, ...child.resources?.requests },
        limits: { ...parent.resources?.limits, ...child.resources?.limits },
    };
    out.env = mergeEnv(parent.env ?? [], child.env ?? []);
    out.volumeMounts = byKey(parent.volumeMounts, child.volumeMounts, "mountPath", (_p, c) => c);
    const ps: Obj = parent.securityContext ?? {};
    const cs: Obj = child.securityContext ?? {};
    const sc: Obj = { ...ps };
    for (const k of ["privileged", "runAsUser", "runAsGroup"]) {
        if (cs[k] !== undefined) {
            sc[k] = cs[k];
        }
    }
    if (cs.capabilities) {
        sc.capabilities = cs.capabilities;
    }
    if (Object.keys(sc).length > 0) {
        out.securityContext = sc;
    }
    return out;
}

/** PodTemplateUtils.combine(Pod, Pod) with the yaml as parent and the generated pod as child. */
function combinePod(parent: Obj, child: Obj): Obj {
    const ps: Obj = parent.spec ?? {};
    const cs: Obj = child.spec;
    const spec: Obj = { ...ps };
    spec.nodeSelector = { ...ps.nodeSelector, ...cs.nodeSelector };
    for (const k of ["serviceAccount", "serviceAccountName", "schedulerName"]) {
        if (nonEmpty(cs[k])) {
            spec[k] = cs[k];
        }
    }
    for (const k of ["activeDeadlineSeconds", "hostNetwork", "shareProcessNamespace"]) {
        if (cs[k] !== undefined) {
            spec[k] = cs[k];
        }
    }
    spec.containers = byKey(ps.containers, cs.containers, "name", combineContainer);
    spec.initContainers = byKey(ps.initContainers, cs.initContainers, "name", combineContainer);
    spec.volumes = byKey(ps.volumes, cs.volumes, "name", (_p, c) => c);
    spec.tolerations = [...(ps.tolerations ?? []), ...(cs.tolerations ?? [])];
    spec.imagePullSecrets = byKey(ps.imagePullSecrets, cs.imagePullSecrets, "name", (_p, c) => c);
    const psc: Obj = ps.securityContext ?? {};
    const csc: Obj = cs.securityContext ?? {};
    const securityContext: Obj = { ...psc };
    for (const k of ["runAsUser", "runAsGroup"]) {
        if (csc[k] !== undefined) {
            securityContext[k] = csc[k];
        }
    }
    if (Object.keys(securityContext).length > 0) {
        spec.securityContext = securityContext;
    }
    const pm: Obj = parent.metadata ?? {};
    const cm: Obj = child.metadata;
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
            ...pm,
            ...cm,
            labels: { ...pm.labels, ...cm.labels },
            annotations: { ...pm.annotations, ...cm.annotations },
        },
        spec,
    };
}

/**
 * PodTemplateUtils.unwrap/combine(PodTemplate, PodTemplate) for the fields a defaults template
 * carries here: the template's own value wins, the parent's fills what it leaves unset.
 */
function unwrap(t: Obj, parent: Obj | undefined): Obj {
    if (!parent || parent === t) {
        return t;
    }
    const out: Obj = { ...t };
    for (const k of ["serviceAccount", "runAsUser", "runAsGroup", "namespace", "nodeSelector"]) {
        if (!nonEmpty(out[k]) && nonEmpty(parent[k])) {
            out[k] = parent[k];
        }
    }
    // An int field: 0 is unset (PodTemplateUtils.combine: `i -> Objects.equals(i, 0)`).
    if (!(out.activeDeadlineSeconds > 0) && parent.activeDeadlineSeconds > 0) {
        out.activeDeadlineSeconds = parent.activeDeadlineSeconds;
    }
    out.envVars = [...(parent.envVars ?? []), ...(t.envVars ?? [])];
    out.volumes = [...(parent.volumes ?? []), ...(t.volumes ?? [])];
    return out;
}

/** RestrictedPssSecurityContextInjector: fills what is unset, container by container, never overrides. */
function restrictedPss(c: Obj): Obj {
    const sc: Obj = { ...c.securityContext };
    sc.allowPrivilegeEscalation ??= false;
    sc.runAsNonRoot ??= true;
    sc.seccompProfile ??= { type: "RuntimeDefault" };
    sc.capabilities ??= { drop: ["ALL"] };
    return { ...c, securityContext: sc };
}

export interface AgentPod {
    pod: Obj;
    /** The pod's workspace claim, when it has one: the plugin's to create (dynamicPVC) or Kubernetes' (genericEphemeralVolume). */
    claim?: WorkspaceClaim;
}

/**
 * The pod the plugin creates for one agent of template `t` of `cloud` (JCasC shapes), named
 * `podName`. A template without a jnlp container gets the plugin's default agent container.
 */
export function agentPod(cloud: Obj, template: Obj, podName: string): AgentPod {
    const t = unwrap(
        template,
        (cloud.templates ?? []).find((d: Obj) => d.name === cloud.defaultsProviderTemplate),
    );
    const templateEnv = envList(t.envVars);
    const vols = (t.volumes ?? []).map((v: Obj, i: number) => volume(v, `volume-${i}`));
    const mounts = vols.map((v: { mount: Obj }) => v.mount);
    const ws = workspace(t, podName);
    const label: string = t.label ?? "";
    const podLabels: Obj[] = cloud.podLabels?.length ? cloud.podLabels : [{ key: "jenkins", value: "slave" }];
    const generated = {
        metadata: {
            name: podName,
            labels: {
                ...Object.fromEntries(podLabels.map((l) => [l.key, l.value])),
                "jenkins/label": label ? sanitizeLabel(label) : "slave-default",
                "jenkins/label-digest": label ? createHash("sha1").update(label, "utf8").digest("hex") : "0",
                ...(cloud.jenkinsUrl ? { "kubernetes.jenkins.io/controller": sanitizeLabel(cloud.jenkinsUrl) } : {}),
            },
            annotations: {
                ...Object.fromEntries((t.annotations ?? []).map((a: Obj) => [a.key, a.value])),
                "kubernetes.jenkins.io/last-refresh": String(Date.now()),
            },
        },
        spec: {
            ...(t.serviceAccount ? { serviceAccountName: t.serviceAccount } : {}),
            ...(t.activeDeadlineSeconds > 0 ? { activeDeadlineSeconds: t.activeDeadlineSeconds } : {}),
            ...(t.hostNetwork !== undefined ? { hostNetwork: t.hostNetwork } : {}),
            nodeSelector: Object.fromEntries(
                String(t.nodeSelector ?? "")
                    .split(",")
                    .map((pair) => pair.split("="))
                    .filter((kv) => kv.length === 2 && kv[0] !== "" && kv[1] !== ""),
            ),
            imagePullSecrets: (t.imagePullSecrets ?? []).map((s: Obj) => ({ name: s.name })),
            containers: (t.containers ?? []).map((c: Obj) => container(c, templateEnv, mounts)),
            volumes: [...vols.map((v: { volume: Obj }) => v.volume), ws.volume],
            ...(t.runAsUser || t.runAsGroup
                ? {
                      securityContext: {
                          ...(t.runAsUser ? { runAsUser: Number(t.runAsUser) } : {}),
                          ...(t.runAsGroup ? { runAsGroup: Number(t.runAsGroup) } : {}),
                      },
                  }
                : {}),
        },
    };
    // PodTemplateUtils.parseFromYaml (Jackson over SnakeYAML), as policy/podYaml.ts reads it.
    const yamlPod: Obj = t.yaml ? (readPodYaml(t.yaml).pod ?? {}) : {};
    const pod = combinePod(isObj(yamlPod) ? yamlPod : {}, generated);
    pod.metadata.namespace = yamlPod.metadata?.namespace || t.namespace || cloud.namespace;

    // The agent container: the template's jnlp, or the plugin's own.
    const spec = pod.spec;
    let agent = spec.containers.find((c: Obj) => c.name === AGENT);
    if (!agent) {
        agent = { name: AGENT, volumeMounts: [...mounts] };
        spec.containers.push(agent);
    }
    const workdir: string = agent.workingDir ?? DEFAULT_WORKDIR;
    for (const c of spec.containers) {
        if (c.workingDir === undefined && agent.workingDir !== undefined) {
            c.workingDir = agent.workingDir;
        }
    }
    agent.image ||= PLUGIN_DEFAULT_AGENT_IMAGE;
    const agentEnv = [
        { name: "JENKINS_SECRET", value: "0".repeat(64) },
        { name: "JENKINS_NAME", value: podName },
        { name: "JENKINS_AGENT_NAME", value: podName },
        { name: "JENKINS_AGENT_WORKDIR", value: workdir },
        ...(cloud.jenkinsTunnel ? [{ name: "JENKINS_TUNNEL", value: cloud.jenkinsTunnel }] : []),
        ...(cloud.jenkinsUrl ? [{ name: "JENKINS_URL", value: String(cloud.jenkinsUrl).replace(/\/?$/, "/") }] : []),
        ...(cloud.webSocket ? [{ name: "JENKINS_WEB_SOCKET", value: "true" }] : []),
        { name: "REMOTING_OPTS", value: "-noReconnectAfter 1d" },
    ];
    agent.env = mergeEnv(agentEnv, agent.env ?? []);
    agent.resources ??= { requests: { cpu: "100m", memory: "256Mi" } };

    // Decorators, in the plugin's order.
    for (const c of spec.containers) {
        const at = c.workingDir ?? DEFAULT_WORKDIR;
        c.volumeMounts ??= [];
        if (!c.volumeMounts.some((m: Obj) => m.mountPath === at)) {
            c.volumeMounts.push({ name: WORKSPACE, mountPath: at, readOnly: false });
        }
    }
    spec.restartPolicy ||= "Never";
    if (!spec.runtimeClassName && Object.keys(spec.nodeSelector).length === 0 && !spec.affinity?.nodeAffinity) {
        spec.nodeSelector = { "kubernetes.io/os": "linux" };
    }
    pod.metadata.annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"] ??= "false";
    if (cloud.restrictedPssSecurityContext === true) {
        spec.containers = spec.containers.map(restrictedPss);
        spec.initContainers = spec.initContainers.map(restrictedPss);
    }
    for (const k of ["initContainers", "tolerations", "imagePullSecrets"]) {
        if (spec[k].length === 0) {
            delete spec[k];
        }
    }
    return { pod, claim: ws.claim };
}
