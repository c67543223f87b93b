// The program: read the validated stack config once, then wire the components.
// A config error, or a prod version that has not run on hml, throws before the
// first resource of the environment is declared.
import * as pulumi from "@pulumi/pulumi";
import { BACKUP_SERVICE_ACCOUNT } from "./components/backup/names";
import { readBackupScripts } from "./components/backup/scripts";
import { BackupSchedule } from "./components/BackupSchedule";
import { BackupStorage } from "./components/BackupStorage";
import { EnvironmentNamespace } from "./components/EnvironmentNamespace";
import { EnvironmentVolume } from "./components/EnvironmentVolume";
import { PreUpgradeBackup } from "./components/PreUpgradeBackup";
import { ProtheusRelease } from "./components/ProtheusRelease";
import { TeamAccess } from "./components/TeamAccess";
import { UpdaterCronJob } from "./components/UpdaterCronJob";
import { BackupAlerts } from "./components/BackupAlerts";
import { RestoreDrill } from "./components/RestoreDrill";
import { DATABASE_SECRET } from "./components/backup/names";
import { DRILL_KILL_MARGIN_MINUTES, drillEnabled, drillSchema } from "./config/drill";
import { loadStackConfig } from "./config/load";
import { defaultBucketName } from "./config/validators";
import { PromotionError, promotionProblem } from "./lib/promotion";

export = async () => {
    const config = loadStackConfig();

    if (config.promotion) {
        const hmlStack = config.promotion.hmlStack;
        const hml = new pulumi.StackReference("hml", { name: hmlStack });
        const problem = promotionProblem(config.updateDesiredVersion, await hml.getOutputValue("updateDesiredVersion"), hmlStack, config.promotion.override);
        if (problem) throw new PromotionError(problem);
    }

    const namespace = new EnvironmentNamespace("namespace", {
        name: config.namespace,
        stage: config.stage,
        updateDesiredVersion: config.updateDesiredVersion,
    });

    const volume = new EnvironmentVolume(
        "volume",
        { namespace: namespace.name, stage: config.stage, ...config.volume },
        { parent: namespace },
    );

    const backup = config.backup;
    const storage =
        backup?.gcs && backup.targets.includes("gcs")
            ? new BackupStorage(
                  "backup-storage",
                  {
                      project: backup.gcs.project,
                      location: backup.gcs.location,
                      bucketName: backup.gcs.bucketName ?? defaultBucketName(config.namespace),
                      namespace: config.namespace,
                      stage: config.stage,
                      retentionDays: backup.gcs.retentionDays,
                      lockRetention: backup.gcs.lockRetention,
                      kubernetesServiceAccount: { namespace: config.namespace, name: BACKUP_SERVICE_ACCOUNT },
                  },
                  { parent: namespace },
              )
            : undefined;

    const schedule = backup
        ? new BackupSchedule(
              "backup",
              {
                  namespace: namespace.name,
                  stage: config.stage,
                  timeZone: config.timeZone,
                  volumeClaimName: volume.claimName,
                  schedule: backup.schedule,
                  copySchedule: backup.copySchedule,
                  database: backup.database,
                  password: backup.database.passwordSecret
                      ? { secretRef: backup.database.passwordSecret }
                      : { value: pulumi.secret(config.databasePassword!) },
                  dumpJobs: backup.dumpJobs,
                  retentionDays: backup.retention.days,
                  keepMin: backup.retention.keepMin,
                  targets: backup.targets,
                  gcs: storage && { bucket: storage.bucketName, serviceAccountEmail: storage.serviceAccountEmail },
                  rubrik: backup.targets.includes("rubrik") ? backup.rubrik : undefined,
                  images: backup.images,
                  scripts: readBackupScripts(),
              },
              { parent: namespace },
          )
        : undefined;

    // The release and the updater move to a new version only after a backup of the data they will change.
    const preUpgrade =
        schedule && backup?.preUpgrade
            ? new PreUpgradeBackup(
                  "pre-upgrade-backup",
                  { namespace: namespace.name, stage: config.stage, updateDesiredVersion: config.updateDesiredVersion, jobSpec: schedule.backupJobSpec },
                  { parent: namespace },
              )
            : undefined;
    const afterBackup = preUpgrade ? [preUpgrade] : [];

    const release = new ProtheusRelease(
        "release",
        {
            namespace: namespace.name,
            repo: config.chart.repo,
            chart: config.chart.name,
            version: config.updateDesiredVersion,
            values: config.chart.values,
            volumeClaimName: volume.claimName,
            volumeClaimValue: config.chart.volumeClaimValue,
            timeoutSeconds: config.chart.timeoutSeconds,
            maxHistory: config.chart.maxHistory,
        },
        { parent: namespace, dependsOn: afterBackup },
    );

    new UpdaterCronJob(
        "updater",
        {
            namespace: namespace.name,
            stage: config.stage,
            ...config.updater,
            updateDesiredVersion: config.updateDesiredVersion,
            timeZone: config.timeZone,
            volumeClaimName: volume.claimName,
        },
        { parent: namespace, dependsOn: afterBackup },
    );

    // The weekly restore drill and the alerts on the robots' outcome lines (issue 11).
    const drill = config.drill ?? drillSchema.parse({});
    const drilling = schedule && backup && drillEnabled(config.stage, config.drill);
    if (drilling) {
        new RestoreDrill(
            "restore-drill",
            {
                namespace: namespace.name,
                stage: config.stage,
                timeZone: config.timeZone,
                volumeClaimName: volume.claimName,
                schedule: drill.schedule,
                deadlineMinutes: drill.deadlineMinutes,
                killMarginMinutes: DRILL_KILL_MARGIN_MINUTES,
                database: {
                    ...backup.database,
                    passwordSecret: backup.database.passwordSecret ?? { name: DATABASE_SECRET, key: "password" },
                    ...drill.database,
                },
                server: drill.server,
                checks: drill.checks,
                gcs: storage && schedule.serviceAccountName && { bucket: storage.bucketName, serviceAccountName: schedule.serviceAccountName },
                images: backup.images,
            },
            { parent: namespace, dependsOn: [schedule] },
        );
    }
    if (config.alerts) {
        new BackupAlerts(
            "alerts",
            {
                project: config.alerts.project ?? backup!.gcs!.project,
                namespace: config.namespace,
                stage: config.stage,
                emails: config.alerts.emails,
                channelIds: config.alerts.channelIds,
                copies: (backup?.targets.length ?? 0) > 0,
                drill: drilling ? { rtoMinutes: drill.rtoMinutes } : undefined,
            },
            { parent: namespace },
        );
    }

    // Team Roles and RoleBindings from the responsibility table, and read access to the backup bucket.
    new TeamAccess("access", { namespace: namespace.name, stage: config.stage, ...config.access, backupBucket: storage?.bucketName }, { parent: namespace });

    return {
        stage: config.stage,
        environmentNamespace: namespace.name,
        /** What this stack runs; prod's promotion gate reads hml's value. */
        updateDesiredVersion: config.updateDesiredVersion,
        releaseStatus: release.status.status,
        backupBucket: storage?.bucketName,
        backupServiceAccount: storage?.serviceAccountEmail,
    };
};
