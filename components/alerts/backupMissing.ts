import { MISSING_RUN_HOURS, missingRun } from "./outcomes";
import { alertPolicy, AlertScope, jobLogsCommand, TEAMS_DATABASE, TEAMS_ROBOTS } from "./policy";

/** No nightly backup finished for MISSING_RUN_HOURS: until there is one, the environment must not be updated. */
export function backupMissingAlert(scope: AlertScope): void {
    const ns = scope.namespace;
    alertPolicy(scope, {
        role: "backup-missing",
        displayName: `nenhum backup concluído em ${MISSING_RUN_HOURS} h`,
        condition: missingRun(scope.outcomes.metric, "protheus.backup", `nenhuma linha protheus.backup ok em ${MISSING_RUN_HOURS} h`),
        severity: "CRITICAL",
        doc: [
            `O backup diário do banco do ambiente **${ns}** (CronJob protheus-backup, 21:00) não terminou com sucesso nas últimas ${MISSING_RUN_HOURS} horas.`,
            "",
            `**Quem atende:** ${TEAMS_ROBOTS}. Se o erro for do banco (conexão, senha, permissão, espaço): ${TEAMS_DATABASE}.`,
            "",
            `**O que fazer:** ver o último Job e o motivo na última linha do log (\`${jobLogsCommand(ns)}\`; a linha JSON final traz \`error\`). Corrigir a causa e rodar um backup manual: \`kubectl -n ${ns} create job --from=cronjob/protheus-backup-manual backup-manual-$(date +%s)\`. Até haver um backup novo, não atualizar o ambiente.`,
        ],
        metric: scope.outcomes.resource,
    });
}
