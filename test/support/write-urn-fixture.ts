// Records the URNs the program declares today for the stacks of test/support/urns.ts in
// test/fixtures/urns.json. Run it on the commit before a change of logical names (never after):
// test/urns.test.ts then proves every recorded URN is still declared or reachable by an alias.
//   npx ts-node --swc test/support/write-urn-fixture.ts
import * as fs from "fs";
import * as path from "path";
import { declaredUrns, urnFixtureStacks } from "./urns";

export const URN_FIXTURE = path.join(__dirname, "..", "fixtures", "urns.json");

async function main(): Promise<void> {
    const recorded: Record<string, string[]> = {};
    for (const [label, input] of Object.entries(urnFixtureStacks())) recorded[label] = (await declaredUrns(input)).map((d) => d.urn).sort();
    fs.writeFileSync(URN_FIXTURE, `${JSON.stringify(recorded, null, 4)}\n`);
}

if (require.main === module) main();
