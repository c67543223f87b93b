// The procedures of docs/operacao.md replayed as the pull requests the guide asks
// for, on a scratch copy of the repository: each block's `pulumi config` commands
// change the stack file as Pulumi writes it, the block's `npm run plan ... --diff
// main` runs with the arguments as written (the copy's npm script is bin/plan.ts,
// whose main runs in this process), and the merge moves main. Each run is checked for its exit code and for the objects
// the guide promises, in the order the guide gives them.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml, stringify } from "yaml";
import { REPO_ROOT } from "../lib/stackFiles";
import { FleetRepo, programRepo } from "./support/fleetRepo";
import { applyConfigCommand, configCommand, GuideCommand, guideCommands } from "./support/guideCommands";
import { shellWords } from "./support/kubectlRequests";
import { npmScriptCommand, npmScriptFile } from "./support/npmScript";
import { CommandRun } from "./support/commandMain";
import { planHere } from "./support/planHere";

const GUIDE = fs.readFileSync(path.join(REPO_ROOT, "docs", "operacao.md"), "utf8");
const COMMANDS = guideCommands(GUIDE);

/** The lines of the guide's section that starts with `heading`. */
function sectionStart(heading: string): number {
    const at = GUIDE.split("\n").findIndex((l) => l.startsWith(heading));
    assert.ok(at >= 0, `the guide has a section ${heading}`);
    return at + 1;
}

/** The commands of the `n`th shell block (from 0) that holds a `pulumi config` command, after the section's heading. */
function configBlock(heading: string, n: number): GuideCommand[] {
    const from = sectionStart(heading);
    const blocks = [...new Set(COMMANDS.filter((c) => c.line > from && c.text.startsWith("pulumi config")).map((c) => c.block))];
    const block = blocks[n];
    assert.ok(block !== undefined, `block ${n} of ${heading}`);
    return COMMANDS.filter((c) => c.block === block);
}

/** A plan the guide's block ran, and its command line as the guide writes it. */
interface GuideRun extends CommandRun {
    command: string;
}

/** A pull request: a branch off main, the block's config commands committed, its plan run as written. */
async function pullRequest(repo: FleetRepo, name: string, block: GuideCommand[], edit: (c: GuideCommand) => boolean = () => true): Promise<GuideRun[]> {
    repo.git("checkout", "-q", "-B", name, "main");
    const runs: GuideRun[] = [];
    for (const c of block) {
        const words = shellWords(c.text);
        if (words[0] === "pulumi") {
            if (!edit(c)) continue;
            const cmd = configCommand(c, words);
            const file = path.join(repo.dir, `Pulumi.${cmd.stack}.yaml`);
            const doc = parseYaml(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
            applyConfigCommand(doc.config, cmd);
            fs.writeFileSync(file, stringify(doc));
        } else if (words[0] === "npm") {
            if (repo.git("status", "--porcelain").trim() !== "") repo.commit(`${name}: ${block[0].text}`);
            // `npm run <script> -- <args>` as written: the script is plan's command, given the args
            const [run, script, dashes, ...args] = words.slice(1);
            assert.deepEqual([run, dashes], ["run", "--"], `line ${c.line}: npm run <script> -- <args>: ${c.text}`);
            assert.equal(npmScriptFile(script, repo.dir), "bin/plan.ts", `line ${c.line}: ${c.text}`);
            const r = await planHere(args, repo.dir);
            runs.push({ command: c.text, ...r });
        } else {
            assert.fail(`line ${c.line}: a config block runs only pulumi config and npm run plan: ${c.text}`);
        }
    }
    if (repo.git("status", "--porcelain").trim() !== "") repo.commit(name);
    return runs;
}

/** The pull request merged: main moves to it. */
function merge(repo: FleetRepo, name: string): void {
    repo.git("checkout", "-q", "main");
    repo.git("merge", "-q", "--ff-only", name);
}

/** The resource lines of a text diff ("~ type  name"), in order. */
function resourceLines(stdout: string): string[] {
    return stdout.split("\n").filter((l) => /^[-+~] \S+ {2}\S+/.test(l));
}

/** Asserts that `patterns` match resource lines in this order (other lines may come between). */
function assertInOrder(stdout: string, patterns: RegExp[]): void {
    const lines = resourceLines(stdout);
    let at = -1;
    for (const p of patterns) {
        const next = lines.findIndex((l, i) => i > at && p.test(l));
        assert.ok(next > at, `expected ${p} after line ${at} of:\n${lines.join("\n")}`);
        at = next;
    }
}

function only(runs: GuideRun[]): GuideRun {
    assert.equal(runs.length, 1, "the block runs its plan once");
    return runs[0];
}

describe("docs/operacao.md replayed as pull requests on a scratch repository", function () {
    this.timeout(10 * 60_000);
    let repo: FleetRepo;

    before(() => {
        repo = programRepo();
        // Before: both stages run 12.1.2410, and prod needs no override (it ran 12.1.2410 itself).
        repo.setVersion("c2a7dv-hml", "12.1.2410");
        const prod = path.join(repo.dir, "Pulumi.c2a7dv-prod.yaml");
        const doc = parseYaml(fs.readFileSync(prod, "utf8")) as { config: Record<string, unknown> };
        delete doc.config["protheus:promotion"];
        fs.writeFileSync(prod, stringify(doc));
        repo.git("add", "-A");
        repo.git("commit", "-q", "--amend", "-m", "before: both stages on 12.1.2410");
    });
    after(() => repo?.remove());

    it("section 1: hml first; prod is refused before hml's merge and passes after it, naming hml's history entry", async () => {
        const hml = only(await pullRequest(repo, "hml-2510", configBlock("## 1.", 0)));
        assert.equal(hml.status, 1, hml.stderr);
        assertInOrder(hml.stdout, [
            /^~ kubernetes:core\/v1:Namespace {2}namespace/,
            /^\+ kubernetes:batch\/v1:Job {2}pre-upgrade-backup/,
            /^~ kubernetes:helm\.sh\/v3:Release {2}release/,
            /^~ kubernetes:batch\/v1:CronJob {2}updater/,
        ]);
        assert.match(hml.stdout, /"name":"protheus-backup-pre-12-1-2510","namespace":"c2a7dv-hml"/);

        // Prod's pull request opened before hml's is merged: hml has not run the version on main.
        const early = only(await pullRequest(repo, "prod-2510-early", configBlock("## 1.", 1)));
        assert.equal(early.status, 2, early.stdout);
        assert.match(early.stderr, /"12\.1\.2510" has not run successfully on hml/);

        merge(repo, "hml-2510");
        const prod = only(await pullRequest(repo, "prod-2510", configBlock("## 1.", 1)));
        assert.equal(prod.status, 1, prod.stderr);
        assert.match(prod.stdout, /^note: promotion gate: 12\.1\.2510 is in the history of organization\/protheus\/c2a7dv-hml \(hml ran 12\.1\.2510\)$/m);
        assertInOrder(prod.stdout, [
            /Namespace {2}namespace/,
            /^\+ kubernetes:batch\/v1:Job {2}pre-upgrade-backup/,
            /Release {2}release/,
            /CronJob {2}updater/,
        ]);
        merge(repo, "prod-2510");
    });

    it("section 4.5 a): the sleeper is one reviewed change: the updater suspended, its sleeping pod given one replica", async () => {
        const run = only(await pullRequest(repo, "sleeper", configBlock("## 4.", 0)));
        assert.equal(run.status, 1, run.stderr);
        assert.deepEqual(
            resourceLines(run.stdout).map((l) => l.split("  (")[0]),
            ["~ kubernetes:batch/v1:CronJob  updater", "~ kubernetes:apps/v1:StatefulSet  updater-sleeper"],
        );
        assert.match(run.stdout, /spec\.suspend: false → true/);
        assert.match(run.stdout, /spec\.replicas: 0 → 1/);
        assert.doesNotMatch(run.stdout, /containers\[upddistr\]\.command/, "the CronJob's pod stays the wrapper's");
    });

    it("section 6: maintenance in one pull request, then the rollback with its restore, then back to normal", async () => {
        const maintenance = only(await pullRequest(repo, "maintenance", configBlock("## 6.", 0)));
        assert.equal(maintenance.status, 1, maintenance.stderr);
        assert.deepEqual(
            resourceLines(maintenance.stdout).map((l) => l.split("  (")[0]),
            ["~ kubernetes:helm.sh/v3:Release  release"],
        );
        assert.match(maintenance.stdout, /values\.appserver\.replicas: 3 → 0/);
        merge(repo, "maintenance");

        const rollback = only(await pullRequest(repo, "rollback", configBlock("## 6.", 1)));
        assert.equal(rollback.status, 1, rollback.stderr);
        assert.match(rollback.stdout, /^note: promotion gate: 12\.1\.2410 is in this stack's own history/m);
        assertInOrder(rollback.stdout, [
            /^~ kubernetes:core\/v1:Namespace {2}namespace/,
            /^\+ kubernetes:batch\/v1:Job {2}pre-upgrade-backup/,
            /^\+ kubernetes:batch\/v1:Job {2}restore/,
            /^~ kubernetes:helm\.sh\/v3:Release {2}release/,
            /^~ kubernetes:batch\/v1:CronJob {2}updater/,
        ]);
        assert.match(rollback.stdout, /"name":"protheus-backup-pre-rollback-12-1-2410"/);
        assert.match(rollback.stdout, /"name":"protheus-restore-2026-11-27-upd2510"/);
        // The pull request's workflow plans the same change for every stack (docs/ci.md): it passes too.
        const workflow = spawnSync(...npmScriptCommand("plan", ["--stacks", "c2a7dv-hml,c2a7dv-prod", "--diff", "main", "--markdown"], repo.dir), {
            cwd: repo.dir,
            encoding: "utf8",
            maxBuffer: 1 << 28,
        });
        assert.equal(workflow.status, 1, workflow.stderr);
        assert.match(workflow.stdout, /\| `c2a7dv-prod` \| \d+ to change, \d+ to add, 0 to remove \|/);
        assert.match(workflow.stdout, /note: promotion gate: 12\.1\.2410 is in this stack's own history/);
        merge(repo, "rollback");

        const done = only(await pullRequest(repo, "after-rollback", configBlock("## 6.", 2)));
        assert.equal(done.status, 1, done.stderr);
        assert.match(done.stdout, /^- kubernetes:batch\/v1:Job {2}restore/m);
        assert.match(done.stdout, /values\.appserver\.replicas: 0 → 3/);
        merge(repo, "after-rollback");
    });

    it("section 9: a restore without a version change passes after maintenance was applied, and is refused in the same change", async () => {
        const restoreOnly = (c: GuideCommand) => !/updateDesiredVersion/.test(c.text);
        const together = await pullRequest(
            repo,
            "restore-with-maintenance",
            [...configBlock("## 6.", 0).filter((c) => !c.text.startsWith("npm")), ...configBlock("## 6.", 1)],
            restoreOnly,
        );
        assert.equal(only(together).status, 2);
        assert.match(only(together).stderr, /refused until protheus:maintenance\.enabled has been applied/);

        assert.equal(only(await pullRequest(repo, "maintenance-2", configBlock("## 6.", 0))).status, 1);
        merge(repo, "maintenance-2");
        const restore = only(await pullRequest(repo, "restore", configBlock("## 6.", 1), restoreOnly));
        assert.equal(restore.status, 1, restore.stderr);
        assert.deepEqual(
            resourceLines(restore.stdout).map((l) => l.split("  (")[0]),
            ["+ protheus:index:RestoreRequest  restore", "+ kubernetes:batch/v1:Job  restore"],
        );
        assert.match(restore.stdout, /"name":"protheus-restore-2026-11-27-upd2510"/);
    });
});
