import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { commonLabels, Stage } from "./labels";
import type { PssLevel } from "../config/podSecurity";
import { childName, DESIRED_VERSION_ANNOTATION } from "./names";
import { podSecurityAdmissionLabels } from "./podSecurity";

export interface EnvironmentNamespaceArgs {
    /** The namespace of the environment, e.g. c2a7dv. */
    name: string;
    stage: Stage;
    /** The Protheus version the environment must run. */
    updateDesiredVersion: string;
    /** Pod Security Admission's enforce level (warn and audit are always restricted). */
    podSecurityEnforce: PssLevel;
}

/**
 * The Kubernetes namespace an environment lives in, carrying the version it
 * should run. Protected and retained: deleting it would take the environment's
 * volume and database pods with it.
 */
export class EnvironmentNamespace extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    /** The namespace name, resolved once the namespace exists. */
    public readonly name: pulumi.Output<string>;

    constructor(name: string, args: EnvironmentNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:EnvironmentNamespace", name, {}, opts);
        this.namespace = new k8s.core.v1.Namespace(
            childName(name),
            {
                metadata: {
                    name: args.name,
                    labels: { ...commonLabels(args.stage), ...podSecurityAdmissionLabels(args.podSecurityEnforce) },
                    annotations: { [DESIRED_VERSION_ANNOTATION]: args.updateDesiredVersion },
                },
            },
            { parent: this, protect: true, retainOnDelete: true },
        );
        this.name = this.namespace.metadata.name;
        this.registerOutputs({ name: this.name });
    }
}
