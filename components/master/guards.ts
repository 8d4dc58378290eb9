// What may evict the controller: its PodDisruptionBudget, a pure builder; JenkinsMaster
// (index.ts) makes the resource. Who may reach it is networkPolicies.ts's.
import * as k8s from "@pulumi/kubernetes";
import { Names } from "../../config/names";

/**
 * One replica and no voluntary eviction: `kubectl drain` waits on this pod instead of killing
 * running builds, until an operator moves it at a quiet moment. The price: unattended node
 * upgrades stall on this node until then.
 */
export function disruptionBudgetSpec(names: Names): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
    return { maxUnavailable: 0, selector: { matchLabels: names.controllerSelector } };
}
