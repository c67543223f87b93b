#!/usr/bin/env bash
# backup.sh - dump one Protheus PostgreSQL database into the environment volume.
#
# Runs in the stock postgres:15 image (bash, pg_dump, psql, sha256sum,
# coreutils). Configured only by environment variables; see --help and
# docs/backups.md.
#
# Layout: $BACKUP_DIR/$PGDATABASE/<UTC timestamp>/ holding a pg_dump
# directory-format dump (toc.dat, <n>.dat.gz) and MANIFEST.json. The dump is
# written to <timestamp>.partial/, the manifest is written last, then the
# directory is renamed atomically. Only a directory with MANIFEST.json and
# without the .partial suffix is a complete backup. One backup of a database
# runs at a time (a lock on $BACKUP_DIR/$PGDATABASE/.lock), and it creates its
# .partial directory exclusively (mkdir fails when it exists).
set -euo pipefail

PROG=backup
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || { echo "$PROG: cannot read lib.sh beside this script" >&2; exit 2; }

usage() {
  cat <<'EOF'
Usage: backup.sh [--help]

Dumps $PGDATABASE with pg_dump (directory format, parallel, compressed) into
$BACKUP_DIR/$PGDATABASE/<UTC timestamp, e.g. 20261126T210000Z>/, writes
MANIFEST.json (SHA-256 and size of every file, why the backup was taken,
versions, database owner, times), renames the directory from
<timestamp>.partial atomically, checks that the manifest and every file it
lists are there with their sizes, then prunes old backups.

One backup of a database at a time: a second one started while the first runs
exits 1 ("another backup of <db> is running") without touching anything. The
.partial directories an interrupted (killed) backup left are removed by the
next backup, which names them in its outcome line ("interrupted").

The connecting role needs only read access: a non-superuser member of
pg_read_all_data (PostgreSQL 14+) is enough (docs/backups.md has the SQL).

Environment:
  PGDATABASE              database to back up (required; a name like protheus,
                          letters, digits and _)
  PGHOST PGPORT PGUSER    connection (libpq defaults)
  PGPASSWORD / PGPASSFILE password (libpq)
  BACKUP_DIR              root of backups (default /volume/backups)
  BACKUP_JOBS             pg_dump --jobs, parallel table dumps (default 2)
  BACKUP_COMPRESS         pg_dump --compress value; PostgreSQL 15: gzip level
                          0-9 (0 = uncompressed) (default 1)
  BACKUP_RETENTION_DAYS   delete complete backups older than this many days
                          (default 7)
  BACKUP_KEEP_MIN         the newest N complete backups are never deleted,
                          whatever their age (default 3)
  BACKUP_STALE_HOURS      timestamp-named dirs without MANIFEST.json (e.g. an
                          interrupted deletion) older than this are deleted
                          (default 24)
  BACKUP_REASON           why: nightly | pre-upgrade | pre-rollback | manual
                          (default manual); recorded in MANIFEST.json "reason"
  BACKUP_FROM_VERSION     version running when the backup was taken, and the
  BACKUP_TO_VERSION       version about to be applied (like 12.1.2510);
                          required for pre-upgrade and pre-rollback, optional
                          otherwise; MANIFEST.json "from_version" /
                          "to_version" (null when not given)

Exit codes:
  0  backup complete (pruning problems are reported on stderr, still 0)
  1  failure: cannot connect, pg_dump failed, disk/manifest error; the
     .partial directory of this run has been removed; or another backup of
     the same database is running (nothing touched)
  2  usage or configuration error (bad variable, unknown argument, missing tool)
EOF
}

json_str() { # JSON string literal
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/}
  printf '"%s"' "$s"
}

json_or_null() { # JSON string literal, or null for an empty value
  if [[ -n $1 ]]; then json_str "$1"; else printf 'null'; fi
}

iso_now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# 20261126T210000Z -> epoch seconds
ts_epoch() {
  local n=$1
  date -u -d "${n:0:4}-${n:4:2}-${n:6:2}T${n:9:2}:${n:11:2}:${n:13:2}Z" +%s
}

no_arguments "$@"
outcome_begin backup

BACKUP_DIR=${BACKUP_DIR:-/volume/backups}
BACKUP_JOBS=${BACKUP_JOBS:-2}
BACKUP_COMPRESS=${BACKUP_COMPRESS:-1}
BACKUP_RETENTION_DAYS=${BACKUP_RETENTION_DAYS:-7}
BACKUP_KEEP_MIN=${BACKUP_KEEP_MIN:-3}
BACKUP_STALE_HOURS=${BACKUP_STALE_HOURS:-24}
BACKUP_REASON=${BACKUP_REASON:-manual}
BACKUP_FROM_VERSION=${BACKUP_FROM_VERSION:-}
BACKUP_TO_VERSION=${BACKUP_TO_VERSION:-}
# The commands come from PATH only: an environment variable never names a program to run.
PG_DUMP=pg_dump
PSQL=psql

[[ -n ${PGDATABASE:-} ]] || die 2 "PGDATABASE is required"
[[ $PGDATABASE =~ $DBNAME_RE ]] || die 2 "PGDATABASE must be a database name (letters, digits and _, not starting with a digit): $PGDATABASE"
[[ $BACKUP_DIR == /* ]] || die 2 "BACKUP_DIR must be an absolute path: $BACKUP_DIR"
[[ $BACKUP_JOBS =~ ^[1-9][0-9]*$ ]] || die 2 "BACKUP_JOBS must be a positive integer: $BACKUP_JOBS"
[[ $BACKUP_COMPRESS =~ ^[0-9]$|^(gzip|lz4|zstd|none)(:[a-z0-9=,_-]+)?$ ]] || die 2 "BACKUP_COMPRESS must be a pg_dump --compress value (0-9, or method[:detail] on pg_dump 16+): $BACKUP_COMPRESS"
[[ $BACKUP_RETENTION_DAYS =~ ^[0-9]+$ ]] || die 2 "BACKUP_RETENTION_DAYS must be a non-negative integer: $BACKUP_RETENTION_DAYS"
[[ $BACKUP_KEEP_MIN =~ ^[0-9]+$ ]] || die 2 "BACKUP_KEEP_MIN must be a non-negative integer: $BACKUP_KEEP_MIN"
[[ $BACKUP_STALE_HOURS =~ ^[0-9]+$ ]] || die 2 "BACKUP_STALE_HOURS must be a non-negative integer: $BACKUP_STALE_HOURS"
[[ $BACKUP_REASON =~ $REASON_RE ]] || die 2 "BACKUP_REASON must be nightly, pre-upgrade, pre-rollback or manual: $BACKUP_REASON"
for v in BACKUP_FROM_VERSION BACKUP_TO_VERSION; do
  if [[ -z ${!v} ]]; then
    # restore.sh picks "before:<version>" by these: an upgrade backup without them could never be found.
    [[ $BACKUP_REASON != pre-upgrade && $BACKUP_REASON != pre-rollback ]] || die 2 "$v is required when BACKUP_REASON is $BACKUP_REASON"
  else
    [[ ${!v} =~ $VERSION_RE ]] || die 2 "$v must be a version like 12.1.2510 or 12.1.2510-3: ${!v}"
  fi
done
for tool in "$PG_DUMP" "$PSQL" sha256sum stat date xargs flock; do
  command -v "$tool" >/dev/null 2>&1 || die 2 "required command not found: $tool"
done

DB_DIR=$BACKUP_DIR/$PGDATABASE
TMP=$(mktemp -d "${TMPDIR:-/tmp}/backup.XXXXXX")
PARTIAL=''
FINAL=''
DONE=0
DUMP_PID=''

# shellcheck disable=SC2317 # run by the EXIT trap; shellcheck 0.9 misses calls from a trap when the script ends in exit
cleanup() {
  local rc=$?
  if [[ -n $DUMP_PID ]]; then
    kill -TERM "$DUMP_PID" 2>/dev/null || true
    wait "$DUMP_PID" 2>/dev/null || true
  fi
  if [[ $DONE != 1 && -n $PARTIAL && -e $PARTIAL ]]; then
    rm -rf -- "$PARTIAL" || true
  fi
  if [[ -n ${SNAP_PID:-} ]]; then kill -TERM "$SNAP_PID" 2>/dev/null || true; fi
  rm -rf -- "$TMP" || true
  outcome_end "$rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'die 1 "interrupted by SIGTERM; partial backup removed"' TERM
trap 'die 1 "interrupted by SIGINT; partial backup removed"' INT

# 1. Connect first: a bad password or host fails before anything is written.
# The owner is recorded so that a restore into a cluster where the database
# no longer exists can give it back to the same role.
if ! db_info=$("$PSQL" -X -A -t -q -v ON_ERROR_STOP=1 -d "$PGDATABASE" -c 'SHOW server_version' \
  -c 'SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()' 2>"$TMP/psql.err"); then
  die 1 "cannot connect to database \"$PGDATABASE\": $(pg_reason "$TMP/psql.err")"
fi
{ IFS= read -r SERVER_VERSION && IFS= read -r DB_OWNER; } <<<"$db_info" || die 1 "cannot read the server version and owner of \"$PGDATABASE\""
PG_DUMP_VERSION=$("$PG_DUMP" --version 2>/dev/null | head -n1) || die 2 "cannot run $PG_DUMP --version"

mkdir -p -- "$DB_DIR" || die 1 "cannot create $DB_DIR"

# 2. One backup of this database at a time. The lock is released when this
# process and its children (pg_dump) are gone, however they end.
exec {LOCK_FD}>>"$DB_DIR/.lock" || die 1 "cannot open $DB_DIR/.lock"
flock -n "$LOCK_FD" || die 1 "another backup of $PGDATABASE is running (it holds $DB_DIR/.lock); nothing done"

# Under the lock, every .partial directory is the remains of a backup killed
# before it could clean up (and print its outcome line): say so, and remove it.
interrupted=()
for d in "$DB_DIR"/*.partial; do
  [[ -d $d && ${d##*/} =~ ^[0-9]{8}T[0-9]{6}Z\.partial$ ]] || continue
  if rm -rf -- "$d"; then
    interrupted+=("${d##*/}")
  else
    warn "cannot remove ${d##*/}, left by an interrupted backup"
  fi
done
if ((${#interrupted[@]} > 0)); then
  info "removed ${interrupted[*]}: left by an interrupted backup (it printed no outcome line)"
  outcome_field interrupted "${interrupted[*]} removed (an interrupted backup's .partial)"
fi

# A fresh timestamp (never reuse a name), its .partial created exclusively:
# mkdir fails when the directory exists, so no two runs ever share one.
while :; do
  TS=$(date -u +%Y%m%dT%H%M%SZ)
  if [[ ! -e $DB_DIR/$TS ]] && mkdir -- "$DB_DIR/$TS.partial" 2>/dev/null; then break; fi
  [[ -d $DB_DIR ]] || die 1 "cannot create a directory in $DB_DIR"
  sleep 1
done
PARTIAL=$DB_DIR/$TS.partial
FINAL=$DB_DIR/$TS
STARTED_AT=$(iso_now)
START_S=$(date +%s)
outcome_field backup "$TS"

# 3. Dump, and count every table's rows in the dump's own snapshot (the
# restore drill compares the restored tables with these counts): a psql
# session exports a REPEATABLE READ snapshot, pg_dump --snapshot dumps exactly
# that, and the same session counts while the dump runs. What is counted and
# how: TABLE_ROWS_SQL in lib.sh.
coproc SNAP { exec "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$PGDATABASE" 2>"$TMP/snap.err"; }
SNAP_IN=${SNAP[1]} SNAP_OUT=${SNAP[0]} SNAP_PID_SAVED=$SNAP_PID
printf 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\nSELECT pg_export_snapshot();\n' >&"$SNAP_IN"
SNAPSHOT=''
read -r -t 300 SNAPSHOT <&"$SNAP_OUT" || true
[[ $SNAPSHOT =~ ^[0-9A-F-]+$ ]] || die 1 "cannot export a snapshot for the dump: $(pg_reason "$TMP/snap.err")"
# In the background + wait so SIGTERM is handled while it runs.
"$PG_DUMP" --format=directory --jobs="$BACKUP_JOBS" --compress="$BACKUP_COMPRESS" --snapshot="$SNAPSHOT" \
  --file="$PARTIAL" --dbname="$PGDATABASE" 2>"$TMP/pg_dump.err" &
DUMP_PID=$!
COUNT_START=${EPOCHREALTIME//[!0-9]/}
printf '%s\n' "$TABLE_ROWS_SQL" "SELECT 'end-of-counts';" >&"$SNAP_IN"
: >"$TMP/tables.json"
TABLE_COUNT=0
while :; do
  read -r line <&"$SNAP_OUT" || die 1 "counting rows in the dump's snapshot failed: $(pg_reason "$TMP/snap.err")"
  [[ $line != end-of-counts ]] || break
  [[ $line =~ ^(\".*\")\|([0-9]+)$ ]] || die 1 "unexpected row count line: $line"
  [[ $TABLE_COUNT -eq 0 ]] || printf ',\n' >>"$TMP/tables.json"
  printf '    {"table": %s, "rows": %s}' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" >>"$TMP/tables.json"
  TABLE_COUNT=$((TABLE_COUNT + 1))
done
printf '\n' >>"$TMP/tables.json"
info "counted the rows of $TABLE_COUNT tables in the dump's snapshot in $(seconds_since "$COUNT_START")s"
set +e
wait "$DUMP_PID"
DUMP_RC=$?
set -e
DUMP_PID=''
# End the snapshot's transaction (pg_dump has finished with it).
printf 'COMMIT;\n\\q\n' >&"$SNAP_IN" || true
wait "$SNAP_PID_SAVED" 2>/dev/null || true
if [[ $DUMP_RC -ne 0 ]]; then
  die 1 "pg_dump failed: $(pg_reason "$TMP/pg_dump.err")"
fi
[[ -f $PARTIAL/toc.dat ]] || die 1 "pg_dump produced no toc.dat in $PARTIAL"

# 4. Manifest: SHA-256 and size of every file, hashed in parallel.
(cd "$PARTIAL" && find . -maxdepth 1 -type f ! -name 'MANIFEST.json*' -printf '%f\0' |
  xargs -0 -r -n 4 -P "$BACKUP_JOBS" sha256sum --) >"$TMP/sums" || die 1 "cannot checksum the dump files in $PARTIAL"
sort -k2 "$TMP/sums" >"$TMP/sums.sorted"
FILE_COUNT=0
TOTAL_BYTES=0
: >"$TMP/files.json"
while read -r sha name; do
  name=${name#\*}
  [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die 1 "unexpected file name in dump: $name"
  size=$(stat -c %s -- "$PARTIAL/$name")
  [[ $FILE_COUNT -eq 0 ]] || printf ',\n' >>"$TMP/files.json"
  printf '    {"name": "%s", "size": %s, "sha256": "%s"}' "$name" "$size" "$sha" >>"$TMP/files.json"
  FILE_COUNT=$((FILE_COUNT + 1))
  TOTAL_BYTES=$((TOTAL_BYTES + size))
done <"$TMP/sums.sorted"
printf '\n' >>"$TMP/files.json"
FINISHED_AT=$(iso_now)
{
  printf '{\n'
  printf '  "format": "protheus-pg-backup/1",\n'
  printf '  "database": %s,\n' "$(json_str "$PGDATABASE")"
  printf '  "backup": "%s",\n' "$TS"
  # reason .. database_owner near the top: restore.sh reads only the first 4 KB
  # of each candidate's manifest to choose a backup.
  printf '  "reason": "%s",\n' "$BACKUP_REASON"
  printf '  "from_version": %s,\n' "$(json_or_null "$BACKUP_FROM_VERSION")"
  printf '  "to_version": %s,\n' "$(json_or_null "$BACKUP_TO_VERSION")"
  printf '  "database_owner": %s,\n' "$(json_str "$DB_OWNER")"
  printf '  "server_version": %s,\n' "$(json_str "$SERVER_VERSION")"
  printf '  "pg_dump_version": %s,\n' "$(json_str "$PG_DUMP_VERSION")"
  printf '  "dump_format": "directory",\n'
  printf '  "compression": %s,\n' "$(json_str "$BACKUP_COMPRESS")"
  printf '  "jobs": %s,\n' "$BACKUP_JOBS"
  printf '  "started_at": "%s",\n' "$STARTED_AT"
  printf '  "finished_at": "%s",\n' "$FINISHED_AT"
  printf '  "file_count": %s,\n' "$FILE_COUNT"
  printf '  "total_bytes": %s,\n' "$TOTAL_BYTES"
  printf '  "table_count": %s,\n' "$TABLE_COUNT"
  printf '  "tables": [\n'
  cat "$TMP/tables.json"
  printf '  ],\n'
  printf '  "files": [\n'
  cat "$TMP/files.json"
  printf '  ]\n'
  printf '}\n'
} >"$PARTIAL/MANIFEST.json.tmp" || die 1 "cannot write manifest in $PARTIAL"
sync -- "$PARTIAL/MANIFEST.json.tmp" 2>/dev/null || true
mv -- "$PARTIAL/MANIFEST.json.tmp" "$PARTIAL/MANIFEST.json" || die 1 "cannot write manifest in $PARTIAL"
sync -- "$PARTIAL" 2>/dev/null || true

# 5. Atomic publish, then check what was published: the manifest and every
# file it lists, with its size (the hashes were just computed from these files).
mv -T -- "$PARTIAL" "$FINAL" || die 1 "cannot rename $PARTIAL to $FINAL"
DONE=1
sync -- "$DB_DIR" 2>/dev/null || true
if ! reason=$(verify_backup "$FINAL" "$BACKUP_JOBS" sizes); then
  # Not complete: without its manifest no reader takes it for a backup.
  rm -f -- "$FINAL/MANIFEST.json" || true
  die 1 "backup $TS is not complete after the rename: $reason; its MANIFEST.json was removed"
fi
ELAPSED=$(($(date +%s) - START_S))
info "complete: $FINAL ($FILE_COUNT files, $TOTAL_BYTES bytes, ${ELAPSED}s)"
outcome_field bytes "$TOTAL_BYTES"

# 6. Prune. Ages come from the timestamp in the name, not from mtimes.
NOW=$(date -u +%s)
RETENTION_S=$((BACKUP_RETENTION_DAYS * 86400))
STALE_S=$((BACKUP_STALE_HOURS * 3600))
complete=()
for d in "$DB_DIR"/*; do
  [[ -d $d ]] || continue
  name=${d##*/}
  if [[ $name =~ $TS_RE ]]; then
    if [[ -f $d/MANIFEST.json ]]; then
      complete+=("$name")
    elif ! age_epoch=$(ts_epoch "$name" 2>/dev/null); then
      :
    elif ((NOW - age_epoch > STALE_S)); then
      # Not a backup (e.g. an interrupted deletion): remove.
      if rm -rf -- "$d"; then
        info "removed incomplete directory $name (no MANIFEST.json)"
      else
        warn "cannot remove $d"
      fi
    fi
  fi
done
if ((${#complete[@]} > 0)); then
  mapfile -t sorted < <(printf '%s\n' "${complete[@]}" | sort -r)
  for ((i = BACKUP_KEEP_MIN; i < ${#sorted[@]}; i++)); do
    name=${sorted[$i]}
    age_epoch=$(ts_epoch "$name" 2>/dev/null) || continue
    if ((NOW - age_epoch > RETENTION_S)); then
      # Manifest first: a half-deleted directory is never taken for complete.
      if rm -f -- "$DB_DIR/$name/MANIFEST.json" && rm -rf -- "${DB_DIR:?}/$name"; then
        info "pruned $name (older than $BACKUP_RETENTION_DAYS days)"
      else
        warn "cannot prune $DB_DIR/$name"
      fi
    fi
  done
fi
exit 0
