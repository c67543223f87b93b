// Markdown headings as GitHub renders them: the generated docs link their own sections, and the
// docs test checks every table of contents and every link between the docs against them.

export interface MarkdownHeading {
    level: number;
    text: string;
    /** The fragment GitHub gives the heading (`#anchor`), made unique with -1, -2, ... as GitHub does. */
    anchor: string;
    line: number;
}

/** GitHub's anchor for a heading's text: lower case, code marks and punctuation dropped, spaces as '-'. */
export function headingAnchor(text: string): string {
    return text
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
}

/** The ATX headings of a Markdown text, outside fenced code blocks. */
export function markdownHeadings(markdown: string): MarkdownHeading[] {
    const seen = new Map<string, number>();
    const out: MarkdownHeading[] = [];
    let fence: string | undefined;
    markdown.split("\n").forEach((line, i) => {
        const f = /^\s*(```|~~~)/.exec(line);
        if (f) {
            if (fence === undefined) fence = f[1];
            else if (f[1] === fence) fence = undefined;
            return;
        }
        if (fence !== undefined) return;
        const h = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
        if (!h) return;
        const base = headingAnchor(h[2]!);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        out.push({ level: h[1]!.length, text: h[2]!, anchor: n === 0 ? base : `${base}-${n}`, line: i + 1 });
    });
    return out;
}

/** A generated document's lines with a list of its sections before the first one. */
export function withContents(lines: string[]): string[] {
    const sections = lines.filter((l) => l.startsWith("## ")).map((l) => l.slice(3));
    const first = lines.findIndex((l) => l.startsWith("## "));
    return [...lines.slice(0, first), "## Contents", "", ...sections.map((t) => `- [${t}](#${headingAnchor(t)})`), "", ...lines.slice(first)];
}
