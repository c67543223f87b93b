// Pod security table: `npm run -s pod-security > docs/pod-security.md`.
// Rendered from the plan of the committed prod stack (every pod template the program declares,
// with a version change and a restore request so the one-off Jobs are there too) and checked
// with the policy pack's rules, so the document cannot drift from the code; a test regenerates
// it and compares.
import { DEFAULT_RESOURCES, DEFAULT_ROBOT_UID } from "../config/podSecurity";
import { POD_SECURITY_LABEL, SCRATCH_MOUNT } from "../components/podSecurity";
import { EXAMPLE_ENVIRONMENT, stackName } from "../lib/fleet";
import { PlannedResource, renderProgram } from "../lib/render";
import { withContents } from "../lib/markdown";
import { commandLine } from "../lib/commandLine";
import { readStackFile, StackConfigInput } from "../lib/stackFiles";
import { POD_SPEC_PATHS } from "../policy/common";
import { POD_SECURITY_RULES, PssLevel, podSecurityProblems, podView } from "../policy/pod-security-restricted";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a rendered manifest is free-form JSON, read field by field
type Manifest = any;

/** A pod template in a plan: the workload it belongs to, its metadata and spec. */
export interface PodTemplate {
    kind: string;
    name: string;
    at: string;
    metadata: Manifest;
    spec: Manifest;
}

export function podTemplates(resources: PlannedResource[]): PodTemplate[] {
    return resources.flatMap((r) => {
        const path = POD_SPEC_PATHS[r.type];
        if (!path) return [];
        let node: Manifest = r.inputs;
        for (const step of path.slice(0, -1)) node = node?.[step];
        if (!node?.spec) return [];
        return [
            {
                kind: r.type.split(":")[2],
                name: (r.inputs as Manifest).metadata?.name ?? r.name,
                at: path.join("."),
                metadata: node.metadata ?? {},
                spec: node.spec,
            },
        ];
    });
}

/** The highest Pod Security Standards level a pod template meets. */
export function levelMet(t: PodTemplate): PssLevel | "privileged" {
    const view = podView(t.metadata, t.spec, t.at);
    if (podSecurityProblems(view, "restricted").length === 0) return "restricted";
    return podSecurityProblems(view, "baseline").length === 0 ? "baseline" : "privileged";
}

/**
 * The plan the table is made from: the committed prod stack rolling back (a pre-rollback backup
 * Job) with a restore request from GCS (its Job, with the fetch init container), as after an
 * update that enabled maintenance.
 */
export function documentedStack(): StackConfigInput {
    const input = readStackFile(stackName(EXAMPLE_ENVIRONMENT, "prod"));
    const config = {
        ...input.config,
        "protheus:maintenance": JSON.stringify({ enabled: true }),
        "protheus:restore": JSON.stringify({ id: "example", backup: "latest", source: "gcs", replace: true, reason: "the restore request Job, as documented" }),
    };
    const running = input.config["protheus:updateDesiredVersion"].replace(/\d+$/, (n) => String(Number(n) + 100));
    return { ...input, config, previousOutputs: { updateDesiredVersion: running, maintenanceEnabled: true } };
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const row = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
const code = (s: string) => `\`${s}\``;

function runsAs(pod: Manifest, c: Manifest): string {
    const user = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
    const group = c.securityContext?.runAsGroup ?? pod.securityContext?.runAsGroup;
    if (user === 0) return "root (0)";
    return user === undefined ? "image's user" : `${user}:${group ?? "-"}`;
}

function seccomp(pod: Manifest, c: Manifest): string {
    return (
        c.securityContext?.seccompProfile?.type ?? (pod.securityContext?.seccompProfile?.type ? `${pod.securityContext.seccompProfile.type} (pod)` : "unset")
    );
}

function volumes(pod: Manifest): string {
    return (pod.volumes ?? []).map((v: Manifest) => `${v.name}: ${Object.keys(v).find((k) => k !== "name")}`).join(", ");
}

function quantities(q: Record<string, string> | undefined): string {
    return q
        ? Object.entries(q)
              .map(([k, v]) => `${k} ${v}`)
              .join(", ")
        : "none";
}

function yesNo(v: unknown): string {
    return v === true ? "yes" : v === false ? "no" : "unset";
}

export async function renderPodSecurityDoc(): Promise<string> {
    const { resources } = await renderProgram(documentedStack());
    const namespace = resources.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
    const psa = Object.entries(((namespace.inputs as Manifest).metadata.labels ?? {}) as Record<string, string>).filter(([k]) =>
        k.startsWith("pod-security.kubernetes.io/"),
    );
    const templates = podTemplates(resources);
    const out: string[] = [];
    out.push(
        "# Pod security",
        "",
        "<!-- Generated by `npm run -s pod-security > docs/pod-security.md` from the rendered plan; do not edit by hand. -->",
        "",
        "Every pod the program runs meets the Kubernetes Pod Security Standards' `restricted` level: non-root, no privilege",
        "escalation, every capability dropped, seccomp `RuntimeDefault`, only volume types `restricted` admits. On top of it",
        `the robots' root filesystem is read-only, with an emptyDir at \`${SCRATCH_MOUNT}\` for scratch (HOME, TMPDIR and gcloud's`,
        "`CLOUDSDK_CONFIG` point there), every container has requests and a memory limit, and no pod but those that call",
        "Google Cloud gets a service account token. The settings live in one place (`components/podSecurity.ts`); their",
        "values come from `protheus:podSecurity` (`config/podSecurity.ts`).",
        "",
        "## The namespace",
        "",
        "Pod Security Admission labels, as declared for the prod example (`protheus:podSecurity.enforce`, default `baseline`:",
        "the Helm chart's pods run TOTVS's images in the same namespace and may need root; `warn` and `audit` are always",
        "`restricted`, so any pod that falls short is reported).",
        "",
        row(["label", "value"]),
        row(["---", "---"]),
        ...psa.map(([k, v]) => row([code(k), code(v)])),
        "",
        "## Pod templates",
        "",
        "Rendered from the prod example stack, rolling back with a restore request from GCS, so the one-off Jobs appear",
        '(the pre-rollback backup Job is the pre-upgrade Job under its other name). "level" is the highest Pod Security',
        "Standards level the template meets, checked with the rules below.",
        "",
        row([
            "workload",
            "container",
            "level",
            "runs as (uid:gid)",
            "runAsNonRoot",
            "read-only root",
            "privilege escalation",
            "capabilities dropped",
            "seccomp",
            "service account token",
            "volumes",
            "requests",
            "limits",
        ]),
        row(Array(13).fill("---")),
    );
    for (const t of templates) {
        const pod = t.spec;
        const level = levelMet(t);
        const token = pod.automountServiceAccountToken === false ? "no" : `yes (${pod.serviceAccountName ?? "default"})`;
        for (const [field, list] of [
            ["init", pod.initContainers ?? []],
            ["", pod.containers ?? []],
        ] as const) {
            for (const c of list) {
                const sc = c.securityContext ?? {};
                out.push(
                    row([
                        `${t.kind} ${code(t.name)}`,
                        `${c.name}${field ? " (init)" : ""}`,
                        level,
                        runsAs(pod, c),
                        yesNo(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot),
                        yesNo(sc.readOnlyRootFilesystem),
                        sc.allowPrivilegeEscalation === false ? "no" : "allowed",
                        (sc.capabilities?.drop ?? []).join(", ") || "none",
                        seccomp(pod, c),
                        token,
                        volumes(pod),
                        quantities(c.resources?.requests),
                        quantities(c.resources?.limits),
                    ]),
                );
            }
        }
    }
    out.push(
        "",
        "## Decisions",
        "",
        `- **Robots' uid** (\`protheus:podSecurity.robots\`, default ${DEFAULT_ROBOT_UID}:${DEFAULT_ROBOT_UID}): the \`postgres\` user of the`,
        "  official Debian-based postgres image (use 70:70 with an Alpine-based one); the Cloud SDK image runs as Manifest uid. The",
        "  toolbox defaults to the same uid (`protheus:toolbox.runAsUser`), so everything the program writes on the",
        "  environment volume has one owner. `fsGroup` makes a block volume group-writable; NFS volumes (the Rubrik export)",
        "  ignore it, so the export must let this uid write.",
        `- **Updater** (\`protheus:podSecurity.updater\`): TOTVS's image, run as ${DEFAULT_ROBOT_UID}:${DEFAULT_ROBOT_UID} by default, configurable.`,
        "  If the image truly needs root, `runAsRoot: true` runs it as root with the runtime's default capabilities, no",
        `  privilege escalation and seccomp \`RuntimeDefault\` (baseline), labels the pod \`${POD_SECURITY_LABEL}=baseline\` (the`,
        "  policy pack then checks it against baseline) and is refused while `enforce` is `restricted`. Its root filesystem is",
        "  writable by default (`readOnlyRootFilesystem: false`): the image writes in its own tree, and the runbook's fix of a",
        "  failed RUP copies an RPO into `protheus/apo` inside the pod (docs/operacao.md).",
        "- **Rubrik**: the Managed Volume is an NFS PersistentVolume (cluster-scoped, `protheus-rubrik-<namespace>`, reclaim",
        "  policy Retain, `claimRef` admitting only the claim) and the claim `protheus-rubrik` bound to it by name with no",
        "  storage class; the copy mounts the claim, because `restricted` refuses an inline `nfs` volume. Creating the",
        "  PersistentVolume needs cluster-scoped rights for whoever runs `pulumi up`.",
        "- **Resources** (`protheus:podSecurity.resources.<container>`): requests and a memory limit; no CPU limit unless set,",
        "  since it only throttles a dump or a restore that has spare CPU on its node. Defaults: " +
            Object.entries(DEFAULT_RESOURCES)
                .map(([k, r]) => `${k} ${r.cpu}/${r.memory}, limit ${r.memoryLimit}`)
                .join("; ") +
            ".",
        "",
        "## The rules",
        "",
        "What the policy pack's `pod-security-restricted` checks in every pod template (`policy/pod-security-restricted.ts`),",
        "after the Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards). `restricted` is every",
        "rule; a template labelled baseline is held to the baseline rules. Containers are the init, regular and ephemeral ones.",
        "",
        row(["check", "level", "control", "fields", "allowed"]),
        row(["---", "---", "---", "---", "---"]),
        ...POD_SECURITY_RULES.map((r) => row([code(r.id), r.level, r.control, r.fields, r.allowed])),
        "",
    );
    return withContents(out).join("\n");
}

if (require.main === module) {
    commandLine({
        name: "pod-security",
        usage: "usage: npm run -s pod-security > docs/pod-security.md\nprints the pod templates' security settings and the rules, from the rendered plan",
        options: {},
    });
    renderPodSecurityDoc().then(
        (doc) => process.stdout.write(doc),
        (err) => {
            process.stderr.write(`pod-security: ${(err as Error).message}\n`);
            process.exit(1);
        },
    );
}
