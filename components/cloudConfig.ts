import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { buildCasc, CASC_FILE, renderCasc, sha256 } from "./casc";
import { Names } from "./names";
import { Settings } from "./settings";

export interface JenkinsCloudConfigArgs {
    namespace: pulumi.Input<string>;
    settings: Settings;
    names: Names;
}

/**
 * The JCasC ConfigMap: security realm, the Kubernetes cloud and its agent pod templates. The
 * document is built by a pure function (casc.ts); this component only stores it. It holds no
 * secret: the admin password is a `${...}` reference JCasC resolves from the mounted Secret.
 */
export class JenkinsCloudConfig extends pulumi.ComponentResource {
    /** The JCasC document, as YAML. */
    public readonly casc: string;
    /** sha256 of the document, for rolling or reloading the controller when it changes. */
    public readonly cascHash: string;
    public readonly configMap: k8s.core.v1.ConfigMap;
    public readonly configMapName: pulumi.Output<string>;

    constructor(name: string, args: JenkinsCloudConfigArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jenkins:index:JenkinsCloudConfig", name, {}, opts);
        this.casc = renderCasc(buildCasc(args.settings, args.names));
        this.cascHash = sha256(this.casc);

        this.configMap = new k8s.core.v1.ConfigMap(
            `${name}-casc`,
            {
                metadata: {
                    name: args.names.cascConfigMap,
                    namespace: args.namespace,
                    labels: { ...args.names.labels, "app.kubernetes.io/component": "casc" },
                },
                data: { [CASC_FILE]: this.casc },
            },
            { parent: this },
        );
        this.configMapName = this.configMap.metadata.name;

        this.registerOutputs({ configMapName: this.configMapName, cascHash: this.cascHash });
    }
}
