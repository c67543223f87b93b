// A deployed stack keeps a resource only if the new program declares it under the URN in the
// stack's state, or under an alias of it: any other URN is a delete and a create (for a bucket,
// a claim or a namespace, the data in it). test/fixtures/urns.json records the URNs the program
// declared before its logical names last changed (test/support/write-urn-fixture.ts).
import { strict as assert } from "assert";
import * as fs from "fs";
import { URN_FIXTURE } from "./support/write-urn-fixture";
import { urnPath } from "../lib/urns";
import { DeclaredResource, declaredUrns, matchState, urnFixtureStacks } from "./support/urns";

const recorded = JSON.parse(fs.readFileSync(URN_FIXTURE, "utf8")) as Record<string, string[]>;

/** The state URNs no declared resource takes over, and those two resources would. */
function lost(state: string[], declared: DeclaredResource[]): { unmatched: string[]; claimedTwice: string[] } {
    const taken = [...matchState(declared, new Set(state)).values()].filter((urn) => urn !== undefined);
    return {
        unmatched: state.filter((urn) => !taken.includes(urn)).map(urnPath),
        claimedTwice: taken.filter((urn, i) => taken.indexOf(urn) !== i).map(urnPath),
    };
}

describe("every URN a deployed stack holds is declared again, or aliased", () => {
    const stacks = urnFixtureStacks();

    it("the fixture records the stacks this test renders", () => {
        assert.deepEqual(Object.keys(recorded), Object.keys(stacks));
    });

    for (const [label, input] of Object.entries(stacks)) {
        it(`${label}: each recorded URN is taken over by exactly one resource`, async () => {
            const declared = await declaredUrns(input);
            assert.deepEqual(lost(recorded[label], declared), { unmatched: [], claimedTwice: [] });
            // The check can fail: a URN no resource answers to is reported.
            const gone = recorded[label][0].replace(/::([^:]+)$/, "::$1-gone");
            assert.deepEqual(lost([gone], declared), { unmatched: [urnPath(gone)], claimedTwice: [] });
        });
    }
});
