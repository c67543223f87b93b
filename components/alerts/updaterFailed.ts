import { failedRun } from "./outcomes";
import { alertPolicy, AlertScope, TEAMS_ROBOTS } from "./policy";

/** The updater (UPDDISTR) ended in error: the runbook's triage follows from its log. */
export function updaterFailedAlert(scope: AlertScope): void {
    const ns = scope.namespace;
    alertPolicy(scope, {
        role: "updater-failed",
        displayName: "atualização (UPDDISTR) falhou",
        condition: failedRun(scope.outcomes.metric, "protheus.updater", "linha protheus.updater failed"),
        severity: "ERROR",
        doc: [
            `O atualizador de **${ns}** (CronJob protheus-updater, UPDDISTR) terminou com erro.`,
            "",
            `**Quem atende:** ${TEAMS_ROBOTS}.`,
            "",
            `**O que fazer:** ler o fim do UPDDISTR.LOG e o result.json impressos pelo pod (\`kubectl -n ${ns} logs job/<job do updater>\`) e seguir a triagem do runbook (erro de usuário/senha: HLCLOUD, nova execução; erro em campos/índices novos: abortar, módulo dono, ATUSX, GCAD; campos já existentes: time de banco de dados de engenharia; infraestrutura: corrigir e repetir).`,
        ],
        metric: scope.outcomes.resource,
    });
}
