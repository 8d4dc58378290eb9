// The Pulumi name of a resource made once per agent tier: `<prefix>-<tier>-<what>`. The build
// tier's were named before tiers existed, without the tier (`<prefix>-<what>`): their alias moves
// the state under the old name to the new one, so an update neither replaces nor deletes them.
import type * as pulumi from "@pulumi/pulumi";

const join = (...parts: string[]) => parts.filter((p) => p !== "").join("-");

/** The name and the resource options (the build tier's alias) of one tier's resource. */
export function perTier(prefix: string, tier: string, what: string): { name: string; aliases: pulumi.Alias[] } {
    return { name: join(prefix, tier, what), aliases: tier === "build" ? [{ name: join(prefix, what) }] : [] };
}
