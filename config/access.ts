// Stack config for access control: each team's Google Group (GKE Google Groups
// for RBAC), the teams a stack deliberately leaves out, and the ConfigMap names
// the ini rule is restricted to. Teams and duties are defined once in
// lib/access/responsibilities.ts.
import { z } from "zod";
import { DUTIES, TEAM_IDS, TEAM_NAMES, TeamId, dutiesOf } from "../lib/access/responsibilities";
import { PROGRAM_CONFIGMAPS, RESERVED_NAME_PREFIXES } from "../components/names";

export { TEAM_IDS };
export type { TeamId };

/** The ConfigMaps holding appserver.ini and dbaccess.ini, unless the stack names others. */
export const DEFAULT_INI_CONFIGMAPS = ["protheus-appserver-ini", "protheus-dbaccess-ini"] as const;

// A ConfigMap name is a DNS-1123 subdomain.
const configMapName = z
    .string({ error: "expected a ConfigMap name" })
    .max(253, { error: "expected a ConfigMap name of at most 253 characters" })
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
        error: "expected a ConfigMap name: lower-case letters, digits, '-' and '.'",
    });

/**
 * Why a ConfigMap name cannot be an ini ConfigMap, or undefined: the program's own ConfigMaps
 * (settings, scripts, restore request) and the names it reserves hold what its robots run.
 */
export function iniConfigMapProblem(name: string): string | undefined {
    if ((PROGRAM_CONFIGMAPS as readonly string[]).includes(name))
        return `${name} is a ConfigMap the program declares and its robots read; expected the name of an ini ConfigMap`;
    const prefix = RESERVED_NAME_PREFIXES.find((p) => name === p || name.startsWith(`${p}-`));
    if (prefix) return `names ${prefix} and ${prefix}-* are reserved for the program's own objects; expected the name of an ini ConfigMap`;
    return undefined;
}

export const accessSchema = z
    .strictObject({
        groups: z
            .partialRecord(z.enum(TEAM_IDS), z.email({ error: "expected a Google Group e-mail address" }))
            .default({})
            .describe("each team's Google Group e-mail; a team without one must be opted out"),
        /** Teams deliberately without access in this stack, each with a written reason. */
        optOut: z
            .partialRecord(z.enum(TEAM_IDS), z.string().trim().min(10, { error: "expected a written reason (at least 10 characters)" }))
            .default({})
            .describe("a team deliberately without access in this stack, with the reason (at least 10 characters)"),
        /** The only ConfigMaps the ini duty may edit. */
        iniConfigMaps: z
            .array(configMapName, { error: "expected a list of ConfigMap names" })
            .min(1, { error: "expected at least one ConfigMap name" })
            .refine((names) => new Set(names).size === names.length, { error: "expected each ConfigMap name at most once" })
            .superRefine((names, ctx) => {
                names.forEach((name, i) => {
                    const problem = iniConfigMapProblem(name);
                    if (problem) ctx.addIssue({ code: "custom", path: [i], message: problem });
                });
            })
            .default([...DEFAULT_INI_CONFIGMAPS])
            .describe("the only ConfigMaps the ini duty may edit; never one the program declares nor a name it reserves"),
        /**
         * The Kubernetes user names that run `pulumi up` (the deploy workflow's Google service account e-mail):
         * the admission policies hold everyone else to the program's templates, and the program itself creates Jobs.
         */
        deployers: z
            .array(z.string({ error: "expected a Kubernetes user name" }).trim().min(1, { error: "expected a Kubernetes user name" }), {
                error: "expected the list of Kubernetes user names that deploy this program (the deploy workflow's Google service account e-mail)",
            })
            .min(1, { error: "expected at least one deployer: the deploy workflow's Google service account e-mail" })
            .refine((names) => names.every((n) => !n.startsWith("system:")), { error: "expected deployers outside system:, which the policies already trust" })
            .describe("who runs `pulumi up` (the deploy workflow's Google service account e-mail, as GKE names it): the admission policies hold everyone else"),
    })
    .superRefine((access, ctx) => {
        for (const team of TEAM_IDS) {
            const hasGroup = access.groups[team] !== undefined;
            const optedOut = access.optOut[team] !== undefined;
            if (!hasGroup && !optedOut) {
                const duties = dutiesOf(team)
                    .map((d) => DUTIES[d].title)
                    .join("; ");
                ctx.addIssue({
                    code: "custom",
                    path: ["groups", team],
                    message: `required: expected the Google Group e-mail of ${TEAM_NAMES[team]} (duties: ${duties}), or opt the team out with protheus:access.optOut.${team}: "<reason>"`,
                });
            } else if (hasGroup && optedOut) {
                ctx.addIssue({
                    code: "custom",
                    path: ["optOut", team],
                    message: `${TEAM_NAMES[team]} has both a group (protheus:access.groups.${team}) and an opt-out: keep one`,
                });
            }
        }
    });

export type AccessConfig = z.infer<typeof accessSchema>;
