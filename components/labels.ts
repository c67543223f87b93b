// Labels shared by every object this program creates, so `kubectl get -l`
// and the policy pack can tell a stage's objects apart.
export const PART_OF = "protheus";
export const STAGE_LABEL = "protheus.totvs.com/stage";
export const MANAGED_BY = "pulumi";

export type Stage = "prod" | "hml";

export function commonLabels(stage: Stage, component?: string): Record<string, string> {
    return {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        [STAGE_LABEL]: stage,
        ...(component ? { "app.kubernetes.io/component": component } : {}),
    };
}
