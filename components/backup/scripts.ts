import * as fs from "fs";
import * as path from "path";

/** The scripts the backup jobs run (lib.sh is sourced by the others); they live in scripts/ so operators and tests can run them too. */
export const BACKUP_SCRIPTS = ["backup.sh", "copy.sh", "restore.sh", "drill.sh", "lib.sh"] as const;
/** The wrapper the updater runs around init-upddistr (shipped apart from the backup scripts: the updater exists without a backup section). */
export const UPDATER_SCRIPTS = ["upddistr.sh"] as const;

const SCRIPTS_DIR = path.resolve(__dirname, "../../scripts");

function readScripts(files: readonly string[], dir: string): Record<string, string> {
    return Object.fromEntries(files.map((file) => [file, fs.readFileSync(path.join(dir, file), "utf8")]));
}

export function readBackupScripts(dir = SCRIPTS_DIR): Record<string, string> {
    return readScripts(BACKUP_SCRIPTS, dir);
}

export function readUpdaterScripts(dir = SCRIPTS_DIR): Record<string, string> {
    return readScripts(UPDATER_SCRIPTS, dir);
}
