// How the plan diff of many stacks reads: a summary table on top, then each stack's diff; as the
// pull request's comment (Markdown, each stack folded, found again by its marker) or as plain text.
import { formatDiffText, formatSummary, PlanDiff } from "./planDiff";

/** One stack's outcome in a plan diff. */
export interface StackDiffResult {
    stack: string;
    /** 0 no changes, 1 changes, 2 error. */
    code: number;
    diff?: PlanDiff;
    notes: string[];
    error?: string;
}

/** The comment's first line: CI finds its earlier comment by it and edits it instead of adding one. */
export const COMMENT_MARKER = "<!-- protheus-offline-plan -->";
/** Per stack in a PR comment; the job log has all of it. */
const COMMENT_STACK_LIMIT = 30000;

function statusOf(r: StackDiffResult): string {
    if (r.code === 2) return "error";
    return r.code === 0 ? "no changes" : formatSummary(r.stack, r.diff!).slice(r.stack.length + 2);
}

/** A stack's row of the summary table: its name and plan status. */
export interface SummaryRow {
    stack: string;
    status: string;
}

export const summaryRow = (r: StackDiffResult): SummaryRow => ({ stack: r.stack, status: statusOf(r) });

function tableOf(rows: SummaryRow[]): string {
    return ["| stack | plan |", "| --- | --- |", ...rows.map((r) => `| \`${r.stack}\` | ${r.status} |`)].join("\n") + "\n";
}

/** A PR comment's top: the marker, the title and the summary table. */
export function markdownHead(rows: SummaryRow[], label: string): string {
    return [COMMENT_MARKER, `### Offline plan against \`${label}\``, "", rows.length === 0 ? "No stack is affected by this change.\n" : tableOf(rows)].join(
        "\n",
    );
}

/** A stack's diff folded in a PR comment (open when it changes or fails), cut at COMMENT_STACK_LIMIT. */
export function markdownDetails(r: StackDiffResult, label: string): string {
    const body = r.code === 2 ? r.error! : formatDiffText(r.stack, r.diff!, { base: label, target: "working tree" }, r.notes);
    const cut =
        body.length > COMMENT_STACK_LIMIT
            ? `${body.slice(0, COMMENT_STACK_LIMIT)}\n... truncated (${body.length} characters); the full output is in the job log\n`
            : body;
    return (
        "\n" +
        [
            `<details${r.code === 0 ? "" : " open"}><summary><b>${r.stack}</b>: ${statusOf(r)}</summary>`,
            "",
            "```diff",
            cut.trimEnd(),
            "```",
            "</details>",
            "",
        ].join("\n")
    );
}

/** The plain-text top: what is compared, and the summary table. */
export function plainHead(rows: SummaryRow[], label: string): string {
    return `Plan diff of ${rows.length} stack(s): ${label} → working tree (offline, Pulumi mock runtime)\n\n${tableOf(rows)}\n`;
}

/** A stack's diff in the plain-text output. */
export function plainDetails(r: StackDiffResult, label: string): string {
    return r.code === 2
        ? `Stack ${r.stack}: plan diff: ${r.error}\n\n`
        : formatDiffText(r.stack, r.diff!, { base: label, target: "working tree" }, r.notes) + "\n";
}
