import { failedRun } from "./outcomes";
import { alertPolicy, AlertScope, TEAMS_DATABASE, TEAMS_ROBOTS } from "./policy";

/** The weekly restore drill failed: the last offsite backup may not restore. */
export function drillFailedAlert(scope: AlertScope): void {
    const ns = scope.namespace;
    alertPolicy(scope, {
        role: "drill-failed",
        displayName: "teste semanal de restore falhou",
        condition: failedRun(scope.outcomes.metric, "protheus.drill", "linha protheus.drill failed"),
        severity: "CRITICAL",
        doc: [
            `O teste semanal de restore de **${ns}** (CronJob protheus-restore-drill) falhou: o último backup externo pode não servir para um restore.`,
            "",
            `**Quem atende:** ${TEAMS_ROBOTS}; quando a restauração ou as verificações falham (contagem de linhas, tabela faltando, encoding, checagem SQL): ${TEAMS_DATABASE}.`,
            "",
            `**O que fazer:** ler o motivo (\`kubectl -n ${ns} logs job/<job do drill> --all-containers\`; campo \`error\`, código de saída em \`exit_code\`: 4 = backup ausente ou corrompido, 5 = dados restaurados diferem do backup, 6 = prazo excedido). O banco de produção não é tocado pelo teste. Corrigir e repetir: \`kubectl -n ${ns} create job --from=cronjob/protheus-restore-drill drill-manual-$(date +%s)\`. Detalhes: docs/backups.md, "Restore drill".`,
        ],
        metric: scope.outcomes.resource,
    });
}
