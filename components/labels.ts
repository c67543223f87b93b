// Labels shared by every object this program creates, so `kubectl get -l`
// and the policy pack can tell a stage's objects apart (keys in ./names).
import { COMPONENT_LABEL, ComponentName, MANAGED_BY, MANAGED_BY_LABEL, PART_OF, PART_OF_LABEL, STAGE_LABEL } from "./names";

export type Stage = "prod" | "hml";

export function commonLabels(stage: Stage, component?: ComponentName): Record<string, string> {
    return {
        [PART_OF_LABEL]: PART_OF,
        [MANAGED_BY_LABEL]: MANAGED_BY,
        [STAGE_LABEL]: stage,
        ...(component ? { [COMPONENT_LABEL]: component } : {}),
    };
}
