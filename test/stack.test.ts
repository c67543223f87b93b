import { strict as assert } from "assert";
import { ConfigError } from "../config/load";
import { PlannedResource, resourceKey } from "../lib/render";
import { stackConfigFromYaml } from "../lib/stackFiles";
import { isKubernetesObject, schemaViolations } from "./support/k8sSchema";
import { byK8sName, configObject, find, render, renderExample, renderFailure, stackWith, Stage } from "./support/stacks";

const NS = "kubernetes:core/v1:Namespace";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const CRONJOB = "kubernetes:batch/v1:CronJob";
const PVC = "kubernetes:core/v1:PersistentVolumeClaim";

function updaterContainer(resources: PlannedResource[]): any {
    return (byK8sName(resources, "CronJob", "protheus-updater").inputs as any).spec.jobTemplate.spec.template.spec.containers[0];
}

/** Leaf paths whose values differ between two JSON values. */
function changedPaths(a: unknown, b: unknown, at = ""): string[] {
    if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
        const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
        return [...keys].flatMap((k) => changedPaths((a as any)[k], (b as any)[k], at ? `${at}.${k}` : k));
    }
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [at];
}

describe("the committed stacks", () => {
    for (const [stage, version] of [
        ["prod", "12.1.2410"],
        ["hml", "12.1.2510"],
    ] as const) {
        describe(`stack ${stage}`, () => {
            let resources: PlannedResource[];
            before(async () => {
                resources = (await renderExample(stage)).resources;
            });

            it("carries updateDesiredVersion to the namespace annotation, the release and the updater image", () => {
                const ns = find(resources, NS).inputs as any;
                assert.equal(ns.metadata.annotations.UpdateDesiredVersion, version);
                assert.equal((find(resources, RELEASE).inputs as any).version, version);
                assert.match(updaterContainer(resources).image, new RegExp(`/protheus-updater:${version.replace(/\./g, "\\.")}$`));
            });

            it("labels the namespace with its stage and part-of", () => {
                const labels = (find(resources, NS).inputs as any).metadata.labels;
                assert.equal(labels["app.kubernetes.io/part-of"], "protheus");
                assert.equal(labels["protheus.totvs.com/stage"], stage);
            });

            it("parents every resource under a protheus component, and every component under the environment namespace", () => {
                const keys = new Set(resources.map((r) => resourceKey(r.type, r.name)));
                for (const r of resources) {
                    if (r.parent === null) {
                        assert.ok(
                            // The cluster provider stays at the stack level: a parent would change its URN, which the resources refer to.
                            ["protheus:index:EnvironmentNamespace", "pulumi:pulumi:StackReference", "pulumi:providers:kubernetes"].includes(r.type),
                            `${r.type} ${r.name} has no parent`,
                        );
                        continue;
                    }
                    assert.ok(keys.has(r.parent), `${r.type} ${r.name}: parent ${r.parent} is not declared`);
                    if (!r.type.startsWith("protheus:index:")) assert.match(r.parent, /^protheus:index:/, `${r.type} ${r.name} is not inside a component`);
                }
            });

            it("renders only Kubernetes objects that the Kubernetes OpenAPI schemas accept", async () => {
                const objects = resources.filter(isKubernetesObject);
                assert.ok(objects.length >= 3);
                const violations = (await Promise.all(objects.map(schemaViolations))).flat();
                assert.deepEqual(violations, []);
            });
        });
    }
});

describe("EnvironmentNamespace and EnvironmentVolume", () => {
    it("are protected and retained: deleting either would take the environment's data with it", async () => {
        const { options } = await renderExample("hml");
        for (const key of [resourceKey(NS, "namespace"), resourceKey(PVC, "volume")]) {
            assert.equal(options[key].protect, true, `${key} is not protected`);
            assert.equal(options[key].retainOnDelete, true, `${key} is not retained on delete`);
        }
        assert.equal(options[resourceKey(CRONJOB, "updater")].protect, false);
    });
});

describe("ProtheusRelease", () => {
    it("is named protheus, in the namespace, atomic, with a bounded history and a long timeout", async () => {
        const rel = find((await renderExample("prod")).resources, RELEASE).inputs as any;
        assert.equal(rel.name, "protheus");
        assert.equal(rel.namespace, "c2a7dv");
        assert.equal(rel.atomic, true);
        assert.equal(rel.cleanupOnFail, true);
        assert.equal(rel.timeout, 3600);
        assert.equal(rel.maxHistory, 10);
        assert.equal(rel.createNamespace, false);
    });

    it("addresses an OCI chart by URL and a classic repository by name plus repo", async () => {
        const oci = find((await renderExample("hml")).resources, RELEASE).inputs as any;
        assert.equal(oci.chart, "oci://southamerica-east1-docker.pkg.dev/totvs-protheus/charts/protheus");
        assert.equal(oci.repositoryOpts, undefined);
        const chart = configObject("hml", "chart");
        const https = find((await render(stackWith("hml", { chart: { ...chart, repo: "https://charts.example.com/protheus" } }))).resources, RELEASE)
            .inputs as any;
        assert.equal(https.chart, "protheus");
        assert.equal(https.repositoryOpts.repo, "https://charts.example.com/protheus");
    });

    it("passes the chart values through and tells the chart the volume's claim", async () => {
        const chart = configObject("hml", "chart");
        const values = { appserver: { replicas: 2, ini: { general: { maxStringSize: 10 } } }, volume: { size: "keep-me" } };
        const rel = find((await render(stackWith("hml", { chart: { ...chart, values }, volume: { claimName: "env-vol" } }))).resources, RELEASE).inputs as any;
        assert.deepEqual(rel.values, { ...values, volume: { size: "keep-me", existingClaim: "env-vol" } });
    });
});

describe("config set with --secret", () => {
    const CANARY = "canary-Zq7-not-for-logs";
    const chart = configObject("hml", "chart");

    for (const [where, secrets] of [
        ["chart.values", { chart: JSON.stringify({ ...chart, values: { ...chart.values, appserver: { dbPassword: CANARY } } }) }],
        ["chart.repo", { chart: JSON.stringify({ ...chart, repo: `https://robot:${CANARY}@charts.example.com/protheus` }) }],
        ["maintenance.values", { maintenance: JSON.stringify({ enabled: true, values: { license: { token: CANARY } } }) }],
        ["databasePassword", { databasePassword: CANARY }],
    ] as const) {
        it(`a secret in ${where} never shows in the plan; what reaches the release or a Secret is a Pulumi secret`, async () => {
            let input = stackWith("hml", {}, secrets);
            if (where === "databasePassword") {
                const { passwordSecret: _, ...database } = configObject("hml", "backup").database;
                input = stackWith("hml", { backup: { ...configObject("hml", "backup"), database } }, secrets);
            }
            const planned = await render(input);
            assert.doesNotMatch(JSON.stringify(planned), new RegExp(CANARY));
            if (where !== "databasePassword") {
                const release = find(planned.resources, RELEASE).inputs as any;
                assert.equal(release.values, "[secret]");
                if (where === "chart.repo") assert.deepEqual([release.chart, release.repositoryOpts], ["[secret]", "[secret]"]);
                if (where === "chart.values") assert.equal(release.chart, "[secret]");
            }
        });
    }

    it("the plan of a stack file with a secret set at a --path marks the whole key secret and shows no ciphertext", () => {
        const input = stackConfigFromYaml(
            "c2a7dv-hml",
            "config:\n  protheus:chart:\n    name: protheus\n    values:\n      appserver:\n        dbPassword:\n          secure: v1:Q2lwaGVydGV4dA==\n",
        );
        assert.deepEqual(input.secretKeys, ["protheus:chart"]);
        assert.doesNotMatch(input.config["protheus:chart"], /Q2lwaGVydGV4dA/);
        assert.deepEqual(JSON.parse(input.config["protheus:chart"]).values.appserver.dbPassword, "[secret]");
    });

    it("an error about a key set with --secret shows [secret], never the value", async () => {
        const err = await renderFailure(stackWith("hml", {}, { chart: JSON.stringify({ ...chart, timeoutSeconds: 10, values: { x: CANARY } }) }));
        assert.ok(err.cause instanceof ConfigError);
        assert.match(err.message, /protheus:chart\.timeoutSeconds = \[secret\]: expected a whole number of seconds/);
        assert.doesNotMatch(err.message, new RegExp(CANARY));
        assert.equal(err.resources.length, 0);
    });

    it("refuses a secret in every key whose values go out in clear (names, labels, ConfigMaps), naming each at once", async () => {
        const base = stackWith("prod");
        // The program's own keys (Pulumi.yaml also sets pulumi:disable-default-providers, the engine's).
        const plainKeys = Object.keys(base.config)
            .filter((k) => k.startsWith("protheus:"))
            .map((k) => k.replace(/^protheus:/, ""))
            .filter((k) => !["chart", "maintenance", "databasePassword"].includes(k));
        assert.ok(plainKeys.length >= 8, plainKeys.join(", "));
        const secretKeys = plainKeys.map((k) => `protheus:${k}`);
        const err = await renderFailure({ ...base, secretKeys: [...base.secretKeys, ...secretKeys] });
        assert.ok(err.cause instanceof ConfigError);
        for (const key of secretKeys) {
            const line = err.cause.problems.find((p) => p.startsWith(`${key} = [secret]: `));
            assert.ok(line, `${key} not refused:\n${err.message}`);
            assert.match(line, /expected plain config/);
        }
        assert.equal(err.resources.length, 0);
    });
});

describe("UpdaterCronJob", () => {
    it("runs init-upddistr as protheus-updater, never overlapping, in Sao Paulo time, keeping failed pods", async () => {
        const { resources } = await renderExample("hml");
        const cj = byK8sName(resources, "CronJob", "protheus-updater").inputs as any;
        assert.equal(cj.metadata.namespace, "c2a7dv-hml");
        assert.equal(cj.spec.concurrencyPolicy, "Forbid");
        assert.equal(cj.spec.timeZone, "America/Sao_Paulo");
        assert.equal(cj.spec.schedule, "*/15 * * * *");
        assert.equal(cj.spec.suspend, false);
        assert.ok(cj.spec.failedJobsHistoryLimit >= 1);
        const c = updaterContainer(resources);
        // init-upddistr runs through the wrapper, which prints the end of UPDDISTR.LOG when it ends.
        assert.deepEqual(c.command, ["sh", "/scripts/upddistr.sh"]);
        const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
        assert.equal(env.UPDDISTR_COMMAND, "init-upddistr");
        assert.equal(env.UPDDISTR_LOG, "/volume/logs/UPDDISTR.LOG");
        assert.equal(env.UPDDISTR_RESULT, "/volume/logs/result.json");
        assert.equal(env.UPDDISTR_LOG_LINES, "500");
        assert.deepEqual(c.volumeMounts, [
            { name: "volume", mountPath: "/volume" },
            { name: "scripts", mountPath: "/scripts", readOnly: true },
            // The scratch emptyDir (components/podSecurity.ts).
            { name: "tmp", mountPath: "/tmp" },
        ]);
        assert.equal(cj.spec.jobTemplate.spec.activeDeadlineSeconds, undefined, "UPDDISTR itself runs as long as it needs");
        const vol = cj.spec.jobTemplate.spec.template.spec.volumes[0];
        assert.equal(vol.persistentVolumeClaim.claimName, "protheus-volume");
    });

    it("sleeper on suspends the updater and runs its pod asleep as protheus-updater-sleeper-0 (8 hours a sleep by default); off, no replica", async () => {
        const updater = configObject("hml", "updater");
        const off = (await render(stackWith("hml", { updater: { ...updater, sleeper: false } }))).resources;
        const on = (await render(stackWith("hml", { updater: { ...updater, sleeper: true } }))).resources;
        const sleeper = (rs: PlannedResource[]) => byK8sName(rs, "StatefulSet", "protheus-updater-sleeper").inputs as any;
        assert.equal(sleeper(on).spec.replicas, 1);
        assert.equal(sleeper(off).spec.replicas, 0);
        // The CronJob always runs the wrapper; with the sleeper on it starts nothing on its own.
        assert.deepEqual(updaterContainer(on).command, ["sh", "/scripts/upddistr.sh"]);
        assert.equal((byK8sName(on, "CronJob", "protheus-updater").inputs as any).spec.suspend, true);
        assert.equal((byK8sName(off, "CronJob", "protheus-updater").inputs as any).spec.suspend, false);
        // The sleeper is the updater's pod, asleep: same image, env, volumes.
        const pod = sleeper(on).spec.template.spec;
        const cronPod = (byK8sName(on, "CronJob", "protheus-updater").inputs as any).spec.jobTemplate.spec.template.spec;
        assert.deepEqual({ ...pod, containers: undefined, restartPolicy: undefined }, { ...cronPod, containers: undefined, restartPolicy: undefined });
        assert.deepEqual({ ...pod.containers[0], command: undefined }, { ...cronPod.containers[0], command: undefined });
        assert.deepEqual(pod.containers[0].command, ["sleep", String(8 * 3600)]);
        assert.deepEqual(sleeper(on).spec.selector.matchLabels, sleeper(on).spec.template.metadata.labels);
        assert.equal(sleeper(on).spec.selector.matchLabels["app.kubernetes.io/name"], "protheus-updater-sleeper");
        assert.deepEqual(
            on.map((r) => resourceKey(r.type, r.name)),
            off.map((r) => resourceKey(r.type, r.name)),
        );
        const diffs = on.flatMap((r, i) => changedPaths(off[i].inputs, r.inputs).map((p) => `${r.type}::${r.name}:${p}`)).sort();
        assert.deepEqual(diffs, ["kubernetes:apps/v1:StatefulSet::updater-sleeper:spec.replicas", "kubernetes:batch/v1:CronJob::updater:spec.suspend"]);
        const short = (await render(stackWith("hml", { updater: { ...updater, sleeper: true, sleeperHours: 2 } }))).resources;
        assert.deepEqual(sleeper(short).spec.template.spec.containers[0].command, ["sleep", "7200"]);
        assert.deepEqual(await schemaViolations(byK8sName(on, "StatefulSet", "protheus-updater-sleeper")), []);
    });

    it("suspend stops new runs", async () => {
        const updater = configObject("hml", "updater");
        const cj = byK8sName((await render(stackWith("hml", { updater: { ...updater, suspend: true } }))).resources, "CronJob", "protheus-updater")
            .inputs as any;
        assert.equal(cj.spec.suspend, true);
    });

    it("follows a new updateDesiredVersion unless the tag is pinned", async () => {
        const updater = configObject("hml", "updater");
        const moved = (await render(stackWith("hml", { updateDesiredVersion: "12.1.2510-3" }))).resources;
        assert.match(updaterContainer(moved).image, /:12\.1\.2510-3$/);
        const pinned = (await render(stackWith("hml", { updateDesiredVersion: "12.1.2510-3", updater: { ...updater, tag: "hotfix-7" } }))).resources;
        assert.match(updaterContainer(pinned).image, /:hotfix-7$/);
        assert.equal((find(pinned, RELEASE).inputs as any).version, "12.1.2510-3");
    });
});

describe("EnvironmentVolume", () => {
    it("creates the claim when managed, and only mounts an existing one otherwise", async () => {
        const managed = (await renderExample("prod")).resources;
        // The environment volume's claim (prod also has the Rubrik claim, protheus-rubrik).
        const pvc = find(managed, PVC, "volume").inputs as any;
        assert.deepEqual(pvc.spec.accessModes, ["ReadWriteMany"]);
        assert.equal(pvc.spec.resources.requests.storage, "500Gi");
        const existing = (await render(stackWith("prod", { volume: { manage: false, claimName: "chart-volume" } }))).resources;
        assert.deepEqual(
            existing.filter((r) => r.type === PVC).map((r) => (r.inputs as any).metadata.name),
            ["protheus-rubrik"],
        );
        const cj = byK8sName(existing, "CronJob", "protheus-updater").inputs as any;
        assert.equal(cj.spec.jobTemplate.spec.template.spec.volumes[0].persistentVolumeClaim.claimName, "chart-volume");
    });
});

describe("stage-specific objects", () => {
    for (const stage of ["prod", "hml"] as Stage[]) {
        it(`${stage}: every object is labelled with its stage`, async () => {
            const { resources } = await renderExample(stage);
            for (const r of resources.filter((x) => x.type.startsWith("kubernetes:") && x.type !== RELEASE)) {
                assert.equal((r.inputs as any).metadata.labels["protheus.totvs.com/stage"], stage, `${r.type} ${r.name}`);
            }
            assert.ok(resources.some((r) => r.type === CRONJOB));
        });
    }
});

describe("stack outputs", () => {
    const undefinedOutputs = (outputs: Record<string, unknown>) => Object.keys(outputs).filter((k) => outputs[k] === undefined);

    it("exports the backup bucket and the copy's Google account where the stack has them", async () => {
        const { outputs } = await renderExample("prod");
        assert.match(String(outputs.backupBucket), /^protheus-backups-/);
        assert.match(String(outputs.backupServiceAccount), /@totvs-protheus-prod\.iam\.gserviceaccount\.com$/);
        assert.deepEqual(undefinedOutputs(outputs), []);
    });

    it("exports no key for what the stack lacks (no undefined output): without a backup, and with a Rubrik-only copy", async () => {
        const none = (await render(stackWith("hml", { backup: undefined }))).outputs;
        assert.ok(!("backupBucket" in none) && !("backupServiceAccount" in none), JSON.stringify(Object.keys(none)));
        assert.deepEqual(undefinedOutputs(none), []);
        const backup = configObject("prod", "backup");
        const rubrikOnly = (await render(stackWith("hml", { backup: { ...backup, targets: ["rubrik"], gcs: undefined } }))).outputs;
        assert.ok(!("backupBucket" in rubrikOnly) && !("backupServiceAccount" in rubrikOnly), JSON.stringify(Object.keys(rubrikOnly)));
        assert.deepEqual(undefinedOutputs(rubrikOnly), []);
    });
});
