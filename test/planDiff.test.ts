// The plan diff: the comparison on hand-built resource lists, and the whole
// `plan --diff <ref>` run (git, two child renders) on a throwaway repository.
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { diffResources, diffToJson, diffValues, FieldChange, formatDiffText, formatSummary, hasChanges, secretConfigNotes } from "../lib/planDiff";
import type { PlannedResource } from "../lib/render";

const REPO = path.resolve(__dirname, "..");

function res(type: string, name: string, inputs: Record<string, unknown>, parent: string | null = null): PlannedResource {
    return { type, name, parent, inputs };
}

function cronJob(opts: { image?: string; env?: { name: string; value: string }[]; token?: string } = {}): PlannedResource {
    return res(
        "kubernetes:batch/v1:CronJob",
        "updater",
        {
            metadata: { name: "protheus-updater", labels: { "app.kubernetes.io/part-of": "protheus" } },
            spec: {
                jobTemplate: {
                    spec: {
                        template: {
                            spec: {
                                containers: [
                                    {
                                        name: "upddistr",
                                        image: opts.image ?? "updater:12.1.2410",
                                        env: opts.env ?? [
                                            { name: "A", value: "1" },
                                            { name: "B", value: "2" },
                                        ],
                                    },
                                ],
                            },
                        },
                    },
                },
                token: opts.token ?? "[secret]",
            },
        },
        "protheus:index:UpdaterCronJob::updater",
    );
}

const NS = res("kubernetes:core/v1:Namespace", "namespace", { metadata: { name: "c2a7dv" } });
const PATH_CONTAINER = "spec.jobTemplate.spec.template.spec.containers[0]";

describe("plan diff: comparison (lib/planDiff.ts)", () => {
    it("finds nothing when both sides are the same", () => {
        const diff = diffResources([NS, cronJob()], [NS, cronJob()]);
        assert.deepStrictEqual(diff.resources, []);
        assert.strictEqual(hasChanges(diff), false);
        assert.strictEqual(formatSummary("prod", diff), "prod: no changes");
        assert.match(formatDiffText("prod", diff, { base: "HEAD", target: "working tree" }), /prod: no changes\n$/);
    });

    it("ignores key order", () => {
        assert.deepStrictEqual(diffValues({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 }), []);
    });

    it("reports an added resource with its parent and inputs", () => {
        const cm = res("kubernetes:core/v1:ConfigMap", "cfg", { data: { k: "v" } }, "protheus:index:EnvironmentNamespace::namespace");
        const diff = diffResources([NS], [NS, cm]);
        assert.deepStrictEqual(diff.summary, { add: 1, change: 0, remove: 0 });
        const [d] = diff.resources;
        assert.strictEqual(d.action, "add");
        assert.strictEqual(d.key, "kubernetes:core/v1:ConfigMap::cfg");
        assert.strictEqual(d.parentAfter, "protheus:index:EnvironmentNamespace::namespace");
        assert.deepStrictEqual(d.changes, [{ path: "data", kind: "add", after: { k: "v" } }]);
        const text = formatDiffText("prod", diff, { base: "HEAD", target: "working tree" });
        assert.match(text, /^\+ kubernetes:core\/v1:ConfigMap {2}cfg {2}\(parent protheus:index:EnvironmentNamespace::namespace\)$/m);
        assert.match(text, /^ {4}\+ data: \{"k":"v"\}$/m);
        assert.match(text, /^prod: 0 to change, 1 to add, 0 to remove$/m);
    });

    it("reports a removed resource", () => {
        const diff = diffResources([NS, cronJob()], [NS]);
        assert.deepStrictEqual(diff.summary, { add: 0, change: 0, remove: 1 });
        assert.strictEqual(diff.resources[0].action, "remove");
        assert.strictEqual(diff.resources[0].parentBefore, "protheus:index:UpdaterCronJob::updater");
        assert.match(formatDiffText("prod", diff, { base: "HEAD", target: "working tree" }), /^- kubernetes:batch\/v1:CronJob {2}updater/m);
    });

    it("reports a changed nested field by its path, and nothing else", () => {
        const diff = diffResources([NS, cronJob()], [NS, cronJob({ image: "updater:12.1.2510" })]);
        assert.deepStrictEqual(diff.summary, { add: 0, change: 1, remove: 0 });
        assert.deepStrictEqual(diff.resources[0].changes, [
            { path: `${PATH_CONTAINER}.image`, kind: "change", before: "updater:12.1.2410", after: "updater:12.1.2510" },
        ]);
        const text = formatDiffText("prod", diff, { base: "HEAD", target: "working tree" });
        assert.ok(text.includes(`    ~ ${PATH_CONTAINER}.image: "updater:12.1.2410" → "updater:12.1.2510"\n`), text);
        assert.match(text, /^prod: 1 to change, 0 to add, 0 to remove$/m);
    });

    it("quotes keys that are not identifiers", () => {
        const [c] = diffValues({ labels: { "app.kubernetes.io/part-of": "a" } }, { labels: { "app.kubernetes.io/part-of": "b" } });
        assert.strictEqual(c.path, 'labels["app.kubernetes.io/part-of"]');
    });

    it("matches named array elements by name: an inserted env var is one addition", () => {
        const before = cronJob();
        const after = cronJob({
            env: [
                { name: "NEW", value: "x" },
                { name: "A", value: "1" },
                { name: "B", value: "3" },
            ],
        });
        const changes = diffResources([before], [after]).resources[0].changes;
        assert.deepStrictEqual(changes, [
            { path: `${PATH_CONTAINER}.env[0]`, kind: "add", after: { name: "NEW", value: "x" } },
            { path: `${PATH_CONTAINER}.env[2].value`, kind: "change", before: "2", after: "3" },
        ]);
    });

    it("reports a removed named element and a reorder", () => {
        const removed = diffValues([{ name: "A" }, { name: "B" }, { name: "C" }], [{ name: "A" }, { name: "C" }], "env");
        assert.deepStrictEqual(removed, [{ path: "env[1]", kind: "remove", before: { name: "B" } }]);
        const reordered = diffValues([{ name: "A" }, { name: "B" }], [{ name: "B" }, { name: "A" }], "env");
        assert.deepStrictEqual(reordered, [{ path: "env", kind: "change", before: ["A", "B"], after: ["B", "A"], note: "order" }]);
    });

    it("compares other arrays by index", () => {
        assert.deepStrictEqual(diffValues({ cmd: ["a", "b"] }, { cmd: ["a", "c", "d"] }), [
            { path: "cmd[1]", kind: "change", before: "b", after: "c" },
            { path: "cmd[2]", kind: "add", after: "d" },
        ]);
    });

    it("reports a parent change", () => {
        const moved = { ...NS, parent: "protheus:index:EnvironmentNamespace::namespace" };
        const diff = diffResources([NS], [moved]);
        assert.strictEqual(diff.resources[0].action, "change");
        assert.strictEqual(diff.resources[0].parentChanged, true);
        assert.deepStrictEqual(diff.resources[0].changes, []);
        assert.match(formatDiffText("prod", diff, { base: "HEAD", target: "working tree" }), /~ \(parent\): null → "protheus:index:EnvironmentNamespace::namespace"/);
    });

    it("keeps secrets masked: equal masks are no change, and a mask is never unfolded", () => {
        assert.strictEqual(hasChanges(diffResources([cronJob()], [cronJob()])), false);
        const diff = diffResources([cronJob({ token: "plain-before" })], [cronJob()]);
        const change = diff.resources[0].changes[0] as FieldChange;
        assert.deepStrictEqual(change, { path: "spec.token", kind: "change", before: "plain-before", after: "[secret]" });
        const text = formatDiffText("prod", diff, { base: "HEAD", target: "working tree" });
        assert.ok(text.includes('~ spec.token: "plain-before" → "[secret]"'), text);
        const added = diffResources([], [cronJob()]);
        const json = JSON.stringify(diffToJson("prod", added, { ref: "HEAD", commit: "0".repeat(40) }));
        assert.ok(json.includes('"token":"[secret]"'), json);
    });

    it("notes secret config whose ciphertext changed, without showing it", () => {
        const a = "config:\n  protheus:x: 1\n  protheus:pw:\n    secure: v1:AAAA\n  protheus:old:\n    secure: v1:CCCC\n";
        const b = "config:\n  protheus:x: 1\n  protheus:pw:\n    secure: v1:BBBB\n  protheus:new:\n    secure: v1:DDDD\n";
        const notes = secretConfigNotes(a, b);
        assert.strictEqual(notes.length, 3);
        assert.ok(notes.some((n) => n.startsWith("secret config protheus:pw has new ciphertext")));
        assert.ok(notes.some((n) => n.startsWith("secret config protheus:new added")));
        assert.ok(notes.some((n) => n.startsWith("secret config protheus:old removed")));
        assert.ok(!notes.join("\n").includes("v1:"));
        assert.deepStrictEqual(secretConfigNotes(a, a), []);
    });
});

describe("plan diff: `plan --stack hml --diff <ref>` end to end", function () {
    this.timeout(180000);
    let dir: string;
    const tsNode = require.resolve("ts-node/dist/bin.js", { paths: [REPO] });
    const git = (...args: string[]) =>
        execFileSync("git", ["-c", "user.name=plan-diff-test", "-c", "user.email=plan-diff-test@example.invalid", "-c", "commit.gpgsign=false", ...args], {
            cwd: dir,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
    const plan = (...args: string[]) => {
        const r = spawnSync(process.execPath, [tsNode, "--transpile-only", "bin/plan.ts", ...args], {
            cwd: dir,
            encoding: "utf8",
            maxBuffer: 1 << 28,
            // A private TMPDIR, to check the materialised ref is removed again.
            env: { ...process.env, TMPDIR: tmpdir },
        });
        return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const hmlFile = () => path.join(dir, "Pulumi.c2a7dv-hml.yaml");
    let committedHml: string;
    let tmpdir: string;

    before(() => {
        // A fresh repository holding the program as it is in the working tree now, committed.
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-diff-test-"));
        // Every file git would see (tracked or untracked, not ignored): index.ts, components/, config/, lib/,
        // bin/, scripts/ (the program reads assets from there), Pulumi*.yaml, package.json, tsconfig.json...
        const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO, encoding: "utf8" })
            .split("\0")
            .filter((f) => f !== "" && fs.existsSync(path.join(REPO, f)) && fs.statSync(path.join(REPO, f)).isFile());
        for (const f of new Set(files)) {
            fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
            fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
        }
        fs.writeFileSync(path.join(dir, ".gitignore"), "node_modules\n");
        fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"), "dir");
        git("init", "-q");
        git("add", "-A");
        git("commit", "-q", "-m", "base");
        committedHml = fs.readFileSync(hmlFile(), "utf8");
        tmpdir = path.join(dir, "tmp");
        fs.mkdirSync(tmpdir);
        fs.appendFileSync(path.join(dir, ".git", "info", "exclude"), "/tmp/\n");
    });

    after(() => {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    afterEach(() => fs.writeFileSync(hmlFile(), committedHml));

    // The materialised ref is removed again, whatever the outcome.
    afterEach(() => assert.deepStrictEqual(fs.readdirSync(tmpdir).filter((f) => f.startsWith("protheus-plan-diff-")), [], "temp dir left behind"));

    it("exits 0 and says no changes when the working tree matches the ref", () => {
        const r = plan("--stack", "c2a7dv-hml", "--diff", "HEAD");
        assert.strictEqual(r.code, 0, r.stderr + r.stdout);
        assert.match(r.stdout, /^c2a7dv-hml: no changes$/m);
    });

    it("exits 1 and names every field an updateDesiredVersion edit changes", () => {
        const m = /^(\s*protheus:updateDesiredVersion:\s*)(\S+)\s*$/m.exec(committedHml);
        assert.ok(m, "Pulumi.c2a7dv-hml.yaml has protheus:updateDesiredVersion");
        const old = m[2].replace(/^["']|["']$/g, "");
        const next = old === "12.1.2999" ? "12.1.2998" : "12.1.2999";
        fs.writeFileSync(hmlFile(), committedHml.replace(m[0], `${m[1]}${next}`));

        const r = plan("--stack", "c2a7dv-hml", "--diff", "HEAD");
        assert.strictEqual(r.code, 1, r.stderr + r.stdout);
        const out = r.stdout;
        assert.match(out, /^~ kubernetes:core\/v1:Namespace {2}namespace/m);
        assert.ok(out.includes(`~ metadata.annotations.UpdateDesiredVersion: "${old}" → "${next}"`), out);
        assert.match(out, /^~ kubernetes:helm\.sh\/v3:Release {2}release/m);
        assert.ok(out.includes(`~ version: "${old}" → "${next}"`), out);
        assert.match(out, new RegExp(`~ spec\\.jobTemplate\\.spec\\.template\\.spec\\.containers\\[0\\]\\.image: "[^"]*protheus-updater:${old.replace(/\./g, "\\.")}" → "[^"]*protheus-updater:${next.replace(/\./g, "\\.")}"`));
        assert.match(out, /^c2a7dv-hml: \d+ to change, 0 to add, 0 to remove$/m);

        const j = plan("--stack", "c2a7dv-hml", "--diff", "HEAD", "--json");
        assert.strictEqual(j.code, 1, j.stderr);
        const parsed = JSON.parse(j.stdout);
        assert.strictEqual(parsed.changed, true);
        assert.strictEqual(parsed.base.commit, git("rev-parse", "HEAD").trim());
        const release = parsed.resources.find((d: { key: string }) => d.key === "kubernetes:helm.sh/v3:Release::release");
        assert.deepStrictEqual(
            release.changes.find((c: { path: string }) => c.path === "version"),
            { path: "version", kind: "change", before: old, after: next },
        );
    });

    it("exits 2 on a bad ref", () => {
        const r = plan("--stack", "c2a7dv-hml", "--diff", "no-such-ref");
        assert.strictEqual(r.code, 2);
        assert.match(r.stderr, /bad git ref "no-such-ref"/);
        assert.strictEqual(r.stdout, "");
    });

    it("exits 2 on a config error in the working tree, and says which side", () => {
        fs.writeFileSync(hmlFile(), committedHml.replace(/^(\s*protheus:updateDesiredVersion:\s*)\S+\s*$/m, "$1not-a-version"));
        const r = plan("--stack", "c2a7dv-hml", "--diff", "HEAD");
        assert.strictEqual(r.code, 2, r.stdout);
        assert.match(r.stderr, /working tree: the plan failed/);
        assert.match(r.stderr, /updateDesiredVersion/);
    });

    it("exits 2 on a config error at the ref, and says which side", () => {
        fs.writeFileSync(hmlFile(), committedHml.replace(/^(\s*protheus:updateDesiredVersion:\s*)\S+\s*$/m, "$1not-a-version"));
        git("commit", "-q", "-am", "broken hml");
        git("tag", "broken");
        git("reset", "-q", "--hard", "HEAD~1");
        try {
            const r = plan("--stack", "c2a7dv-hml", "--diff", "broken");
            assert.strictEqual(r.code, 2, r.stdout);
            assert.match(r.stderr, /at broken \([0-9a-f]{7}\): the plan failed/);
            assert.match(r.stderr, /updateDesiredVersion/);
        } finally {
            git("tag", "-d", "broken");
        }
    });

    it("treats a stack file that does not exist at the ref as a new stack: every resource added", () => {
        const qa = path.join(dir, "Pulumi.qa01-hml.yaml");
        fs.writeFileSync(qa, committedHml.replace(/^(\s*protheus:stage:\s*)\S+\s*$/m, "$1hml"));
        try {
            const r = plan("--stack", "qa01-hml", "--diff", "HEAD");
            assert.strictEqual(r.code, 1, r.stderr + r.stdout);
            assert.match(r.stdout, /Pulumi\.qa01-hml\.yaml does not exist at HEAD/);
            assert.match(r.stdout, /^qa01-hml: 0 to change, \d+ to add, 0 to remove$/m);
        } finally {
            fs.rmSync(qa, { force: true });
        }
    });
});
