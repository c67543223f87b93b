// Names of the objects the access rules restrict by resourceNames, taken from
// the components that create them (one definition each).
import { BACKUP_CRONJOB, COPY_CRONJOB, MANUAL_BACKUP_CRONJOB, RESTORE_CRONJOB, RESTORE_REQUEST_CONFIGMAP } from "../backup/names";
import { UPDATER_NAME } from "../UpdaterCronJob";

export { UPDATER_NAME };
/** Daily database dump into the environment volume (21:00). */
export const BACKUP_NAME = BACKUP_CRONJOB;
/** Manual backup template: `kubectl create job --from=cronjob/protheus-backup-manual` (reason `manual`). */
export const MANUAL_BACKUP_NAME = MANUAL_BACKUP_CRONJOB;
/** Copy of the day's dump to Rubrik and/or GCS (06:00). */
export const BACKUP_COPY_NAME = COPY_CRONJOB;
/** Restore template: run by hand with `kubectl create job --from=cronjob/protheus-restore`. */
export const RESTORE_NAME = RESTORE_CRONJOB;
/** What the next restore restores; created by the operator, read by the restore Job. */
export const RESTORE_REQUEST_NAME = RESTORE_REQUEST_CONFIGMAP;

/** The robots (runbook: "robôs"): the CronJobs that update and back up the environment. */
export const ROBOT_CRONJOBS = [UPDATER_NAME, BACKUP_NAME, BACKUP_COPY_NAME] as const;
