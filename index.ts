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
import { ConfigError, loadStackConfig } from "./config/load";
import { parseStackName, stackName, stackNameProblem } from "./lib/fleet";
import { hmlStackNameProblem, PromotionError, promotionProblem, ranVersionsAfter } from "./lib/promotion";

export = async () => {
    const config = loadStackConfig();

    // The stack is <environment>-<stage>; its name and protheus:stage must agree.
    const nameProblem = stackNameProblem(pulumi.getStack(), config.stage);
    if (nameProblem) throw new ConfigError([nameProblem]);
    const environment = parseStackName(pulumi.getStack())!.environment;
    const qualified = (stack: string) => `${pulumi.getOrganization()}/${pulumi.getProject()}/${stack}`;

    // prod runs only a version its own environment's hml ran successfully (or the override's).
    if (config.stage === "prod") {
        const hmlStack = config.promotion?.hmlStack ?? qualified(stackName(environment, "hml"));
        const named = hmlStackNameProblem(hmlStack, environment);
        if (named) throw new PromotionError(named);
        const hml = new pulumi.StackReference("hml", { name: hmlStack });
        const [hmlEnvironment, ranVersions] = await Promise.all([hml.getOutputValue("environment"), hml.getOutputValue("ranVersions")]);
        const problem = promotionProblem(
            { prodVersion: config.updateDesiredVersion, environment, hmlStack, override: config.promotion?.override },
            { environment: hmlEnvironment, ranVersions },
        );
        if (problem) throw new PromotionError(problem);
    }
    // hml keeps the versions it ran in its own outputs: the last update's list, read back through a reference to itself.
    const history = config.stage === "hml" ? new pulumi.StackReference("history", { name: qualified(pulumi.getStack()) }) : undefined;

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
                      bucketName: backup.gcs.bucketName ?? `protheus-backups-${config.namespace}`,
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

    // Team Roles and RoleBindings from the responsibility table, and read access to the backup bucket.
    new TeamAccess("access", { namespace: namespace.name, stage: config.stage, ...config.access, backupBucket: storage?.bucketName }, { parent: namespace });

    return {
        stage: config.stage,
        /** The environment code (the stack name's prefix); prod checks its hml's. */
        environment,
        /** hml only: the versions whose release reached `deployed` here; prod's gate reads it. */
        ...(history && {
            ranVersions: pulumi.all([history.getOutput("ranVersions"), release.status]).apply(([previous, status]) => ranVersionsAfter(previous, config.updateDesiredVersion, status)),
        }),
        environmentNamespace: namespace.name,
        /** What this stack runs; prod's promotion gate reads hml's value. */
        updateDesiredVersion: config.updateDesiredVersion,
        releaseStatus: release.status.status,
        backupBucket: storage?.bucketName,
        backupServiceAccount: storage?.serviceAccountEmail,
    };
};
