import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { z } from "zod";
import { CONFIG_DOC, CONFIG_DOC_COMMAND, configKeys, renderConfigDoc } from "../bin/config-doc";
import { stackConfigKeys } from "../config/schema";

describe("configuration reference (docs/config.md)", () => {
    it("matches the schema", () => {
        const committed = fs.existsSync(CONFIG_DOC) ? fs.readFileSync(CONFIG_DOC, "utf8") : "";
        assert.ok(committed === renderConfigDoc(), `docs/config.md is out of date with config/schema.ts: run \`${CONFIG_DOC_COMMAND}\` and commit it`);
    });

    it("describes every key", () => {
        const undescribed = configKeys()
            .filter((k) => !k.description)
            .map((k) => k.path.join("."));
        assert.deepEqual(undescribed, [], "keys without a .describe() text in config/ (the reference's meaning column would be empty)");
    });

    it("has a row for every top-level key the config accepts", () => {
        const doc = renderConfigDoc();
        for (const key of Object.keys(stackConfigKeys.shape)) assert.match(doc, new RegExp(`^\\| \`${key}[\`.]`, "m"), key);
    });

    it("shows a key added to the schema, with its type, default and description, and one without a description", () => {
        const schema = z.preprocess(
            (x) => x,
            z.strictObject({
                stage: z.enum(["prod", "hml"]).describe("the stage"),
                flat: z.string().optional(),
                section: z
                    .strictObject({ added: z.int().min(1).max(5).default(2).describe("a key someone added"), name: z.string().describe("its name") })
                    .optional()
                    .describe("a section someone added"),
            }),
        );
        const doc = renderConfigDoc(schema);
        assert.match(doc, /^\| `stage` \| `prod` \\\| `hml` \| — \| yes \| the stage \|$/m);
        assert.match(doc, /^\| `flat` \| string \| — \| {2}\| {2}\|$/m);
        assert.match(doc, /^- \[`protheus:section`\]\(#protheussection\)$/m);
        assert.match(doc, /^## `protheus:section`\n\nA section someone added\. Optional\.$/m);
        assert.match(doc, /^\| `section.added` \| whole number, 1–5 \| `2` \| {2}\| a key someone added \|$/m);
        assert.match(doc, /^\| `section.name` \| string \| — \| yes \| its name \|$/m);
        assert.deepEqual(
            configKeys(schema)
                .filter((k) => !k.description)
                .map((k) => k.path.join(".")),
            ["flat"],
        );
    });

    it("reads a config that is a union per stage (or an intersection) as one set of keys", () => {
        const shared = { namespace: z.string().describe("the namespace") };
        const schema = z.discriminatedUnion("stage", [
            z.strictObject({
                ...shared,
                stage: z.literal("prod").describe("the stage"),
                backup: z.strictObject({ days: z.int().describe("days") }).describe("backups"),
            }),
            z.strictObject({
                ...shared,
                stage: z.literal("hml").describe("the stage"),
                backup: z
                    .strictObject({ days: z.int().describe("days") })
                    .optional()
                    .describe("backups"),
            }),
        ]);
        const doc = renderConfigDoc(schema.and(z.object({ extra: z.boolean().describe("an extra key") })));
        assert.match(doc, /^\| `stage` \| `prod` \\\| `hml` \| — \| yes \| the stage \|$/m);
        assert.match(doc, /^\| `namespace` \| string \| — \| yes \| the namespace \|$/m);
        assert.match(doc, /^\| `extra` \| boolean \| — \| yes \| an extra key \|$/m);
        assert.match(doc, /^## `protheus:backup`\n\nBackups\. Optional\.$/m);
        assert.match(doc, /^\| `backup.days` \| whole number \| — \| yes \| days \|$/m);
    });
});
