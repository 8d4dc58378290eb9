// Checks that what the rendered objects refer to exists, in the right namespace: what a real
// cluster would only tell at run time (a pod stuck in ContainerCreating, a Service with no
// endpoints, agents that cannot reach the controller).
// Long by design: one check per kind of reference, each small; they share the object index.
import * as path from "path";
import { describeObject } from "./kubeSchema";
import { K8sObject } from "./render";

export interface CrossRefOptions {
    /** Namespaces the program expects to exist already (deploy targets, or all when it creates none). */
    externalNamespaces?: string[];
    /** Claims the program expects to exist already (storageMode existingClaim). */
    externalClaims?: string[];
    /** Secrets the program expects to exist already in the controller's namespace (credentials, sign-in). */
    externalSecrets?: string[];
    /** ClusterRoles that come with every cluster (`edit`, `view`, ...). */
    builtInClusterRoles?: string[];
}

const WORKLOADS = ["Deployment", "StatefulSet", "DaemonSet", "Job"];

function podTemplateOf(o: K8sObject): { labels: Record<string, string>; spec: any } | undefined {
    return WORKLOADS.includes(o.kind)
        ? { labels: o.spec?.template?.metadata?.labels ?? {}, spec: o.spec?.template?.spec }
        : undefined;
}

function keysOf(o: K8sObject | undefined): string[] {
    // The token controller fills a ServiceAccount token Secret with these three keys.
    const filled = o?.type === "kubernetes.io/service-account-token" ? ["token", "ca.crt", "namespace"] : [];
    return o ? [...Object.keys(o.data ?? {}), ...Object.keys(o.stringData ?? {}), ...filled] : [];
}

/** The ConfigMaps and Secrets a volume reads, with the keys it picks: a plain one, or a projected one's sources. */
function volumeSources(v: any): { kind: string; name: string; optional?: boolean; items?: { key: string }[] }[] {
    const plain = v.configMap
        ? [{ kind: "ConfigMap", ...v.configMap, name: v.configMap.name }]
        : v.secret
          ? [{ kind: "Secret", ...v.secret, name: v.secret.secretName }]
          : [];
    const projected = (v.projected?.sources ?? []).flatMap((src: any) =>
        src.configMap
            ? [{ kind: "ConfigMap", ...src.configMap }]
            : src.secret
              ? [{ kind: "Secret", ...src.secret }]
              : [],
    );
    return [...plain, ...projected];
}

/** `http://svc.ns.svc:8080/` or `svc.ns.svc:50000` -> service, namespace, port. */
export function serviceAddress(address: string): { service: string; namespace: string; port: number } | undefined {
    const m = /^(?:https?:\/\/)?([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.[a-z0-9.-]+)?:(\d+)(?:\/.*)?$/.exec(address);
    return m ? { service: m[1], namespace: m[2], port: Number(m[3]) } : undefined;
}

/** A ServiceAccount, by namespace and name. */
export interface AccountRef {
    namespace: string;
    name: string;
}

/**
 * The account the Kubernetes plugin launches a cloud's pods as, resolved as Jenkins would: no
 * credentialsId, the controller pod's own ServiceAccount; otherwise the System-scoped Secret-text
 * credential of that id, whose `${file}` JCasC reads from the controller's secrets, where the
 * Deployment projects a ServiceAccount token Secret. A string says where the chain breaks.
 */
export function cloudLauncher(objects: K8sObject[], casc: any, cloud: any): AccountRef | string {
    const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "jenkins");
    const pod = deployment?.spec?.template?.spec;
    if (!deployment || !pod) {
        return "no controller Deployment";
    }
    if (!cloud.credentialsId) {
        return { namespace: deployment.metadata.namespace!, name: pod.serviceAccountName };
    }
    const credential = (casc?.credentials?.system?.domainCredentials ?? [])
        .flatMap((d: any) => d.credentials ?? [])
        .map((c: any) => c.string)
        .find((c: any) => c?.id === cloud.credentialsId);
    const file = /^\$\{(.+)\}$/.exec(credential?.secret ?? "")?.[1];
    if (!credential || credential.scope !== "SYSTEM" || !file) {
        return `credentialsId ${cloud.credentialsId}: no System-scoped Secret-text credential read from a file`;
    }
    // As JCasC finds it (DockerSecretSource): the file SECRETS/<name> in the jenkins container,
    // which some mount of a projected volume holds as one of its items.
    const jenkins = (pod.containers ?? []).find((c: any) => c.name === "jenkins");
    const secretsDir = (jenkins?.env ?? []).find((e: any) => e.name === "SECRETS")?.value ?? "/run/secrets/";
    const absolute = path.posix.join(secretsDir, file);
    const mount = (jenkins?.volumeMounts ?? []).find((m: any) => absolute.startsWith(`${m.mountPath}/`));
    const source = (pod.volumes ?? [])
        .filter((v: any) => v.name === mount?.name)
        .flatMap((v: any) => v.projected?.sources ?? [])
        .find((src: any) =>
            (src.secret?.items ?? []).some((i: any) => i.path === absolute.slice(mount.mountPath.length + 1)),
        );
    const secret = objects.find(
        (o) =>
            o.kind === "Secret" &&
            o.metadata.name === source?.secret.name &&
            o.metadata.namespace === deployment.metadata.namespace,
    );
    const account = secret?.metadata.annotations?.["kubernetes.io/service-account.name"];
    if (secret?.type !== "kubernetes.io/service-account-token" || !account) {
        return `credentialsId ${cloud.credentialsId}: its file ${file} is not a ServiceAccount token the controller mounts`;
    }
    return { namespace: secret.metadata.namespace!, name: account };
}

export function crossReferenceProblems(objects: K8sObject[], casc: any, options: CrossRefOptions = {}): string[] {
    const problems: string[] = [];
    const find = (kind: string, namespace: string | undefined, name: string) =>
        objects.find(
            (o) =>
                o.kind === kind &&
                o.metadata.name === name &&
                (namespace === undefined || o.metadata.namespace === namespace),
        );
    const namespaces = new Set([
        ...objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name),
        ...(options.externalNamespaces ?? []),
    ]);
    const builtIn = new Set(options.builtInClusterRoles ?? ["edit", "view", "admin"]);

    for (const o of objects) {
        const where = describeObject(o);
        const ns = o.metadata.namespace;
        if (ns !== undefined && !namespaces.has(ns)) {
            problems.push(`${where}: namespace ${ns} is neither created by the program nor expected to exist`);
        }

        const pod = podTemplateOf(o);
        if (pod?.spec) {
            const spec = pod.spec;
            if (spec.serviceAccountName && !find("ServiceAccount", ns, spec.serviceAccountName)) {
                problems.push(`${where}: serviceAccountName ${spec.serviceAccountName} does not exist in ${ns}`);
            }
            const volumeNames = new Set<string>((spec.volumes ?? []).map((v: any) => v.name));
            for (const v of spec.volumes ?? []) {
                // ConfigMap and Secret volumes: the object, and every key the volume picks, must exist.
                for (const source of volumeSources(v)) {
                    const target = find(source.kind, ns, source.name);
                    const external = source.kind === "Secret" && (options.externalSecrets ?? []).includes(source.name);
                    if (!target && !source.optional && !external) {
                        problems.push(
                            `${where}: volume ${v.name} mounts ${source.kind} ${source.name}, which does not exist in ${ns}`,
                        );
                    }
                    for (const item of target ? (source.items ?? []) : []) {
                        if (!keysOf(target).includes(item.key)) {
                            problems.push(
                                `${where}: volume ${v.name} wants key ${item.key} of ${source.kind} ${source.name}, which has no such key`,
                            );
                        }
                    }
                }
                if (v.persistentVolumeClaim) {
                    const claim = v.persistentVolumeClaim.claimName;
                    if (!find("PersistentVolumeClaim", ns, claim) && !(options.externalClaims ?? []).includes(claim)) {
                        problems.push(
                            `${where}: volume ${v.name} mounts PersistentVolumeClaim ${claim}, which does not exist in ${ns}`,
                        );
                    }
                }
            }
            for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
                for (const m of c.volumeMounts ?? []) {
                    if (!volumeNames.has(m.name)) {
                        problems.push(
                            `${where}: container ${c.name} mounts volume ${m.name}, which the pod does not define`,
                        );
                    }
                }
                for (const e of c.env ?? []) {
                    const ref = e.valueFrom?.secretKeyRef;
                    if (ref && !keysOf(find("Secret", ns, ref.name)).includes(ref.key)) {
                        problems.push(
                            `${where}: container ${c.name} env ${e.name} reads key ${ref.key} of Secret ${ref.name}, which does not exist in ${ns}`,
                        );
                    }
                }
            }
        }

        if (o.kind === "Service") {
            const selector: Record<string, string> = o.spec?.selector ?? {};
            const backends = objects
                .filter((w) => w.metadata.namespace === ns)
                .map(podTemplateOf)
                .filter((p): p is NonNullable<typeof p> => p !== undefined)
                .filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v));
            if (backends.length === 0) {
                problems.push(`${where}: selector ${JSON.stringify(selector)} matches no pod of the render`);
            }
            for (const port of o.spec?.ports ?? []) {
                const target = port.targetPort ?? port.port;
                const served = backends.some((p) =>
                    (p.spec.containers ?? []).some((c: any) =>
                        (c.ports ?? []).some((cp: any) =>
                            typeof target === "string" ? cp.name === target : cp.containerPort === target,
                        ),
                    ),
                );
                if (backends.length > 0 && !served) {
                    problems.push(
                        `${where}: port ${port.name ?? port.port} targets ${target}, which no selected container exposes`,
                    );
                }
            }
        }

        if (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") {
            const ref = o.roleRef;
            const exists =
                ref.kind === "Role"
                    ? find("Role", ns, ref.name)
                    : (find("ClusterRole", undefined, ref.name) ?? builtIn.has(ref.name));
            if (!exists) {
                problems.push(
                    `${where}: roleRef ${ref.kind} ${ref.name} does not exist${ref.kind === "Role" ? ` in ${ns}` : ""}`,
                );
            }
            for (const s of o.subjects ?? []) {
                if (s.kind === "ServiceAccount" && !find("ServiceAccount", s.namespace ?? ns, s.name)) {
                    problems.push(`${where}: subject ServiceAccount ${s.namespace ?? ns}/${s.name} does not exist`);
                }
            }
        }

        if (o.kind === "Ingress") {
            for (const rule of o.spec?.rules ?? []) {
                for (const p of rule.http?.paths ?? []) {
                    const backend = p.backend?.service;
                    const svc = backend && find("Service", ns, backend.name);
                    if (!svc) {
                        problems.push(`${where}: backend Service ${backend?.name} does not exist in ${ns}`);
                    } else if (
                        !(svc.spec.ports ?? []).some(
                            (port: any) => port.name === backend.port?.name || port.port === backend.port?.number,
                        )
                    ) {
                        problems.push(
                            `${where}: backend port ${JSON.stringify(backend.port)} is not a port of Service ${backend.name}`,
                        );
                    }
                }
            }
            for (const tls of o.spec?.tls ?? []) {
                for (const host of tls.hosts ?? []) {
                    if (!(o.spec.rules ?? []).some((r: any) => r.host === host)) {
                        problems.push(`${where}: TLS host ${host} has no rule`);
                    }
                }
            }
        }

        if (o.kind === "ServiceMonitor") {
            const selector: Record<string, string> = o.spec?.selector?.matchLabels ?? {};
            const selected = objects.filter(
                (svc) =>
                    svc.kind === "Service" &&
                    (o.spec?.namespaceSelector?.matchNames ?? [ns]).includes(svc.metadata.namespace) &&
                    Object.entries(selector).every(([k, v]) => svc.metadata.labels?.[k] === v),
            );
            if (selected.length === 0) {
                problems.push(`${where}: selector ${JSON.stringify(selector)} matches no Service`);
            }
            for (const ep of o.spec?.endpoints ?? []) {
                for (const svc of selected) {
                    if (!(svc.spec.ports ?? []).some((p: any) => p.name === ep.port)) {
                        problems.push(
                            `${where}: endpoint port ${ep.port} is not a port of Service ${svc.metadata.name}`,
                        );
                    }
                }
            }
        }

        if (
            o.kind === "PersistentVolumeClaim" &&
            o.spec?.volumeName &&
            !find("PersistentVolume", undefined, o.spec.volumeName)
        ) {
            problems.push(`${where}: volumeName ${o.spec.volumeName} names no PersistentVolume of the render`);
        }
        if (o.kind === "PersistentVolume" && o.spec?.claimRef) {
            const ref = o.spec.claimRef;
            if (!find("PersistentVolumeClaim", ref.namespace, ref.name)) {
                problems.push(`${where}: claimRef ${ref.namespace}/${ref.name} names no claim of the render`);
            }
        }
    }

    for (const [i, entry] of (casc?.jenkins?.clouds ?? []).entries()) {
        const cloud = entry.kubernetes;
        const at = `JCasC clouds[${i}]`;
        for (const key of ["jenkinsUrl", "jenkinsTunnel"] as const) {
            if (cloud[key] === undefined) {
                continue;
            }
            const addr = serviceAddress(cloud[key]);
            const svc = addr && find("Service", addr.namespace, addr.service);
            if (!addr) {
                problems.push(`${at}.${key} = ${cloud[key]}: not an in-cluster Service address`);
            } else if (!svc) {
                problems.push(`${at}.${key} = ${cloud[key]}: no Service ${addr.service} in ${addr.namespace}`);
            } else if (!(svc.spec.ports ?? []).some((p: any) => p.port === addr.port)) {
                problems.push(
                    `${at}.${key} = ${cloud[key]}: Service ${addr.service} does not expose port ${addr.port}`,
                );
            }
        }
        if (!namespaces.has(cloud.namespace)) {
            problems.push(`${at}.namespace = ${cloud.namespace}: no such namespace in the render`);
        }
        const launcher = cloudLauncher(objects, casc, cloud);
        if (typeof launcher === "string") {
            problems.push(`${at} (${cloud.name}): ${launcher}`);
        } else if (!find("ServiceAccount", launcher.namespace, launcher.name)) {
            problems.push(
                `${at} (${cloud.name}): launches as ${launcher.namespace}/${launcher.name}, which does not exist`,
            );
        }
        for (const [j, t] of (cloud.templates ?? []).entries()) {
            const tns = t.namespace ?? cloud.namespace;
            if (t.serviceAccount && !find("ServiceAccount", tns, t.serviceAccount)) {
                problems.push(`${at}.templates[${j}].serviceAccount = ${t.serviceAccount}: does not exist in ${tns}`);
            }
            const manager = objects.find(
                (r) =>
                    r.kind === "Role" &&
                    r.metadata.namespace === tns &&
                    (r.rules ?? []).some(
                        (rule: any) => rule.resources?.includes("pods") && rule.verbs?.includes("create"),
                    ),
            );
            const bound =
                typeof launcher !== "string" &&
                objects.some(
                    (b) =>
                        b.kind === "RoleBinding" &&
                        b.metadata.namespace === tns &&
                        b.roleRef?.name === manager?.metadata.name &&
                        (b.subjects ?? []).some(
                            (sub: any) => sub.name === launcher.name && sub.namespace === launcher.namespace,
                        ),
                );
            if (!manager || !bound) {
                problems.push(
                    `${at}.templates[${j}] (${t.name}): no Role bound to the cloud's account lets it create pods in ${tns}`,
                );
            }
        }
    }
    return problems;
}
