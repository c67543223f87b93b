// Entry point of the "protheus" policy pack: `pulumi preview --policy-pack policy`.
// Constructing a PolicyPack starts the gRPC analyzer server the Pulumi CLI talks to, so this
// file must only be loaded by the CLI. Tests import ./policies (the list) or a policy's own file.
import { PolicyPack } from "@pulumi/policy";
import { ENFORCEMENT, policies } from "./policies";

new PolicyPack("protheus", {
    description: "Guardrails for the Protheus ERP environments on GKE and Google Cloud (prod and hml stacks).",
    enforcementLevel: ENFORCEMENT,
    policies,
});
