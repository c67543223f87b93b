// What an operator's kubectl command asks the API server for, so the guide's
// commands can be checked against the Role of the team the guide names.
//
// There is no API server here; this is kubectl's own request sequence, written
// down per subcommand from kubectl's source and docs (kubectl -v=6 shows it):
// - `get NAME` is a GET, `get` without a name a LIST, `-w` adds a WATCH;
// - `describe` GETs the object and LISTs its events;
// - `logs`, `exec` and `attach` on TYPE/NAME (job/x) GET that object, LIST its
//   pods by selector, then GET pods/log or CREATE pods/exec / pods/attach on the
//   pod they picked; on a pod, GET the pod first. The subresource request names
//   the pod (RBAC resourceNames apply to it); a pod picked through a Job or a
//   selector has a generated name, unknown here, so a rule limited by name
//   never allows it;
// - `cp` runs tar through pods/exec (GET pod, CREATE pods/exec on that pod);
// - `create job --from=cronjob/X` GETs the CronJob then CREATEs the Job;
// - `delete TYPE NAME` DELETEs; with `-l`/`--all` it LISTs, then DELETEs each;
// - `patch` PATCHes (no GET); `scale` GETs the object, then GETs and PATCHes /scale;
// - `rollout restart` GETs then PATCHes; `wait` GETs/LISTs and WATCHes.
// A subcommand or flag not in this table is an error: extend the table
// rather than let a command pass unchecked.

export interface ApiRequest {
    verb: "get" | "list" | "watch" | "create" | "patch" | "update" | "delete";
    apiGroup: string;
    /** Plural resource, with `/subresource` when one is used (pods/log). */
    resource: string;
    /** The object name when the request names one (RBAC resourceNames apply). */
    name?: string;
}

const KINDS: Record<string, { apiGroup: string; resource: string }> = {};
function kind(apiGroup: string, resource: string, ...aliases: string[]): void {
    for (const a of [resource, ...aliases]) KINDS[a] = { apiGroup, resource };
}
kind("", "pods", "pod", "po");
kind("", "configmaps", "configmap", "cm");
kind("", "events", "event", "ev");
kind("", "services", "service", "svc");
kind("", "persistentvolumeclaims", "persistentvolumeclaim", "pvc");
kind("", "secrets", "secret");
kind("batch", "jobs", "job");
kind("batch", "cronjobs", "cronjob", "cj");
kind("apps", "deployments", "deployment", "deploy");
kind("apps", "statefulsets", "statefulset", "sts");
kind("apps", "replicasets", "replicaset", "rs");

function resolveKind(word: string): { apiGroup: string; resource: string } {
    // `-o name` prints TYPE.GROUP/NAME (job.batch/x): the group suffix names the same kind.
    const k = KINDS[word.toLowerCase().split(".")[0]];
    if (!k) throw new Error(`unknown resource type "${word}" (add it to test/support/kubectlRequests.ts)`);
    return k;
}

/** Splits a shell command line into words (single/double quotes, no expansion). */
export function shellWords(line: string): string[] {
    const words: string[] = [];
    let cur = "";
    let quote: string | null = null;
    let inWord = false;
    for (const ch of line) {
        if (quote) {
            if (ch === quote) quote = null;
            else cur += ch;
        } else if (ch === "'" || ch === '"') {
            quote = ch;
            inWord = true;
        } else if (/\s/.test(ch)) {
            if (inWord) words.push(cur);
            cur = "";
            inWord = false;
        } else {
            cur += ch;
            inWord = true;
        }
    }
    if (quote) throw new Error(`unbalanced quote in: ${line}`);
    if (inWord) words.push(cur);
    return words;
}

/** Flags that take a value as the next word (when not written --flag=value). */
const VALUED = new Set([
    "-n",
    "--namespace",
    "-l",
    "--selector",
    "-o",
    "--output",
    "-c",
    "--container",
    "--from",
    "--from-literal",
    "--from-file",
    "-p",
    "--patch",
    "--type",
    "--replicas",
    "--for",
    "--timeout",
    "--tail",
    "--since",
    "-f",
    "--filename",
    "--field-selector",
    "--image",
    "--sort-by",
]);
/** Flags that take no value. */
const BOOLEAN = new Set([
    "-i",
    "-t",
    "-it",
    "-ti",
    "-w",
    "--watch",
    "--all",
    "--follow",
    "--ignore-not-found",
    "--wait",
    "--no-headers",
    "--prefix",
    "-q",
    "--quiet",
    "--timestamps",
    "--previous",
    "--list",
]);

interface Parsed {
    sub: string[];
    args: string[];
    flags: Map<string, string[]>;
    after: string[];
}

function parse(words: string[]): Parsed {
    const flags = new Map<string, string[]>();
    const positional: string[] = [];
    let after: string[] = [];
    for (let i = 0; i < words.length; i++) {
        const w = words[i];
        if (w === "--") {
            after = words.slice(i + 1);
            break;
        }
        if (w.startsWith("-")) {
            const eq = w.indexOf("=");
            const name = eq > 0 ? w.slice(0, eq) : w;
            let value = eq > 0 ? w.slice(eq + 1) : "";
            // `logs -f` follows and `logs -p` shows the previous container; elsewhere -f is a file, -p a patch.
            const isFollow = name === "-f" && positional[0] === "logs";
            const isPrevious = name === "-p" && positional[0] === "logs";
            if (isPrevious) {
                flags.set("--previous", [""]);
                continue;
            }
            if (eq < 0 && VALUED.has(name) && !isFollow) {
                value = words[++i];
                if (value === undefined) throw new Error(`flag ${name} needs a value`);
            } else if (eq < 0 && !BOOLEAN.has(name) && !isFollow) {
                throw new Error(`unknown kubectl flag "${name}" (add it to test/support/kubectlRequests.ts)`);
            }
            flags.set(isFollow ? "--follow" : name, [...(flags.get(name) ?? []), value]);
        } else {
            positional.push(w);
        }
    }
    return { sub: positional.slice(0, 1), args: positional.slice(1), flags, after };
}

function has(p: Parsed, ...names: string[]): boolean {
    return names.some((n) => p.flags.has(n));
}

/** TYPE/NAME or TYPE NAME at the start of args. */
function target(args: string[]): { kind: { apiGroup: string; resource: string }; name?: string; rest: string[] } {
    if (args.length === 0) throw new Error("expected a resource");
    if (args[0].includes("/")) {
        const [t, n] = args[0].split("/", 2);
        return { kind: resolveKind(t), name: n, rest: args.slice(1) };
    }
    return { kind: resolveKind(args[0]), name: args[1], rest: args.slice(2) };
}

const POD = resolveKind("pods");

/** `{ name }` of the pod a logs/exec/attach command names, when it names one (not through a Job or a selector). */
function podName(arg: string | undefined): { name?: string } {
    if (arg === undefined) return {};
    if (!arg.includes("/")) return { name: arg };
    const t = target([arg]);
    return t.kind.resource === "pods" && t.name ? { name: t.name } : {};
}

/** The pod a logs/exec command ends up on: a pod name, or TYPE/NAME resolved through a selector. */
function podOf(arg: string | undefined, p: Parsed): ApiRequest[] {
    if (arg === undefined) {
        if (has(p, "-l", "--selector")) return [{ verb: "list", ...POD }];
        throw new Error("expected a pod or TYPE/NAME");
    }
    if (arg.includes("/")) {
        const t = target([arg]);
        if (t.kind.resource === "pods") return [{ verb: "get", ...POD, name: t.name }];
        return [
            { verb: "get", ...t.kind, name: t.name },
            { verb: "list", ...POD },
        ];
    }
    return [{ verb: "get", ...POD, name: arg }];
}

/** The API requests one `kubectl ...` command makes (words after `kubectl`). */
export function kubectlRequests(words: string[]): ApiRequest[] {
    const p = parse(words);
    const sub = p.sub[0];
    switch (sub) {
        case "get": {
            const t = target(p.args);
            const out: ApiRequest[] = [t.name ? { verb: "get", ...t.kind, name: t.name } : { verb: "list", ...t.kind }];
            if (has(p, "-w", "--watch")) out.push({ verb: "watch", ...t.kind });
            return out;
        }
        case "describe": {
            const t = target(p.args);
            return [t.name ? { verb: "get", ...t.kind, name: t.name } : { verb: "list", ...t.kind }, { verb: "list", ...resolveKind("events") }];
        }
        case "logs":
            return [...podOf(p.args[0], p), { verb: "get", apiGroup: "", resource: "pods/log", ...podName(p.args[0]) }];
        case "exec":
        case "attach":
            return [...podOf(p.args[0], p), { verb: "create", apiGroup: "", resource: `pods/${sub}`, ...podName(p.args[0]) }];
        case "cp": {
            const remote = p.args.find((a) => a.includes(":"));
            if (!remote) throw new Error("kubectl cp needs a <pod>:<path> argument");
            const pod = remote.split(":")[0];
            return [
                { verb: "get", ...POD, name: pod },
                { verb: "create", apiGroup: "", resource: "pods/exec", name: pod },
            ];
        }
        case "create": {
            const what = p.args[0];
            if (what === "job") {
                const from = p.flags.get("--from")?.[0];
                if (!from) return [{ verb: "create", ...resolveKind("jobs") }];
                const t = target([from]);
                return [
                    { verb: "get", ...t.kind, name: t.name },
                    { verb: "create", ...resolveKind("jobs") },
                ];
            }
            if (what === "configmap") return [{ verb: "create", ...resolveKind("configmaps") }];
            throw new Error(`unsupported: kubectl create ${what}`);
        }
        case "delete": {
            const t = target(p.args);
            if (t.name) return [{ verb: "delete", ...t.kind, name: t.name }];
            if (has(p, "-l", "--selector", "--all"))
                return [
                    { verb: "list", ...t.kind },
                    { verb: "delete", ...t.kind },
                ];
            throw new Error("kubectl delete needs a name, -l or --all");
        }
        case "patch": {
            const t = target(p.args);
            return [{ verb: "patch", ...t.kind, name: t.name }];
        }
        case "edit": {
            const t = target(p.args);
            return [
                { verb: "get", ...t.kind, name: t.name },
                { verb: "patch", ...t.kind, name: t.name },
            ];
        }
        case "scale": {
            const t = target(p.args);
            return [
                { verb: "get", ...t.kind, name: t.name },
                { verb: "get", apiGroup: t.kind.apiGroup, resource: `${t.kind.resource}/scale`, name: t.name },
                { verb: "patch", apiGroup: t.kind.apiGroup, resource: `${t.kind.resource}/scale`, name: t.name },
            ];
        }
        case "rollout": {
            const action = p.args[0];
            const t = target(p.args.slice(1));
            if (action === "restart")
                return [
                    { verb: "get", ...t.kind, name: t.name },
                    { verb: "patch", ...t.kind, name: t.name },
                ];
            if (action === "status")
                return [
                    { verb: "get", ...t.kind, name: t.name },
                    { verb: "watch", ...t.kind },
                ];
            throw new Error(`unsupported: kubectl rollout ${action}`);
        }
        case "wait": {
            const t = target(p.args);
            return [t.name ? { verb: "get", ...t.kind, name: t.name } : { verb: "list", ...t.kind }, { verb: "watch", ...t.kind }];
        }
        case "auth":
            // `auth can-i` asks the API server about the caller itself: every authenticated user may.
            if (p.args[0] !== "can-i") throw new Error(`unsupported: kubectl auth ${p.args[0]}`);
            return [];
        default:
            throw new Error(`unsupported kubectl subcommand "${sub}" (add it to test/support/kubectlRequests.ts)`);
    }
}

/** Splits a shell line into simple commands at |, ||, &&, ;, $( and ), outside single quotes. */
function simpleCommands(line: string): string[] {
    const parts: string[] = [];
    let cur = "";
    let quote: string | null = null;
    for (let i = 0; i < line.length; i++) {
        const ch = line[i];
        if (quote === "'") {
            if (ch === "'") quote = null;
            cur += ch;
            continue;
        }
        if (ch === "'" && quote === null) quote = "'";
        else if (ch === '"') quote = quote === '"' ? null : '"';
        const two = line.slice(i, i + 2);
        if (two === "$(" || (quote === null && (two === "&&" || two === "||"))) {
            parts.push(cur);
            cur = "";
            i++;
            continue;
        }
        if (ch === ")" || (quote === null && (ch === "|" || ch === ";"))) {
            parts.push(cur);
            cur = "";
            continue;
        }
        cur += ch;
    }
    parts.push(cur);
    return parts;
}

/** Every `kubectl ...` invocation in a shell line, including inside $( ... ). */
export function kubectlInvocations(line: string): string[][] {
    const out: string[][] = [];
    for (const part of simpleCommands(line)) {
        // A substitution inside double quotes leaves a dangling quote on each side: drop it.
        let text = part.trim();
        if ((text.match(/"/g) ?? []).length % 2 === 1) text = text.replace(/^"|"$/, "");
        const words = shellWords(text);
        const at = words.indexOf("kubectl");
        if (at === 0 || (at > 0 && words.slice(0, at).every((w) => /^[A-Z_]+=$/.test(w)))) out.push(words.slice(at + 1));
    }
    return out;
}

/** The namespace a command names (-n/--namespace), if any. */
export function namespaceOf(words: string[]): string | undefined {
    for (let i = 0; i < words.length; i++) {
        if (words[i] === "-n" || words[i] === "--namespace") return words[i + 1];
        if (words[i].startsWith("--namespace=")) return words[i].slice("--namespace=".length);
    }
    return undefined;
}
