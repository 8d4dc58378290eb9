// A consumer of jenkins-k8s: reads its outputs through a StackReference and gives workloads in
// another namespace a Secret with the Jenkins URL and a build-only identity (e.g. a webhook relay
// or a job trigger): the stack's automation user with local sign-in, or, with sign-in at an
// identity provider, a service account's API token set here (docs/access.md). Never the admin.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { buildIdentity, jenkinsOutputs } from "./jenkins";

/** Namespaces every workload of the cluster can use or that hold the cluster's own: not for a credential. */
const SHARED = ["default", "kube-system", "kube-public"];

export = () => {
    const config = new pulumi.Config();
    const jenkins = jenkinsOutputs(config.require("jenkinsStack"));
    const namespace = config.require("namespace");
    if (SHARED.includes(namespace)) {
        throw new pulumi.RunError(
            `jenkins-consumer:namespace = "${namespace}": a credential does not belong in a namespace every workload shares; name the workload's own namespace`,
        );
    }
    // A service account's API token (sign-in at an identity provider), or the automation user.
    const apiUser = config.get("apiUser") || undefined;
    const apiToken = config.getSecret("apiToken");
    const identity = pulumi
        .all([jenkins.automationUsername, jenkins.automationPassword, apiToken])
        .apply(([user, password, token]) => buildIdentity(apiUser, token, user, password));

    const endpoint = new k8s.core.v1.Secret("jenkins-endpoint", {
        metadata: { name: "jenkins-endpoint", namespace },
        stringData: {
            url: jenkins.jenkinsUrl,
            username: identity.apply((i) => i.username),
            password: pulumi.secret(identity.apply((i) => i.password)),
        },
    });

    return {
        endpointSecret: endpoint.metadata.name,
        howToReach: pulumi.interpolate`${jenkins.externalUrl.apply((u) => u ?? "(in-cluster only)")} — in-cluster ${jenkins.jenkinsUrl}; jobs can use labels ${jenkins.agentLabels.apply((l) => l.join(", "))}`,
    };
};
