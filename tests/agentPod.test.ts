// The cluster tier's model of the pod the Kubernetes plugin creates (tests/cluster/agentPod.ts),
// checked against what the plugin's source says, so the pods the tier creates are the plugin's.
import { createHash } from "crypto";
import { parse } from "yaml";
import { agentPod, parseDockerCommand, PLUGIN_DEFAULT_AGENT_IMAGE, sanitizeLabel } from "./cluster/agentPod";
import { grants, grantsOf, minus } from "./cluster/access";
import { parseWarnings } from "./cluster/kube";
import { runDefaults } from "./harness";

const cloud = {
    name: "kubernetes",
    namespace: "agents",
    jenkinsUrl: "http://jenkins.ci.svc:8080",
    jenkinsTunnel: "jenkins-agent.ci.svc:50000",
    podLabels: [{ key: "app.kubernetes.io/component", value: "agent" }],
};

describe("the plugin's string handling", () => {
    it("splits command and args on spaces, keeping double-quoted runs and dropping the quotes", () => {
        expect(parseDockerCommand('sh -c "echo hi there"')).toEqual(["sh", "-c", "echo hi there"]);
        expect(parseDockerCommand("cat")).toEqual(["cat"]);
        expect(parseDockerCommand("")).toBeUndefined();
        expect(parseDockerCommand("   ")).toBeUndefined();
    });

    it("sanitizes label values: label-safe characters, alphanumeric at both ends, at most 57 characters", () => {
        expect(sanitizeLabel("foo bar")).toBe("foo_bar");
        expect(sanitizeLabel("http://jenkins.ci.svc:8080/")).toBe("http___jenkins_ci_svc_8080x");
        expect(sanitizeLabel("x".repeat(80))).toHaveLength(57);
    });
});

describe("agentPod", () => {
    const template = {
        name: "tools",
        label: "tools linux",
        namespace: "agents",
        serviceAccount: "jenkins-agent",
        nodeSelector: "pool=ci,broken,=x",
        envVars: [{ envVar: { key: "TEAM", value: "a" } }],
        volumes: [{ secretVolume: { secretName: "reg", mountPath: "/cfg", optional: false } }],
        containers: [
            {
                name: "jnlp",
                image: "jenkins/inbound-agent:1-jdk21",
                resourceRequestCpu: "500m",
                resourceLimitMemory: "1Gi",
                envVars: [{ envVar: { key: "TEAM", value: "b" } }],
            },
            { name: "node", image: "node:22", command: "cat", args: "", ttyEnabled: true, privileged: false },
        ],
        yaml: [
            "spec:",
            "  automountServiceAccountToken: false",
            "  securityContext: {runAsNonRoot: true, runAsUser: 1000}",
            "  containers:",
            "    - name: node",
            "      command: [sleep]",
            "      securityContext: {allowPrivilegeEscalation: false}",
        ].join("\n"),
    };
    const { pod, claim } = agentPod(cloud, template, "tools-abcde");

    it("names, labels and places the pod as PodTemplateBuilder does", () => {
        expect(pod.metadata.name).toBe("tools-abcde");
        expect(pod.metadata.namespace).toBe("agents");
        expect(pod.metadata.labels).toEqual({
            "app.kubernetes.io/component": "agent",
            "jenkins/label": "tools_linux",
            "jenkins/label-digest": createHash("sha1").update("tools linux").digest("hex"),
            "kubernetes.jenkins.io/controller": "http___jenkins_ci_svc_8080",
        });
        expect(pod.metadata.annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"]).toBe("false");
        expect(pod.spec.restartPolicy).toBe("Never");
        expect(pod.spec.serviceAccountName).toBe("jenkins-agent");
        // "broken" and "=x" are not k=v pairs: the plugin drops them.
        expect(pod.spec.nodeSelector).toEqual({ pool: "ci" });
        expect(claim).toBeUndefined();
    });

    it("takes pod fields it has no key for from the yaml, and the template's fields over the yaml's", () => {
        expect(pod.spec.automountServiceAccountToken).toBe(false);
        expect(pod.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000 });
        const node = pod.spec.containers.find((c: any) => c.name === "node");
        // The template's command wins; its empty args leave none.
        expect(node.command).toEqual(["cat"]);
        expect(node.securityContext).toEqual({ allowPrivilegeEscalation: false });
        expect(node.tty).toBe(true);
        // The yaml's container comes first, then the template's others.
        expect(pod.spec.containers.map((c: any) => c.name)).toEqual(["node", "jnlp"]);
    });

    it("gives the agent container the connection env, the container's own env over the template's", () => {
        const jnlp = pod.spec.containers.find((c: any) => c.name === "jnlp");
        const env = Object.fromEntries(jnlp.env.map((e: any) => [e.name, e.value]));
        expect(env).toMatchObject({
            JENKINS_URL: "http://jenkins.ci.svc:8080/",
            JENKINS_TUNNEL: "jenkins-agent.ci.svc:50000",
            JENKINS_NAME: "tools-abcde",
            JENKINS_AGENT_NAME: "tools-abcde",
            JENKINS_AGENT_WORKDIR: "/home/jenkins/agent",
            TEAM: "b",
        });
        expect(env.JENKINS_WEB_SOCKET).toBeUndefined();
        expect(jnlp.resources).toEqual({ requests: { cpu: "500m" }, limits: { memory: "1Gi" } });
    });

    it("mounts the template's volumes and the workspace in every container", () => {
        expect(pod.spec.volumes).toEqual([
            { name: "volume-0", secret: { secretName: "reg", optional: false } },
            { name: "workspace-volume", emptyDir: { medium: "" } },
        ]);
        for (const c of pod.spec.containers) {
            expect(c.volumeMounts.map((m: any) => `${m.name}:${m.mountPath}`)).toEqual([
                "volume-0:/cfg",
                "workspace-volume:/home/jenkins/agent",
            ]);
        }
    });

    it("adds the plugin's own agent container when a template has none, with its default image and resources", () => {
        const { pod: p } = agentPod(
            { ...cloud, webSocket: true, jenkinsTunnel: undefined },
            { name: "bare", label: "" },
            "bare-x",
        );
        const jnlp = p.spec.containers.find((c: any) => c.name === "jnlp");
        expect(jnlp.image).toBe(PLUGIN_DEFAULT_AGENT_IMAGE);
        expect(jnlp.resources).toEqual({ requests: { cpu: "100m", memory: "256Mi" } });
        expect(jnlp.env.find((e: any) => e.name === "JENKINS_WEB_SOCKET")?.value).toBe("true");
        expect(p.metadata.labels["jenkins/label"]).toBe("slave-default");
        expect(p.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    });

    it("with restrictedPssSecurityContext, fills each container's unset fields and keeps what is set", () => {
        const { pod: p } = agentPod({ ...cloud, restrictedPssSecurityContext: true }, template, "tools-r");
        const node = p.spec.containers.find((c: any) => c.name === "node");
        const jnlp = p.spec.containers.find((c: any) => c.name === "jnlp");
        const filled = {
            allowPrivilegeEscalation: false,
            runAsNonRoot: true,
            seccompProfile: { type: "RuntimeDefault" },
            capabilities: { drop: ["ALL"] },
        };
        expect(jnlp.securityContext).toEqual(filled);
        const { pod: q } = agentPod(
            { ...cloud, restrictedPssSecurityContext: true },
            {
                ...template,
                yaml: "spec:\n  containers:\n    - name: node\n      securityContext: {allowPrivilegeEscalation: true}\n",
            },
            "tools-s",
        );
        expect(q.spec.containers.find((c: any) => c.name === "node").securityContext.allowPrivilegeEscalation).toBe(
            true,
        );
        expect(node.securityContext).toEqual(filled);
    });

    it("makes a dynamicPVC workspace a claim the plugin creates, named after the pod", () => {
        const { pod: p, claim: c } = agentPod(
            cloud,
            {
                name: "m",
                label: "m",
                workspaceVolume: { dynamicPVC: { requestsSize: "20Gi", accessModes: "ReadWriteOnce" } },
            },
            "m-1",
        );
        expect(c).toEqual({ name: "pvc-workspace-m-1", accessModes: ["ReadWriteOnce"], storage: "20Gi" });
        expect(p.spec.volumes).toContainEqual({
            name: "workspace-volume",
            persistentVolumeClaim: { claimName: "pvc-workspace-m-1", readOnly: false },
        });
    });

    it("makes a genericEphemeralVolume workspace an ephemeral volume, whose claim Kubernetes names <pod>-workspace-volume", () => {
        const { pod: p, claim: c } = agentPod(
            cloud,
            {
                name: "m",
                label: "m",
                workspaceVolume: { genericEphemeralVolume: { requestsSize: "20Gi", storageClassName: "fast" } },
            },
            "m-1",
        );
        expect(c).toEqual({
            name: "m-1-workspace-volume",
            accessModes: ["ReadWriteOnce"],
            storage: "20Gi",
            storageClassName: "fast",
            createdBy: "kubernetes",
        });
        expect(p.spec.volumes).toContainEqual({
            name: "workspace-volume",
            ephemeral: {
                volumeClaimTemplate: {
                    spec: {
                        accessModes: ["ReadWriteOnce"],
                        storageClassName: "fast",
                        resources: { requests: { storage: "20Gi" } },
                    },
                },
            },
        });
    });

    it("builds a pod from every template of the default set", async () => {
        const casc = parse((await runDefaults()).casc);
        const k8sCloud = casc.jenkins.clouds[0].kubernetes;
        for (const t of k8sCloud.templates) {
            const { pod: p } = agentPod(k8sCloud, t, `${t.name}-x`);
            expect(p.spec.containers.map((c: any) => c.name)).toContain("jnlp");
            expect(p.metadata.namespace).toBe(k8sCloud.namespace);
        }
    });
});

describe("the cluster tier's readers", () => {
    it("reads the API server's Warning headers", () => {
        expect(parseWarnings('299 - "would violate PodSecurity \\"restricted:latest\\": x", 299 - "second"')).toEqual([
            'would violate PodSecurity "restricted:latest": x',
            "second",
        ]);
        expect(parseWarnings(undefined)).toEqual([]);
    });

    it("compares rule lists grant by grant", () => {
        const held = grants([{ apiGroups: [""], resources: ["pods", "pods/exec"], verbs: ["get", "create"] }]);
        const want = grantsOf([
            { verb: "get", resource: "pods" },
            { verb: "create", resource: "pods", subresource: "exec" },
        ]);
        expect(minus(held, want)).toEqual(["/pods/exec:get", "/pods:create"]);
        expect(minus(want, held)).toEqual([]);
    });
});
