import * as fs from "fs";
import * as path from "path";

/** The scripts the backup jobs run (lib.sh is sourced by the others); they live in scripts/ so operators and tests can run them too. */
export const BACKUP_SCRIPTS = ["backup.sh", "copy.sh", "restore.sh", "drill.sh", "lib.sh"] as const;

export function readBackupScripts(dir = path.resolve(__dirname, "../../scripts")): Record<string, string> {
    return Object.fromEntries(BACKUP_SCRIPTS.map((file) => [file, fs.readFileSync(path.join(dir, file), "utf8")]));
}
