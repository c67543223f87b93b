// The README and the docs as a reader moves through them: a file longer than a screen opens with a table
// of contents that links each of its sections, and every link between the files lands on a file and a
// heading that exist (sections move between files; a stale link would say nothing).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { markdownHeadings } from "../lib/markdown";
import { REPO_ROOT } from "../lib/stackFiles";

/** Lines a reader sees without scrolling; a longer file needs its contents listed. */
const SCREEN_LINES = 60;
const CONTENTS_TITLES = ["Contents", "Conteúdo"];

const DOCS = ["README.md", "BENCHMARKS.md", ...fs.readdirSync(path.join(REPO_ROOT, "docs")).map((f) => `docs/${f}`)].filter((f) => f.endsWith(".md"));
const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), "utf8");

/** Sections a table of contents must link: the levels just below the title, the title and the contents excluded. */
function contentsProblems(markdown: string): string[] {
    const headings = markdownHeadings(markdown);
    const contents = headings.find((h) => CONTENTS_TITLES.includes(h.text));
    if (!contents) return [`no "${CONTENTS_TITLES.join('" or "')}" section`];
    const lines = markdown.split("\n");
    const next = headings.find((h) => h.line > contents.line);
    const listed = new Set(
        lines.slice(contents.line, next ? next.line - 1 : undefined).flatMap((l) => [...l.matchAll(/\]\(#([^)\s]+)\)/g)].map((m) => decodeURIComponent(m[1]!))),
    );
    const top = Math.min(...headings.map((h) => h.level));
    const sections = headings.slice(1).filter((h) => h !== contents && h.level <= top + 1);
    const anchors = new Set(headings.map((h) => h.anchor));
    return [
        ...sections.filter((h) => !listed.has(h.anchor)).map((h) => `line ${h.line}: section "${h.text}" is not in the contents (#${h.anchor})`),
        ...[...listed].filter((a) => !anchors.has(a)).map((a) => `the contents link #${a}, which no heading has`),
    ];
}

/** Links to files of the repository (not to the web), as `file#anchor` problems. */
function linkProblems(file: string, markdown: string, readFile: (file: string) => string | undefined): string[] {
    const problems: string[] = [];
    const prose = markdown.replace(/^\s*```[\s\S]*?^\s*```/gm, "");
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue;
        const [rel, anchor] = target.split("#") as [string, string | undefined];
        const linked = rel === "" ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), rel));
        const text = readFile(linked);
        if (text === undefined) {
            problems.push(`${target}: no file ${linked}`);
            continue;
        }
        if (anchor && !markdownHeadings(text).some((h) => h.anchor === decodeURIComponent(anchor)))
            problems.push(`${target}: ${linked} has no heading #${anchor}`);
    }
    return problems;
}

const readRepoFile = (file: string) => {
    const full = path.join(REPO_ROOT, file);
    if (!fs.existsSync(full)) return undefined;
    return fs.statSync(full).isDirectory() ? "" : fs.readFileSync(full, "utf8");
};

describe("README and docs", () => {
    it("the README stays a short read (at most 200 lines)", () => {
        const lines = read("README.md").split("\n").length - 1;
        assert.ok(lines <= 200, `README.md has ${lines} lines; move detail into docs/`);
    });

    for (const file of DOCS) {
        it(`${file}: contents listing each section when longer than ${SCREEN_LINES} lines, and links that land`, () => {
            const markdown = read(file);
            const problems = markdown.split("\n").length > SCREEN_LINES ? contentsProblems(markdown) : [];
            problems.push(...linkProblems(file, markdown, readRepoFile));
            assert.deepEqual(problems, []);
        });
    }

    it("the checks can fail: an unlisted section, a contents link to nowhere, a broken link and anchor", () => {
        const doc = ["# T", "", "## Contents", "", "- [A](#a)", "- [Gone](#gone)", "", "## A", "", "## B", "", "```sh", "## not a heading", "```"].join("\n");
        assert.deepEqual(contentsProblems(doc), ['line 10: section "B" is not in the contents (#b)', "the contents link #gone, which no heading has"]);
        assert.deepEqual(contentsProblems("# T\n\n## A\n"), ['no "Contents" or "Conteúdo" section']);
        const files: Record<string, string> = { "docs/a.md": "# A\n\n## Só isto\n" };
        assert.deepEqual(
            linkProblems("docs/b.md", "[x](a.md#só-isto) [y](a.md#nada) [z](c.md) [w](https://example.com/x.md)", (f) => files[f]),
            ["a.md#nada: docs/a.md has no heading #nada", "c.md: no file docs/c.md"],
        );
    });
});
