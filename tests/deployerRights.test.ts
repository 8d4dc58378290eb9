// The deployer's rights, checked at preview (preflight/deployerRights.ts): the list of what the up
// makes is held to the render of every example stack and variant, and each answer of the API
// server (the cluster tier asks a real one) becomes a message naming the right and the namespace.
import { AccessReader, deployerRights, KINDS, Kind, madeBy, Right, rightsProblems } from "../preflight/deployerRights";
import { settingsFrom } from "../config/settings";
import { EXAMPLE_STACKS, readStackConfig } from "../tools/stackConfig";
import { VARIANTS, configOf } from "./cluster/renders";
import { runStack } from "./harness";

jest.setTimeout(120_000);

const full = (values: Record<string, string>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k.includes(":") ? k : `jenkins-k8s:${k}`, v]));

/** Stacks, and settings that add or take away kinds no example stack shows. */
const CASES: [string, string, Record<string, string>][] = [
    ...EXAMPLE_STACKS.map((s): [string, string, Record<string, string>] => [s, s, {}]),
    ...Object.entries(VARIANTS).map(([name, v]): [string, string, Record<string, string>] => [
        name,
        v.stack,
        v.overrides,
    ]),
    [
        "dev, namespaces named, nothing optional",
        "dev",
        full({
            createNamespaces: "false",
            admissionPolicy: "false",
            agentNetworkPolicy: "false",
            networkPolicy: "false",
            prePullImages: "false",
            storageMode: "existingClaim",
            existingClaim: "jenkins-home",
        }),
    ],
    ["prod, deploy namespaces created", "prod", full({ createDeployNamespaces: "true" })],
];

describe("what the up makes", () => {
    it.each(CASES)("%s: every kind and namespace of the render, and nothing else", async (_, stack, overrides) => {
        const rendered = await runStack(stack, overrides);
        const made = new Set(
            rendered.resources
                .filter((r) => r.custom && r.type.startsWith("kubernetes:") && typeof r.inputs.kind === "string")
                .map((r) => `${r.inputs.kind}/${r.inputs.metadata?.namespace ?? ""}`),
        );
        const settings = settingsFrom({ ...readStackConfig(stack), ...overrides });
        const listed = madeBy(settings).map((m) => `${m.kind}/${m.namespace ?? ""}`);
        // The restore point is made only by an up that restarts a running controller.
        const upgradeOnly = settings.backups ? [`VolumeSnapshot/${settings.namespace}`] : [];
        expect([...made].sort()).toEqual(listed.filter((m) => !upgradeOnly.includes(m)).sort());
        for (const kind of made) {
            expect(Object.keys(KINDS)).toContain(kind.split("/")[0]);
        }
    });

    it("a variant's settings are its stack file's plus its overrides", () => {
        expect(configOf("prod-nfs")["jenkins-k8s:storageMode"]).toBe("nfs");
    });
});

const PROD = settingsFrom(readStackConfig("prod"));

/** A reader that allows everything but what `deny` says, by RBAC unless `reason` says otherwise. */
function reader(
    deny: (r: Right) => boolean,
    who?: string,
    reason: (r: Right) => string = () => 'RBAC: allowed by ClusterRoleBinding "deployer"',
): AccessReader & { asked: Right[] } {
    const asked: Right[] = [];
    return {
        asked,
        mayI: (rights) => {
            asked.push(...rights);
            return Promise.resolve(rights.map((r) => ({ allowed: !deny(r), reason: deny(r) ? "" : reason(r) })));
        },
        whoAmI: () => Promise.resolve(who),
    };
}
const is = (verb: string, resource: string, namespace?: string) => (r: Right) =>
    r.verb === verb && r.resource === resource && r.namespace === namespace;

describe("the deployer's rights, as the API server answers", () => {
    it("all of them: nothing to say, and every right asked once", async () => {
        const r = reader(() => false);
        expect(await rightsProblems(PROD, r)).toEqual({ problems: [], warnings: [] });
        const ids = r.asked.map((x) => JSON.stringify(x));
        expect(new Set(ids).size).toBe(ids.length);
        // Server-side apply of a Deployment, and the provider's watch while it becomes ready.
        for (const verb of ["get", "create", "patch", "delete"]) {
            expect(r.asked).toContainEqual({ verb, group: "apps", resource: "deployments", namespace: "ci" });
        }
        expect(r.asked).toContainEqual({ verb: "watch", group: "", resource: "pods", namespace: "ci" });
        expect(r.asked).toContainEqual({ verb: "create", group: "", resource: "namespaces" });
    });

    it("a missing right the up needs refuses the preview, naming the deployer, the verbs and the namespace", async () => {
        const deny = (r: Right) =>
            is("create", "rolebindings", "ci-agents")(r) ||
            is("patch", "rolebindings", "ci-agents")(r) ||
            is("create", "validatingadmissionpolicies")(r);
        expect((await rightsProblems(PROD, reader(deny, "system:serviceaccount:ci:deployer"))).problems).toEqual([
            "the deployer (system:serviceaccount:ci:deployer) may not create validatingadmissionpolicies.admissionregistration.k8s.io cluster-wide, which the up needs (docs/ci.md lists every right)",
            "the deployer (system:serviceaccount:ci:deployer) may not create, patch rolebindings.rbac.authorization.k8s.io in namespace ci-agents, which the up needs (docs/ci.md lists every right)",
        ]);
    });

    it("no delete (a preview-only identity): a warning, not a refusal", async () => {
        const result = await rightsProblems(
            PROD,
            reader((r) => r.verb === "delete" && r.namespace === "ci-agents-deploy"),
        );
        expect(result.problems).toEqual([]);
        expect(result.warnings).toEqual([
            "the deployer may not delete serviceaccounts, roles.rbac.authorization.k8s.io, rolebindings.rbac.authorization.k8s.io, networkpolicies.networking.k8s.io, resourcequotas, limitranges in namespace ci-agents-deploy: an up that removes one of these, and pulumi destroy, will fail (a preview-only identity is fine without)",
        ]);
    });

    it("a Role granting what the deployer lacks: refused, unless it may escalate and bind roles there", async () => {
        const lacksExec = (r: Right) => r.resource === "pods/exec" && r.namespace === "ci-agents";
        expect((await rightsProblems(PROD, reader(lacksExec))).problems).toEqual([]); // escalate and bind held
        const noEscalate = (r: Right) => lacksExec(r) || is("escalate", "roles", "ci-agents")(r);
        expect((await rightsProblems(PROD, reader(noEscalate))).problems).toEqual([
            "the deployer does not hold create, get pods/exec in namespace ci-agents through RBAC, which a Role the stack makes there grants: the API server refuses a Role (and its binding) that grants more than its maker holds by RBAC, unless it may escalate and bind roles there",
        ]);
        const noBind = (r: Right) => lacksExec(r) || is("bind", "roles", "ci-agents")(r);
        expect((await rightsProblems(PROD, reader(noBind))).problems).toHaveLength(1);
    });

    it("a right a webhook authorizer grants (GKE IAM, EKS access policies) does not let a Role grant it", async () => {
        // Allowed, but not by RBAC, whose rules the API server's escalation check reads.
        const webhook = (r: Right) => (r.resource === "pods/log" ? "" : 'RBAC: allowed by RoleBinding "admin"');
        const noEscalate = (r: Right) => r.verb === "escalate";
        expect((await rightsProblems(PROD, reader(noEscalate, undefined, webhook))).problems).toEqual(
            ["ci-agents", "ci-agents-baseline", "ci-agents-deploy"].map(
                (ns) =>
                    `the deployer does not hold get pods/log in namespace ${ns} through RBAC, which a Role the stack makes there grants: the API server refuses a Role (and its binding) that grants more than its maker holds by RBAC, unless it may escalate and bind roles there`,
            ),
        );
        // A cluster admin in system:masters is answered by no RBAC rule either, and may escalate.
        expect(
            (
                await rightsProblems(
                    PROD,
                    reader(
                        () => false,
                        undefined,
                        () => "",
                    ),
                )
            ).problems,
        ).toEqual([]);
    });

    it("the deploy tier's ClusterRole: without bind, a warning that the deployer must hold it all", async () => {
        const result = await rightsProblems(
            PROD,
            reader((r) => r.verb === "bind" && r.resource === "clusterroles"),
        );
        expect(result.problems).toEqual([]);
        expect(result.warnings).toEqual(
            PROD.agents.deployNamespaces.map(
                (ns) =>
                    `the deployer may not bind ClusterRole edit in namespace ${ns}: the RoleBinding the deploy tier needs there is allowed only if the deployer holds every right of edit in that namespace (not checked)`,
            ),
        );
    });

    it("deploy namespaces the stack does not create are read: get on each, by name, asked in that namespace (where the API server authorizes it, so a RoleBinding there allows it)", () => {
        const rights = deployerRights(PROD).needed;
        for (const name of PROD.agents.deployNamespaces) {
            expect(rights).toContainEqual({ verb: "get", group: "", resource: "namespaces", name, namespace: name });
        }
    });

    it("offline, or with reads off, nothing is asked", async () => {
        const offline: AccessReader = { mayI: () => Promise.resolve(null), whoAmI: () => Promise.resolve(undefined) };
        expect(await rightsProblems(PROD, offline)).toEqual({
            problems: [],
            warnings: [
                "the deployer's rights were not checked: no cluster was read (an offline render); docs/ci.md lists what an up needs",
            ],
        });
        const r = reader(() => true);
        const off = settingsFrom({ ...readStackConfig("prod"), "jenkins-k8s:adoptKeptObjects": "false" });
        expect(await rightsProblems(off, r)).toEqual({ problems: [], warnings: [] });
        expect(r.asked).toEqual([]);
    });

    it("every kind the program makes has its API resource", () => {
        const kinds: Kind[] = ["Deployment", "VolumeSnapshot", "ServiceMonitor"];
        expect(kinds.map((k) => KINDS[k].resource)).toEqual(["deployments", "volumesnapshots", "servicemonitors"]);
    });
});
