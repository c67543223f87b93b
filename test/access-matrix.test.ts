import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderAccessMatrix } from "../bin/access-matrix";
import { TEAM_IDS, TEAM_NAMES } from "../lib/access/responsibilities";
import { GRANT_IDS } from "../lib/access/permissions";

const DOC = path.resolve(__dirname, "..", "docs", "access-matrix.md");

describe("access matrix (docs/access-matrix.md)", () => {
    let md: string;
    before(async () => {
        md = await renderAccessMatrix();
    });

    it("matches the code", () => {
        const committed = fs.existsSync(DOC) ? fs.readFileSync(DOC, "utf8") : "";
        assert.ok(
            committed === md,
            "docs/access-matrix.md is out of date with lib/access/: run `npm run -s access-matrix > docs/access-matrix.md` and commit it",
        );
    });

    it("names every team and every permission", () => {
        for (const t of TEAM_IDS) assert.ok(md.includes(TEAM_NAMES[t]), t);
        for (const g of GRANT_IDS) assert.ok(md.includes(`\`${g}\``), g);
    });
});
