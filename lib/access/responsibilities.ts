// The runbook's "Responsabilidades" table, as data, written once.
// Every other part of the access code (Roles, bindings, bucket IAM, the
// access matrix, the config's team ids) is derived from this module.
// To change who does what, change this table (and the runbook page).

/** Team ids: the keys of `protheus:access.groups.<team>` and `protheus:access.optOut.<team>`. */
export const TEAM_IDS = ["gcad", "tecnologia", "framework", "smartsre", "devops-protheus", "devops-cloud", "dbas", "cliente"] as const;
export type TeamId = (typeof TEAM_IDS)[number];

/** How the runbook names each team. */
export const TEAM_NAMES: Readonly<Record<TeamId, string>> = {
    gcad: "GCAD",
    tecnologia: "Tecnologia",
    framework: "Framework",
    smartsre: "SmartSRE",
    "devops-protheus": "Devops Protheus",
    "devops-cloud": "Devops Cloud",
    dbas: "DBAs (Engenharia/Cloud)",
    cliente: "Cliente",
};

export const DUTY_IDS = [
    "artifacts-rpo",
    "artifacts-binaries",
    "artifacts-license-server",
    "maintain-robots",
    "build-images",
    "build-chart",
    "update-environment",
    "maintain-database",
    "configurador",
    "collect-logs",
    "maintain-ini",
] as const;
export type DutyId = (typeof DUTY_IDS)[number];

export interface Duty {
    /** The duty in English. */
    readonly title: string;
    /** The runbook's own words. */
    readonly runbook: string;
    /** The teams that carry it, as the runbook lists them. */
    readonly teams: readonly TeamId[];
}

export const DUTIES: Readonly<Record<DutyId, Duty>> = {
    "artifacts-rpo": {
        title: "provide artifacts for the images: RPO and dictionaries",
        runbook: "Disponibilização dos artefatos para a geração das imagens: RPO e Dicionários",
        teams: ["gcad"],
    },
    "artifacts-binaries": {
        title: "provide artifacts for the images: binaries (appserver, dbaccess, lockserver)",
        runbook: "Disponibilização dos artefatos para a geração das imagens: Binários (appserver, dbaccess, lockserver)",
        teams: ["tecnologia"],
    },
    "artifacts-license-server": {
        title: "provide artifacts for the images: LicenseServer",
        runbook: "Disponibilização dos artefatos para a geração das imagens: LicenseServer",
        teams: ["framework"],
    },
    "maintain-robots": {
        title: "maintain the robots (update and backup jobs)",
        runbook: "Manutenção dos robôs",
        teams: ["smartsre", "devops-protheus"],
    },
    "build-images": {
        title: "build the images",
        runbook: "Geração das imagens",
        teams: ["smartsre", "devops-cloud"],
    },
    "build-chart": {
        title: "build the chart",
        runbook: "Geração do chart",
        teams: ["smartsre", "devops-cloud"],
    },
    "update-environment": {
        title: "update the environment",
        runbook: "Atualização do ambiente",
        teams: ["smartsre", "devops-cloud"],
    },
    "maintain-database": {
        title: "maintain the database (backup, restore)",
        runbook: "Manutenção do banco de dados",
        teams: ["dbas", "smartsre"],
    },
    configurador: {
        title: "maintain data through the Configurador (the ERP's admin UI)",
        runbook: "Manutenção dos dados via configurador",
        teams: ["cliente"],
    },
    "collect-logs": {
        title: "collect the environment's logs",
        runbook: "Coleta de logs do ambiente",
        teams: ["cliente", "smartsre"],
    },
    "maintain-ini": {
        title: "maintain the environment's ini files (appserver.ini, dbaccess.ini)",
        runbook: "Manutenção nos inis do ambiente",
        teams: ["cliente", "devops-cloud"],
    },
};

/** The duties a team carries, in table order. */
export function dutiesOf(team: TeamId): DutyId[] {
    return DUTY_IDS.filter((d) => DUTIES[d].teams.includes(team));
}
