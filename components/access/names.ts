// Names of the CronJobs the access rules restrict by resourceNames.
// The updater's name comes from its component; the backup and restore
// CronJobs are being built (issue: backups): until that component exports
// its names, they are defined here, once. Move them there and re-export.
import { UPDATER_NAME } from "../UpdaterCronJob";

export { UPDATER_NAME };
/** Daily database dump into the environment volume (21:00). */
export const BACKUP_NAME = "protheus-backup";
/** Copy of the day's dump to Rubrik and/or GCS (06:00). */
export const BACKUP_COPY_NAME = "protheus-backup-copy";
/** Restore template: run by hand with `kubectl create job --from=cronjob/protheus-restore`. */
export const RESTORE_NAME = "protheus-restore";

/** The robots (runbook: "robôs"): the CronJobs that update and back up the environment. */
export const ROBOT_CRONJOBS = [UPDATER_NAME, BACKUP_NAME, BACKUP_COPY_NAME] as const;
