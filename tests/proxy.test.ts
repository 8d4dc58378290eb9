// An HTTP proxy for what the controller and agents fetch from outside (httpProxy, noProxy): the
// plugin downloads and Jenkins' tools through the variables curl and git read, Jenkins' own
// requests through its ProxyConfiguration, every agent pod through the cloud's defaults template;
// the cluster's own addresses go around it, and the preview says when the agents' egress policy
// would keep them from it.
import Ajv from "ajv";
import { parse } from "yaml";
import schema from "../schemas/jcasc.schema.json";
import { jenkinsProxy } from "../jcasc/jcasc";
import { CLUSTER_NO_PROXY, egressNote, settingsFrom } from "../config/settings";
import { runDefaults, runDefaultsWarned } from "./harness";

const PROXY = { httpProxy: "http://proxy.corp.example:3128", noProxy: [".corp.example", "10.0.0.0/8"] };
const NO_PROXY = "localhost,127.0.0.1,::1,.svc,.cluster.local,kubernetes.default,.corp.example,10.0.0.0/8";
const VARIABLES = {
    HTTP_PROXY: "http://proxy.corp.example:3128",
    HTTPS_PROXY: "http://proxy.corp.example:3128",
    NO_PROXY,
    http_proxy: "http://proxy.corp.example:3128",
    https_proxy: "http://proxy.corp.example:3128",
    no_proxy: NO_PROXY,
};

describe("httpProxy", () => {
    it("the plugin downloads and the controller's tools get the proxy's variables, the cluster's addresses around it", async () => {
        const s = await runDefaults(PROXY);
        expect(s.env("install-plugins")).toMatchObject(VARIABLES);
        expect(s.env("jenkins")).toMatchObject(VARIABLES);
        expect(s.env("casc-reload")).not.toHaveProperty("HTTP_PROXY");
    });

    it("Jenkins' own requests take it from JCasC, with the same exclusions as host patterns", async () => {
        const casc = parse((await runDefaults(PROXY)).casc);
        const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
        expect([validate(casc), validate.errors ?? []]).toEqual([true, []]);
        expect(casc.jenkins.proxy).toEqual({
            name: "proxy.corp.example",
            port: 3128,
            noProxyHost: [
                "localhost",
                "*.localhost",
                "127.0.0.1",
                "::1",
                "*.svc",
                "*.cluster.local",
                "kubernetes.default",
                "*.kubernetes.default",
                "*.corp.example",
                "10.*",
            ].join("\n"),
        });
    });

    it("every agent pod of every cloud inherits the variables from the cloud's defaults template", async () => {
        const casc = parse((await runDefaults({ ...PROXY, deployNamespaces: ["staging"] })).casc);
        for (const cloud of casc.jenkins.clouds) {
            const defaults = cloud.kubernetes.templates.find((t: any) => t.name === "jenkins-k8s-defaults");
            expect(Object.fromEntries(defaults.envVars.map((e: any) => [e.envVar.key, e.envVar.value]))).toEqual(
                VARIABLES,
            );
        }
    });

    it("none set: no variable, no JCasC proxy", async () => {
        const s = await runDefaults();
        expect(s.env("jenkins")).not.toHaveProperty("HTTPS_PROXY");
        expect(parse(s.casc).jenkins.proxy).toBeUndefined();
    });

    it("a change of proxy restarts the controller, and the preview can say so", async () => {
        const hash = async (o: Record<string, unknown>) =>
            (await runDefaults(o)).object("Deployment").spec.template.metadata.annotations["jenkins-k8s/restart-parts"];
        const base = await hash({});
        expect(await hash(PROXY)).not.toBe(base);
        expect((await hash(PROXY)).replace(/proxy=\w+/, "")).toBe(base.replace(/proxy=\w+/, ""));
    });

    it("a proxy the agents' egress policy keeps them from is named at preview; one it allows is not", async () => {
        const inside = await runDefaultsWarned({ httpProxy: "http://10.1.2.3:3128" });
        expect(inside.warnings).toContain(
            "agents reach jenkins-k8s:httpProxy (10.1.2.3:3128) only where their egress policy allows its address: 10.1.2.3 is in agentEgressExcept's ranges; list it in jenkins-k8s:agentEgressCidrs (its address with a longer prefix, such as 10.1.2.3/32)",
        );
        const allowed = await runDefaultsWarned({
            httpProxy: "http://10.1.2.3:3128",
            agentEgressCidrs: ["0.0.0.0/0", "::/0", "10.1.2.3/32"],
        });
        expect(allowed.warnings.filter((w) => w.includes("httpProxy"))).toEqual([]);
        const named = await runDefaultsWarned(PROXY);
        expect(named.warnings).toContainEqual(
            expect.stringContaining("agents reach jenkins-k8s:httpProxy (proxy.corp.example:3128) only where"),
        );
    });
});

describe("Jenkins' exclusion patterns from NO_PROXY's entries", () => {
    const patterns = (noProxy: string[]) =>
        jenkinsProxy({ url: "http://p:1", host: "p", port: 1, noProxy }).noProxyHost.split("\n");

    it.each([
        [".example.com", ["*.example.com"]],
        ["git.internal", ["git.internal", "*.git.internal"]],
        ["10.1.2.3", ["10.1.2.3"]],
        ["10.0.0.0/8", ["10.*"]],
        ["192.168.1.0/24", ["192.168.1.*"]],
        ["192.168.1.7/32", ["192.168.1.7"]],
        ["172.16.0.0/12", [""]],
    ])("%s becomes %j", (entry, expected) => {
        expect(patterns([entry])).toEqual(expected);
    });

    it("the cluster's own names come first, for every stack", () => {
        expect(settingsFrom({ "jenkins-k8s:httpProxy": "http://p:3128" }).proxy!.noProxy).toEqual(CLUSTER_NO_PROXY);
    });
});

describe("what agents can reach", () => {
    it("the preview says it in one line: DNS, the controller, the CIDRs less their exceptions", () => {
        const note = egressNote(settingsFrom({}));
        expect(note).toBe(
            "agent pods reach DNS, the controller, and 0.0.0.0/0 but 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 169.254.0.0/16; ::/0 but fc00::/7, fe80::/10 (jenkins-k8s:agentEgressCidrs less agentEgressExcept). An internal Git server, registry or package mirror in an excepted range is unreachable until agentEgressCidrs lists its address with a longer prefix (docs/security.md)",
        );
        expect(egressNote(settingsFrom({ "jenkins-k8s:agentNetworkPolicy": "false" }))).toMatch(
            /^agents' egress is not limited/,
        );
    });

    it("the recipe (docs/security.md): an internal Git server and mirror admitted, the rest of 10.0.0.0/8 kept out", async () => {
        const cidrs = ["0.0.0.0/0", "::/0", "10.20.30.40/32", "10.20.31.0/28"];
        const s = await runDefaults({ agentEgressCidrs: cidrs });
        // The build tier's (every tier but deploy has one of the same rules).
        const policy = s
            .objects("NetworkPolicy", "jenkins-agent-egress")
            .find((p) => p.metadata.namespace === "jenkins-agents")!;
        const blocks = policy.spec.egress.flatMap((r: any) => (r.to ?? []).map((t: any) => t.ipBlock).filter(Boolean));
        expect(blocks).toEqual(
            expect.arrayContaining([
                { cidr: "10.20.30.40/32" },
                { cidr: "10.20.31.0/28" },
                expect.objectContaining({ cidr: "0.0.0.0/0", except: expect.arrayContaining(["10.0.0.0/8"]) }),
            ]),
        );
        expect(egressNote(settingsFrom({ "jenkins-k8s:agentEgressCidrs": JSON.stringify(cidrs) }))).toContain(
            "; 10.20.30.40/32; 10.20.31.0/28 (jenkins-k8s:agentEgressCidrs",
        );
    });
});
