import * as assert from "node:assert/strict";
import { exactVersionProblem, helmReleaseExactVersion } from "../helm-release-exact-version";
import { release, runResource } from "./harness";

describe("policy helm-release-exact-version", () => {
    for (const v of ["12.1.2410", "1.4.0", "v2.0.1", "1.2.3-rc.1+build.5"]) {
        it(`accepts exact version ${v}`, async () => {
            const out = await runResource(helmReleaseExactVersion, release(v));
            assert.deepEqual(out.violations, []);
        });
    }

    for (const v of ["^12.1.0", "~12.1.0", "12.1", "12.x", "*", ">=12.1.0", "latest", "12.1.0 || 12.2.0", " 12.1.0"]) {
        it(`reports version ${JSON.stringify(v)}`, async () => {
            const out = await runResource(helmReleaseExactVersion, release(v));
            assert.equal(out.violations.length, 1);
            assert.match(out.violations[0]!, /^Release "protheus" \(chart protheus\): version /);
            assert.ok(out.violations[0]!.includes(JSON.stringify(v)), out.violations[0]);
            assert.match(out.violations[0]!, /not an exact semantic version/);
        });
    }

    it("reports a missing version", async () => {
        const out = await runResource(helmReleaseExactVersion, release(undefined));
        assert.equal(out.violations.length, 1);
        assert.match(out.violations[0]!, /version is not set/);
    });

    it("reports an empty version", async () => {
        assert.match(exactVersionProblem("") ?? "", /is not set/);
        const out = await runResource(helmReleaseExactVersion, release(""));
        assert.equal(out.violations.length, 1);
    });
});
