// Typed access to a jenkins-k8s stack's outputs. Each output is checked when it arrives, so a
// renamed or retyped output fails this stack's preview with its name, not a later deploy.
import * as pulumi from "@pulumi/pulumi";

export interface JenkinsOutputs {
    namespace: pulumi.Output<string>;
    agentNamespace: pulumi.Output<string>;
    serviceName: pulumi.Output<string>;
    jenkinsUrl: pulumi.Output<string>;
    /** Unset when Jenkins is reachable only inside the cluster. */
    externalUrl: pulumi.Output<string | undefined>;
    adminUsername: pulumi.Output<string>;
    /** A secret: it stays encrypted in this stack's state too. */
    adminPassword: pulumi.Output<string>;
    /** The build-only user of local sign-in; unset with sign-in elsewhere. */
    automationUsername: pulumi.Output<string | undefined>;
    /** Its password, a secret; unset with sign-in elsewhere. */
    automationPassword: pulumi.Output<string | undefined>;
    /** The team folders. */
    teams: pulumi.Output<string[]>;
    agentLabels: pulumi.Output<string[]>;
    controllerServiceAccount: pulumi.Output<string>;
    agentServiceAccount: pulumi.Output<string>;
    cascConfigMap: pulumi.Output<string>;
    homeClaim: pulumi.Output<string>;
}

type Check<T> = (value: unknown) => value is T;
export const isString: Check<string> = (v): v is string => typeof v === "string" && v !== "";
export const isOptionalString: Check<string | undefined> = (v): v is string | undefined =>
    v === undefined || v === null || isString(v);
export const isStringList: Check<string[]> = (v): v is string[] => Array.isArray(v) && v.every(isString);

/** The value if it passes the check; otherwise an error that names the stack and the output. */
export function checkOutput<T>(stack: string, name: string, value: unknown, check: Check<T>, what: string): T {
    if (!check(value)) {
        throw new Error(`stack ${stack}: output ${name} should be ${what}, got ${JSON.stringify(value)}`);
    }
    return (value ?? undefined) as T;
}

function typed<T>(
    ref: pulumi.StackReference,
    stack: string,
    name: string,
    check: Check<T>,
    what: string,
    optional = false,
): pulumi.Output<T> {
    const value = optional ? ref.getOutput(name) : ref.requireOutput(name);
    return value.apply((v) => checkOutput(stack, name, v, check, what));
}

/** Reads a jenkins-k8s stack (`org/jenkins-k8s/stack`) through a StackReference. */
export function jenkinsOutputs(stack: string): JenkinsOutputs {
    const ref = new pulumi.StackReference(stack);
    const str = (name: string) => typed(ref, stack, name, isString, "a non-empty string");
    return {
        namespace: str("namespace"),
        agentNamespace: str("agentNamespace"),
        serviceName: str("serviceName"),
        jenkinsUrl: str("jenkinsUrl"),
        externalUrl: typed(ref, stack, "externalUrl", isOptionalString, "a string or unset", true),
        adminUsername: str("adminUsername"),
        adminPassword: pulumi.secret(str("adminPassword")),
        automationUsername: typed(ref, stack, "automationUsername", isOptionalString, "a string or unset", true),
        automationPassword: pulumi.secret(
            typed(ref, stack, "automationPassword", isOptionalString, "a string or unset", true),
        ),
        teams: typed(ref, stack, "teams", isStringList, "a list of team names"),
        agentLabels: typed(ref, stack, "agentLabels", isStringList, "a list of labels"),
        controllerServiceAccount: str("controllerServiceAccount"),
        agentServiceAccount: str("agentServiceAccount"),
        cascConfigMap: str("cascConfigMap"),
        homeClaim: str("homeClaim"),
    };
}

/**
 * The identity a workload gets: a service account's API token when one is configured (sign-in at
 * an identity provider), else the stack's automation user; never the admin.
 */
export function buildIdentity(
    apiUser: string | undefined,
    apiToken: string | undefined,
    automationUser: string | undefined,
    automationPassword: string | undefined,
): { username: string; password: string } {
    if (apiUser && apiToken) return { username: apiUser, password: apiToken };
    if (apiUser || apiToken) {
        throw new Error("set both jenkins-consumer:apiUser and jenkins-consumer:apiToken (--secret), or neither");
    }
    if (!automationUser || !automationPassword) {
        throw new Error(
            "the Jenkins stack has no automation user (its sign-in is not local): set jenkins-consumer:apiUser and jenkins-consumer:apiToken (--secret) to a service account's API token",
        );
    }
    return { username: automationUser, password: automationPassword };
}
