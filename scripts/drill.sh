#!/usr/bin/env bash
# drill.sh - the weekly restore drill: restore the newest complete backup from
# the offsite copy into a scratch database "<database>_drill", check it
# against what the backup recorded, report the restore time, drop it.
#
# The restore itself is scripts/restore.sh, run as a child with
# RESTORE_DATABASE=<database>_drill and its own staging dir: the drill proves
# the very code a real restore runs, and restore.sh stays the one place that
# knows how to locate, fetch, verify and restore a backup. See --help and
# docs/backups.md ("Restore drill").
set -euo pipefail

PROG=drill
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || { echo "$PROG: cannot read lib.sh beside this script" >&2; exit 2; }

usage() {
  cat <<'EOF'
Usage: drill.sh [--help | --fetch-only]

Restores the newest complete backup of $PGDATABASE from the offsite copy (GCS
when GCS_BUCKET is set, else the volume) into the scratch database
"<PGDATABASE>_drill" with scripts/restore.sh, then checks the restored
database: encoding/collation WIN1252 / C / C; exactly the tables the backup
recorded in MANIFEST.json; each table's row count equal to the count the
backup took in the dump's snapshot; the optional SQL checks. Prints the
restore time. The scratch database is always dropped (also on failure,
deadline or SIGTERM). The live database is never connected to.

  --fetch-only  DRILL_SOURCE=gcs: download and verify the newest backup into
                the drill's staging dir, then exit (for a google/cloud-sdk
                init container; the postgres container then finds it staged)

Environment:
  PGDATABASE              the live database whose backups are drilled (required;
                          at most 35 characters)
  PGHOST PGPORT PGUSER    the server the scratch database is created on (libpq
  PGPASSWORD / PGPASSFILE defaults; the role needs CREATEDB)
  DRILL_PGHOST DRILL_PGPORT DRILL_PGUSER DRILL_PGPASSWORD
                          a separate drill server: each one set replaces the
                          PG* variable above for the drill (default: same server)
  DRILL_SOURCE            gcs | volume (default gcs when GCS_BUCKET is set,
                          else volume)
  DRILL_BACKUP            backup name or "latest" (default latest)
  DRILL_DEADLINE_SECONDS  the restore and the checks must end within this many
                          seconds (default 21600); past it the drill fails and
                          cleans up
  DRILL_CHECKS_DIR        optional dir of extra checks: each <name>.sql is one
                          read-only SQL query (no psql commands, no backslash),
                          run as a cursor in a read-only transaction of the
                          scratch database; it must print exactly the content
                          of <name>.expected (surrounding blanks ignored)
  DRILL_STAGING_DIR       where the GCS copy is downloaded
                          (default $BACKUP_DIR/.drill-staging/$PGDATABASE);
                          emptied when the drill ends
  BACKUP_DIR              root of backups (default /volume/backups)
  BACKUP_NAMESPACE        environment (Kubernetes namespace); GCS object prefix
  GCS_BUCKET              bucket of the offsite copy
  RESTORE_JOBS RESTORE_NO_OWNER RESTORE_OWNER RESTORE_PGOPTIONS
  RESTORE_MAINTENANCE_DB  passed on to restore.sh (see restore.sh --help)

Output: info lines, then one outcome JSON line on stdout
({"event":"protheus.drill",...,"restore_seconds":N,"backup":"<name>"}).

Exit codes:
  0  the drill passed
  1  failure: cannot connect, restore failed, SIGTERM; scratch database dropped
  2  usage or configuration error (bad variable, unknown argument, missing
     tool, a check without its .expected file)
  4  no complete backup found, or it failed verification (missing file, size
     or SHA-256 mismatch)
  5  the restored database differs from the backup: encoding/collation, a
     table missing or extra, a row count, or an extra check
  6  the deadline (DRILL_DEADLINE_SECONDS) passed; scratch database dropped
EOF
}

parse_mode drill --fetch-only=fetch -- "$@"
outcome_begin drill

BACKUP_DIR=${BACKUP_DIR:-/volume/backups}
DRILL_BACKUP=${DRILL_BACKUP:-latest}
DRILL_DEADLINE_SECONDS=${DRILL_DEADLINE_SECONDS:-21600}
DRILL_CHECKS_DIR=${DRILL_CHECKS_DIR:-}
RESTORE_SH=$(dirname "${BASH_SOURCE[0]}")/restore.sh
RESTORE_MAINTENANCE_DB=${RESTORE_MAINTENANCE_DB:-postgres}
# The commands come from PATH only: an environment variable never names a program to run.
GCLOUD=gcloud
PSQL=psql
if [[ -z ${DRILL_SOURCE:-} ]]; then
  DRILL_SOURCE=volume
  [[ -z ${GCS_BUCKET:-} ]] || DRILL_SOURCE=gcs
fi

[[ -n ${PGDATABASE:-} ]] || die 2 "PGDATABASE is required"
[[ $PGDATABASE =~ ^[A-Za-z_][A-Za-z0-9_]{0,34}$ ]] || die 2 "PGDATABASE must be a database name of at most 35 characters (the drill restores into <name>_drill, a restore.sh target of at most 41 bytes): $PGDATABASE"
DRILL_STAGING_DIR=${DRILL_STAGING_DIR:-$BACKUP_DIR/.drill-staging/$PGDATABASE}
[[ $BACKUP_DIR == /* ]] || die 2 "BACKUP_DIR must be an absolute path: $BACKUP_DIR"
[[ $DRILL_STAGING_DIR == /* ]] || die 2 "DRILL_STAGING_DIR must be an absolute path: $DRILL_STAGING_DIR"
[[ $DRILL_SOURCE == gcs || $DRILL_SOURCE == volume ]] || die 2 "DRILL_SOURCE must be gcs or volume: $DRILL_SOURCE"
[[ $DRILL_BACKUP == latest || $DRILL_BACKUP =~ $TS_RE ]] || die 2 "DRILL_BACKUP must be \"latest\" or a backup name like 20261126T210000Z: $DRILL_BACKUP"
[[ $DRILL_DEADLINE_SECONDS =~ ^[1-9][0-9]*$ ]] || die 2 "DRILL_DEADLINE_SECONDS must be a positive integer: $DRILL_DEADLINE_SECONDS"
[[ $MODE != fetch || $DRILL_SOURCE == gcs ]] || die 2 "--fetch-only needs DRILL_SOURCE=gcs (or GCS_BUCKET set)"
[[ -f $RESTORE_SH ]] || die 2 "restore.sh not found: $RESTORE_SH"
CHECKS=()
if [[ -n $DRILL_CHECKS_DIR ]]; then
  [[ -d $DRILL_CHECKS_DIR ]] || die 2 "DRILL_CHECKS_DIR is not a directory: $DRILL_CHECKS_DIR"
  for f in "$DRILL_CHECKS_DIR"/*.sql; do
    [[ -e $f ]] || continue
    name=${f##*/}
    name=${name%.sql}
    [[ -f $DRILL_CHECKS_DIR/$name.expected ]] || die 2 "check $name: $DRILL_CHECKS_DIR/$name.expected is missing"
    # The config refuses it too: a check is one SQL query, never psql input (\! runs a shell, \c connects elsewhere).
    ! grep -q '[\]' "$f" || die 2 "check $name: $f contains a backslash; a check is one SQL query, not psql commands"
    CHECKS+=("$name")
  done
fi
for tool in "$PSQL" timeout; do
  [[ $MODE == fetch ]] || command -v "$tool" >/dev/null 2>&1 || die 2 "required command not found: $tool"
done
HAVE_GCLOUD=0
if command -v "$GCLOUD" >/dev/null 2>&1; then HAVE_GCLOUD=1; fi
[[ $MODE != fetch || $HAVE_GCLOUD == 1 ]] || die 2 "required command not found: $GCLOUD"

# The drill server: DRILL_PG* replace PG* for everything this script and restore.sh do.
for v in HOST PORT USER PASSWORD; do
  d=DRILL_PG$v
  if [[ -n ${!d:-} ]]; then export "PG$v=${!d}"; fi
done
# A drill server holds no live database; the names below are the drill's own.
DRILL_DB=${PGDATABASE}_drill
RESTORE_TMP_DB=${DRILL_DB}_restore_tmp

TMP=$(mktemp -d "${TMPDIR:-/tmp}/drill.XXXXXX")
CHILD_PID=''
DEADLINE_AT=$(($(date +%s) + DRILL_DEADLINE_SECONDS))
# The deadline counts from the download: --fetch-only leaves it for the drill container.
DEADLINE_FILE=$DRILL_STAGING_DIR/.drill-deadline
if [[ $MODE == drill && -f $DEADLINE_FILE ]]; then
  at=$(<"$DEADLINE_FILE")
  if [[ $at =~ ^[0-9]+$ ]] && ((at < DEADLINE_AT)); then DEADLINE_AT=$at; fi
fi

maint_sql() {
  "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$RESTORE_MAINTENANCE_DB" -v drill="$DRILL_DB" -v tmpdb="$RESTORE_TMP_DB" 2>"$TMP/psql.err"
}
# Both in one psql run (each statement on its own, as DROP DATABASE must be; the first failure stops it).
drop_scratch() {
  maint_sql <<<'DROP DATABASE IF EXISTS :"drill" WITH (FORCE);
DROP DATABASE IF EXISTS :"tmpdb" WITH (FORCE);' >/dev/null
}

# shellcheck disable=SC2317 # run by the EXIT trap; shellcheck 0.9 misses calls from a trap when the script ends in exit
cleanup() {
  local rc=$?
  trap - TERM INT
  if [[ -n $CHILD_PID ]]; then
    # timeout(1) passes TERM on to restore.sh, which drops its own temporary database.
    kill -TERM "$CHILD_PID" 2>/dev/null || true
    wait "$CHILD_PID" 2>/dev/null || true
  fi
  if [[ $MODE == drill ]]; then
    if drop_scratch; then
      info "scratch database \"$DRILL_DB\" dropped"
    else
      err "cannot drop the scratch database \"$DRILL_DB\": $(pg_reason "$TMP/psql.err")"
      [[ $rc != 0 ]] || rc=1
      OUTCOME_ERROR="cannot drop the scratch database \"$DRILL_DB\""
    fi
    rm -rf -- "$DRILL_STAGING_DIR" || true
  fi
  rm -rf -- "$TMP" || true
  outcome_end "$rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'die 1 "interrupted by SIGTERM; scratch database dropped"' TERM
trap 'die 1 "interrupted by SIGINT; scratch database dropped"' INT

remaining() { echo $((DEADLINE_AT - $(date +%s))); }

# run_restore WHAT ARGS...: restore.sh under the deadline, in the background so
# SIGTERM is handled. Its info lines are relayed; its own outcome line is not
# (this run's outcome is the drill's). Sets RESTORE_RC; stderr in $TMP/restore.err.
run_restore() {
  local what=$1 left
  shift
  left=$(remaining)
  ((left > 0)) || die 6 "deadline of ${DRILL_DEADLINE_SECONDS}s passed before the $what"
  RESTORE_RC=0
  timeout --kill-after=60 "$left" env "$@" bash "$RESTORE_SH" ${RESTORE_ARG:+"$RESTORE_ARG"} >"$TMP/restore.out" 2>"$TMP/restore.err" &
  CHILD_PID=$!
  wait "$CHILD_PID" || RESTORE_RC=$?
  CHILD_PID=''
  grep -v '^{"event":"protheus\.' "$TMP/restore.out" || true
  if [[ $RESTORE_RC == 124 || $RESTORE_RC == 137 ]]; then
    die 6 "deadline of ${DRILL_DEADLINE_SECONDS}s passed during the $what"
  fi
  if [[ $RESTORE_RC != 0 ]]; then
    local reason
    reason=$(grep -m1 '^restore: ' "$TMP/restore.err" || grep -m1 -v '^[[:space:]]*$' "$TMP/restore.err" || echo "exit code $RESTORE_RC")
    reason=${reason#restore: }
    # restore.sh proposes a grant to the connecting role; the drill's way out is the restore role
    # docs/backups.md sets up, never a grant (the backup role must stay read-only).
    if [[ $reason == *"(a DBA runs: GRANT "* ]]; then
      reason="${reason%%(a DBA runs: GRANT *}(connect as the restore role docs/backups.md sets up, protheus:backup.database.restoreUser: CREATEDB and member of the owner's role)${reason#*see docs/backups.md)}"
    fi
    case $RESTORE_RC in
      2) die 2 "$what: $reason" ;;
      4) die 4 "$what: $reason" ;;
      *) die 1 "$what failed: $reason" ;;
    esac
  fi
}

# The environment restore.sh runs with: the drill's target and staging dir,
# never RESTORE_REPLACE (the scratch name was just dropped; anything under it
# now is refused, not replaced).
RESTORE_ENV=(RESTORE_DATABASE="$DRILL_DB" RESTORE_STAGING_DIR="$DRILL_STAGING_DIR" RESTORE_REPLACE= RESTORE_SOURCE="$DRILL_SOURCE")

# 1. The offsite copy: download and verify into the drill's staging dir.
NAME=''
FETCH_SECONDS=''
if [[ $DRILL_SOURCE == gcs && $HAVE_GCLOUD == 1 ]]; then
  t0=${EPOCHREALTIME//[!0-9]/}
  RESTORE_ARG=--fetch-only run_restore "download" "${RESTORE_ENV[@]}" RESTORE_BACKUP="$DRILL_BACKUP"
  FETCH_SECONDS=$(seconds_since "$t0")
  NAME=$(sed -n 's#^restore: \(fetched and verified\|using staged copy\) .*/\([0-9]\{8\}T[0-9]\{6\}Z\)$#\2#p' "$TMP/restore.out" | tail -n1)
  [[ -n $NAME ]] || die 1 "download: cannot tell which backup restore.sh fetched"
  outcome_field backup "$NAME"
  outcome_field fetch_seconds "$FETCH_SECONDS"
  if [[ $MODE == fetch ]]; then
    echo "$DEADLINE_AT" >"$DEADLINE_FILE" || die 1 "cannot write $DEADLINE_FILE"
    info "fetched $NAME into $DRILL_STAGING_DIR in ${FETCH_SECONDS}s"
    # The drill's outcome is printed by the drill container; this one only on failure.
    OUTCOME_DONE=1
    exit 0
  fi
elif [[ $DRILL_SOURCE == gcs ]]; then
  # No gcloud here (postgres image): the init container staged it (--fetch-only).
  for d in "$DRILL_STAGING_DIR"/*; do
    n=${d##*/}
    [[ -d $d && $n =~ $TS_RE && -f $d/MANIFEST.json ]] || continue
    if [[ $n > $NAME ]]; then NAME=$n; fi
  done
  [[ -n $NAME ]] || die 4 "no staged copy in $DRILL_STAGING_DIR (run drill.sh --fetch-only in a google/cloud-sdk container first)"
  outcome_field backup "$NAME"
fi

# 2. Scratch database: a leftover of a killed drill is the drill's own; drop it.
if ! drop_scratch; then
  die 1 "cannot connect to database \"$RESTORE_MAINTENANCE_DB\" on ${PGHOST:-the default server}: $(pg_reason "$TMP/psql.err")"
fi

# 3. Restore with restore.sh, timed: the environment's recovery time on today's data.
if [[ $DRILL_SOURCE == gcs ]]; then
  # restore.sh finds the staged, verified copy by its name (and never downloads it again).
  [[ -f $DRILL_STAGING_DIR/$NAME/MANIFEST.json ]] || die 4 "staged copy $DRILL_STAGING_DIR/$NAME has no MANIFEST.json"
  cp -- "$DRILL_STAGING_DIR/$NAME/MANIFEST.json" "$TMP/MANIFEST.json"
  RESTORE_START=${EPOCHREALTIME//[!0-9]/}
  RESTORE_ARG='' run_restore "restore" "${RESTORE_ENV[@]}" RESTORE_BACKUP="$NAME"
else
  RESTORE_START=${EPOCHREALTIME//[!0-9]/}
  RESTORE_ARG='' run_restore "restore" "${RESTORE_ENV[@]}" RESTORE_BACKUP="$DRILL_BACKUP"
  NAME=$(sed -n 's/^restore: restored backup \([0-9]\{8\}T[0-9]\{6\}Z\) into .*/\1/p' "$TMP/restore.out" | tail -n1)
  [[ -n $NAME ]] || die 1 "restore: cannot tell which backup restore.sh restored"
  outcome_field backup "$NAME"
  cp -- "$BACKUP_DIR/$PGDATABASE/$NAME/MANIFEST.json" "$TMP/MANIFEST.json" || die 4 "backup $NAME: MANIFEST.json disappeared after the restore"
fi
RESTORE_SECONDS=$(seconds_since "$RESTORE_START")
outcome_field restore_seconds "$RESTORE_SECONDS"
info "restored backup $NAME into \"$DRILL_DB\" in ${RESTORE_SECONDS}s"

# 4. Checks, in the scratch database, read-only, under the deadline.
CHECK_START=${EPOCHREALTIME//[!0-9]/}
drill_sql() { # drill_sql OUT [PSQL ARGS...]: SQL on stdin, result in OUT; fails with the reason in $TMP/check.err
  local left out=$1
  shift
  left=$(remaining)
  ((left > 0)) || die 6 "deadline of ${DRILL_DEADLINE_SECONDS}s passed during the checks"
  if ! PGOPTIONS="${PGOPTIONS:-} -c statement_timeout=${left}s -c default_transaction_read_only=on" \
    "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 "$@" -d "$DRILL_DB" >"$out" 2>"$TMP/check.err"; then
    if grep -q 'statement timeout' "$TMP/check.err"; then die 6 "deadline of ${DRILL_DEADLINE_SECONDS}s passed during the checks"; fi
    return 1
  fi
}

maint_sql <<<"SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype FROM pg_database WHERE datname = :'drill'" >"$TMP/enc" ||
  die 1 "cannot read the settings of \"$DRILL_DB\": $(pg_reason "$TMP/psql.err")"
[[ $(<"$TMP/enc") == 'WIN1252 C C' ]] || die 5 "restored database has encoding/collation \"$(<"$TMP/enc")\", expected \"WIN1252 C C\""

declare -A WANT=()
WANT_COUNT=''
while IFS= read -r line; do
  if [[ $line =~ $TABLE_RE ]]; then
    WANT[${BASH_REMATCH[1]}]=${BASH_REMATCH[3]}
  elif [[ $line =~ $TABLE_COUNT_RE ]]; then
    WANT_COUNT=${BASH_REMATCH[1]}
  fi
done <"$TMP/MANIFEST.json"
[[ -n $WANT_COUNT ]] || die 5 "backup $NAME records no row counts (MANIFEST.json without table_count: made by an older backup.sh); nothing to check the restore against"
[[ ${#WANT[@]} == "$WANT_COUNT" ]] || die 5 "backup $NAME: MANIFEST.json lists ${#WANT[@]} tables but table_count is $WANT_COUNT"

drill_sql "$TMP/counts" <<<"$TABLE_ROWS_SQL" || die 1 "counting the restored rows failed: $(pg_reason "$TMP/check.err")"
declare -A GOT=()
while IFS= read -r line; do
  [[ $line =~ ^(\".*\")\|([0-9]+)$ ]] || die 1 "unexpected row count line: $line"
  GOT[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done <"$TMP/counts"
tables=()
((${#WANT[@]} == 0)) || mapfile -t tables < <(printf '%s\n' "${!WANT[@]}" | sort)
for t in "${tables[@]}"; do
  [[ -n ${GOT[$t]:-} ]] || die 5 "table $t (${WANT[$t]} rows in the backup) is missing from the restored database"
  [[ ${GOT[$t]} == "${WANT[$t]}" ]] || die 5 "table $t has ${GOT[$t]} rows restored, the backup recorded ${WANT[$t]}"
done
tables=()
((${#GOT[@]} == 0)) || mapfile -t tables < <(printf '%s\n' "${!GOT[@]}" | sort)
for t in "${tables[@]}"; do
  [[ -n ${WANT[$t]:-} ]] || die 5 "table $t is in the restored database but not in the backup's record"
done
info "tables: all ${#WANT[@]} present with the row counts the backup recorded"

# An extra check reaches the server only as a string value: opened there as a cursor, which PostgreSQL
# refuses for more than one statement or for anything but a query, in a read-only transaction of the
# scratch database. psql never reads the check's text as commands.
CHECK_CURSOR_SQL=$(
  cat <<'EOF'
BEGIN TRANSACTION READ ONLY;
SET LOCAL protheus.drill_check = :'check';
DO $$DECLARE c refcursor := 'drill_check'; BEGIN OPEN c FOR EXECUTE current_setting('protheus.drill_check'); END$$;
FETCH ALL FROM drill_check;
ROLLBACK;
EOF
)
for name in "${CHECKS[@]}"; do
  drill_sql "$TMP/check.out" -v check="$(<"$DRILL_CHECKS_DIR/$name.sql")" <<<"$CHECK_CURSOR_SQL" || die 5 "check $name failed: $(pg_reason "$TMP/check.err")"
  got=$(<"$TMP/check.out")
  want=$(<"$DRILL_CHECKS_DIR/$name.expected")
  # Surrounding blanks (a ConfigMap value's trailing newline) do not count.
  got=${got#"${got%%[![:space:]]*}"} got=${got%"${got##*[![:space:]]}"}
  want=${want#"${want%%[![:space:]]*}"} want=${want%"${want##*[![:space:]]}"}
  [[ $got == "$want" ]] || die 5 "check $name: got \"$got\", expected \"$want\""
  info "check $name: ok"
done
CHECK_SECONDS=$(seconds_since "$CHECK_START")
outcome_field check_seconds "$CHECK_SECONDS"
outcome_field tables "${#WANT[@]}"
outcome_field checks "${#CHECKS[@]}"
info "drill passed: backup $NAME restored in ${RESTORE_SECONDS}s, checked in ${CHECK_SECONDS}s"
exit 0
