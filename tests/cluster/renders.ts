// What the cluster tier applies: each stack's offline render (the real program under Pulumi's mock
// runtime, as `npm run render` writes it), made once per run by the global setup and read here
// synchronously, so the tests can be declared from it.
import { readdirSync, readFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse } from "yaml";
import { CASC_OUT, RESOURCES_OUT } from "../../tools/render";
import { settingsFrom } from "../../config/settings";
import { EXAMPLE_STACKS, listStacks, readStackConfig, stackFile } from "../../tools/stackConfig";
import type { KubeObject } from "./kube";

type Obj = Record<string, any>;

export const RENDER_ROOT = path.join(tmpdir(), "jenkins-k8s-cluster-tier");

/**
 * Settings no stack file holds but a claim needs proven: a stack's file plus overrides. The
 * privileged tier and the controller's PodDisruptionBudget exist only on request, and no example
 * stack asks for them.
 */
/** Prod's Jenkins home on NFS, as the original had it (a static PV, Retain): prod itself uses a CSI class. */
export const NFS_HOME: Record<string, string> = {
    "jenkins-k8s:storageMode": "nfs",
    "jenkins-k8s:storageClass": "",
    "jenkins-k8s:nfsServer": "nfs.internal.example.com",
    "jenkins-k8s:nfsPath": "/exports/jenkins",
    "jenkins-k8s:storageAccessMode": "ReadWriteMany",
    "jenkins-k8s:backups": "false",
    "jenkins-k8s:volumeSnapshotClass": "",
};

export const VARIANTS: Record<string, { stack: string; overrides: Record<string, string> }> = {
    "prod-nfs": {
        stack: "prod",
        overrides: {
            "jenkins-k8s:namespace": "ci-nfs",
            "jenkins-k8s:agentNamespace": "ci-nfs-agents",
            ...NFS_HOME,
        },
    },
    "dev-privileged": {
        stack: "dev",
        overrides: {
            "jenkins-k8s:namespace": "lab",
            "jenkins-k8s:agentNamespace": "lab-agents",
            "jenkins-k8s:nodePort": "30003",
            "jenkins-k8s:allowPrivilegedAgents": "true",
            // The controller's PodDisruptionBudget is off by default; here it is proven to block eviction.
            "jenkins-k8s:disruptionBudget": "true",
            // The web UI through a Gateway (Gateway API): the HTTPRoute against the real CRD.
            "jenkins-k8s:gateway": "gateway-system/public",
            "jenkins-k8s:gatewaySection": "https",
            "jenkins-k8s:gatewayHostnames": JSON.stringify(["jenkins-lab.example.com"]),
            "jenkins-k8s:publicUrl": "",
            "jenkins-k8s:podTemplates": JSON.stringify([
                { name: "default", labels: ["linux"] },
                {
                    name: "dind",
                    labels: ["dind"],
                    podSecurity: "privileged",
                    containers: [
                        {
                            name: "docker",
                            image: "docker:27.3.1-dind",
                            privileged: true,
                            command: ["dockerd-entrypoint.sh"],
                            env: { DOCKER_TLS_CERTDIR: "" },
                        },
                    ],
                },
                {
                    // File modes in octal, as Kubernetes' own examples write them: the plugin reads
                    // 0755 as 493 (its PodTemplateUtilsTest/octal.yaml); read as YAML 1.2 it would
                    // be 755, which the API server refuses (a mode is at most 0777).
                    name: "modes",
                    labels: ["modes"],
                    yaml: [
                        "spec:",
                        "  volumes:",
                        "    - name: scripts",
                        "      configMap:",
                        "        name: no-such-scripts",
                        "        optional: true",
                        "        defaultMode: 0755",
                        "        items:",
                        "          - key: run",
                        "            path: run.sh",
                        "            mode: 0700",
                        "",
                    ].join("\n"),
                },
            ]),
        },
    },
};

/** The stacks this run covers: CLUSTER_STACKS (comma-separated: any stack file or variant), or the example stacks and the variants. */
export function stacksUnderTest(): string[] {
    const all = [...listStacks(), ...Object.keys(VARIANTS)];
    const wanted = (process.env.CLUSTER_STACKS ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    const unknown = wanted.filter((s) => !all.includes(s));
    if (unknown.length > 0) {
        throw new Error(
            `CLUSTER_STACKS names ${unknown.join(", ")}, which have no stack file (stacks: ${all.join(", ")})`,
        );
    }
    return wanted.length > 0 ? wanted : [...EXAMPLE_STACKS, ...Object.keys(VARIANTS)];
}

export interface Render {
    stack: string;
    /** Every Kubernetes object, in apply order (the render's file order). */
    objects: KubeObject[];
    /** The JCasC document. */
    casc: Obj;
    /** The Pod Security level the stack expects of the deploy namespaces it does not create. */
    deployLevel: string;
    /** What the stack file (and variant) itself sets, full keys, without the project's defaults. */
    own: Record<string, unknown>;
}

/** The settings a stack file (plus a variant's overrides) spells out, so a test can tell a default from a choice. */
function ownConfigOf(name: string): Record<string, unknown> {
    const variant = VARIANTS[name];
    const file = stackFile(variant?.stack ?? name);
    const own = (parse(readFileSync(file, "utf8"))?.config ?? {}) as Record<string, unknown>;
    return { ...own, ...(variant?.overrides ?? {}) };
}

/** The settings a stack (or variant) is rendered from. */
export function configOf(name: string): Record<string, string> {
    const variant = VARIANTS[name];
    return variant ? { ...readStackConfig(variant.stack), ...variant.overrides } : readStackConfig(name);
}

export function readRender(stack: string): Render {
    const dir = path.join(RENDER_ROOT, stack);
    const files = readdirSync(dir)
        .filter((f) => f.endsWith(".yaml") && f !== CASC_OUT && f !== RESOURCES_OUT)
        .sort();
    return {
        stack,
        objects: files.map((f) => parse(readFileSync(path.join(dir, f), "utf8")) as KubeObject),
        casc: parse(readFileSync(path.join(dir, CASC_OUT), "utf8")) as Obj,
        deployLevel: settingsFrom(configOf(stack)).agents.deployNamespacePodSecurity,
        own: ownConfigOf(stack),
    };
}

/** Every Kubernetes cloud of the JCasC, with its templates. */
export function clouds(casc: Obj): Obj[] {
    return (casc.jenkins?.clouds ?? []).map((c: Obj) => c.kubernetes).filter(Boolean);
}

export function ofKind(r: Render, kind: string): KubeObject[] {
    return r.objects.filter((o) => o.kind === kind);
}

/** A structured setting of a stack (or variant), as the stack file writes it; undefined when unset. */
function settingOf<T>(name: string, key: string): T | undefined {
    const raw = configOf(name)[`jenkins-k8s:${key}`];
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
}

type SecretRef = { secret: string; key: string };
type CredentialConfig = { secret: string };
type TeamConfig = { name: string; clouds?: string[]; credentials?: CredentialConfig[] };

/** The Secrets the stack file names (credentials, teams' credentials, sign-in), read from it directly. */
export function namedSecrets(name: string): string[] {
    const realm = settingOf<{
        clientSecret?: SecretRef;
        escapeHatch?: { password: SecretRef };
        managerPassword?: SecretRef;
    }>(name, "securityRealm");
    const teams = settingOf<TeamConfig[]>(name, "teams") ?? [];
    return [
        ...new Set([
            ...[realm?.clientSecret, realm?.escapeHatch?.password, realm?.managerPassword].flatMap((r) =>
                r ? [r.secret] : [],
            ),
            ...(settingOf<CredentialConfig[]>(name, "credentials") ?? []).map((c) => c.secret),
            ...teams.flatMap((t) => (t.credentials ?? []).map((c) => c.secret)),
        ]),
    ].sort();
}

/** Each cloud the stack file grants to teams, with the teams it names, as written. */
export function cloudGrants(name: string): Record<string, string[]> {
    const grants: Record<string, string[]> = {};
    for (const team of settingOf<TeamConfig[]>(name, "teams") ?? []) {
        for (const cloud of team.clouds ?? []) (grants[cloud] ??= []).push(team.name);
    }
    return grants;
}
