// The admission policies of the rendered plan, evaluated with a real CEL
// evaluator on the objects the API server would admit or refuse: Jobs made by
// `kubectl create job --from=cronjob/...` from each of the program's CronJobs,
// and the Jobs, pods, CronJob patches, restarts and ConfigMaps a person could
// try instead.
import * as assert from "node:assert/strict";
import { PlannedResource, RenderResult, renderProgram } from "../lib/render";
import { readStackFile, StackConfigInput } from "../lib/stackFiles";
import { RESTARTED_AT_ANNOTATION, admissionPolicyNames } from "../lib/access/admission";
import { AdmissionRequest, PolicySpec, defaultedPodSpec, jobFromCronJob, refusals, storedCronJob } from "./support/admission";
import { schemaViolations } from "./support/k8sSchema";
import { exampleStack, render, resolvedStackFile, stackWith } from "./support/stacks";

const POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";
const PERSON = "maria@totvs.com.br";
const DEPLOYER = "pulumi-deployer@totvs-protheus.iam.gserviceaccount.com";

const k8sName = (r: PlannedResource) => (r.inputs.metadata as { name: string }).name;
const byKind = (res: RenderResult, kind: string) => res.resources.filter((r) => r.type.endsWith(`:${kind}`));

describe("admission: people are held to the program's templates (rendered prod plan)", () => {
    let res: RenderResult;
    let jobsPolicy: PolicySpec;
    let keptPolicy: PolicySpec;
    /** The program's CronJobs as stored: the Jobs policy's params. */
    let params: Record<string, any>[];
    const cronJob = (name: string) => params.find((p) => p.metadata.name === name)!;
    const asPerson = (req: Omit<AdmissionRequest, "username">, username = PERSON) => ({ ...req, username });
    const createJob = (job: unknown, username = PERSON) =>
        refusals(jobsPolicy, asPerson({ resource: "jobs", operation: "CREATE", object: job }, username), params);

    before(async () => {
        res = await renderProgram(readStackFile(exampleStack("prod")));
        const names = admissionPolicyNames("c2a7dv");
        const spec = (name: string) => byKind(res, "ValidatingAdmissionPolicy").find((p) => k8sName(p) === name)!.inputs.spec as PolicySpec;
        jobsPolicy = spec(names.jobsFromTemplates);
        keptPolicy = spec(names.templatesKept);
        params = byKind(res, "CronJob").map((r, i) => storedCronJob(r.inputs as Record<string, any>, `cronjob-uid-${i}`));
    });

    it("declares both policies and their bindings, valid against the Kubernetes schema, bound to the environment namespace only", async () => {
        const objects = res.resources.filter((r) => r.type === POLICY || r.type === BINDING);
        assert.deepEqual(objects.map(k8sName).sort(), [
            "protheus-c2a7dv-jobs-from-templates",
            "protheus-c2a7dv-jobs-from-templates",
            "protheus-c2a7dv-templates-kept",
            "protheus-c2a7dv-templates-kept",
        ]);
        assert.deepEqual((await Promise.all(objects.map(schemaViolations))).flat(), []);
        for (const b of objects.filter((r) => r.type === BINDING)) {
            const spec = b.inputs.spec as any;
            assert.deepEqual(spec.matchResources.namespaceSelector, { matchLabels: { "kubernetes.io/metadata.name": "c2a7dv" } });
            assert.deepEqual(spec.validationActions, ["Deny"]);
        }
        for (const p of objects.filter((r) => r.type === POLICY)) assert.equal((p.inputs.spec as any).failurePolicy, "Fail");
        const jobsBinding = objects.find((r) => r.type === BINDING && k8sName(r) === "protheus-c2a7dv-jobs-from-templates")!.inputs.spec as any;
        assert.equal(jobsBinding.paramRef.parameterNotFoundAction, "Deny");
        // Every program CronJob is a param: its labels match the binding's selector.
        for (const cj of byKind(res, "CronJob")) {
            const labels = (cj.inputs.metadata as { labels: Record<string, string> }).labels;
            for (const [k, v] of Object.entries(jobsBinding.paramRef.selector.matchLabels as Record<string, string>))
                assert.equal(labels[k], v, `${k8sName(cj)}: ${k}`);
        }
    });

    it("names as templates exactly the CronJobs the stack declares", () => {
        const validation = jobsPolicy.validations[0].expression;
        const listed = [...validation.matchAll(/'([a-z0-9-]+)'/g)].map((m) => m[1]).sort();
        assert.deepEqual(listed, byKind(res, "CronJob").map(k8sName).sort());
    });

    it("admits a Job made by kubectl create job --from=cronjob/<name> from every program CronJob", () => {
        for (const cj of params) assert.deepEqual(createJob(jobFromCronJob(cj, `${cj.metadata.name}-manual-1`)), [], cj.metadata.name);
    });

    it("refuses a Job that is not an instance of a program CronJob: other image, service account, volume, privileges, or no template at all", () => {
        const updater = () => jobFromCronJob(cronJob("protheus-updater"), "upd-x");
        const pod = (job: any) => job.spec.template.spec;
        const cases: [string, (job: any) => void][] = [
            ["other image", (j) => (pod(j).containers[0].image = "alpine:3.20")],
            ["other command", (j) => (pod(j).containers[0].command = ["sh", "-c", "cat /var/run/secrets/*"])],
            ["the backup's service account", (j) => (pod(j).serviceAccountName = "protheus-backup")],
            ["a Secret mounted", (j) => pod(j).volumes.push({ name: "s", secret: { secretName: "protheus-backup-database", defaultMode: 420 } })],
            ["a hostPath", (j) => pod(j).volumes.push({ name: "h", hostPath: { path: "/" } })],
            ["privileged", (j) => (pod(j).containers[0].securityContext = { privileged: true })],
            ["host network", (j) => (pod(j).hostNetwork = true)],
            ["an extra container", (j) => pod(j).containers.push({ ...pod(j).containers[0], name: "x" })],
            ["the appserver's labels (its Service's traffic)", (j) => (j.spec.template.metadata.labels["app"] = "appserver")],
            [
                "an AppArmor annotation",
                (j) => (j.spec.template.metadata.annotations = { "container.apparmor.security.beta.kubernetes.io/upddistr": "unconfined" }),
            ],
            ["parallelism 3 (UPDDISTR three times at once)", (j) => (j.spec.parallelism = 3)],
            ["retries", (j) => (j.spec.backoffLimit = 6)],
            ["a selector of its own", (j) => Object.assign(j.spec, { manualSelector: true, selector: { matchLabels: { app: "dbaccess" } } })],
            ["the uid of another CronJob", (j) => (j.metadata.ownerReferences[0].uid = cronJob("protheus-restore").metadata.uid)],
            ["no owner (kubectl create job x --image=...)", (j) => delete j.metadata.ownerReferences],
            ["an owner that is not the controller", (j) => (j.metadata.ownerReferences[0].controller = false)],
            ["an owner that is no program CronJob", (j) => (j.metadata.ownerReferences[0].name = "protheus-toolbox")],
        ];
        assert.deepEqual(createJob(updater()), []);
        for (const [what, change] of cases) {
            const job = updater();
            change(job);
            assert.ok(createJob(job).length > 0, `admitted a Job with ${what}`);
        }
        // The restore template's pod under the manual backup's name: each CronJob's own pod only.
        const swapped = jobFromCronJob(cronJob("protheus-restore"), "r");
        swapped.metadata.ownerReferences[0] = {
            ...swapped.metadata.ownerReferences[0],
            name: "protheus-backup-manual",
            uid: cronJob("protheus-backup-manual").metadata.uid,
        };
        assert.match(createJob(swapped).join("\n"), /differs from the template of CronJob protheus-backup-manual/);
        // The restore template only reads its request: a Job of it carries the template unchanged.
        assert.deepEqual(createJob(jobFromCronJob(cronJob("protheus-restore"), "restore-now")), []);
    });

    it("says why it refused", () => {
        const job = jobFromCronJob(cronJob("protheus-updater"), "upd-x");
        delete (job.metadata as any).ownerReferences;
        const [message, ...more] = createJob(job);
        assert.deepEqual(more, []);
        assert.match(message, /^a Job started by hand must be made from one of the program's CronJobs \(kubectl create job --from=cronjob\/<name>\): /);
        for (const name of byKind(res, "CronJob").map(k8sName)) assert.ok(message.includes(name), name);
    });

    it("holds people only: the deployer (pre-upgrade backup, restore request), the Job and CronJob controllers and kube-system are not held", () => {
        const own = {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "protheus-restore-2026-11-27" },
            spec: { template: { spec: defaultedPodSpec({ containers: [{ name: "r", image: "x:1" }] }) } },
        };
        assert.ok(createJob(own).length > 0, "a person's Job like this is refused");
        for (const trusted of [
            DEPLOYER,
            "system:serviceaccount:kube-system:cronjob-controller",
            "system:serviceaccount:kube-system:job-controller",
            "system:kube-controller-manager",
        ])
            assert.deepEqual(createJob(own, trusted), [], trusted);
        for (const held of ["system:serviceaccount:c2a7dv:default", "system:serviceaccount:c2a7dv:protheus-backup", "system:anonymous", "someone@example.com"])
            assert.ok(createJob(own, held).length > 0, held);
        const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: defaultedPodSpec({ containers: [{ name: "c", image: "alpine:3.20" }] }) };
        assert.deepEqual(
            refusals(keptPolicy, { username: "system:serviceaccount:kube-system:statefulset-controller", resource: "pods", operation: "CREATE", object: pod }),
            [],
        );
        assert.deepEqual(
            refusals(keptPolicy, { username: "system:serviceaccount:kube-system:job-controller", resource: "pods", operation: "CREATE", object: pod }),
            [],
        );
        assert.ok(refusals(keptPolicy, asPerson({ resource: "pods", operation: "CREATE", object: pod })).length > 0, "a person creates no pod");
    });

    it("lets a person create the restore request and no other ConfigMap", () => {
        const cm = (name: string) => refusals(keptPolicy, asPerson({ resource: "configmaps", operation: "CREATE", object: { metadata: { name }, data: {} } }));
        assert.deepEqual(cm("protheus-restore-request"), []);
        for (const name of ["protheus-backup-settings", "protheus-restore-drill-checks", "protheus-updater-scripts", "appserver-extra"])
            assert.ok(cm(name).length > 0, name);
    });

    it("lets a person suspend or resume a CronJob and change nothing else of it", () => {
        const update = (change: (cj: any) => void) => {
            const old = cronJob("protheus-updater");
            const next = structuredClone(old);
            change(next);
            return refusals(keptPolicy, asPerson({ resource: "cronjobs", operation: "UPDATE", object: next, oldObject: old }));
        };
        assert.deepEqual(
            update((cj) => (cj.spec.suspend = true)),
            [],
        );
        assert.deepEqual(
            update((cj) => (cj.spec.suspend = false)),
            [],
        );
        for (const [what, change] of [
            ["the image", (cj: any) => (cj.spec.jobTemplate.spec.template.spec.containers[0].image = "alpine:3.20")],
            ["the command (the sleeper by hand)", (cj: any) => (cj.spec.jobTemplate.spec.template.spec.containers[0].command = ["sleep", "99999"])],
            ["a service account", (cj: any) => (cj.spec.jobTemplate.spec.template.spec.serviceAccountName = "protheus-backup")],
            ["the schedule", (cj: any) => (cj.spec.schedule = "* * * * *")],
            ["the time zone removed", (cj: any) => delete cj.spec.timeZone],
        ] as const)
            assert.ok(update(change).length > 0, `admitted a CronJob patch of ${what}`);
    });

    it("lets a person restart a workload (kubectl rollout restart) and change nothing of its pods", () => {
        const toolbox = res.resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet" && k8sName(r) === "protheus-toolbox")!;
        const stored = structuredClone(toolbox.inputs) as any;
        stored.spec.template.spec = defaultedPodSpec(stored.spec.template.spec);
        const deployment = { metadata: { name: "appserver" }, spec: structuredClone(stored.spec) };
        delete deployment.spec.serviceName;
        for (const [resource, old] of [
            ["statefulsets", stored],
            ["deployments", deployment],
        ] as const) {
            const update = (change: (o: any) => void) => {
                const next = structuredClone(old);
                change(next);
                return refusals(keptPolicy, asPerson({ resource, operation: "UPDATE", object: next, oldObject: old }));
            };
            assert.deepEqual(
                update((o) => (o.spec.template.metadata.annotations = { [RESTARTED_AT_ANNOTATION]: "2026-12-06T03:00:00Z" })),
                [],
                resource,
            );
            assert.deepEqual(
                update((o) => (o.spec.replicas = 1)),
                [],
                resource,
            );
            for (const change of [
                (o: any) => (o.spec.template.spec.containers[0].image = "alpine:3.20"),
                (o: any) => (o.spec.template.spec.serviceAccountName = "protheus-backup"),
                (o: any) => o.spec.template.spec.volumes.push({ name: "s", secret: { secretName: "x" } }),
                (o: any) => (o.spec.template.metadata.annotations = { other: "x" }),
                (o: any) => (o.spec.template.metadata.labels = { ...o.spec.template.metadata.labels, app: "appserver" }),
            ])
                assert.ok(update(change).length > 0, `${resource}: admitted ${change}`);
        }
        const sts = (change: (o: any) => void) => {
            const next = structuredClone(stored);
            change(next);
            return refusals(keptPolicy, asPerson({ resource: "statefulsets", operation: "UPDATE", object: next, oldObject: stored }));
        };
        assert.ok(sts((o) => (o.spec.persistentVolumeClaimRetentionPolicy = { whenScaled: "Delete", whenDeleted: "Delete" })).length > 0);
    });
});

describe("admission: the templates follow what each stack declares", () => {
    it("hml, and a stack without backups (the updater only)", async () => {
        for (const input of [stackWith("hml"), stackWith("hml", { backup: undefined })]) {
            const res = await render(input);
            const policy = byKind(res, "ValidatingAdmissionPolicy").find((p) => k8sName(p).endsWith("-jobs-from-templates"))!;
            const listed = [...(policy.inputs.spec as PolicySpec).validations[0].expression.matchAll(/'([a-z0-9-]+)'/g)].map((m) => m[1]).sort();
            assert.deepEqual(listed, byKind(res, "CronJob").map(k8sName).sort());
        }
    });
});

describe("admission: config", () => {
    it("requires the deployers, and refuses a system: name (already trusted)", async () => {
        const withAccess = (edit: (a: Record<string, any>) => void): StackConfigInput => {
            const input = resolvedStackFile(exampleStack("hml"));
            const access = JSON.parse(input.config["protheus:access"]!);
            edit(access);
            return { ...input, config: { ...input.config, "protheus:access": JSON.stringify(access) } };
        };
        const problems = async (input: StackConfigInput) => {
            try {
                await renderProgram(input);
            } catch (err) {
                return String((err as Error & { cause?: Error }).cause?.message ?? err);
            }
            return "";
        };
        assert.match(
            await problems(withAccess((a) => delete a.deployers)),
            /protheus:access\.deployers is missing: required: expected the list of Kubernetes user names/,
        );
        assert.match(await problems(withAccess((a) => (a.deployers = []))), /protheus:access\.deployers = \[\]: expected at least one deployer/);
        assert.match(
            await problems(withAccess((a) => (a.deployers = ["system:admin"]))),
            /protheus:access\.deployers = \["system:admin"\]: expected deployers outside system:/,
        );
    });
});
