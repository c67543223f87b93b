import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    JOBS_FROM_TEMPLATES_RULES,
    PolicyLogic,
    TEMPLATES_KEPT_RULES,
    admissionPolicyNames,
    jobsFromTemplatesLogic,
    madeByAPersonExpression,
    templatesKeptLogic,
} from "../lib/access/admission";
import { commonLabels, Stage } from "./labels";
import { childName, COMPONENTS, MANAGED_BY, MANAGED_BY_LABEL, PART_OF, PART_OF_LABEL } from "./names";

export interface AdmissionGuardArgs {
    /** The environment namespace (a name known before deploy: the policies are cluster-wide objects named after it). */
    namespace: string;
    stage: Stage;
    /** The CronJobs this stack declares: the only templates a person may start a Job from. */
    templates: readonly string[];
    /** Kubernetes user names that deploy this program (protheus:access.deployers): not held by the policies. */
    deployers: readonly string[];
}

/**
 * The admission policies that hold people to the program's templates in the
 * environment namespace (lib/access/admission.ts): a Job started by hand must
 * be an instance of one of the program's CronJobs; no pod is created by hand;
 * CronJobs only suspended, workloads only restarted or scaled; the only
 * ConfigMap created by hand is the restore request. Each policy is bound to
 * this namespace only; the Jobs policy reads the program's CronJobs as params.
 */
export class AdmissionGuard extends pulumi.ComponentResource {
    public readonly policies: k8s.admissionregistration.v1.ValidatingAdmissionPolicy[] = [];

    constructor(name: string, args: AdmissionGuardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:AdmissionGuard", name, {}, opts);
        const labels = commonLabels(args.stage, COMPONENTS.access);
        const names = admissionPolicyNames(args.namespace);
        const matchConditions = [{ name: "made-by-a-person", expression: madeByAPersonExpression(args.deployers) }];
        const inNamespace = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.namespace } } };

        const declare = (
            suffix: string,
            policyName: string,
            logic: PolicyLogic,
            resourceRules: typeof TEMPLATES_KEPT_RULES,
            params?: { paramKind: { apiVersion: string; kind: string }; paramRef: k8s.types.input.admissionregistration.v1.ParamRef },
        ) => {
            const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
                childName(name, suffix),
                {
                    metadata: { name: policyName, labels },
                    spec: {
                        failurePolicy: "Fail",
                        paramKind: params?.paramKind,
                        matchConstraints: { resourceRules, ...inNamespace },
                        matchConditions,
                        variables: logic.variables,
                        validations: logic.validations,
                    },
                },
                { parent: this },
            );
            new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                childName(name, suffix),
                {
                    metadata: { name: policyName, labels },
                    spec: { policyName: policy.metadata.name, validationActions: ["Deny"], matchResources: inNamespace, paramRef: params?.paramRef },
                },
                { parent: this },
            );
            this.policies.push(policy);
        };

        declare("jobs-from-templates", names.jobsFromTemplates, jobsFromTemplatesLogic(args.templates), JOBS_FROM_TEMPLATES_RULES, {
            paramKind: { apiVersion: "batch/v1", kind: "CronJob" },
            // The program's CronJobs in the Job's own namespace; none found (nothing to compare with) refuses.
            paramRef: { selector: { matchLabels: { [PART_OF_LABEL]: PART_OF, [MANAGED_BY_LABEL]: MANAGED_BY } }, parameterNotFoundAction: "Deny" },
        });
        declare("templates-kept", names.templatesKept, templatesKeptLogic(), TEMPLATES_KEPT_RULES);
        this.registerOutputs({ policies: this.policies.map((p) => p.metadata.name) });
    }
}
