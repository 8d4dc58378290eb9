// A consumer of jenkins-k8s: reads its outputs through a StackReference and gives workloads in
// another namespace a Secret with the Jenkins URL (e.g. a webhook relay or a jobs seeder).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { jenkinsOutputs } from "./jenkins";

export = () => {
    const config = new pulumi.Config();
    const jenkins = jenkinsOutputs(config.require("jenkinsStack"));

    const endpoint = new k8s.core.v1.Secret("jenkins-endpoint", {
        metadata: { name: "jenkins-endpoint", namespace: config.get("namespace") ?? "default" },
        stringData: {
            url: jenkins.jenkinsUrl,
            username: jenkins.adminUsername,
            password: jenkins.adminPassword,
        },
    });

    return {
        endpointSecret: endpoint.metadata.name,
        howToReach: pulumi.interpolate`${jenkins.externalUrl.apply((u) => u ?? "(in-cluster only)")} — in-cluster ${jenkins.jenkinsUrl}; jobs can use labels ${jenkins.agentLabels.apply((l) => l.join(", "))}`,
    };
};
