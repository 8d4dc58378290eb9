// Entry point the Pulumi CLI runs for `pulumi preview --policy-pack policy`. Constructing the pack
// serves it to the engine over gRPC, so nothing else imports this file.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("jenkins-k8s", { policies });
