// The web UI behind a Gateway API Gateway (an HTTPRoute, the alternative to the Ingress): the
// route as the program writes it, the Jenkins URL it gives, the NetworkPolicy opened to the
// Gateway's namespace, and the settings refused. The cluster tier applies the route to a real API
// server with the Gateway API's CRDs installed (the dev-privileged variant).
import { problemsOf, runDefaults } from "./harness";

const GATEWAY = { gateway: "gateway-system/public", gatewayHostnames: ["jenkins.example.com"] };

describe("an HTTPRoute to a Gateway", () => {
    it("routes the hostnames to the web Service, attached to the Gateway's listener", async () => {
        const stack = await runDefaults({ ...GATEWAY, gatewaySection: "https" });
        const route = stack.object("HTTPRoute");
        expect(route.apiVersion).toBe("gateway.networking.k8s.io/v1");
        expect(route.metadata).toMatchObject({ name: "jenkins", namespace: "jenkins" });
        expect(route.spec).toEqual({
            parentRefs: [
                {
                    group: "gateway.networking.k8s.io",
                    kind: "Gateway",
                    namespace: "gateway-system",
                    name: "public",
                    sectionName: "https",
                },
            ],
            hostnames: ["jenkins.example.com"],
            rules: [
                {
                    matches: [{ path: { type: "PathPrefix", value: "/" } }],
                    backendRefs: [{ name: "jenkins", port: 8080 }],
                },
            ],
        });
        expect(stack.objects("Ingress")).toEqual([]);
        // TLS is the Gateway's: the Jenkins URL is https at the first hostname.
        expect(stack.outputs.externalUrl).toBe("https://jenkins.example.com/");
    });

    it("none without gateway", async () => {
        expect((await runDefaults()).objects("HTTPRoute")).toEqual([]);
    });

    it("the web port admits the Gateway's namespace when it admits only some; with none named it admits all", async () => {
        const webFrom = (s: any) => s.object("NetworkPolicy", "jenkins").spec.ingress[0].from;
        const some = await runDefaults({ ...GATEWAY, webAllowedNamespaces: ["monitoring"] });
        expect(webFrom(some)).toEqual(
            expect.arrayContaining([
                { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
                { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gateway-system" } } },
            ]),
        );
        expect(webFrom(await runDefaults(GATEWAY))).toBeUndefined();
    });

    it("refused: a Gateway not named as namespace/name, with an Ingress too, its settings without it, a publicUrl elsewhere", () => {
        expect(problemsOf({ gateway: "public" })).toEqual([
            'jenkins-k8s:gateway = "public": must be <namespace>/<name> of a Gateway, such as gateway-system/public (or empty to leave it unset)',
        ]);
        expect(problemsOf({ ...GATEWAY, ingressHost: "jenkins.example.com" })).toEqual([
            'jenkins-k8s:gateway = "gateway-system/public": an HTTPRoute is the alternative to the Ingress, and jenkins-k8s:ingressHost = "jenkins.example.com" asks for one too; keep one',
        ]);
        expect(problemsOf({ gatewaySection: "https", gatewayHostnames: ["a.example.com"] })).toEqual([
            'jenkins-k8s:gatewaySection = "https": only applies with jenkins-k8s:gateway',
            'jenkins-k8s:gatewayHostnames = ["a.example.com"]: only applies with jenkins-k8s:gateway',
        ]);
        expect(problemsOf({ ...GATEWAY, publicUrl: "https://ci.example.com/" })).toEqual([
            'jenkins-k8s:publicUrl = "https://ci.example.com/": its host must be one of jenkins-k8s:gatewayHostnames (jenkins.example.com), or leave publicUrl empty to derive it',
        ]);
    });
});
