// Names operators type (`kubectl create job --from=cronjob/protheus-restore`);
// the access rules and the policy pack refer to the same objects.
export const BACKUP_CRONJOB = "protheus-backup";
/** The manual backup template: suspended, run as `kubectl create job --from=cronjob/protheus-backup-manual`; records reason `manual`. */
export const MANUAL_BACKUP_CRONJOB = "protheus-backup-manual";
export const COPY_CRONJOB = "protheus-backup-copy";
export const RESTORE_CRONJOB = "protheus-restore";
export const SCRIPTS_CONFIGMAP = "protheus-backup-scripts";
/**
 * Database connection, dump jobs and retention, read by every backup and restore Job with envFrom:
 * changing them changes this ConfigMap, never the spec of a Job (which would make Pulumi re-run it).
 */
export const SETTINGS_CONFIGMAP = "protheus-backup-settings";
/** The restore Job `pulumi up` runs for protheus:restore. */
export const RESTORE_JOB_PREFIX = "protheus-restore-";
/** Operators put RESTORE_BACKUP / RESTORE_SOURCE / RESTORE_REPLACE here before a restore. */
export const RESTORE_REQUEST_CONFIGMAP = "protheus-restore-request";
export const BACKUP_SERVICE_ACCOUNT = "protheus-backup";
export const DATABASE_SECRET = "protheus-backup-database";
/** Where backups land inside the environment volume. */
export const BACKUP_SUBDIR = "backups";
