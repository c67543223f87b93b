// Field validators shared by the stack-config schema. Each one carries an
// "expected ..." message, so an error names what a valid value looks like.
import { createHash } from "node:crypto";
import { CronExpressionParser } from "cron-parser";
import { PRE_ROLLBACK_JOB_PREFIX, PRE_UPGRADE_JOB_PREFIX } from "../components/names";
import * as semver from "semver";
import { z } from "zod";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes object name that must also be a DNS-1123 label (namespaces, Services). */
export const dnsLabel = z.string({ error: "expected a string" }).max(63, { error: "expected a DNS-1123 label of at most 63 characters" }).regex(DNS1123_LABEL, {
    error: "expected a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit",
});

/**
 * A config string that lands in a container's env value, command or args, where Kubernetes expands
 * `$(VAR)`: `$(PGPASSWORD)` as a host name would print the password into a log the customer reads.
 */
export function containerString(what: string) {
    return z
        .string({ error: `expected ${what}` })
        .min(1, { error: `expected ${what}` })
        .refine((v) => !v.includes("$("), {
            error: `expected ${what} without "$(": Kubernetes expands $(VAR) in the container's environment, so it would read another variable (a password) instead`,
        });
}

/** A key of a Kubernetes Secret (https://kubernetes.io/docs/concepts/configuration/secret/#restriction-names-data). */
export const secretKey = z
    .string({ error: "expected a Secret key" })
    .max(253, { error: "expected a Secret key of at most 253 characters" })
    .regex(/^[-._a-zA-Z0-9]+$/, { error: "expected a Secret key: letters, digits, '-', '_' and '.'" });

/**
 * The longest version: it is a label value (at most 63 characters) and, with '-' for '.', the end of the
 * pre-upgrade and pre-rollback backup Jobs' names (DNS labels of at most 63), which must never be cut:
 * two versions cut to the same name would share one Job.
 */
export const VERSION_MAX = 63 - Math.max(PRE_UPGRADE_JOB_PREFIX.length, PRE_ROLLBACK_JOB_PREFIX.length);

/** Protheus releases are semver-shaped: 12.1.2410, 12.1.2510-3. */
export const protheusVersion = z
    .string({ error: "expected a version string such as 12.1.2410" })
    .refine((v) => semver.valid(v) !== null && semver.clean(v) === v, {
        error: "expected an exact semantic version such as 12.1.2410 or 12.1.2510-3 (no range, no leading 'v')",
    })
    .refine((v) => v.length <= VERSION_MAX, {
        error: `expected a version of at most ${VERSION_MAX} characters (it names the pre-upgrade backup Job and labels it)`,
    });

// Kubernetes CronJobs take the standard 5-field cron syntax (or a @macro);
// cron-parser also accepts 6-field (seconds) forms, so the field count is checked first.
const CRON_MACROS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

export function cronProblem(expr: string): string | undefined {
    const trimmed = expr.trim();
    if (CRON_MACROS.has(trimmed)) return undefined;
    if (/^(CRON_)?TZ=/.test(trimmed)) {
        return "expected a cron expression without TZ= (the time zone is a separate key)";
    }
    const fields = trimmed.split(/\s+/);
    if (fields.length !== 5) {
        return `expected a 5-field cron expression "minute hour day-of-month month day-of-week" (found ${fields.length} field${fields.length === 1 ? "" : "s"})`;
    }
    try {
        CronExpressionParser.parse(trimmed);
        return undefined;
    } catch (err) {
        return `expected a valid cron expression: ${(err as Error).message}`;
    }
}

export const cronSchedule = z.string({ error: "expected a cron expression string" }).superRefine((v, ctx) => {
    const problem = cronProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** Checked against the IANA database that Node ships (Intl), as Kubernetes checks it against Go's. */
export const ianaTimeZone = z.string({ error: "expected an IANA time zone name" }).refine(
    (tz) => {
        try {
            new Intl.DateTimeFormat("en-US", { timeZone: tz });
            return tz.includes("/") || tz === "UTC";
        } catch {
            return false;
        }
    },
    { error: "expected an IANA time zone name such as America/Sao_Paulo" },
);

/** An image repository without tag or digest: the tag is chosen by the program. */
export const imageRepository = z
    .string({ error: "expected an image repository string" })
    .regex(/^[a-z0-9]+([._\-/:][a-z0-9]+)*$/, { error: "expected an image repository such as gcr.io/project/protheus-updater" })
    // A colon is allowed only in a registry host's port, never in the last path segment (a tag).
    .refine((v) => !v.slice(v.lastIndexOf("/") + 1).includes(":"), {
        error: "expected a repository without a tag (the tag follows updateDesiredVersion; pin it with updater.tag)",
    });

/** A complete image reference with a fixed tag or digest (for stock images such as postgres). */
export const pinnedImage = z
    .string({ error: "expected an image reference string" })
    .refine((v) => /@sha256:[0-9a-f]{64}$/.test(v) || /:[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(v.slice(v.lastIndexOf("/") + 1)), {
        error: "expected an image with a fixed tag or digest, such as postgres:15.8",
    })
    .refine((v) => !v.endsWith(":latest"), { error: "expected a fixed tag, not 'latest'" });

/** An image tag as the OCI distribution spec defines it, never "latest". */
export const imageTag = z
    .string({ error: "expected an image tag string" })
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, { error: "expected an image tag (letters, digits, '_', '.', '-')" })
    .refine((v) => v !== "latest", { error: "expected a fixed tag, not 'latest'" });

/** Kubernetes resource quantity, e.g. 100Gi. */
export const quantity = z
    .string({ error: "expected a Kubernetes quantity string such as 100Gi" })
    .regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/, { error: "expected a Kubernetes quantity such as 100Gi" });

/**
 * A whole number in [min, max]; every failure (not a number, a fraction, out of range)
 * says the range, e.g. "expected a whole number of seconds from 300 to 14400".
 */
export function wholeNumber(min: number, max: number, what = "a whole number") {
    const error = `expected ${what} from ${min} to ${max}`;
    return z.int({ error }).min(min, { error }).max(max, { error });
}

/** Why `name` is not a valid Cloud Storage bucket name (https://cloud.google.com/storage/docs/buckets#naming), or undefined. */
export function bucketNameProblem(name: string): string | undefined {
    if (!/^[a-z0-9][-a-z0-9_.]*[a-z0-9]$/.test(name)) {
        return "expected lower-case letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
    }
    if (name.includes(".")) {
        if (name.length > 222 || name.split(".").some((part) => part.length > 63)) return "expected at most 222 characters, at most 63 between dots";
    } else if (name.length < 3 || name.length > 63) {
        return `expected 3 to 63 characters (it has ${name.length})`;
    }
    if (name.startsWith("goog") || name.includes("google")) return 'expected no "goog" prefix and no "google" in the name (reserved by Google)';
    return undefined;
}

/** A bucket name set in the config. */
export const gcsBucketName = z.string({ error: "expected a GCS bucket name" }).superRefine((name, ctx) => {
    const problem = bucketNameProblem(name);
    if (problem) ctx.addIssue({ code: "custom", message: `${problem} (a GCS bucket name)` });
});

/** The bucket an environment's backups go to when protheus:backup.gcs.bucketName is not set. */
export function defaultBucketName(namespace: string): string {
    return `protheus-backups-${namespace}`;
}

/** A Google service account id has at most 30 characters. */
const SERVICE_ACCOUNT_ID_MAX = 30;

/**
 * The Google service account id of the backup copy job: `bkp-<namespace>`; one longer than the 30
 * characters an id may have keeps a prefix and ends in a hash of the whole namespace, so two long
 * namespaces sharing a prefix never share an account (and the id never ends in '-').
 */
export function copyServiceAccountId(namespace: string): string {
    const id = `bkp-${namespace}`;
    if (id.length <= SERVICE_ACCOUNT_ID_MAX) return id;
    const hash = createHash("sha256").update(namespace).digest("hex").slice(0, 6);
    return `${id.slice(0, SERVICE_ACCOUNT_ID_MAX - hash.length - 1)}-${hash}`;
}

/** The backup reader's Google service account id (restore and drill fetches): as long as the copy's, so valid when it is. */
export function readerServiceAccountId(namespace: string): string {
    return `rdr-${namespace}`.slice(0, 30);
}

/** Why `id` is not a valid Google service account id (6-30 characters, a letter first, no '-' last), or undefined. */
export function serviceAccountIdProblem(id: string): string | undefined {
    if (id.length < 6 || id.length > 30) return `expected 6 to 30 characters (it has ${id.length})`;
    if (!/^[a-z][-a-z0-9]*[a-z0-9]$/.test(id)) return "expected lower-case letters, digits and '-', not ending in '-'";
    return undefined;
}
/** A plain file name (no directory, no space: the toolbox loops over the list with the shell). */
export const fileName = z.string({ error: "expected a file name" }).regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/, {
    error: "expected a plain file name (letters, digits, '.', '_', '-'; no '/', no spaces, not starting with '.' or '-')",
});

/** Which backup a restore uses: the forms restore.sh accepts for RESTORE_BACKUP. */
export const backupSelector = z.string({ error: "expected latest, a backup name such as 20261127T000012Z, or before:<version>" }).superRefine((v, ctx) => {
    if (v === "latest" || /^[0-9]{8}T[0-9]{6}Z$/.test(v)) return;
    const m = /^before:(.+)$/.exec(v);
    if (m && semver.valid(m[1]) !== null && semver.clean(m[1]) === m[1]) return;
    ctx.addIssue({ code: "custom", message: "expected latest, a backup name such as 20261127T000012Z, or before:<version> such as before:12.1.2510" });
});
