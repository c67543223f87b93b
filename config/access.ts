// Stack config for access control: each team's Google Group (GKE Google Groups for RBAC).
// OWNED BY the access-control work (issue 4); this is the agreed shape.
import { z } from "zod";

export const TEAM_IDS = ["gcad", "tecnologia", "framework", "smartsre", "devops-protheus", "devops-cloud", "dbas", "cliente"] as const;
export type TeamId = (typeof TEAM_IDS)[number];

export const accessSchema = z.strictObject({
    groups: z.partialRecord(z.enum(TEAM_IDS), z.email({ error: "expected a Google Group e-mail address" })).default({}),
    /** Teams deliberately without access in this stack, each with a written reason. */
    optOut: z.partialRecord(z.enum(TEAM_IDS), z.string().min(10, { error: "expected a written reason (at least 10 characters)" })).default({}),
});

export type AccessConfig = z.infer<typeof accessSchema>;
