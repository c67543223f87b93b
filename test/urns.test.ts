// A deployed stack keeps a resource only if the new program declares it under the URN in the
// stack's state, or under an alias of it: any other URN is a delete and a create (for a bucket,
// a claim or a namespace, the data in it). test/fixtures/urns.json records the URNs the program
// declared before its logical names last changed (test/support/write-urn-fixture.ts).
import { strict as assert } from "assert";
import * as fs from "fs";
import { URN_FIXTURE } from "./support/write-urn-fixture";
import { DeclaredResource, declaredUrns, urnFixtureStacks, urnPath } from "./support/urns";

const recorded = JSON.parse(fs.readFileSync(URN_FIXTURE, "utf8")) as Record<string, string[]>;

/** The recorded URNs no resource of `declared` answers to. */
function unreachable(urns: string[], declared: DeclaredResource[]): string[] {
    const reachable = new Set(declared.flatMap((d) => d.urns));
    return urns.filter((urn) => !reachable.has(urn)).map(urnPath);
}

describe("every URN a deployed stack holds is declared again, or aliased", () => {
    const stacks = urnFixtureStacks();

    it("the fixture records the stacks this test renders", () => {
        assert.deepEqual(Object.keys(recorded), Object.keys(stacks));
    });

    for (const [label, input] of Object.entries(stacks)) {
        it(`${label}: each recorded URN is one resource's URN or alias, and no URN answers for two resources`, async () => {
            const declared = await declaredUrns(input);
            assert.deepEqual(unreachable(recorded[label], declared), []);
            const owners = new Map<string, string>();
            const claimedTwice: string[] = [];
            for (const d of declared)
                for (const urn of new Set(d.urns)) {
                    if (owners.has(urn)) claimedTwice.push(`${urnPath(urn)} (${urnPath(owners.get(urn)!)} and ${urnPath(d.urn)})`);
                    owners.set(urn, d.urn);
                }
            assert.deepEqual(claimedTwice, []);
            // The check can fail: a URN no resource answers to is reported.
            const gone = recorded[label][0].replace(/::([^:]+)$/, "::$1-gone");
            assert.deepEqual(unreachable([gone], declared), [urnPath(gone)]);
        });
    }
});
