// Policy prod-offsite-backup (a stack policy): production copies its backups offsite.
import type { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { asArray, describeResource, dig, ENFORCEMENT, isObject, isProdStackName, POD_SPEC_PATHS, stackOfUrn, T } from "./common";

// Copies of components/names.ts (the pack ships on its own; policy/test/names.test.ts proves them equal).
export const STAGE_LABEL = "protheus.totvs.com/stage";
export const BACKUP_COPY_CRONJOB = "protheus-backup-copy";
export const OFFSITE_TARGETS: readonly string[] = ["gcs", "rubrik"];

export function parseBackupTargets(value: string): string[] {
    return value
        .split(",")
        .map((t) => t.trim().toLowerCase())
        .filter((t) => t !== "");
}

function podSpecOf(r: { type: string; props: unknown }): unknown {
    const path = POD_SPEC_PATHS[r.type];
    return path ? dig(r.props, path) : undefined;
}

function envEntries(podSpec: unknown, envName: string): unknown[] {
    const found: unknown[] = [];
    for (const field of ["initContainers", "containers"]) {
        for (const c of asArray(dig(podSpec, [field]))) {
            for (const e of asArray(dig(c, ["env"]))) {
                if (isObject(e) && e["name"] === envName) {
                    found.push(e);
                }
            }
        }
    }
    return found;
}

export const prodOffsiteBackup: StackValidationPolicy = {
    name: "prod-offsite-backup",
    description:
        `A production stack (stack named prod, or a Namespace labelled ${STAGE_LABEL}=prod) has the CronJob ` +
        `"${BACKUP_COPY_CRONJOB}" in every production namespace, and its BACKUP_TARGETS env lists at least one ` +
        `offsite target (${OFFSITE_TARGETS.join(" or ")}).`,
    enforcementLevel: ENFORCEMENT,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const resources = args.resources;
        const prodNamespaces = resources.filter((r) => r.type === T.namespace && dig(r.props, ["metadata", "labels", STAGE_LABEL]) === "prod");
        const prodStack = resources.map((r) => stackOfUrn(r.urn)).find((s) => isProdStackName(s));
        if (prodNamespaces.length === 0 && prodStack === undefined) {
            return; // not production
        }
        const why = prodStack !== undefined ? `stack ${prodStack}` : `Namespace labelled ${STAGE_LABEL}=prod`;
        const copies = resources.filter((r) => r.type === T.cronJob && dig(r.props, ["metadata", "name"]) === BACKUP_COPY_CRONJOB);
        if (copies.length === 0) {
            report(`production stack (${why}) has no CronJob with metadata.name "${BACKUP_COPY_CRONJOB}": ` + `backups would never leave the cluster volume.`);
        }
        for (const copy of copies) {
            const what = describeResource(copy.type, copy.name, copy.props);
            const entries = envEntries(podSpecOf(copy), "BACKUP_TARGETS");
            if (entries.length === 0) {
                report(`${what}: no container sets env BACKUP_TARGETS; it must list ${OFFSITE_TARGETS.join(" and/or ")}.`, copy.urn);
                continue;
            }
            for (const e of entries) {
                const value = isObject(e) ? e["value"] : undefined;
                if (typeof value !== "string") {
                    report(
                        `${what}: env BACKUP_TARGETS has no literal value (valueFrom cannot be checked); ` +
                            `set value to a comma-separated list with ${OFFSITE_TARGETS.join(" and/or ")}.`,
                        copy.urn,
                    );
                    continue;
                }
                const targets = parseBackupTargets(value);
                if (!targets.some((t) => OFFSITE_TARGETS.includes(t))) {
                    report(`${what}: env BACKUP_TARGETS="${value}" lists no offsite target; it must include ` + `${OFFSITE_TARGETS.join(" or ")}.`, copy.urn);
                }
            }
        }
        for (const ns of prodNamespaces) {
            const nsName = dig(ns.props, ["metadata", "name"]);
            if (typeof nsName !== "string" || nsName === "") {
                continue; // auto-named; the stack-wide check above still applies
            }
            if (!copies.some((c) => dig(c.props, ["metadata", "namespace"]) === nsName)) {
                report(
                    `Namespace "${nsName}" is labelled ${STAGE_LABEL}=prod but has no CronJob "${BACKUP_COPY_CRONJOB}" ` + `(metadata.namespace "${nsName}").`,
                    ns.urn,
                );
            }
        }
    },
};
