// The program: read the validated stack config once, then wire the components.
// A config error, or a prod version that has not run on hml, throws before the
// first resource of the environment is declared.
import * as pulumi from "@pulumi/pulumi";
import { readBackupScripts, readUpdaterScripts } from "./components/backup/scripts";
import { NightlyBackup } from "./components/NightlyBackup";
import { OffsiteCopy } from "./components/OffsiteCopy";
import { RestoreTemplate } from "./components/RestoreTemplate";
import { BackupStorage } from "./components/BackupStorage";
import { EnvironmentNamespace } from "./components/EnvironmentNamespace";
import { EnvironmentVolume } from "./components/EnvironmentVolume";
import { PreUpgradeBackup } from "./components/PreUpgradeBackup";
import { ProtheusRelease } from "./components/ProtheusRelease";
import { RestoreRequest } from "./components/RestoreRequest";
import { TeamAccess } from "./components/TeamAccess";
import { AdmissionGuard } from "./components/AdmissionGuard";
import { BACKUP_CRONJOB, COPY_CRONJOB, DRILL_CRONJOB, MANUAL_BACKUP_CRONJOB, RESTORE_CRONJOB, UPDATER_NAME } from "./components/names";
import { UpdaterCronJob } from "./components/UpdaterCronJob";
import { BackupAlerts } from "./components/BackupAlerts";
import { RestoreDrill } from "./components/RestoreDrill";
import { restoreIdentity } from "./components/backup/pod";
import { alertRecipients, BACKUP_WINDOW_HOURS, COPY_WINDOW_HOURS, DRILL_KILL_MARGIN_MINUTES, drillEnabled, drillSchema } from "./config/drill";
import { defaultBucketName } from "./config/validators";
import { VolumeToolbox } from "./components/VolumeToolbox";
import { deriveTransition, versionChangeBackup, MAINTENANCE_OUTPUT, restoreOrderProblem, TRANSITION_OUTPUT, VERSION_OUTPUT } from "./lib/versionChange";
import { ConfigError } from "./config/load";
import { clusterLabel } from "./lib/clusterName";
import { gkeClusterProvider } from "./lib/gkeCluster";
import { loadSecretConfigKeys, loadStackConfig } from "./config/stack";
import { stackName } from "./lib/fleet";
import {
    hmlStackNameProblem,
    PromotionError,
    promotionVerdict,
    RAN_VERSIONS_OUTPUT,
    ranVersionsAfter,
    ranVersionsBefore,
    RELEASE_STATUS_OUTPUT,
} from "./lib/promotion";

export = async () => {
    // The stack is <environment>-<stage>; loadStackConfig checked that its name and protheus:stage agree.
    const { environment, config } = loadStackConfig();
    const secretConfigKeys = loadSecretConfigKeys();
    const qualified = (stack: string) => `${pulumi.getOrganization()}/${pulumi.getProject()}/${stack}`;

    // The stack's own last outputs: which version runs now, the change it last made, whether maintenance
    // was applied (lib/versionChange.ts), the versions it ran (the promotion gate's history) and the release's status.
    let hml: pulumi.StackReference | undefined;
    let hmlStack = "";
    if (config.stage === "prod") {
        hmlStack = config.promotion?.hmlStack ?? qualified(stackName(environment, "hml"));
        const named = hmlStackNameProblem(hmlStack, environment);
        if (named) throw new PromotionError(named);
        hml = new pulumi.StackReference("hml", { name: hmlStack });
    }
    const self = new pulumi.StackReference("self", { name: qualified(pulumi.getStack()) });
    const previous: Record<string, unknown> = {};
    for (const key of [VERSION_OUTPUT, TRANSITION_OUTPUT, MAINTENANCE_OUTPUT, RAN_VERSIONS_OUTPUT, RELEASE_STATUS_OUTPUT])
        previous[key] = await self.getOutputValue(key);
    const ranBefore = ranVersionsBefore({
        ranVersions: previous[RAN_VERSIONS_OUTPUT],
        version: previous[VERSION_OUTPUT],
        releaseStatus: previous[RELEASE_STATUS_OUTPUT],
    });

    // prod runs only a version it ran before, or one its own environment's hml ran successfully (or the override's).
    let promotion: string | undefined;
    if (hml) {
        const [hmlEnvironment, ranVersions] = await Promise.all([hml.getOutputValue("environment"), hml.getOutputValue(RAN_VERSIONS_OUTPUT)]);
        const verdict = promotionVerdict(
            { prodVersion: config.updateDesiredVersion, environment, hmlStack, override: config.promotion?.override },
            { environment: hmlEnvironment, ranVersions },
            ranBefore,
        );
        if (verdict.problem !== undefined) throw new PromotionError(verdict.problem);
        promotion = verdict.grantedBy;
    }
    const transition = deriveTransition(config.updateDesiredVersion, previous);
    const restoreProblem = restoreOrderProblem(config.stage, config.restore !== undefined, previous);
    if (restoreProblem) throw new ConfigError([restoreProblem]);

    // Every Kubernetes object goes to the stack's cluster through this provider: passed on the top
    // component, it reaches each child declared with a parent (the default provider is disabled in Pulumi.yaml).
    const cluster = await gkeClusterProvider(config.cluster);
    const namespace = new EnvironmentNamespace(
        "namespace",
        {
            name: config.namespace,
            stage: config.stage,
            updateDesiredVersion: config.updateDesiredVersion,
            podSecurityEnforce: config.podSecurity.enforce,
        },
        { providers: [cluster] },
    );
    // Who the backup, copy, restore and drill containers run as, and their resources.
    const pods = { runAs: config.podSecurity.robots, resources: config.podSecurity.resources };

    const volume = new EnvironmentVolume("volume", { namespace: namespace.name, stage: config.stage, ...config.volume }, { parent: namespace });

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
                      workloadNamespace: namespace.name,
                      stage: config.stage,
                      retentionDays: backup.gcs.retentionDays,
                      lockRetention: backup.gcs.lockRetention,
                  },
                  { parent: namespace },
              )
            : undefined;

    // The backup cycle: the dump into the volume (and its settings and scripts), the offsite copy
    // with its cloud identity, the emergency restore template. The windows are the ones the schema
    // keeps the copy and the drill out of (config/drill.ts).
    const nightly = backup
        ? new NightlyBackup(
              "backup",
              {
                  namespace: namespace.name,
                  stage: config.stage,
                  timeZone: config.timeZone,
                  volumeClaimName: volume.claimName,
                  schedule: backup.schedule,
                  deadlineSeconds: BACKUP_WINDOW_HOURS * 3600,
                  database: backup.database,
                  password: "secretRef" in backup.password ? backup.password : { value: pulumi.secret(backup.password.value) },
                  dumpJobs: backup.dumpJobs,
                  retentionDays: backup.retention.days,
                  keepMin: backup.retention.keepMin,
                  images: backup.images,
                  pods,
                  scripts: readBackupScripts(),
              },
              { parent: namespace },
          )
        : undefined;
    const copy =
        nightly && backup && backup.targets.length > 0
            ? new OffsiteCopy(
                  "backup-copy",
                  {
                      namespace: config.namespace,
                      stage: config.stage,
                      timeZone: config.timeZone,
                      volumeClaimName: volume.claimName,
                      schedule: backup.copySchedule,
                      deadlineSeconds: COPY_WINDOW_HOURS * 3600,
                      databaseName: backup.database.name,
                      targets: backup.targets,
                      gcs: storage && backup.gcs && { project: backup.gcs.project, bucket: storage.bucketName },
                      rubrik: backup.targets.includes("rubrik") ? backup.rubrik : undefined,
                      images: backup.images,
                      pods,
                      jobInputs: nightly.jobInputs,
                  },
                  { parent: namespace },
              )
            : undefined;
    // Restores and drills read the bucket as the read-only account, never as the copy's.
    const gcsFetch = storage && copy?.serviceAccountName && { bucket: storage.bucketName, serviceAccountName: storage.readerServiceAccountName };
    const restoreTemplate =
        nightly && backup
            ? new RestoreTemplate(
                  "restore-template",
                  {
                      namespace: namespace.name,
                      stage: config.stage,
                      timeZone: config.timeZone,
                      volumeClaimName: volume.claimName,
                      identity: restoreIdentity(backup.database),
                      gcs: gcsFetch,
                      images: backup.images,
                      pods,
                      jobInputs: nightly.jobInputs,
                  },
                  { parent: namespace },
              )
            : undefined;

    // One `pulumi up`, in this order: namespace annotation → backup before a version change →
    // requested restore → Helm release → updater. Each step waits for the one before; a failed
    // step stops the update, so a failed (rolled-back) release leaves the updater as it was.
    let previousStep: pulumi.Resource = namespace.namespace;
    const versionBackup = versionChangeBackup(transition);
    if (nightly && backup?.preUpgrade && versionBackup) {
        previousStep = new PreUpgradeBackup(
            "pre-upgrade-backup",
            {
                namespace: namespace.name,
                stage: config.stage,
                reason: versionBackup.reason,
                fromVersion: versionBackup.from,
                toVersion: versionBackup.to,
                jobSpec: (env, deadline, labels) => nightly.backupJobSpec(env, deadline, labels),
                timeoutMinutes: backup.preUpgradeTimeoutMinutes,
            },
            { parent: namespace, dependsOn: [previousStep, ...nightly.jobInputs] },
        ).job;
    }
    if (nightly && restoreTemplate && backup && config.restore) {
        previousStep = new RestoreRequest(
            "restore",
            {
                namespace: namespace.name,
                stage: config.stage,
                ...config.restore,
                jobSpec: (o) => restoreTemplate.restoreJobSpec(o),
                timeoutMinutes: backup.restoreTimeoutMinutes,
            },
            { parent: namespace, dependsOn: [previousStep, ...nightly.jobInputs] },
        ).job;
    }

    const release = new ProtheusRelease(
        "release",
        {
            namespace: namespace.name,
            repo: config.chart.repo,
            chart: config.chart.name,
            version: config.updateDesiredVersion,
            values: config.chart.values,
            maintenanceValues: config.maintenance.enabled ? config.maintenance.values : undefined,
            volumeClaimName: volume.claimName,
            volumeClaimValue: config.chart.volumeClaimValue,
            timeoutSeconds: config.chart.timeoutSeconds,
            maxHistory: config.chart.maxHistory,
            secret: secretConfigKeys.has("chart") || (config.maintenance.enabled && secretConfigKeys.has("maintenance")),
        },
        { parent: namespace, dependsOn: [previousStep] },
    );

    const { completionFlags, ...updater } = config.updater;
    new UpdaterCronJob(
        "updater",
        {
            namespace: namespace.name,
            stage: config.stage,
            ...updater,
            updateDesiredVersion: config.updateDesiredVersion,
            timeZone: config.timeZone,
            volumeClaimName: volume.claimName,
            scripts: readUpdaterScripts(),
            podSecurity: { ...config.podSecurity.updater, resources: config.podSecurity.resources.updater },
        },
        { parent: namespace, dependsOn: [release.release] },
    );

    // A shell on the volume for the abort procedure (read /volume/logs, write /volume/flags).
    new VolumeToolbox(
        "toolbox",
        { namespace: namespace.name, stage: config.stage, volumeClaimName: volume.claimName, ...config.toolbox, completionFlags },
        { parent: namespace },
    );

    // The weekly restore drill and the alerts on the robots' outcome lines.
    const drill = config.drill ?? drillSchema.parse({});
    const drilling = nightly && backup && drillEnabled(config.stage, config.drill);
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
                // The drill restores: it connects as the restore identity, or as drill.database when set.
                database: {
                    host: backup.database.host,
                    port: backup.database.port,
                    name: backup.database.name,
                    ...restoreIdentity(backup.database),
                    ...drill.database,
                },
                server: drill.server,
                checks: drill.checks,
                gcs: gcsFetch,
                images: backup.images,
                pods,
            },
            { parent: namespace, dependsOn: [nightly] },
        );
    }
    if (config.alerts) {
        new BackupAlerts(
            "alerts",
            {
                project: config.alerts.project,
                namespace: config.namespace,
                stage: config.stage,
                emails: alertRecipients(config.alerts.emails, config.access.groups),
                channelIds: config.alerts.channelIds,
                copies: (backup?.targets.length ?? 0) > 0,
                drill: drilling ? { rtoMinutes: drill.rtoMinutes } : undefined,
            },
            { parent: namespace },
        );
    }

    // Team Roles and RoleBindings from the responsibility table, and read access to the backup bucket.
    new TeamAccess("access", { namespace: namespace.name, stage: config.stage, ...config.access, backupBucket: storage?.bucketName }, { parent: namespace });
    // What RBAC cannot limit (a created Job's pod spec, a patched CronJob or workload), held by admission policies.
    const templates = [
        UPDATER_NAME,
        ...(nightly ? [BACKUP_CRONJOB, MANUAL_BACKUP_CRONJOB] : []),
        ...(copy ? [COPY_CRONJOB] : []),
        ...(restoreTemplate ? [RESTORE_CRONJOB] : []),
        ...(drilling ? [DRILL_CRONJOB] : []),
    ];
    new AdmissionGuard("admission", { namespace: config.namespace, stage: config.stage, templates, deployers: config.access.deployers }, { parent: namespace });

    return {
        stage: config.stage,
        /** The GKE cluster the stack's Kubernetes objects are in: project/location/name. */
        cluster: clusterLabel(config.cluster),
        /** The environment code (the stack name's prefix); prod checks its hml's. */
        environment,
        /** The versions whose release reached `deployed` here: prod's gate reads hml's and its own. */
        [RAN_VERSIONS_OUTPUT]: release.status.apply((status) => ranVersionsAfter(ranBefore, config.updateDesiredVersion, status)),
        /** prod: the history entry (or override) that let this version through the promotion gate. */
        ...(promotion !== undefined && { promotion }),
        environmentNamespace: namespace.name,
        /** What this stack runs; prod's promotion gate reads hml's value, and this stack its own. */
        [VERSION_OUTPUT]: config.updateDesiredVersion,
        /** The version change this stack last made: the next `pulumi up` with the same target re-derives the same backup Job. */
        [TRANSITION_OUTPUT]: transition,
        /** A prod restore waits until this was true after an update (exclusive mode already applied). */
        [MAINTENANCE_OUTPUT]: config.maintenance.enabled,
        [RELEASE_STATUS_OUTPUT]: release.status.status,
        // Only where there is one: an undefined value is no output, and the engine warns of each.
        ...(storage && { backupBucket: storage.bucketName }),
        ...(copy?.serviceAccountEmail && { backupServiceAccount: copy.serviceAccountEmail }),
    };
};
