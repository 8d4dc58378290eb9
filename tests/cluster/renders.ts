// What the cluster tier applies: each stack's offline render (the real program under Pulumi's mock
// runtime, as `npm run render` writes it), made once per run by the global setup and read here
// synchronously, so the tests can be declared from it.
import { readdirSync, readFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse } from "yaml";
import { CASC_OUT, RESOURCES_OUT } from "../../tools/render";
import { listStacks } from "../../tools/stackConfig";
import type { KubeObject } from "./kube";

type Obj = Record<string, any>;

export const RENDER_ROOT = path.join(tmpdir(), "jenkins-k8s-cluster-tier");

/** The stacks this run covers: CLUSTER_STACKS (comma-separated), or every Pulumi.<stack>.yaml. */
export function stacksUnderTest(): string[] {
    const all = listStacks();
    const wanted = (process.env.CLUSTER_STACKS ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    const unknown = wanted.filter((s) => !all.includes(s));
    if (unknown.length > 0) {
        throw new Error(
            `CLUSTER_STACKS names ${unknown.join(", ")}, which have no stack file (stacks: ${all.join(", ")})`,
        );
    }
    return wanted.length > 0 ? wanted : all;
}

export interface Render {
    stack: string;
    /** Every Kubernetes object, in apply order (the render's file order). */
    objects: KubeObject[];
    /** The JCasC document. */
    casc: Obj;
}

export function readRender(stack: string): Render {
    const dir = path.join(RENDER_ROOT, stack);
    const files = readdirSync(dir)
        .filter((f) => f.endsWith(".yaml") && f !== CASC_OUT && f !== RESOURCES_OUT)
        .sort();
    return {
        stack,
        objects: files.map((f) => parse(readFileSync(path.join(dir, f), "utf8")) as KubeObject),
        casc: parse(readFileSync(path.join(dir, CASC_OUT), "utf8")) as Obj,
    };
}

/** Every Kubernetes cloud of the JCasC, with its templates. */
export function clouds(casc: Obj): Obj[] {
    return (casc.jenkins?.clouds ?? []).map((c: Obj) => c.kubernetes).filter(Boolean);
}

export function ofKind(r: Render, kind: string): KubeObject[] {
    return r.objects.filter((o) => o.kind === kind);
}
