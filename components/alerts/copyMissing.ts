import { MISSING_RUN_HOURS, missingRun } from "./outcomes";
import { alertPolicy, AlertScope, jobLogsCommand, TEAMS_ROBOTS } from "./policy";

/** No offsite copy finished for MISSING_RUN_HOURS: it did not run (suspended, never scheduled) or it failed. */
export function copyMissingAlert(scope: AlertScope): void {
    const ns = scope.namespace;
    alertPolicy(scope, {
        role: "copy-missing",
        displayName: `nenhuma cópia externa concluída em ${MISSING_RUN_HOURS} h`,
        condition: missingRun(scope.outcomes.metric, "protheus.copy", `nenhuma linha protheus.copy ok em ${MISSING_RUN_HOURS} h`),
        severity: "ERROR",
        doc: [
            `Nenhuma cópia dos backups de **${ns}** para GCS/Rubrik terminou com sucesso nas últimas ${MISSING_RUN_HOURS} horas (a cópia não rodou ou falhou).`,
            "",
            `**Quem atende:** ${TEAMS_ROBOTS}.`,
            "",
            `**O que fazer:** ver se o CronJob protheus-backup-copy está suspenso ou se os Jobs falham (\`kubectl -n ${ns} get cronjob protheus-backup-copy\`; \`${jobLogsCommand(ns)}\`), corrigir e rodar a cópia manualmente como no alerta de falha da cópia.`,
        ],
        metric: scope.outcomes.resource,
    });
}
