import { failedRun } from "./outcomes";
import { alertPolicy, AlertScope, jobLogsCommand, TEAMS_DATABASE, TEAMS_ROBOTS } from "./policy";

/** A run of the offsite copy failed. */
export function copyFailedAlert(scope: AlertScope): void {
    const ns = scope.namespace;
    alertPolicy(scope, {
        role: "copy-failed",
        displayName: "cópia externa do backup falhou",
        condition: failedRun(scope.outcomes.metric, "protheus.copy", "linha protheus.copy failed"),
        severity: "ERROR",
        doc: [
            `A cópia dos backups de **${ns}** para GCS/Rubrik (CronJob protheus-backup-copy, 06:00) falhou.`,
            "",
            `**Quem atende:** ${TEAMS_ROBOTS}.`,
            "",
            `**O que fazer:** ler o motivo (\`${jobLogsCommand(ns)}\`; campo \`error\` da linha JSON final). A cópia é idempotente: corrigida a causa, rodar \`kubectl -n ${ns} create job --from=cronjob/protheus-backup-copy copy-manual-$(date +%s)\`. Um backup local corrompido (saída 3) não é enviado: avisar ${TEAMS_DATABASE}.`,
        ],
        metric: scope.outcomes.resource,
    });
}
