// The project's name, and the labels and annotations the program writes on the objects it makes
// and reads back from the cluster at preview: each written once here, imported where they are
// written and where they are read.

import { COMPONENT_LABEL } from "../policy/facts";

/** The project's name: its config keys' prefix (keys.ts configKey), and the part-of label's value. */
export const PROJECT = "jenkins-k8s";

/** What every object this program makes carries (names.ts), in older releases too. */
export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const PART_OF = { [PART_OF_LABEL]: PROJECT };

/** The label that says which part of the stack an object is (the policy pack reads it: policy/facts.ts). */
export const component = (name: string) => ({ [COMPONENT_LABEL]: name });

/** The label on every object a stack keeps on destroy: which stack may adopt it (preflight/kept.ts). */
export const KEPT_BY = `${PROJECT}/kept-by`;

/**
 * The annotations of a kept object. After a destroy and an import the provider applies with a new
 * field manager, while the old one still owns the fields it set: forcing lets the stack change
 * them again (grow the claim, move a label), as it could before.
 */
export const KEPT_ANNOTATIONS = { "pulumi.com/patchForce": "true" };

/** The Kubernetes provider's annotation: do not wait for the object to be ready (the Ingress's address). */
export const SKIP_AWAIT = "pulumi.com/skipAwait";

/** On the controller's pod template: what only a restart applies, as a hash and as its parts. */
export const RESTART_HASH = `${PROJECT}/restart-hash`;
export const RESTART_PARTS = `${PROJECT}/restart-parts`;
