import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "../config/load";
import { fleetView, formatMarkdown, formatText, main, releasesBetween } from "../bin/fleet";
import { environmentFiles } from "../bin/new-environment";
import { REPO_ROOT } from "../lib/stackFiles";
import { runMain } from "./support/commandMain";

describe("npm run fleet", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-view-"));
        for (const f of ["Pulumi.yaml", "Pulumi.c2a7dv-hml.yaml", "Pulumi.c2a7dv-prod.yaml"]) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(dir, f));
        const files = environmentFiles("x9k2pq", "12.1.2510", "protheus-cliente-x9k2pq@totvs.com.br");
        // x9k2pq: hml has the sleeper on (whole updater object in the stack), prod is suspended.
        const updater = (flag: string) =>
            `  protheus:updater:\n    image: southamerica-east1-docker.pkg.dev/totvs-protheus/images/protheus-updater\n    schedule: "*/15 * * * *"\n    ${flag}: true\n`;
        fs.writeFileSync(path.join(dir, "Pulumi.x9k2pq-hml.yaml"), files["x9k2pq-hml"] + updater("sleeper"));
        // prod also overrides the shared volume size and is a canary (wave 1).
        fs.writeFileSync(
            path.join(dir, "Pulumi.x9k2pq-prod.yaml"),
            files["x9k2pq-prod"] + updater("suspend") + "  protheus:volume:\n    size: 1Ti\n  protheus:rollout:\n    wave: 1\n",
        );
        fs.writeFileSync(path.join(dir, "Pulumi.ab12cd-hml.yaml"), environmentFiles("ab12cd", "12.1.2610", "g@totvs.com.br")["ab12cd-hml"]);
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("gives one entry per environment: versions, how far prod trails, switches, backup targets, wave, overridden keys, override", () => {
        const view = fleetView(dir);
        assert.deepEqual(
            view.map((e) => e.environment),
            ["ab12cd", "c2a7dv", "x9k2pq"],
        );
        const [ab, c2, x9] = view;
        assert.equal(ab.prod, null);
        assert.equal(ab.prodTrailsBy, null);
        const compact = { wave: 2, overrides: [], repeats: [] };
        assert.deepEqual(c2.hml, {
            stack: "c2a7dv-hml",
            version: "12.1.2510",
            cluster: "totvs-protheus/southamerica-east1/protheus-hml",
            switches: [],
            backupTargets: ["gcs"],
            ...compact,
        });
        assert.deepEqual(c2.prod, {
            stack: "c2a7dv-prod",
            version: "12.1.2410",
            cluster: "totvs-protheus/southamerica-east1/protheus-prod",
            switches: [],
            backupTargets: ["gcs", "rubrik"],
            ...compact,
        });
        assert.equal(c2.prodTrailsBy, 1);
        assert.equal(c2.override?.version, "12.1.2410");
        assert.deepEqual(x9.hml?.switches, ["sleeper"]);
        assert.deepEqual(x9.prod?.switches, ["suspend"]);
        // The updater's image and schedule repeat the shared ones; suspend is not shared at all; the volume size and wave differ.
        assert.deepEqual([x9.prod?.overrides, x9.prod?.repeats, x9.prod?.wave], [["volume.size", "rollout.wave"], ["updater.image", "updater.schedule"], 1]);
        assert.deepEqual([x9.hml?.overrides, x9.hml?.wave], [[], 2]);
        assert.equal(x9.prodTrailsBy, 0);
        assert.equal(x9.override, null);
    });

    it("prints an aligned line per environment, and a markdown table for a PR comment", () => {
        const text = formatText(fleetView(dir)).split("\n");
        assert.match(text[0], /^environment +hml +prod +prod trails by +clusters +switches on +backup targets +wave +overrides +override$/);
        assert.match(
            text[2],
            /^c2a7dv +12\.1\.2510 +12\.1\.2410 +1 release +hml: totvs-protheus\/southamerica-east1\/protheus-hml; prod: totvs-protheus\/southamerica-east1\/protheus-prod +- +hml: gcs; prod: gcs, rubrik +hml: 2; prod: 2 +- +12\.1\.2410: prod ran/,
        );
        assert.match(
            text[3],
            /^x9k2pq +12\.1\.2510 +12\.1\.2510 +0 +hml: \S+protheus-hml; prod: \S+protheus-prod +hml: sleeper; prod: suspend +hml: gcs; prod: gcs, rubrik +hml: 2; prod: 1 +hml: updater\.image \(= shared\), updater\.schedule \(= shared\); prod: volume\.size, rollout\.wave, updater\.image \(= shared\), updater\.schedule \(= shared\) +-$/,
        );
        const md = formatMarkdown(fleetView(dir)).split("\n");
        assert.equal(md[0], "| environment | hml | prod | prod trails by | clusters | switches on | backup targets | wave | overrides | override |");
        assert.equal(
            md[3],
            "| c2a7dv | 12.1.2510 | 12.1.2410 | 1 release | hml: totvs-protheus/southamerica-east1/protheus-hml; prod: totvs-protheus/southamerica-east1/protheus-prod | - | hml: gcs; prod: gcs, rubrik | hml: 2; prod: 2 | - | 12.1.2410: prod ran 12.1.2410 before hml recorded its history; drop when prod moves |",
        );
    });

    it("refuses an invalid stack file, listing its problems", () => {
        fs.appendFileSync(path.join(dir, "Pulumi.ab12cd-hml.yaml"), "  protheus:timeZone: Mars/Olympus\n");
        assert.throws(
            () => fleetView(dir),
            (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith("ab12cd-hml: protheus:timeZone")),
        );
        fs.writeFileSync(
            path.join(dir, "Pulumi.ab12cd-hml.yaml"),
            environmentFiles("ab12cd", "12.1.2610", "g@totvs.com.br")["ab12cd-prod"].replace("ab12cd-prod", "x"),
        );
        assert.throws(() => fleetView(dir), /stack "ab12cd-hml" is named for stage hml but its protheus:stage = "prod"/);
    });

    it("counts releases between versions named in the fleet", () => {
        const known = ["12.1.2310", "12.1.2410", "12.1.2510", "12.1.2510-1"];
        assert.equal(releasesBetween("12.1.2310", "12.1.2510", known), 3);
        assert.equal(releasesBetween("12.1.2510", "12.1.2510", known), 0);
        assert.equal(releasesBetween("12.1.2510", "12.1.2410", known), -2);
        assert.equal(releasesBetween("12.1.2410", "12.1.2710", known), 3);
    });

    it("--json prints exactly one array for the repository", async () => {
        const res = await runMain(main, ["--json"]);
        assert.equal(res.status, 0, res.stderr);
        const parsed = JSON.parse(res.stdout);
        assert.ok(Array.isArray(parsed));
        assert.deepEqual(
            parsed.map((e: { environment: string }) => e.environment),
            ["c2a7dv"],
        );
    });
});
