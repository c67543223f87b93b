// The policy pack ships on its own (policy/package.json), so it keeps its own copies of the
// names it checks for; they must be the program's (components/names.ts).
import { strict as assert } from "assert";
import { BUCKET_LABELS, COPY_CRONJOB, STAGE_LABEL } from "../../components/names";
import { POD_SECURITY_LABEL } from "../../components/podSecurity";
import { BUCKET_STAGE_LABEL } from "../prod-bucket-retention";
import * as podSecurity from "../pod-security-restricted";
import * as offsite from "../prod-offsite-backup";

describe("policy pack: names it checks for are the program's", () => {
    it("the stage label, the copy CronJob, the bucket's stage label and the pod security label", () => {
        assert.deepEqual(
            { stage: offsite.STAGE_LABEL, copy: offsite.BACKUP_COPY_CRONJOB, bucketStage: BUCKET_STAGE_LABEL, podSecurity: podSecurity.POD_SECURITY_LABEL },
            { stage: STAGE_LABEL, copy: COPY_CRONJOB, bucketStage: BUCKET_LABELS.stage, podSecurity: POD_SECURITY_LABEL },
        );
    });
});
