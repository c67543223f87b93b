// The plan diff: the comparison on hand-built resource lists, and the whole
// `plan --diff <ref>` run (git, both sides rendered) on a throwaway repository: in this process
// (plan's main) where the tree holds this process's program, by the tree's own plan where it does not;
// the command's own process where its wiring is tested (a reader that stops early).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { diffResources, diffToJson, diffValues, FieldChange, formatDiffText, formatSummary, hasChanges, joinName, secretConfigNotes } from "../lib/planDiff";
import type { PlannedResource } from "../lib/render";
import { tsNodeCommand } from "../lib/tsNode";
import { FleetRepo, programRepo } from "./support/fleetRepo";
import { planHere } from "./support/planHere";

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
const PATH_CONTAINER = "spec.jobTemplate.spec.template.spec.containers[upddistr]";

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

    it("matches named list elements by name, and names them in the path: an inserted env var is one addition", () => {
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
            { path: `${PATH_CONTAINER}.env[NEW]`, kind: "add", after: { name: "NEW", value: "x" } },
            { path: `${PATH_CONTAINER}.env[B].value`, kind: "change", before: "2", after: "3" },
        ]);
    });

    it("writes a list element's name as is, or quoted when it could be misread", () => {
        for (const [name, path] of [
            ["BACKUP_JOBS", "env[BACKUP_JOBS]"],
            ["protheus-volume", "env[protheus-volume]"],
            ["/volume/backups", "env[/volume/backups]"],
            ["8080", 'env["8080"]'],
            ["a b", 'env["a b"]'],
            ["x]y", 'env["x]y"]'],
            ["", 'env[""]'],
        ] as const) {
            assert.strictEqual(joinName("env", name), path, name);
        }
    });

    it("matches volume mounts of one volume by mountPath when names repeat", () => {
        const before = [
            { name: "volume", mountPath: "/volume", readOnly: true },
            { name: "volume", mountPath: "/scripts", subPath: "scripts" },
        ];
        const after = [
            { name: "volume", mountPath: "/scripts", subPath: "bin" },
            { name: "volume", mountPath: "/volume", readOnly: true },
        ];
        assert.deepStrictEqual(diffValues(before, after, "volumeMounts"), [
            { path: "volumeMounts[/scripts].subPath", kind: "change", before: "scripts", after: "bin" },
            { path: "volumeMounts", kind: "change", before: ["/volume", "/scripts"], after: ["/scripts", "/volume"], note: "order" },
        ]);
    });

    it("reports a removed named element and a reorder", () => {
        const removed = diffValues([{ name: "A" }, { name: "B" }, { name: "C" }], [{ name: "A" }, { name: "C" }], "env");
        assert.deepStrictEqual(removed, [{ path: "env[B]", kind: "remove", before: { name: "B" } }]);
        const reordered = diffValues([{ name: "A" }, { name: "B" }], [{ name: "B" }, { name: "A" }], "env");
        assert.deepStrictEqual(reordered, [{ path: "env", kind: "change", before: ["A", "B"], after: ["B", "A"], note: "order" }]);
    });

    it("compares other lists by content: a replaced element is a change in place, the rest added or removed", () => {
        assert.deepStrictEqual(diffValues({ cmd: ["a", "b"] }, { cmd: ["a", "c", "d"] }), [
            { path: "cmd[1]", kind: "change", before: "b", after: "c" },
            { path: "cmd[2]", kind: "add", after: "d" },
        ]);
        assert.deepStrictEqual(diffValues(["a", "b", "c", "d"], ["a", "x", "d"], "cmd"), [
            { path: "cmd[1]", kind: "change", before: "b", after: "x" },
            { path: "cmd[2]", kind: "remove", before: "c" },
        ]);
        assert.deepStrictEqual(diffValues(["a", "b", "c"], ["b", "c"], "cmd"), [{ path: "cmd[0]", kind: "remove", before: "a" }]);
    });

    describe("RBAC rules are matched by content", () => {
        const rule = (resources: string[], verbs: string[], apiGroups = [""]) => ({ apiGroups, resources, verbs });
        const rules = [
            rule(["pods"], ["get", "list"]),
            rule(["pods/log"], ["get"]),
            rule(["jobs"], ["get", "create"], ["batch"]),
            rule(["configmaps"], ["get"]),
        ];

        it("a rule added at the front is one added rule", () => {
            const added = rule(["secrets"], ["get"]);
            assert.deepStrictEqual(diffValues({ rules }, { rules: [added, ...rules] }), [{ path: "rules[0]", kind: "add", after: added }]);
        });

        it("a rule removed from the middle is one removed rule, at its old index", () => {
            assert.deepStrictEqual(diffValues({ rules }, { rules: [rules[0], rules[2], rules[3]] }), [{ path: "rules[1]", kind: "remove", before: rules[1] }]);
        });

        it("a verb added to one rule is one added verb", () => {
            const after = [rules[0], rules[1], rule(["jobs"], ["get", "create", "delete"], ["batch"]), rules[3]];
            assert.deepStrictEqual(diffValues({ rules }, { rules: after }), [{ path: "rules[2].verbs[2]", kind: "add", after: "delete" }]);
        });

        it("the same rules in another order are two moves, nothing is shown as changed in place", () => {
            const changes = diffValues({ rules }, { rules: [rules[3], rules[0], rules[1], rules[2]] });
            assert.deepStrictEqual(
                changes.map((c) => `${c.kind} ${c.path}`),
                ["add rules[0]", "remove rules[3]"],
            );
        });
    });

    describe("a changed multi-line string (a script in a ConfigMap)", () => {
        const script = Array.from({ length: 30 }, (_, i) => `echo step ${i + 1}`).join("\n") + "\n";

        it("carries the unified diff of its lines, three lines of context", () => {
            const edited = script.replace("echo step 15\n", "echo step 15\necho new step\n");
            const [c] = diffValues({ data: { "backup.sh": script } }, { data: { "backup.sh": edited } });
            assert.strictEqual(c.path, 'data["backup.sh"]');
            assert.strictEqual(c.kind, "change");
            assert.deepStrictEqual(c.lines, [
                "@@ -13,6 +13,7 @@",
                " echo step 13",
                " echo step 14",
                " echo step 15",
                "+echo new step",
                " echo step 16",
                " echo step 17",
                " echo step 18",
            ]);
        });

        it("prints the hunks under the field, one line each, instead of both strings on one line", () => {
            const edited = script.replace("echo step 2\n", "").replace("echo step 29\n", "echo step twenty-nine\n");
            const diff = diffResources(
                [res("kubernetes:core/v1:ConfigMap", "scripts", { data: { "backup.sh": script } })],
                [res("kubernetes:core/v1:ConfigMap", "scripts", { data: { "backup.sh": edited } })],
            );
            const text = formatDiffText("prod", diff, { base: "HEAD", target: "working tree" });
            const block = text.slice(text.indexOf('    ~ data["backup.sh"]:'), text.indexOf("\nprod: "));
            assert.deepStrictEqual(block.trimEnd().split("\n"), [
                '    ~ data["backup.sh"]:',
                "        @@ -1,5 +1,4 @@",
                "         echo step 1",
                "        -echo step 2",
                "         echo step 3",
                "         echo step 4",
                "         echo step 5",
                "        @@ -26,5 +25,5 @@",
                "         echo step 26",
                "         echo step 27",
                "         echo step 28",
                "        -echo step 29",
                "        +echo step twenty-nine",
                "         echo step 30",
            ]);
            assert.ok(!text.includes("\\n"), "no escaped newlines: " + text);
        });

        it("one-line strings keep the compact before → after form", () => {
            assert.strictEqual(diffValues({ a: "x" }, { a: "y" })[0].lines, undefined);
        });
    });

    it("reports a parent change that keeps the URN (a parent of the same type)", () => {
        const under = (parent: string) => [
            res("protheus:index:EnvironmentNamespace", parent, {}),
            { ...NS, parent: `protheus:index:EnvironmentNamespace::${parent}` },
        ];
        const diff = diffResources(under("namespace"), under("environment"));
        const moved = diff.resources.find((d) => d.key === "kubernetes:core/v1:Namespace::namespace")!;
        assert.strictEqual(moved.action, "change");
        assert.strictEqual(moved.parentChanged, true);
        assert.deepStrictEqual(moved.changes, []);
        assert.match(
            formatDiffText("prod", diff, { base: "HEAD", target: "working tree" }),
            /~ \(parent\): "protheus:index:EnvironmentNamespace::namespace" → "protheus:index:EnvironmentNamespace::environment"/,
        );
    });

    it("reports a move under a parent of another type, without an alias, as a delete and a create: its URN changes", () => {
        const moved = { ...NS, parent: "protheus:index:EnvironmentNamespace::namespace" };
        const diff = diffResources([NS], [moved]);
        assert.deepStrictEqual(
            diff.resources.map((d) => `${d.action} ${d.key}`),
            ["add kubernetes:core/v1:Namespace::namespace", "remove kubernetes:core/v1:Namespace::namespace"],
        );
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
    let repo: FleetRepo;
    let dir: string;
    const git = (...args: string[]) => repo.git(...args);
    // A private TMPDIR, to check the materialised ref is removed again.
    const env = (): NodeJS.ProcessEnv => ({ ...process.env, TMPDIR: tmpdir });
    const plan = async (...args: string[]) => {
        const r = await planHere(args, dir, env());
        return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const hmlFile = () => path.join(dir, "Pulumi.c2a7dv-hml.yaml");
    let committedHml: string;
    let tmpdir: string;

    before(() => {
        // A fresh repository holding the program as it is in the working tree now, committed.
        repo = programRepo();
        dir = repo.dir;
        committedHml = fs.readFileSync(hmlFile(), "utf8");
        // Ignored by the repository's own .gitignore (/tmp/), so not part of the tree plan compares.
        tmpdir = path.join(dir, "tmp");
        fs.mkdirSync(tmpdir);
    });

    after(() => repo?.remove());

    afterEach(() => repo.git("checkout", "-q", "--", "."));

    // The materialised ref is removed again, whatever the outcome.
    afterEach(() =>
        assert.deepStrictEqual(
            fs.readdirSync(tmpdir).filter((f) => f.startsWith("protheus-plan-diff-")),
            [],
            "temp dir left behind",
        ),
    );

    it("exits 0 and says no changes when the working tree matches the ref", async () => {
        const r = await plan("--stack", "c2a7dv-hml", "--diff", "HEAD");
        assert.strictEqual(r.code, 0, r.stderr + r.stdout);
        assert.match(r.stdout, /^c2a7dv-hml: no changes$/m);
    });

    it("exits 1 and names every field an updateDesiredVersion edit changes", async () => {
        const m = /^(\s*protheus:updateDesiredVersion:\s*)(\S+)\s*$/m.exec(committedHml);
        assert.ok(m, "Pulumi.c2a7dv-hml.yaml has protheus:updateDesiredVersion");
        const old = m[2].replace(/^["']|["']$/g, "");
        const next = old === "12.1.2999" ? "12.1.2998" : "12.1.2999";
        fs.writeFileSync(hmlFile(), committedHml.replace(m[0], `${m[1]}${next}`));

        const r = await plan("--stack", "c2a7dv-hml", "--diff", "HEAD");
        assert.strictEqual(r.code, 1, r.stderr + r.stdout);
        const out = r.stdout;
        assert.match(out, /^~ kubernetes:core\/v1:Namespace {2}namespace/m);
        assert.ok(out.includes(`~ metadata.annotations.UpdateDesiredVersion: "${old}" → "${next}"`), out);
        assert.match(out, /^~ kubernetes:helm\.sh\/v3:Release {2}release/m);
        assert.ok(out.includes(`~ version: "${old}" → "${next}"`), out);
        assert.match(
            out,
            new RegExp(
                `~ spec\\.jobTemplate\\.spec\\.template\\.spec\\.containers\\[upddistr\\]\\.image: "[^"]*protheus-updater:${old.replace(/\./g, "\\.")}" → "[^"]*protheus-updater:${next.replace(/\./g, "\\.")}"`,
            ),
        );
        assert.ok(out.includes(`~ spec.jobTemplate.spec.template.spec.containers[upddistr].env[UPDATE_DESIRED_VERSION].value: "${old}" → "${next}"`), out);
        // The working tree is the update after the ref: the version change adds its backup Job.
        assert.match(out, /^\+ kubernetes:batch\/v1:Job {2}pre-upgrade-backup/m);
        assert.match(out, /^c2a7dv-hml: \d+ to change, \d+ to add, 0 to remove$/m);

        const j = await plan("--stack", "c2a7dv-hml", "--diff", "HEAD", "--json");
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

    /** A commit whose backup script has `line` added, tagged `tag` and left: the working tree stays the program's. */
    const scriptEditedAt = (tag: string, line: string) => {
        fs.appendFileSync(path.join(dir, "scripts", "backup.sh"), `${line}\n`);
        git("commit", "-q", "-am", "edited backup script");
        git("tag", tag);
        git("reset", "-q", "--hard", "HEAD~1");
    };

    it("shows a backup script edited at the ref as a unified diff of its lines (the ref rendered by its own plan)", async () => {
        scriptEditedAt("edited-script", "# reviewed in the plan diff");
        try {
            const r = await plan("--stack", "c2a7dv-hml", "--diff", "edited-script");
            assert.strictEqual(r.code, 1, r.stderr + r.stdout);
            const lines = r.stdout.split("\n");
            const at = lines.indexOf('    ~ data["backup.sh"]:');
            assert.ok(at >= 0, r.stdout);
            assert.match(lines[at + 1], /^ {8}@@ -\d+,\d+ \+\d+,\d+ @@$/);
            assert.ok(lines.slice(at + 1).includes("        -# reviewed in the plan diff"), r.stdout);
        } finally {
            git("tag", "-d", "edited-script");
        }
    });

    it("renders a tree in this process only when it holds this process's program: a stack file edit here, an edited program by its own plan", async () => {
        // A child process given this environment prints a mark on stderr and exits 7 before it runs any plan
        // (nothing on stdout: a reader given a line that is not a plan stops the child, whose code is then the signal's).
        const preload = path.join(tmpdir, "child-mark.js");
        fs.writeFileSync(preload, 'process.stderr.write("child process\\n"); process.exit(7);\n');
        const marked = { ...env(), NODE_OPTIONS: `--require=${preload}` };
        repo.setVersion("c2a7dv-hml", "12.1.2999");
        const here = await planHere(["--stack", "c2a7dv-hml", "--diff", "HEAD"], dir, marked);
        assert.deepStrictEqual([here.status, here.stderr], [1, ""]);
        assert.match(here.stdout, /~ version: "[^"]+" → "12\.1\.2999"/);

        // The ref's program differs: the ref's side is its own plan's.
        scriptEditedAt("edited-script", "# edited at the ref");
        try {
            const ref = await planHere(["--stack", "c2a7dv-hml", "--diff", "edited-script"], dir, marked);
            assert.strictEqual(ref.status, 2, ref.stdout);
            assert.match(ref.stderr, /^Stack c2a7dv-hml: plan diff: at edited-script \([0-9a-f]{7}\): the plan failed \(exit 7\):\nchild process$/m);
        } finally {
            git("tag", "-d", "edited-script");
        }

        // The working tree's program differs: the whole command is the tree's own plan, its streams and exit code passed on.
        fs.appendFileSync(path.join(dir, "scripts", "backup.sh"), "# edited in the working tree\n");
        const tree = await planHere(["--stack", "c2a7dv-hml", "--diff", "HEAD"], dir, marked);
        assert.deepStrictEqual(tree, { status: 7, stdout: "", stderr: "child process\n" });
    });

    it("exits 2 on a bad ref", async () => {
        const r = await plan("--stack", "c2a7dv-hml", "--diff", "no-such-ref");
        assert.strictEqual(r.code, 2);
        assert.match(r.stderr, /bad git ref "no-such-ref"/);
        assert.strictEqual(r.stdout, "");
    });

    it("exits 2 on a config error in the working tree, and says which side", async () => {
        fs.writeFileSync(hmlFile(), committedHml.replace(/^(\s*protheus:updateDesiredVersion:\s*)\S+\s*$/m, "$1not-a-version"));
        const r = await plan("--stack", "c2a7dv-hml", "--diff", "HEAD");
        assert.strictEqual(r.code, 2, r.stdout);
        assert.match(r.stderr, /working tree: the plan failed/);
        assert.match(r.stderr, /updateDesiredVersion/);
    });

    it("exits 2 on a config error at the ref, and says which side", async () => {
        fs.writeFileSync(hmlFile(), committedHml.replace(/^(\s*protheus:updateDesiredVersion:\s*)\S+\s*$/m, "$1not-a-version"));
        git("commit", "-q", "-am", "broken hml");
        git("tag", "broken");
        git("reset", "-q", "--hard", "HEAD~1");
        try {
            const r = await plan("--stack", "c2a7dv-hml", "--diff", "broken");
            assert.strictEqual(r.code, 2, r.stdout);
            assert.match(r.stderr, /at broken \([0-9a-f]{7}\): the plan failed/);
            assert.match(r.stderr, /updateDesiredVersion/);
        } finally {
            git("tag", "-d", "broken");
        }
    });

    it("treats a stack file that does not exist at the ref as a new stack: every resource added", async () => {
        const qa = path.join(dir, "Pulumi.qa01-hml.yaml");
        fs.writeFileSync(qa, committedHml.replace(/^(\s*protheus:stage:\s*)\S+\s*$/m, "$1hml"));
        try {
            const r = await plan("--stack", "qa01-hml", "--diff", "HEAD");
            assert.strictEqual(r.code, 1, r.stderr + r.stdout);
            assert.match(r.stdout, /Pulumi\.qa01-hml\.yaml does not exist at HEAD/);
            assert.match(r.stdout, /^qa01-hml: 0 to change, \d+ to add, 0 to remove$/m);
        } finally {
            fs.rmSync(qa, { force: true });
        }
    });
});

describe("plan output piped into a reader that stops early (`npm run plan ... | head`)", function () {
    this.timeout(120000);

    it("ends quietly: exit 0, nothing on stderr", () => {
        const stack = fs
            .readdirSync(REPO)
            .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
            .find((s) => s !== undefined);
        assert.ok(stack, "a Pulumi.<stack>.yaml in the repository");
        const [node, args] = tsNodeCommand("bin/plan.ts", ["--stack", stack]);
        // `head -n 0` closes the pipe before the plan writes anything, so the write always fails
        // with EPIPE, however short the plan is.
        const r = spawnSync("bash", ["-c", 'set -o pipefail; "$0" "$@" | head -n 0', node, ...args], {
            cwd: REPO,
            encoding: "utf8",
        });
        assert.strictEqual(r.stderr, "");
        assert.strictEqual(r.status, 0);
    });
});
