// The consumer example reads this stack's real outputs through a typed StackReference.
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import {
    buildIdentity,
    checkOutput,
    isOptionalString,
    isString,
    isStringList,
    JenkinsOutputs,
    jenkinsOutputs,
} from "../examples/consumer/jenkins";
import { evaluate } from "../tools/evaluate";
import { readStackConfig } from "../tools/stackConfig";

const CONSUMER = path.join(__dirname, "..", "examples", "consumer", "index");

async function devOutputs(): Promise<Record<string, unknown>> {
    return (await evaluate(readStackConfig("dev"), { stack: "dev" })).outputs;
}

function runConsumer(outputs: Record<string, unknown>, config: Record<string, string> = {}) {
    return evaluate(
        { "jenkins-consumer:jenkinsStack": "acme/jenkins-k8s/dev", "jenkins-consumer:namespace": "apps", ...config },
        {
            program: CONSUMER,
            project: "jenkins-consumer",
            stack: "dev",
            stackOutputs: { "acme/jenkins-k8s/dev": outputs },
        },
    );
}

/** Reads one typed output of a stack whose outputs are `outputs`, under the mock runtime. */
async function readOutput(outputs: Record<string, unknown>, name: keyof JenkinsOutputs): Promise<unknown> {
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({
                id: `${args.name}-id`,
                state: { name: args.inputs.name, outputs, secretOutputNames: [] },
            }),
            call: (args) => args.inputs,
        },
        "jenkins-consumer",
        "dev",
        false,
    );
    return (jenkinsOutputs("acme/jenkins-k8s/dev")[name] as unknown as { promise(): Promise<unknown> }).promise();
}

describe("examples/consumer", () => {
    it("turns the dev stack's outputs into a Secret with the build-only automation user (never the admin) in the workload's namespace", async () => {
        const outputs = await devOutputs();
        const e = await runConsumer(outputs);
        const secret = e.resources.find((r) => r.type === "kubernetes:core/v1:Secret")!;
        expect(secret.inputs.metadata).toEqual({ name: "jenkins-endpoint", namespace: "apps" });
        expect(secret.inputs.stringData.value).toEqual({
            url: "http://jenkins.kube-ops.svc:8080/",
            username: "automation",
            password: outputs.automationPassword,
        });
        expect(e.outputs.howToReach).toBe(
            "http://localhost:30002/ — in-cluster http://jenkins.kube-ops.svc:8080/; jobs can use labels hwzx-cmp, image-build",
        );
        expect(e.outputs.endpointSecret).toBe("jenkins-endpoint");
    });

    it("refuses a namespace every workload shares", async () => {
        await expect(runConsumer(await devOutputs(), { "jenkins-consumer:namespace": "default" })).rejects.toThrow(
            'jenkins-consumer:namespace = "default": a credential does not belong in a namespace every workload shares',
        );
    });

    it("with sign-in at an identity provider (no automation user), a service account's token set here, or a clear error", async () => {
        expect(() => buildIdentity(undefined, undefined, undefined, undefined)).toThrow(
            "the Jenkins stack has no automation user (its sign-in is not local): set jenkins-consumer:apiUser and jenkins-consumer:apiToken",
        );
        expect(() => buildIdentity("ci-relay", undefined, "automation", "p")).toThrow("set both");
        const { automationUsername: _u, automationPassword: _p, ...sso } = await devOutputs();
        const e = await runConsumer(sso, {
            "jenkins-consumer:apiUser": "ci-relay",
            "jenkins-consumer:apiToken": "11abc",
        });
        const secret = e.resources.find((r) => r.type === "kubernetes:core/v1:Secret")!;
        expect(secret.inputs.stringData.value).toMatchObject({ username: "ci-relay", password: "11abc" });
    });

    it("a producer output of the wrong type fails with the stack's and the output's name", async () => {
        expect(() =>
            checkOutput("acme/jenkins-k8s/dev", "agentLabels", "hwzx-cmp", isStringList, "a list of labels"),
        ).toThrow('stack acme/jenkins-k8s/dev: output agentLabels should be a list of labels, got "hwzx-cmp"');
        expect(() => checkOutput("s", "namespace", "", isString, "a non-empty string")).toThrow(
            "output namespace should be a non-empty string",
        );
        expect(checkOutput("s", "externalUrl", null, isOptionalString, "a string or unset")).toBeUndefined();
        expect(checkOutput("s", "agentLabels", ["a", "b"], isStringList, "a list")).toEqual(["a", "b"]);
        await expect(readOutput(await devOutputs(), "namespace")).resolves.toBe("kube-ops");
    });

    it("an optional output may be absent", async () => {
        const { externalUrl: _omit, ...outputs } = await devOutputs();
        await expect(readOutput(outputs, "externalUrl")).resolves.toBeUndefined();
    });
});
