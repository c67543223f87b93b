import * as assert from "node:assert/strict";
import { bucketNoPublicAccess } from "../bucket-no-public-access";
import { prodBucketRetention } from "../prod-bucket-retention";
import { bucket, runResource } from "./harness";

const privateBucket = { uniformBucketLevelAccess: true, publicAccessPrevention: "enforced" };

describe("policy bucket-no-public-access", () => {
    it("accepts an enforced, uniform bucket", async () => {
        const out = await runResource(bucketNoPublicAccess, bucket("backups", { ...privateBucket, labels: { namespace: "c2a7dv", stage: "hml" } }));
        assert.deepEqual(out.violations, []);
    });

    it("reports both fields when missing", async () => {
        const out = await runResource(bucketNoPublicAccess, bucket("backups", {}));
        assert.deepEqual(out.violations, [
            'Bucket "backups": publicAccessPrevention is not set; it must be "enforced".',
            'Bucket "backups": uniformBucketLevelAccess is not set; it must be true.',
        ]);
    });

    it('reports publicAccessPrevention "inherited"', async () => {
        const out = await runResource(bucketNoPublicAccess, bucket("backups", { ...privateBucket, publicAccessPrevention: "inherited" }));
        assert.equal(out.violations.length, 1);
        assert.match(out.violations[0]!, /publicAccessPrevention is "inherited"/);
    });

    it("reports uniformBucketLevelAccess false", async () => {
        const out = await runResource(bucketNoPublicAccess, bucket("backups", { ...privateBucket, uniformBucketLevelAccess: false }));
        assert.equal(out.violations.length, 1);
        assert.match(out.violations[0]!, /uniformBucketLevelAccess is false/);
    });
});

describe("policy prod-bucket-retention", () => {
    const prodLabels = { labels: { namespace: "c2a7dv", stage: "prod" } };

    it("accepts a prod bucket with a retention period (string seconds, as @pulumi/gcp types it)", async () => {
        const out = await runResource(
            prodBucketRetention,
            bucket("backups", { ...privateBucket, ...prodLabels, retentionPolicy: { retentionPeriod: "2592000", isLocked: false } }),
            "prod",
        );
        assert.deepEqual(out.violations, []);
    });

    it("accepts a numeric retention period", async () => {
        const out = await runResource(prodBucketRetention, bucket("backups", { ...prodLabels, retentionPolicy: { retentionPeriod: 86400 } }));
        assert.deepEqual(out.violations, []);
    });

    it("ignores an hml bucket without retention in the hml stack", async () => {
        const out = await runResource(prodBucketRetention, bucket("backups", { ...privateBucket, labels: { stage: "hml" } }), "hml");
        assert.deepEqual(out.violations, []);
    });

    it("reports a bucket labelled stage=prod without retentionPolicy", async () => {
        const out = await runResource(prodBucketRetention, bucket("backups", { ...privateBucket, ...prodLabels }), "hml");
        assert.equal(out.violations.length, 1);
        assert.equal(
            out.violations[0],
            'Bucket "backups": production bucket (labels.stage is prod) has no retentionPolicy; set retentionPolicy.retentionPeriod (seconds).',
        );
    });

    it("treats every bucket of the stack named prod as production", async () => {
        const out = await runResource(prodBucketRetention, bucket("backups", { ...privateBucket }), "prod");
        assert.equal(out.violations.length, 1);
        assert.match(out.violations[0]!, /production bucket \(stack is prod\) has no retentionPolicy/);
    });

    for (const period of [0, "0", -5, "", "30d", undefined]) {
        it(`reports retentionPeriod ${JSON.stringify(period)}`, async () => {
            const retentionPolicy = period === undefined ? {} : { retentionPeriod: period };
            const out = await runResource(prodBucketRetention, bucket("backups", { ...prodLabels, retentionPolicy }), "prod");
            assert.equal(out.violations.length, 1);
            assert.match(out.violations[0]!, /retentionPolicy\.retentionPeriod .*must be a positive number of seconds/);
        });
    }
});
