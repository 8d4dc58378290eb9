// Validates Kubernetes objects against the OpenAPI schemas that kubernetes-models ships, so a
// wrong field type or format fails here rather than at `pulumi up`.
import { K8sObject } from "./render";

type Model = new (data: unknown) => { validate(): void };

/**
 * kubernetes-models also ships API versions that current clusters no longer serve; these are
 * the ones the Kubernetes deprecation guide lists as removed, with the release that removed them.
 */
const REMOVED_APIS: Record<string, string> = {
    "extensions/v1beta1": "1.22",
    "apps/v1beta1": "1.16",
    "apps/v1beta2": "1.16",
    "rbac.authorization.k8s.io/v1beta1": "1.22",
    "rbac.authorization.k8s.io/v1alpha1": "1.22",
    "networking.k8s.io/v1beta1": "1.22",
    "admissionregistration.k8s.io/v1beta1": "1.22",
    "apiextensions.k8s.io/v1beta1": "1.22",
    "apiregistration.k8s.io/v1beta1": "1.22",
    "certificates.k8s.io/v1beta1": "1.22",
    "coordination.k8s.io/v1beta1": "1.22",
    "scheduling.k8s.io/v1beta1": "1.22",
    "authentication.k8s.io/v1beta1": "1.22",
    "authorization.k8s.io/v1beta1": "1.22",
    "batch/v1beta1": "1.25",
    "policy/v1beta1": "1.25",
    "discovery.k8s.io/v1beta1": "1.25",
    "events.k8s.io/v1beta1": "1.25",
    "node.k8s.io/v1beta1": "1.25",
    "autoscaling/v2beta1": "1.25",
    "autoscaling/v2beta2": "1.26",
    "storage.k8s.io/v1beta1": "1.27",
    "flowcontrol.apiserver.k8s.io/v1beta1": "1.26",
    "flowcontrol.apiserver.k8s.io/v1beta2": "1.29",
    "flowcontrol.apiserver.k8s.io/v1beta3": "1.32",
};

/** kubernetes-models lays its classes out as <group>/<version>/<Kind>, core as v1/<Kind>. */
function modelFor(apiVersion: string, kind: string): Model | undefined {
    const modulePath = `kubernetes-models/${apiVersion}/${kind}`;
    try {
        return require(modulePath)[kind] as Model;
    } catch {
        return undefined;
    }
}

/** Custom resources the program may create, whose CRDs the user says exist. */
const CUSTOM_RESOURCES = ["monitoring.coreos.com/v1/ServiceMonitor"];

export function describeObject(o: K8sObject): string {
    return `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;
}

/**
 * Problems with one object, each naming the object and the field; an apiVersion/kind the
 * schemas do not know is itself a problem (the API server would refuse it too).
 */
export function schemaProblems(o: K8sObject, customResources: string[] = CUSTOM_RESOURCES): string[] {
    if (customResources.includes(`${o.apiVersion}/${o.kind}`)) {
        // A CRD's schema comes with its operator, not with Kubernetes; its shape is tested where it is built.
        return [];
    }
    const removedIn = REMOVED_APIS[o.apiVersion];
    if (removedIn) {
        return [
            `${describeObject(o)}: ${o.apiVersion} was removed in Kubernetes ${removedIn}; use the current version of ${o.kind}`,
        ];
    }
    const Model = modelFor(o.apiVersion, o.kind);
    if (!Model) {
        return [`${describeObject(o)}: no schema for ${o.apiVersion} ${o.kind}`];
    }
    try {
        new Model(o).validate();
        return [];
    } catch (e: any) {
        const errors: { instancePath: string; message?: string }[] = e.errors ?? [];
        if (errors.length === 0) {
            return [`${describeObject(o)}: ${e.message}`];
        }
        return errors.map(
            (err) =>
                `${describeObject(o)}: ${err.instancePath.replace(/^\//, "").replace(/\//g, ".") || "(root)"} ${err.message}`,
        );
    }
}
