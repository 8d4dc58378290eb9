// Who the Kubernetes plugin acts as, read off a render the way Jenkins resolves it
// (tools/crossRefs.ts cloudLauncher), and the account each cloud's pods run as.
import { cloudLauncher } from "../../tools/crossRefs";
import { Account } from "./kube";
import { Render } from "./renders";

type Obj = Record<string, any>;

/** The account a cloud launches its pods as. */
export function launcherOf(r: Render, cloud: Obj): Account {
    const launcher = cloudLauncher(r.objects, r.casc, cloud);
    if (typeof launcher === "string") {
        throw new Error(`cloud ${cloud.name}: ${launcher}`);
    }
    return launcher;
}

/** The account a cloud's pods run as: its templates' (the defaults template's included). */
export function podAccountOf(cloud: Obj): string | undefined {
    const accounts = new Set((cloud.templates ?? []).map((t: Obj) => t.serviceAccount).filter(Boolean));
    return accounts.size === 1 ? (accounts.values().next().value as string) : undefined;
}

export const same = (a: Account, b: Account) => a.name === b.name && a.namespace === b.namespace;
