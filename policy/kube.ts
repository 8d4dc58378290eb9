// Readers the policies share: where a pod spec sits in each workload kind, the agent pods the
// Kubernetes plugin will create from a JCasC document, and how an image reference is pinned.
// Long by design: every workload kind's pod path, and the plugin's agent pods read from JCasC.
import * as k8s from "@pulumi/kubernetes";
import { ResourceValidationArgs } from "@pulumi/policy";
import { Resource } from "@pulumi/pulumi";
import { parse } from "yaml";
import { readPodYaml } from "./podYaml";

type Obj = Record<string, any>;
export type ResourceClass = { new (...rest: any[]): Resource };

import { ALLOW_HOST_PATH, ALLOW_PRIVILEGED, isFloatingTag } from "./facts";

// Annotations that explicitly allow what the policies otherwise refuse.
export { ALLOW_HOST_PATH, ALLOW_PRIVILEGED };

// Where the pod template ({metadata, spec}) sits in each kind. Patch kinds are left out: a patch
// is partial by design, so "no resources set" would be a false alarm on every one of them.
const POD_TEMPLATE_PATHS: { cls: ResourceClass; path: string[] }[] = [
    { cls: k8s.core.v1.Pod, path: [] },
    { cls: k8s.core.v1.PodTemplate, path: ["template"] },
    { cls: k8s.core.v1.ReplicationController, path: ["spec", "template"] },
    { cls: k8s.apps.v1.Deployment, path: ["spec", "template"] },
    { cls: k8s.apps.v1.StatefulSet, path: ["spec", "template"] },
    { cls: k8s.apps.v1.DaemonSet, path: ["spec", "template"] },
    { cls: k8s.apps.v1.ReplicaSet, path: ["spec", "template"] },
    { cls: k8s.batch.v1.Job, path: ["spec", "template"] },
    { cls: k8s.batch.v1.CronJob, path: ["spec", "jobTemplate", "spec", "template"] },
    { cls: k8s.batch.v1beta1.CronJob, path: ["spec", "jobTemplate", "spec", "template"] },
];

export interface ContainerSite {
    /** Kubernetes container shape. */
    container: Obj;
    name: string;
    /** Where to find it, for messages, e.g. `spec.template.spec.initContainers[0]`. */
    where: string;
    init: boolean;
    ephemeral: boolean;
}

export interface VolumeSite {
    name: string;
    where: string;
    /** The node path of a hostPath volume; undefined for other volume types. */
    hostPath?: string;
}

/** A pod the stack will make exist: a workload's pod template, or an agent pod the plugin creates. */
export interface PodSite {
    spec: Obj;
    /** Path of the pod spec, e.g. `spec.template.spec`. */
    where: string;
    containers: ContainerSite[];
    volumes: VolumeSite[];
    /** Annotation maps that count as an explicit allow (the object's, the pod template's). */
    annotations: Obj[];
    labels: Obj[];
}

function dig(o: Obj | undefined, path: string[]): Obj | undefined {
    let cur: any = o;
    for (const k of path) {
        cur = cur?.[k];
    }
    return cur ?? undefined;
}

function podContainers(spec: Obj, where: string): ContainerSite[] {
    const out: ContainerSite[] = [];
    for (const field of ["initContainers", "containers", "ephemeralContainers"]) {
        const list: Obj[] = spec[field] ?? [];
        list.forEach((c, i) =>
            out.push({
                container: c,
                name: c.name ?? `#${i}`,
                where: `${where}.${field}[${i}]`,
                init: field === "initContainers",
                ephemeral: field === "ephemeralContainers",
            }),
        );
    }
    return out;
}

function podVolumes(spec: Obj, where: string): VolumeSite[] {
    const list: Obj[] = spec.volumes ?? [];
    return list.map((v, i) => ({
        name: v.name ?? `#${i}`,
        where: `${where}.volumes[${i}]`,
        hostPath: v.hostPath ? String(v.hostPath.path ?? "") : undefined,
    }));
}

/** The pod of a Pod or of any workload kind; undefined for other resources. */
export function podSite(args: ResourceValidationArgs): PodSite | undefined {
    const entry = POD_TEMPLATE_PATHS.find((e) => args.isType(e.cls));
    if (!entry) {
        return undefined;
    }
    const template = dig(args.props, entry.path);
    const spec = template?.spec;
    if (!spec) {
        return undefined;
    }
    const where = [...entry.path, "spec"].join(".");
    const own = args.props.metadata;
    const tpl = entry.path.length > 0 ? template?.metadata : undefined;
    return {
        spec,
        where,
        containers: podContainers(spec, where),
        volumes: podVolumes(spec, where),
        annotations: [own?.annotations, tpl?.annotations].filter((a) => a),
        labels: [own?.labels, tpl?.labels].filter((l) => l),
    };
}

function isPlainObject(v: unknown): v is Obj {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Maps merge, everything else is replaced by `over`; enough for container fields. */
function merge(base: Obj, over: Obj): Obj {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(over)) {
        out[k] = isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k], v) : v;
    }
    return out;
}

function isSet(v: unknown): boolean {
    return v !== undefined && v !== null && v !== "";
}

/** The plugin's container fields in Kubernetes shape; only what the template sets. */
function templateContainer(c: Obj): Obj {
    const out: Obj = { name: c.name };
    if (isSet(c.image)) {
        out.image = c.image;
    }
    // The plugin only writes privileged when it is true, so a false here overrides nothing.
    if (c.privileged === true) {
        out.securityContext = { privileged: true };
    }
    const resources: Obj = {};
    const fields: [string, string, string][] = [
        ["resourceRequestCpu", "requests", "cpu"],
        ["resourceRequestMemory", "requests", "memory"],
        ["resourceLimitCpu", "limits", "cpu"],
        ["resourceLimitMemory", "limits", "memory"],
    ];
    for (const [field, group, key] of fields) {
        if (isSet(c[field])) {
            resources[group] = { ...resources[group], [key]: c[field] };
        }
    }
    if (Object.keys(resources).length > 0) {
        out.resources = resources;
    }
    return out;
}

function parseYaml(text: unknown): any {
    if (typeof text !== "string") {
        return undefined;
    }
    try {
        return parse(text);
    } catch {
        // Not YAML after all; whatever reads it will complain, not these policies.
        return undefined;
    }
}

/** A JCasC template's own pod `yaml`, read as the kubernetes plugin reads it (policy/podYaml.ts). */
export function templatePod(template: Obj): any {
    return typeof template.yaml === "string" ? readPodYaml(template.yaml).pod : undefined;
}

/**
 * Agent pods are no objects of the stack: the Kubernetes plugin creates them from the templates
 * in the JCasC ConfigMap, so the pod rules are applied to those templates (a hostPath docker.sock
 * in an agent template was the original's worst hole). A template's own fields are merged over
 * its raw pod `yaml`, container by container, as the plugin does.
 */
function agentPodSites(configMap: Obj): PodSite[] {
    const sites: PodSite[] = [];
    const cmAnnotations = [configMap.metadata?.annotations].filter((a) => a);
    for (const [key, text] of Object.entries<unknown>(configMap.data ?? {})) {
        if (!/\.ya?ml$/.test(key) || typeof text !== "string" || !text.includes("templates")) {
            continue;
        }
        const doc = parseYaml(text);
        const clouds: Obj[] = Array.isArray(doc?.jenkins?.clouds) ? doc.jenkins.clouds : [];
        clouds.forEach((cloud, ci) => {
            const templates: Obj[] = Array.isArray(cloud?.kubernetes?.templates) ? cloud.kubernetes.templates : [];
            templates.forEach((t, ti) => {
                const at = `agent pod template "${t.name ?? ti}" at data["${key}"].jenkins.clouds[${ci}].kubernetes.templates[${ti}]`;
                const raw = templatePod(t);
                const rawSpec: Obj = isPlainObject(raw?.spec) ? raw.spec : {};
                const rawContainers: Obj[] = Array.isArray(rawSpec.containers) ? rawSpec.containers : [];
                const tplContainers: Obj[] = Array.isArray(t.containers) ? t.containers : [];

                const containers: ContainerSite[] = tplContainers.map((c, i) => {
                    const fromYaml = rawContainers.find((r) => r?.name === c.name);
                    return {
                        container: merge(fromYaml ?? {}, templateContainer(c)),
                        name: String(c.name ?? `#${i}`),
                        where: `${at}.containers[${i}]${fromYaml ? " merged with its yaml" : ""}`,
                        init: false,
                        ephemeral: false,
                    };
                });
                rawContainers.forEach((r, i) => {
                    if (!tplContainers.some((c) => c.name === r?.name)) {
                        containers.push({
                            container: r,
                            name: String(r?.name ?? `#${i}`),
                            where: `${at}.yaml spec.containers[${i}]`,
                            init: false,
                            ephemeral: false,
                        });
                    }
                });
                const rawInit: Obj[] = Array.isArray(rawSpec.initContainers) ? rawSpec.initContainers : [];
                rawInit.forEach((r, i) =>
                    containers.push({
                        container: r,
                        name: String(r?.name ?? `#${i}`),
                        where: `${at}.yaml spec.initContainers[${i}]`,
                        init: true,
                        ephemeral: false,
                    }),
                );

                // Plugin volumes are `{<type>Volume: {mountPath, ...}}` and have no name; the mount path names them.
                const volumes: VolumeSite[] = (Array.isArray(t.volumes) ? t.volumes : []).map((v: Obj, i: number) => {
                    const body: Obj | undefined = isPlainObject(v) ? Object.values(v)[0] : undefined;
                    return {
                        name: String(body?.mountPath ?? `#${i}`),
                        where: `${at}.volumes[${i}]`,
                        hostPath: v?.hostPathVolume ? String(v.hostPathVolume.hostPath ?? "") : undefined,
                    };
                });
                volumes.push(...podVolumes(rawSpec, `${at}.yaml spec`));

                // The plugin's `annotations: [{key, value}]` and the yaml's metadata both end up on the pod.
                const podAnnotations: Obj = Object.fromEntries(
                    (Array.isArray(t.annotations) ? t.annotations : []).map((a: Obj) => [a?.key, a?.value]),
                );
                sites.push({
                    spec: rawSpec,
                    where: `${at}.yaml spec`,
                    containers,
                    volumes,
                    annotations: [...cmAnnotations, podAnnotations, raw?.metadata?.annotations].filter((a) => a),
                    labels: [],
                });
            });
        });
    }
    return sites;
}

/** The Kubernetes clouds of the JCasC documents a ConfigMap carries, with the data key they are in. */
export function jcascClouds(configMap: Obj): { key: string; cloud: Obj }[] {
    const out: { key: string; cloud: Obj }[] = [];
    for (const [key, text] of Object.entries<unknown>(configMap.data ?? {})) {
        if (!/\.ya?ml$/.test(key) || typeof text !== "string" || !text.includes("clouds")) {
            continue;
        }
        const clouds: Obj[] = parseYaml(text)?.jenkins?.clouds ?? [];
        for (const c of Array.isArray(clouds) ? clouds : []) {
            if (isPlainObject(c?.kubernetes)) {
                out.push({ key, cloud: c.kubernetes });
            }
        }
    }
    return out;
}

/** Whether a JCasC pod template opts into privileged containers or host paths (its pods' allow annotations). */
export function templateOptsIn(template: Obj): boolean {
    const annotations: Obj = {
        ...Object.fromEntries(
            (Array.isArray(template.annotations) ? template.annotations : []).map((a: Obj) => [a?.key, a?.value]),
        ),
        ...(templatePod(template)?.metadata?.annotations ?? {}),
    };
    return hasAnnotation([annotations], ALLOW_PRIVILEGED) || hasAnnotation([annotations], ALLOW_HOST_PATH);
}

/** Every pod a resource makes exist: its own, or the agent pods of the JCasC it carries. */
export function podSites(args: ResourceValidationArgs): PodSite[] {
    const own = podSite(args);
    if (own) {
        return [own];
    }
    return args.isType(k8s.core.v1.ConfigMap) ? agentPodSites(args.props) : [];
}

export function hasAnnotation(maps: Obj[], key: string): boolean {
    return maps.some((m) => m[key] === "true");
}

export function hasLabel(maps: Obj[], key: string, value: string): boolean {
    return maps.some((m) => m[key] === value);
}

// Tags that move: the same reference names a different image tomorrow. Jenkins also publishes
// `lts-jdk21`, `latest-alpine` and the like, which float just the same.

/** Why an image reference is not pinned, or undefined when it is (a digest, or a fixed tag). */
export function unpinnedReason(image: unknown): string | undefined {
    if (typeof image !== "string" || image.trim() === "") {
        return "has no image";
    }
    if (image.includes("@")) {
        return /@sha256:[0-9a-f]{64}$/.test(image) ? undefined : `image "${image}" has a malformed digest`;
    }
    const lastSlash = image.lastIndexOf("/");
    const colon = image.lastIndexOf(":");
    // A colon before the last slash is a registry port (registry:5000/app), not a tag.
    if (colon <= lastSlash) {
        return `image "${image}" has no tag (the registry serves latest)`;
    }
    const tag = image.slice(colon + 1).toLowerCase();
    return isFloatingTag(tag) ? `image "${image}" uses the floating tag "${tag}"` : undefined;
}
