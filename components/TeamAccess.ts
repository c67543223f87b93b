import * as storage from "@pulumi/gcp/storage";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AccessNames, teamReadsBackupBucket, teamRules } from "../lib/access/permissions";
import { TEAM_IDS, TeamId, dutiesOf } from "../lib/access/responsibilities";
import { commonLabels, Stage } from "./labels";
import { childName, COMPONENTS, DUTIES_ANNOTATION, TEAM_LABEL } from "./names";
/** GCS role of the teams that restore: read objects, never write or delete. */
export const BACKUP_READER_ROLE = "roles/storage.objectViewer";

/** The Role and RoleBinding name of a team. */
export function teamObjectName(team: TeamId): string {
    return `protheus-${team}`;
}

export interface TeamAccessArgs {
    namespace: pulumi.Input<string>;
    stage: Stage;
    /** Each team's Google Group e-mail (a member of gke-security-groups@<domain>). */
    groups: Partial<Record<TeamId, string>>;
    /** Teams deliberately left without access, with the reason. */
    optOut?: Partial<Record<TeamId, string>>;
    /** The only ConfigMaps the ini duty may edit. */
    iniConfigMaps: readonly string[];
    /** The backup bucket's name; absent when the stack has no GCS target. */
    backupBucket?: pulumi.Input<string>;
}

/**
 * Team access from the runbook's responsibility table: per team, one Role with
 * the union of its duties' rules and one RoleBinding to the team's Google
 * Group, in the environment namespace only; read access to the backup bucket
 * for the teams that restore. Derived from lib/access/.
 */
export class TeamAccess extends pulumi.ComponentResource {
    public readonly roles: Partial<Record<TeamId, k8s.rbac.v1.Role>> = {};
    public readonly bindings: Partial<Record<TeamId, k8s.rbac.v1.RoleBinding>> = {};
    public readonly bucketReaders: Partial<Record<TeamId, storage.BucketIAMMember>> = {};

    constructor(name: string, args: TeamAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:TeamAccess", name, {}, opts);
        const names: AccessNames = { iniConfigMaps: args.iniConfigMaps };
        const optOut = args.optOut ?? {};
        const unaccounted = TEAM_IDS.filter((t) => args.groups[t] === undefined && optOut[t] === undefined);
        if (unaccounted.length > 0) {
            // The config schema reports this first; a direct caller gets the same rule.
            throw new Error(`TeamAccess ${name}: no group and no opt-out for ${unaccounted.map((t) => `protheus:access.groups.${t}`).join(", ")}`);
        }

        for (const team of TEAM_IDS) {
            const group = args.groups[team];
            if (group === undefined) continue;
            const objectName = teamObjectName(team);
            const metadata = {
                name: objectName,
                namespace: args.namespace,
                labels: { ...commonLabels(args.stage, COMPONENTS.access), [TEAM_LABEL]: team },
                annotations: { [DUTIES_ANNOTATION]: dutiesOf(team).join(",") },
            };
            const role = new k8s.rbac.v1.Role(childName(name, team), { metadata, rules: teamRules(team, names) }, { parent: this });
            this.roles[team] = role;
            this.bindings[team] = new k8s.rbac.v1.RoleBinding(
                childName(name, team),
                {
                    metadata,
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                    subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: group }],
                },
                { parent: this },
            );
            if (args.backupBucket !== undefined && teamReadsBackupBucket(team)) {
                this.bucketReaders[team] = new storage.BucketIAMMember(
                    childName(name, `${team}-backup-read`),
                    { bucket: args.backupBucket, role: BACKUP_READER_ROLE, member: `group:${group}` },
                    { parent: this },
                );
            }
        }
        this.registerOutputs({
            roles: Object.fromEntries(Object.entries(this.roles).flatMap(([t, r]) => (r ? [[t, r.metadata.name]] : []))),
        });
    }
}
