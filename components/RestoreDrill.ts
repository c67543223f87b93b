import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DatabaseConnection, databaseSettings, passwordEnv, RobotPods, SCRIPTS_MOUNT, scriptContainer, scriptPod } from "./backup/pod";
import { commonLabels, Stage } from "./labels";
import { childName, COMPONENTS, DRILL_CHECKS_CONFIGMAP, DRILL_CRONJOB } from "./names";

/** Where the extra checks (<name>.sql, <name>.expected) are mounted in the drill container. */
export const DRILL_CHECKS_MOUNT = "/drill-checks";

export interface RestoreDrillArgs {
    namespace: pulumi.Input<string>;
    stage: Stage;
    timeZone: string;
    volumeClaimName: pulumi.Input<string>;
    schedule: string;
    /** The script's own deadline (DRILL_DEADLINE_SECONDS). */
    deadlineMinutes: number;
    /** Kubernetes ends the Job this much later, so the script has time to drop the scratch database. */
    killMarginMinutes: number;
    /** The live database (its backups are drilled), connected as the restore identity (restoreIdentity in backup/pod.ts). */
    database: DatabaseConnection;
    /** A drill server instead of the live one (same restore user and password). */
    server?: { host: string; port: number };
    checks: Record<string, { sql: string; expected: string }>;
    /** When the environment ships to GCS: the drill restores the offsite copy. */
    gcs?: { bucket: pulumi.Input<string>; serviceAccountName: pulumi.Input<string> };
    images: { postgres: string; cloudSdk: string };
    /** Who the drill and fetch containers run as and their resources (protheus:podSecurity). */
    pods: RobotPods;
}

/**
 * The weekly restore drill: restores the newest complete backup from the
 * offsite copy into "<database>_drill" with restore.sh, checks it against
 * the row counts the backup recorded, reports the restore time (one JSON
 * line, read by BackupAlerts) and drops it (scripts/drill.sh).
 */
export class RestoreDrill extends pulumi.ComponentResource {
    constructor(name: string, args: RestoreDrillArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:RestoreDrill", name, {}, opts);
        const labels = commonLabels(args.stage, COMPONENTS.restoreDrill);
        const meta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels });

        const checkNames = Object.keys(args.checks).sort();
        const checks =
            checkNames.length > 0
                ? new k8s.core.v1.ConfigMap(
                      childName(name, "checks"),
                      {
                          metadata: meta(DRILL_CHECKS_CONFIGMAP),
                          data: Object.fromEntries(
                              checkNames.flatMap((n) => [
                                  [`${n}.sql`, args.checks[n].sql],
                                  [`${n}.expected`, args.checks[n].expected],
                              ]),
                          ),
                      },
                      { parent: this },
                  )
                : undefined;

        const common = [
            { name: "BACKUP_NAMESPACE", value: args.namespace },
            { name: "DRILL_DEADLINE_SECONDS", value: String(args.deadlineMinutes * 60) },
            ...(args.gcs ? [{ name: "GCS_BUCKET", value: args.gcs.bucket }] : []),
        ];
        const drillEnv = [
            ...Object.entries(databaseSettings(args.database)).map(([name, value]) => ({ name, value })),
            passwordEnv(args.database),
            ...common,
            ...(args.server
                ? [
                      { name: "DRILL_PGHOST", value: args.server.host },
                      { name: "DRILL_PGPORT", value: String(args.server.port) },
                  ]
                : []),
            ...(checks ? [{ name: "DRILL_CHECKS_DIR", value: DRILL_CHECKS_MOUNT }] : []),
        ];
        // The cloud-sdk image has gcloud but no psql: it only downloads and verifies the offsite copy.
        const fetch = args.gcs
            ? [
                  scriptContainer({
                      name: "fetch",
                      image: args.images.cloudSdk,
                      script: "drill.sh",
                      command: ["bash", `${SCRIPTS_MOUNT}/drill.sh`, "--fetch-only"],
                      volumeReadOnly: false,
                      env: [{ name: "PGDATABASE", value: args.database.name }, ...common],
                      pods: args.pods,
                  }),
              ]
            : undefined;

        new k8s.batch.v1.CronJob(
            childName(name),
            {
                metadata: meta(DRILL_CRONJOB),
                spec: {
                    schedule: args.schedule,
                    timeZone: args.timeZone,
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 3600,
                    // A failed drill is a finding: its pod stays for `kubectl logs`, and it is not retried.
                    failedJobsHistoryLimit: 3,
                    successfulJobsHistoryLimit: 3,
                    jobTemplate: {
                        metadata: { labels },
                        spec: {
                            backoffLimit: 0,
                            activeDeadlineSeconds: (args.deadlineMinutes + args.killMarginMinutes) * 60,
                            template: {
                                metadata: { labels },
                                spec: scriptPod({
                                    volumeClaimName: args.volumeClaimName,
                                    serviceAccountName: args.gcs?.serviceAccountName,
                                    initContainers: fetch,
                                    pods: args.pods,
                                    extraVolumes: checks ? [{ name: "drill-checks", configMap: { name: DRILL_CHECKS_CONFIGMAP } }] : [],
                                    containers: [
                                        scriptContainer({
                                            name: "drill",
                                            image: args.images.postgres,
                                            script: "drill.sh",
                                            // Read-write: the drill's staging dir lives in the volume; the backups themselves are only read.
                                            volumeReadOnly: false,
                                            env: drillEnv,
                                            extraMounts: checks ? [{ name: "drill-checks", mountPath: DRILL_CHECKS_MOUNT, readOnly: true }] : [],
                                            pods: args.pods,
                                        }),
                                    ],
                                }),
                            },
                        },
                    },
                },
            },
            // Was `<name>-cronjob`: the alias keeps the deployed CronJob (a new name alone is a delete and a create).
            { parent: this, dependsOn: checks ? [checks] : [], aliases: [{ name: `${name}-cronjob` }] },
        );
        this.registerOutputs({});
    }
}
