#!/usr/bin/env bash
# restore.sh - restore a Protheus PostgreSQL database from a backup made by
# backup.sh, from the environment volume or from Google Cloud Storage.
#
# Runs in the stock postgres:15 image (bash, psql, pg_restore, vacuumdb,
# sha256sum). Fetching from GCS needs gcloud: in Kubernetes run
# `restore.sh --fetch-only` in a google/cloud-sdk container first (init
# container, same volume and variables), then `restore.sh` in postgres:15,
# which finds the verified staged copy. See --help and docs/backups.md.
set -euo pipefail

PROG=restore
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || { echo "$PROG: cannot read lib.sh beside this script" >&2; exit 2; }

usage() {
  cat <<'EOF'
Usage: restore.sh [--help | --fetch-only | --verify-only]

Verifies every file of a backup against its MANIFEST.json (SHA-256 and size)
BEFORE touching any database, creates a temporary database
"<target>_restore_tmp" with ENCODING 'WIN1252' LC_COLLATE 'C' LC_CTYPE 'C'
TEMPLATE template0, restores into it with pg_restore --jobs, runs ANALYZE, and
only then swaps it in. With RESTORE_REPLACE=yes the swap renames the target
to "<target>_prev_<UTC time>", the temporary database to the target, and only
then drops the previous one; a failure in between renames the previous one
back. A database is under the target name at every instant, or (between the
two renames) the previous one is under its _prev_ name. A failed restore
never leaves a half-restored database under the target name.

One restore into a target at a time (a PostgreSQL advisory lock). A restore
killed before it could clean up leaves "<target>_restore_tmp" or
"<target>_prev_<time>"; the next restore into that target puts a _prev_
database back when the target is missing, drops the rest, and names what it
found in its outcome line ("interrupted").

Sessions on the target or the temporary database of roles the connecting
role cannot end (other than the owner's) make the restore refuse, naming
them; the owner's sessions (the application's) are ended.

The connecting role needs no superuser: CREATEDB and membership in the
owner's role (GRANT protheus TO protheus_restore; docs/backups.md has the
SQL). The temporary database is created owned by the owner, and pg_restore
runs with --role=<owner>, so every object belongs to the owner, as before.

  --fetch-only   RESTORE_SOURCE=gcs: download and verify into the staging dir,
                 then exit (no database access; for a google/cloud-sdk container)
  --verify-only  locate (fetch) and verify the backup, then exit

Environment:
  PGDATABASE              database whose backups are restored (required);
                          backups are read from $BACKUP_DIR/$PGDATABASE/
  PGHOST PGPORT PGUSER    connection (libpq defaults); the role needs CREATEDB
  PGPASSWORD / PGPASSFILE and membership in the owner's role
  BACKUP_DIR              root of backups (default /volume/backups)
  RESTORE_BACKUP          which backup (default latest):
                            latest            newest complete backup that is
                                              not a pre-rollback one
                            20261126T210000Z  that backup (any reason)
                            before:<version>  newest complete pre-upgrade
                                              backup whose to_version is
                                              <version>: the data right before
                                              that version was applied
  RESTORE_SOURCE          volume | gcs (default volume)
  RESTORE_JOBS            pg_restore --jobs and ANALYZE jobs (default 2)
  RESTORE_REPLACE         exactly "yes" to drop and replace an existing target
                          database; anything else refuses if it exists
  RESTORE_DATABASE        target database name (default $PGDATABASE): letters,
                          digits and _, at most 41 bytes (so that
                          <target>_prev_<UTC time> fits PostgreSQL's 63)
  RESTORE_OWNER           owner of the restored database and its objects
                          (default: the owner of the database being replaced,
                          else the backup's database_owner, else the
                          connecting role)
  RESTORE_NO_OWNER        "yes": pg_restore --no-owner --no-privileges (restore
                          into a cluster without the original roles; the
                          backup's database_owner is then not used)
  RESTORE_PGOPTIONS       server settings for the restore sessions (PGOPTIONS)
                          (default "-c maintenance_work_mem=256MB
                          -c synchronous_commit=off")
  RESTORE_MAINTENANCE_DB  database to connect to for CREATE/DROP (default postgres)
  REQUEST_RESTORE_BACKUP, REQUEST_RESTORE_SOURCE, REQUEST_RESTORE_REPLACE,
  REQUEST_RESTORE_DATABASE
                          the restore request (ConfigMap loaded with the
                          prefix REQUEST_): override the variables above; any
                          other REQUEST_ variable is refused (exit 2)
  GCS_BUCKET              bucket (RESTORE_SOURCE=gcs)
  BACKUP_NAMESPACE        object prefix in the bucket (RESTORE_SOURCE=gcs)
  RESTORE_STAGING_DIR     where a GCS backup is downloaded
                          (default $BACKUP_DIR/.restore-staging/$PGDATABASE);
                          removed after a successful restore

gcloud, psql, pg_restore and vacuumdb are found through PATH; no variable
names a program to run.

Exit codes:
  0  restored (or fetched/verified with --fetch-only/--verify-only)
  1  failure (connection, pg_restore, ANALYZE, rename, download, sessions of
     other roles, another restore into the target running); the target
     database is as before (put back if the swap had begun), the temporary
     database is dropped
  2  usage or configuration error (bad variable, unknown argument, missing tool)
  3  refused: the target database exists and RESTORE_REPLACE is not "yes"
  4  backup not found (also: latest or before:<version> matches no complete
     backup), incomplete, or failed verification (missing file, size or
     SHA-256 mismatch); no database was touched
EOF
}

parse_mode restore --fetch-only=fetch --verify-only=verify -- "$@"
outcome_begin restore
outcome_field mode "$MODE"

# The restore request (ConfigMap protheus-restore-request), loaded with the
# prefix REQUEST_: only its documented keys are read, and any other key is
# refused, so a request can never set the connection (PGHOST, ...) or
# anything else of the pod.
ALLOWED_REQUEST=(RESTORE_BACKUP RESTORE_SOURCE RESTORE_REPLACE RESTORE_DATABASE)
unknown=()
while IFS= read -r v; do
  [[ " ${ALLOWED_REQUEST[*]} " == *" ${v#REQUEST_} "* ]] || unknown+=("${v#REQUEST_}")
done < <(compgen -v REQUEST_ || true)
((${#unknown[@]} == 0)) || die 2 "the restore request sets ${unknown[*]}; a request may set only ${ALLOWED_REQUEST[*]}"
for v in "${ALLOWED_REQUEST[@]}"; do
  r=REQUEST_$v
  if [[ -n ${!r+x} ]]; then printf -v "$v" '%s' "${!r}"; fi
done

BACKUP_DIR=${BACKUP_DIR:-/volume/backups}
RESTORE_BACKUP=${RESTORE_BACKUP:-latest}
RESTORE_SOURCE=${RESTORE_SOURCE:-volume}
RESTORE_JOBS=${RESTORE_JOBS:-2}
RESTORE_REPLACE=${RESTORE_REPLACE:-}
RESTORE_OWNER=${RESTORE_OWNER:-}
RESTORE_NO_OWNER=${RESTORE_NO_OWNER:-}
RESTORE_PGOPTIONS=${RESTORE_PGOPTIONS--c maintenance_work_mem=256MB -c synchronous_commit=off}
RESTORE_MAINTENANCE_DB=${RESTORE_MAINTENANCE_DB:-postgres}
# The commands come from PATH only: an environment variable never names a program to run.
GCLOUD=gcloud
PSQL=psql
PG_RESTORE=pg_restore
VACUUMDB=vacuumdb

[[ -n ${PGDATABASE:-} ]] || die 2 "PGDATABASE is required"
[[ $PGDATABASE =~ $DBNAME_RE ]] || die 2 "PGDATABASE must be a database name (letters, digits and _, not starting with a digit): $PGDATABASE"
RESTORE_DATABASE=${RESTORE_DATABASE:-$PGDATABASE}
[[ $RESTORE_DATABASE =~ $DBNAME_RE ]] || die 2 "RESTORE_DATABASE must be a database name (letters, digits and _, not starting with a digit): $RESTORE_DATABASE"
RESTORE_STAGING_DIR=${RESTORE_STAGING_DIR:-$BACKUP_DIR/.restore-staging/$PGDATABASE}
[[ $BACKUP_DIR == /* ]] || die 2 "BACKUP_DIR must be an absolute path: $BACKUP_DIR"
if [[ $RESTORE_BACKUP == before:* ]]; then
  [[ ${RESTORE_BACKUP#before:} =~ $VERSION_RE ]] || die 2 "RESTORE_BACKUP before:<version> needs a version like 12.1.2510: $RESTORE_BACKUP"
else
  [[ $RESTORE_BACKUP == latest || $RESTORE_BACKUP =~ $TS_RE ]] || die 2 "RESTORE_BACKUP must be \"latest\", a backup name like 20261126T210000Z, or before:<version>: $RESTORE_BACKUP"
fi
[[ $RESTORE_SOURCE == volume || $RESTORE_SOURCE == gcs ]] || die 2 "RESTORE_SOURCE must be volume or gcs: $RESTORE_SOURCE"
[[ $RESTORE_JOBS =~ ^[1-9][0-9]*$ ]] || die 2 "RESTORE_JOBS must be a positive integer: $RESTORE_JOBS"
# PostgreSQL truncates names to 63 bytes: <target>_prev_<UTC time> (22 more) must fit whole.
[[ ${#RESTORE_DATABASE} -le 41 ]] || die 2 "RESTORE_DATABASE is too long (at most 41 bytes, so that ${RESTORE_DATABASE}_prev_<UTC time> fits PostgreSQL's 63-byte names): $RESTORE_DATABASE"
[[ $MODE != fetch || $RESTORE_SOURCE == gcs ]] || die 2 "--fetch-only needs RESTORE_SOURCE=gcs"
if [[ $RESTORE_SOURCE == gcs ]]; then
  [[ -n ${GCS_BUCKET:-} ]] || die 2 "GCS_BUCKET is required for RESTORE_SOURCE=gcs"
  [[ -n ${BACKUP_NAMESPACE:-} ]] || die 2 "BACKUP_NAMESPACE is required for RESTORE_SOURCE=gcs"
  [[ $RESTORE_STAGING_DIR == /* ]] || die 2 "RESTORE_STAGING_DIR must be an absolute path: $RESTORE_STAGING_DIR"
fi
for tool in sha256sum stat xargs; do
  command -v "$tool" >/dev/null 2>&1 || die 2 "required command not found: $tool"
done
if [[ $MODE == restore ]]; then
  for tool in "$PSQL" "$PG_RESTORE" "$VACUUMDB"; do
    command -v "$tool" >/dev/null 2>&1 || die 2 "required command not found: $tool"
  done
fi
HAVE_GCLOUD=0
if command -v "$GCLOUD" >/dev/null 2>&1; then HAVE_GCLOUD=1; fi
[[ $MODE != fetch || $HAVE_GCLOUD == 1 ]] || die 2 "required command not found: $GCLOUD"
export CLOUDSDK_CORE_DISABLE_PROMPTS=1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/restore.XXXXXX")
TMPDB="${RESTORE_DATABASE}_restore_tmp"
PREV_RE="^${RESTORE_DATABASE}_prev_[0-9]{8}T[0-9]{6}Z\$"
PREVDB=''
TMPDB_CREATED=0
# The swap: none, then live-moving (renaming the target to $PREVDB), live-moved,
# then swapped (the restored database is the target).
SWAP=none
CHILD_PID=''
FETCH_PARTIAL=''
LOCK_PID=''
INTERRUPTED=()

# SQL against the maintenance database; variables target, tmpdb, prev, owner
# and any -v NAME=VALUE given.
maint_sql() {
  "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$RESTORE_MAINTENANCE_DB" \
    -v target="$RESTORE_DATABASE" -v tmpdb="$TMPDB" -v prev="$PREVDB" -v owner="${OWNER:-}" "$@" 2>"$TMP/psql.err"
}

# Client sessions on database protheus.db of roles this role cannot end (a
# superuser ends any): "role (pid N, application)" each, comma separated.
# Another role's row shows no backend_type to a non-superuser; autovacuum's
# has no role.
OTHERS_SELECT="SELECT string_agg(format('%s (pid %s%s)', usename, pid, CASE WHEN application_name <> '' THEN ', ' || application_name END), ', ' ORDER BY pid)
  FROM pg_stat_activity WHERE datname = current_setting('protheus.db') AND pid <> pg_backend_pid() AND usesysid IS NOT NULL
  AND coalesce(backend_type, 'client backend') = 'client backend' AND NOT pg_has_role(current_user, usesysid, 'MEMBER')"
SET_DB_SQL="SELECT set_config('protheus.db', :'db', false) \\g /dev/null"

# other_sessions DB: prints the sessions of DB this role cannot end (nothing when none).
other_sessions() {
  maint_sql -v db="$1" <<<"$SET_DB_SQL"$'\n'"$OTHERS_SELECT"
}

# on_db DB SQL [-v NAME=VALUE...]: runs SQL (DROP/ALTER DATABASE :"db" ...) after
# ending the sessions this role may end on DB (its own and its member roles',
# the owner's), all in one psql run. Never WITH (FORCE): that fails when a
# session of a role it cannot signal is there, autovacuum included; plain
# DROP/RENAME stops autovacuum itself. Sessions of other roles fail at once,
# naming them; a session that reconnects meanwhile is retried.
on_db() {
  local db=$1 sql=$2 attempt
  shift 2
  for attempt in 1 2 3 4 5; do
    if maint_sql -v db="$db" "$@" >/dev/null <<SQL; then return 0; fi
$SET_DB_SQL
DO \$\$ DECLARE others text; BEGIN
  $OTHERS_SELECT INTO others;
  IF others IS NOT NULL THEN
    RAISE EXCEPTION 'database "%" has sessions of roles % cannot end: %', current_setting('protheus.db'), current_user, others;
  END IF;
END \$\$;
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :'db' AND pid <> pg_backend_pid()
  AND backend_type = 'client backend' AND pg_has_role(current_user, usesysid, 'MEMBER');
$sql
SQL
    grep -q 'is being accessed by other users' "$TMP/psql.err" || return 1
    sleep "$attempt"
  done
  return 1
}

# put_back: after a failure in the swap, the previous database under the
# target name again (when the target is missing). Prints what it did.
# shellcheck disable=SC2317 # called by cleanup, which the EXIT trap runs
put_back() {
  local state
  state=$(maint_sql <<<"SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database WHERE datname IN (:'target', :'prev')") || {
    echo "the previous database may be \"$PREVDB\" (cannot connect to check: $(pg_reason "$TMP/psql.err")); the next restore puts it back"
    return 1
  }
  # Sorted: the target's name is a prefix of the previous one's.
  case $state in
    "$RESTORE_DATABASE $PREVDB")
      # The last rename went through before the failure (e.g. SIGTERM during it): the swap is complete.
      if on_db "$PREVDB" 'DROP DATABASE IF EXISTS :"db"'; then
        echo "the swap had completed: the restored database is \"$RESTORE_DATABASE\"; previous database \"$PREVDB\" dropped"
      else
        echo "the swap had completed: the restored database is \"$RESTORE_DATABASE\"; the previous one is \"$PREVDB\" (cannot drop it: $(pg_reason "$TMP/psql.err")); the next restore drops it"
      fi
      ;;
    "$RESTORE_DATABASE") return 0 ;;
    "$PREVDB")
      if on_db "$PREVDB" 'ALTER DATABASE :"db" RENAME TO :"target"'; then
        echo "previous database put back as \"$RESTORE_DATABASE\""
      else
        echo "the previous database is \"$PREVDB\" (cannot rename it back: $(pg_reason "$TMP/psql.err")); the next restore puts it back"
        return 1
      fi
      ;;
  esac
}

# shellcheck disable=SC2317 # run by the EXIT trap; shellcheck 0.9 misses calls from a trap when the script ends in exit
cleanup() {
  local rc=$? said
  trap - TERM INT
  if [[ -n $CHILD_PID ]]; then
    kill -TERM "$CHILD_PID" 2>/dev/null || true
    wait "$CHILD_PID" 2>/dev/null || true
  fi
  if [[ $SWAP == live-moving || $SWAP == live-moved ]]; then
    said=$(put_back) || true
    if [[ -n $said ]]; then
      err "$said"
      OUTCOME_ERROR="${OUTCOME_ERROR:-exited with code $rc}; $said"
    fi
  fi
  if [[ $TMPDB_CREATED == 1 && $SWAP != swapped ]]; then
    on_db "$TMPDB" 'DROP DATABASE IF EXISTS :"db"' >/dev/null 2>&1 ||
      err "cannot drop the temporary database \"$TMPDB\": $(pg_reason "$TMP/psql.err"); the next restore drops it"
  fi
  # Ends the lock's session (its end releases the lock).
  if [[ -n $LOCK_PID ]]; then kill -TERM "$LOCK_PID" 2>/dev/null || true; fi
  if [[ -n $FETCH_PARTIAL && -e $FETCH_PARTIAL ]]; then rm -rf -- "$FETCH_PARTIAL" || true; fi
  rm -rf -- "$TMP" || true
  outcome_end "$rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'die 1 "interrupted by SIGTERM"' TERM
trap 'die 1 "interrupted by SIGINT"' INT

# run_bg CMD...: run in the background and wait, so signals are handled.
run_bg() {
  "$@" &
  CHILD_PID=$!
  local rc=0
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=''
  return "$rc"
}

# selected SELECTOR: is a backup whose manifest_meta line is on stdin the
# one RESTORE_BACKUP=SELECTOR (latest or before:<version>) asks for?
# latest skips pre-rollback backups: they hold the broken state a rollback
# replaces, kept for the data-management team, restored only by name.
selected() {
  local reason to
  IFS=$'\t' read -r reason _ to _ || return 1
  case $1 in
    latest) [[ $reason != pre-rollback ]] ;;
    before:*) [[ $reason == pre-upgrade && $to == "${1#before:}" ]] ;;
    *) return 1 ;;
  esac
}

# what SELECTOR: the words for "nothing matches" messages
what() {
  case $1 in
    latest) echo "complete backup (other than pre-rollback ones, which are restored only by name)" ;;
    *) echo "complete pre-upgrade backup to version ${1#before:}" ;;
  esac
}

# select_local DIR SELECTOR: name of the newest complete backup in DIR
# (a timestamp-named directory with MANIFEST.json) that SELECTOR asks for.
select_local() {
  local dir=$1 sel=$2 name
  local -a entries=("$dir"/*)
  while IFS= read -r name; do
    [[ -n $name && -d $dir/$name && -f $dir/$name/MANIFEST.json ]] || continue
    if head -c 4096 -- "$dir/$name/MANIFEST.json" | manifest_meta | selected "$sel"; then
      printf '%s' "$name"
      return 0
    fi
  done < <(printf '%s\n' "${entries[@]##*/}" | grep -E "$TS_RE" | sort -r)
  return 0
}

# select_gcs SELECTOR: the same in the bucket, reading the candidates'
# MANIFEST.json newest first, 5 per gcloud call (one call usually decides:
# gcloud starts in about a second). Exit 4 when there is none.
select_gcs() {
  local sel=$1 name i k
  local -a names=() urls=()
  if ! "$GCLOUD" storage ls "$PREFIX/*/MANIFEST.json" >"$TMP/ls.out" 2>"$TMP/ls.err"; then
    if grep -qi 'matched no objects\|not found' "$TMP/ls.err"; then
      die 4 "no complete backup under $PREFIX/"
    fi
    die 1 "gcloud storage ls $PREFIX failed: $(grep -m1 -v '^[[:space:]]*$' "$TMP/ls.err" || echo unknown error)"
  fi
  mapfile -t names < <(sed -n 's#^.*/\([0-9]\{8\}T[0-9]\{6\}Z\)/MANIFEST\.json$#\1#p' "$TMP/ls.out" | sort -r)
  for ((i = 0; i < ${#names[@]}; i += 5)); do
    urls=()
    for name in "${names[@]:i:5}"; do urls+=("$PREFIX/$name/MANIFEST.json"); done
    if ! "$GCLOUD" storage cat "${urls[@]}" >"$TMP/heads" 2>"$TMP/cat.err"; then
      die 1 "cannot read the manifests under $PREFIX/: $(grep -m1 -v '^[[:space:]]*$' "$TMP/cat.err" || echo unknown error)"
    fi
    # gcloud prints the objects one after the other, in the order given: one file per
    # manifest, each starting at its "format" line.
    rm -rf -- "$TMP/heads.d" && mkdir -p -- "$TMP/heads.d"
    awk -v dir="$TMP/heads.d" '
      /^  "format": "protheus-pg-backup\// { if (file) close(file); n++; file = dir "/" n }
      n { print > file }
    ' "$TMP/heads"
    k=0
    for name in "${names[@]:i:5}"; do
      k=$((k + 1))
      [[ -f $TMP/heads.d/$k && ! -f $TMP/heads.d/$((${#urls[@]} + 1)) ]] ||
        die 1 "cannot read the manifests under $PREFIX/: ${#urls[@]} asked for, another count of backup manifests received"
      if head -c 4096 -- "$TMP/heads.d/$k" | manifest_meta | selected "$sel"; then
        printf '%s' "$name"
        return 0
      fi
    done
  done
  die 4 "no $(what "$sel") under $PREFIX/"
}

# 1. Database side checks first (cheap, before reading or downloading GBs).
TARGET_EXISTS=0
OWNER=$RESTORE_OWNER
if [[ $MODE == restore ]]; then
  if ! out=$(maint_sql <<<"SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"); then
    die 1 "cannot connect to database \"$RESTORE_MAINTENANCE_DB\": $(pg_reason "$TMP/psql.err")"
  fi
  CURRENT_ROLE=${out%|*}
  IS_SUPERUSER=${out##*|}
  # One restore into a target at a time: a session holds an advisory lock for
  # the whole run (released when it ends, however this script ends).
  coproc LOCK { exec "$PSQL" -X -q -A -t -d "$RESTORE_MAINTENANCE_DB" -v target="$RESTORE_DATABASE" 2>"$TMP/lock.err"; }
  printf '%s\n' "SELECT pg_try_advisory_lock(hashtext('protheus.restore'), hashtext(:'target'));" >&"${LOCK[1]}"
  locked=''
  read -r -t 60 locked <&"${LOCK[0]}" || true
  [[ $locked == t ]] || {
    [[ $locked == f ]] && die 1 "another restore into \"$RESTORE_DATABASE\" is running; nothing done"
    die 1 "cannot take the restore lock: $(pg_reason "$TMP/lock.err")"
  }
  # What a restore killed before its cleanup left: the previous database
  # without the target (killed between the two renames) goes back; the rest
  # is dropped.
  out=$(maint_sql <<<"SELECT datname FROM pg_database WHERE datname = :'target' OR datname = :'tmpdb' OR datname ~ '$PREV_RE' ORDER BY datname DESC") ||
    die 1 "cannot query pg_database: $(pg_reason "$TMP/psql.err")"
  mapfile -t found <<<"$out"
  have_target=0
  prevs=()
  for d in "${found[@]}"; do
    [[ $d != "$RESTORE_DATABASE" ]] || have_target=1
    [[ ! $d =~ $PREV_RE ]] || prevs+=("$d")
  done
  for d in "${prevs[@]}"; do
    if [[ $have_target == 0 ]]; then
      on_db "$d" 'ALTER DATABASE :"db" RENAME TO :"target"' ||
        die 1 "\"$RESTORE_DATABASE\" is missing and \"$d\" (left by an interrupted restore) cannot be renamed back: $(pg_reason "$TMP/psql.err")"
      have_target=1
      INTERRUPTED+=("renamed $d back to $RESTORE_DATABASE")
    else
      on_db "$d" 'DROP DATABASE IF EXISTS :"db"' ||
        die 1 "cannot drop \"$d\", the database an interrupted restore replaced: $(pg_reason "$TMP/psql.err")"
      INTERRUPTED+=("dropped $d")
    fi
  done
  if [[ " ${found[*]} " == *" $TMPDB "* ]]; then
    on_db "$TMPDB" 'DROP DATABASE IF EXISTS :"db"' ||
      die 1 "cannot drop leftover database \"$TMPDB\": $(pg_reason "$TMP/psql.err")"
    INTERRUPTED+=("dropped $TMPDB")
  fi
  if ((${#INTERRUPTED[@]} > 0)); then
    left_behind=$(IFS=,; echo "${INTERRUPTED[*]}")
    left_behind=${left_behind//,/, }
    info "an interrupted restore into \"$RESTORE_DATABASE\" left databases (it printed no outcome line): $left_behind"
    outcome_field interrupted "$left_behind"
  fi
  out=$(maint_sql <<<"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :'target'") ||
    die 1 "cannot query pg_database: $(pg_reason "$TMP/psql.err")"
  if [[ -n $out ]]; then
    TARGET_EXISTS=1
    if [[ $RESTORE_REPLACE != yes ]]; then
      die 3 "database \"$RESTORE_DATABASE\" exists; refusing to replace it (set RESTORE_REPLACE=yes to drop and replace it)"
    fi
    [[ -n $OWNER ]] || OWNER=$out
    if [[ $IS_SUPERUSER != t ]]; then
      others=$(other_sessions "$RESTORE_DATABASE") || die 1 "cannot query pg_stat_activity: $(pg_reason "$TMP/psql.err")"
      [[ -z $others ]] || die 1 "database \"$RESTORE_DATABASE\" has sessions of roles $CURRENT_ROLE cannot end: $others; they must disconnect first (or a DBA ends them); nothing done"
    fi
  fi
fi

# 2. Locate the backup.
if [[ $RESTORE_SOURCE == volume ]]; then
  DB_DIR=$BACKUP_DIR/$PGDATABASE
  NAME=$RESTORE_BACKUP
  if ! [[ $NAME =~ $TS_RE ]]; then
    NAME=$(select_local "$DB_DIR" "$RESTORE_BACKUP")
    [[ -n $NAME ]] || die 4 "no $(what "$RESTORE_BACKUP") in $DB_DIR"
    info "$RESTORE_BACKUP is $NAME"
  fi
  SRC=$DB_DIR/$NAME
  [[ -d $SRC ]] || die 4 "backup not found: $SRC"
  [[ -f $SRC/MANIFEST.json ]] || die 4 "backup $NAME is incomplete (no MANIFEST.json) in $DB_DIR"
else
  PREFIX="gs://$GCS_BUCKET/$BACKUP_NAMESPACE"
  NAME=$RESTORE_BACKUP
  if [[ $HAVE_GCLOUD == 1 ]]; then
    if ! [[ $NAME =~ $TS_RE ]]; then
      NAME=$(select_gcs "$RESTORE_BACKUP") || exit $?
      info "$RESTORE_BACKUP is $NAME"
    fi
    SRC=$RESTORE_STAGING_DIR/$NAME
    if [[ -f $SRC/MANIFEST.json ]] && verify_backup "$SRC" "$RESTORE_JOBS" >/dev/null; then
      info "using staged copy $SRC"
    else
      rm -rf -- "$SRC"
      FETCH_PARTIAL=$SRC.partial
      if [[ -e $FETCH_PARTIAL ]]; then
        rm -rf -- "$FETCH_PARTIAL"
        info "removed ${FETCH_PARTIAL##*/}, left by an interrupted download (it printed no outcome line)"
        outcome_field interrupted "removed ${FETCH_PARTIAL##*/} (an interrupted download)"
      fi
      mkdir -p -- "$FETCH_PARTIAL" || die 1 "cannot create $FETCH_PARTIAL"
      info "downloading $PREFIX/$NAME/ to $SRC"
      if ! run_bg "$GCLOUD" storage cp "$PREFIX/$NAME/*" "$FETCH_PARTIAL/" >"$TMP/cp.out" 2>"$TMP/cp.err"; then
        if grep -qi 'matched no objects\|not found' "$TMP/cp.err"; then
          die 4 "backup not found: $PREFIX/$NAME/"
        fi
        die 1 "download of $PREFIX/$NAME/ failed: $(grep -m1 -iE 'error' "$TMP/cp.err" || grep -m1 -v '^[[:space:]]*$' "$TMP/cp.err" || echo unknown error)"
      fi
      [[ -f $FETCH_PARTIAL/MANIFEST.json ]] || die 4 "backup $PREFIX/$NAME/ is incomplete (no MANIFEST.json)"
      if ! reason=$(verify_backup "$FETCH_PARTIAL" "$RESTORE_JOBS"); then
        die 4 "backup $PREFIX/$NAME/ failed verification after download: $reason; database untouched"
      fi
      mv -T -- "$FETCH_PARTIAL" "$SRC" || die 1 "cannot rename $FETCH_PARTIAL"
      FETCH_PARTIAL=''
      info "fetched and verified $SRC"
    fi
  else
    # No gcloud here (postgres image): use what --fetch-only staged, chosen
    # by the same rule from the staged manifests.
    [[ $NAME =~ $TS_RE ]] || NAME=$(select_local "$RESTORE_STAGING_DIR" "$RESTORE_BACKUP")
    [[ -n $NAME && -f $RESTORE_STAGING_DIR/$NAME/MANIFEST.json ]] ||
      die 2 "RESTORE_SOURCE=gcs: gcloud is not installed and no staged copy of $RESTORE_BACKUP is in $RESTORE_STAGING_DIR (run restore.sh --fetch-only in a google/cloud-sdk container first)"
    [[ $NAME == "$RESTORE_BACKUP" ]] || info "$RESTORE_BACKUP is $NAME"
    SRC=$RESTORE_STAGING_DIR/$NAME
    info "using staged copy $SRC"
  fi
fi

outcome_field backup "$NAME"
outcome_field target "$RESTORE_DATABASE"
# 3. Verify every file before any database is touched.
if ! reason=$(verify_backup "$SRC" "$RESTORE_JOBS"); then
  die 4 "backup $NAME failed verification: $reason; database untouched"
fi
info "verified $SRC"
[[ $MODE == restore ]] || exit 0

# 4. The owner: the replaced database's, else the one recorded in the backup
# (a dropped database comes back to the same role), else the connecting role.
# A non-superuser acts as the owner through membership in its role.
if [[ -z $OWNER && $RESTORE_NO_OWNER != yes ]]; then
  IFS=$'\t' read -r _ _ _ OWNER < <(head -c 4096 -- "$SRC/MANIFEST.json" | manifest_meta)
  [[ $OWNER != - ]] || OWNER=''
fi
OWNER=${OWNER:-$CURRENT_ROLE}
out=$(maint_sql <<<"SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = :'owner'") ||
  die 1 "cannot query pg_roles: $(pg_reason "$TMP/psql.err")"
[[ -n $out ]] || die 1 "owner role \"$OWNER\" does not exist in this cluster (create it, set RESTORE_OWNER, or RESTORE_NO_OWNER=yes); database untouched"
[[ $out == t ]] || die 1 "role \"$CURRENT_ROLE\" cannot act as owner \"$OWNER\" (a DBA runs: GRANT \"$OWNER\" TO \"$CURRENT_ROLE\"; see docs/backups.md); database untouched"

# 5. Restore into a temporary database, then rename.
START_S=$(date +%s)
TMPDB_CREATED=1
# Owned by the owner from the start: in PostgreSQL 15 only the database owner
# may create in schema public (pg_database_owner), and the owner's objects go there.
maint_sql <<<"CREATE DATABASE :\"tmpdb\" WITH OWNER :\"owner\" ENCODING 'WIN1252' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null ||
  die 1 "cannot create database \"$TMPDB\": $(pg_reason "$TMP/psql.err"); database \"$RESTORE_DATABASE\" untouched"

restore_opts=(--format=directory --jobs="$RESTORE_JOBS" --exit-on-error --dbname="$TMPDB")
# SET ROLE <owner>: objects are created by the owner and the dump's
# ALTER ... OWNER TO <owner> is allowed. A superuser keeps its own rights
# (objects owned by other roles in the dump).
[[ $IS_SUPERUSER == t ]] || restore_opts+=(--role="$OWNER")
[[ $RESTORE_NO_OWNER != yes ]] || restore_opts+=(--no-owner --no-privileges)
if ! PGOPTIONS="${PGOPTIONS:-} $RESTORE_PGOPTIONS" run_bg "$PG_RESTORE" "${restore_opts[@]}" "$SRC" 2>"$TMP/pg_restore.err"; then
  die 1 "pg_restore failed: $(pg_reason "$TMP/pg_restore.err"); database \"$RESTORE_DATABASE\" untouched"
fi
if ! PGOPTIONS="${PGOPTIONS:-} $RESTORE_PGOPTIONS" run_bg "$VACUUMDB" --analyze-only --quiet --jobs="$RESTORE_JOBS" --dbname="$TMPDB" >/dev/null 2>"$TMP/vacuumdb.err"; then
  die 1 "ANALYZE failed: $(pg_reason "$TMP/vacuumdb.err"); database \"$RESTORE_DATABASE\" untouched"
fi

# 6. Swap: the target to <target>_prev_<time>, the restored database to the
# target, and only then drop the previous one. Renames are atomic; between
# the two the previous database is under its _prev_ name, and a failure puts
# it back (cleanup). Sessions of other roles on either refuse the swap.
PREVDB=${RESTORE_DATABASE}_prev_$(date -u +%Y%m%dT%H%M%SZ)
others=$(other_sessions "$TMPDB") || die 1 "cannot query pg_stat_activity: $(pg_reason "$TMP/psql.err")"
[[ -z $others ]] || die 1 "database \"$TMPDB\" has sessions of roles $CURRENT_ROLE cannot end: $others; database \"$RESTORE_DATABASE\" untouched"
if [[ $TARGET_EXISTS == 1 ]]; then
  SWAP=live-moving
  on_db "$RESTORE_DATABASE" 'ALTER DATABASE :"db" RENAME TO :"prev"' ||
    die 1 "cannot rename database \"$RESTORE_DATABASE\" to \"$PREVDB\": $(pg_reason "$TMP/psql.err")"
  SWAP=live-moved
fi
on_db "$TMPDB" 'ALTER DATABASE :"db" RENAME TO :"target"' ||
  die 1 "cannot rename \"$TMPDB\" to \"$RESTORE_DATABASE\": $(pg_reason "$TMP/psql.err")"
SWAP=swapped
if [[ $TARGET_EXISTS == 1 ]]; then
  if on_db "$PREVDB" 'DROP DATABASE IF EXISTS :"db"'; then
    PREVDB=''
  else
    warn "cannot drop the previous database \"$PREVDB\": $(pg_reason "$TMP/psql.err"); the next restore into \"$RESTORE_DATABASE\" drops it"
    outcome_field left "$PREVDB"
  fi
fi
check=$(maint_sql <<<"SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype FROM pg_database WHERE datname = :'target'") || check='?'
[[ $check == 'WIN1252 C C' ]] || die 1 "restored database \"$RESTORE_DATABASE\" has encoding/collation \"$check\", expected \"WIN1252 C C\""

if [[ $RESTORE_SOURCE == gcs && $SRC == "$RESTORE_STAGING_DIR"/* ]]; then
  rm -rf -- "$SRC" || true
fi
info "restored backup $NAME into database \"$RESTORE_DATABASE\" in $(($(date +%s) - START_S))s"
exit 0
