# shellcheck shell=bash
# lib.sh - shared by backup.sh, copy.sh and restore.sh (sourced; shipped
# beside them in the same ConfigMap). The callers set PROG before sourcing.

die() { # die CODE MESSAGE: one-line reason on stderr, exit CODE
  local code=$1
  shift
  OUTCOME_ERROR=$*
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit "$code"
}
info() { printf '%s: %s\n' "$PROG" "$*"; }
err() { printf '%s: %s\n' "$PROG" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }

# parse_mode DEFAULT [--option=mode ...] -- "$@": a script configured by
# environment variables takes at most one argument: --help (prints usage,
# exit 0) or one of the given options, which sets MODE (else DEFAULT).
# Anything else is exit 2.
parse_mode() {
  MODE=$1
  shift
  local -A modes=()
  while [[ $1 != -- ]]; do
    modes[${1%%=*}]=${1#*=}
    shift
  done
  shift
  case "${1:-}" in
    -h | --help)
      usage
      exit 0
      ;;
    '') ;;
    *)
      [[ -n ${modes[$1]:-} ]] || die 2 "unknown argument: $1 (try --help)"
      # shellcheck disable=SC2034 # MODE is read by the script that called parse_mode
      MODE=${modes[$1]}
      ;;
  esac
  [[ $# -le 1 ]] || die 2 "too many arguments (try --help)"
}

# no_arguments "$@": only --help.
no_arguments() {
  parse_mode '' -- "$@"
}

# The first line carrying an error from a libpq tool's stderr, without the
# tool prefix and the connection preamble.
pg_reason() {
  local f=$1 line
  line=$(grep -m1 -E 'error:|FATAL:|ERROR:' "$f" || true)
  [[ -n $line ]] || line=$(grep -m1 -v '^[[:space:]]*$' "$f" || true)
  line=${line#*error: }
  [[ $line == *'FATAL:  '* ]] && line=${line##*FATAL:  }
  [[ $line == *'ERROR:  '* ]] && line=${line##*ERROR:  }
  printf '%s' "${line:-unknown error}"
}

# A database name is an identifier, never a connection string: libpq takes a
# -d/--dbname value holding "=" as conninfo (host=..., with the password).
# shellcheck disable=SC2034 # used by the scripts that source this file
DBNAME_RE='^[A-Za-z_][A-Za-z0-9_]*$'

# A backup's name is its UTC start time; its MANIFEST.json lists one file per
# line (written by backup.sh) so that bash can read it without jq.
# shellcheck disable=SC2034 # used by the scripts that source this file
TS_RE='^[0-9]{8}T[0-9]{6}Z$'
FILE_RE='^[[:space:]]*\{"name": "([A-Za-z0-9._-]+)", "size": ([0-9]+), "sha256": "([0-9a-f]{64})"\},?[[:space:]]*$'
COUNT_RE='"file_count": ([0-9]+)'
# Protheus versions are semver-shaped (12.1.2410, 12.1.2510-3), as the config
# schema checks updateDesiredVersion (no build metadata).
# shellcheck disable=SC2034 # used by the scripts that source this file
VERSION_RE='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
# Why a backup was taken (MANIFEST.json "reason").
# shellcheck disable=SC2034 # used by the scripts that source this file
REASON_RE='^(nightly|pre-upgrade|pre-rollback|manual)$'

# manifest_meta: reads a MANIFEST.json (its first lines are enough) on stdin
# and prints "reason<TAB>from_version<TAB>to_version<TAB>database_owner", "-"
# for a null or missing field (backups made before these fields existed).
META_RE='^[[:space:]]*"(reason|from_version|to_version|database_owner)": "([^"\\]*)",?[[:space:]]*$'
manifest_meta() {
  local line key val
  local -A m=([reason]=- [from_version]=- [to_version]=- [database_owner]=-)
  while IFS= read -r line; do
    [[ $line =~ $META_RE ]] || continue
    key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
    [[ -n $val ]] && m[$key]=$val
  done
  printf '%s\t%s\t%s\t%s\n' "${m[reason]}" "${m[from_version]}" "${m[to_version]}" "${m[database_owner]}"
}

# verify_backup DIR JOBS [sizes]: every file listed in DIR/MANIFEST.json is
# present with the listed size and SHA-256 (with "sizes": the size only, for
# a backup just written and hashed). On failure prints a one-line reason.
verify_backup() {
  local dir=$1 jobs=$2 only=${3:-} manifest=$1/MANIFEST.json line n=0 count='' name size sha have_toc=0 got gsha gname checked=0
  local -A listed_sha=()
  [[ -f $manifest ]] || {
    echo "no MANIFEST.json (incomplete backup)"
    return 1
  }
  while IFS= read -r line; do
    if [[ $line =~ $FILE_RE ]]; then
      name=${BASH_REMATCH[1]} size=${BASH_REMATCH[2]} sha=${BASH_REMATCH[3]}
      if [[ ! -f $dir/$name ]]; then
        echo "$name: missing"
        return 1
      fi
      if [[ $(stat -c %s -- "$dir/$name") != "$size" ]]; then
        echo "$name: size differs from MANIFEST.json"
        return 1
      fi
      listed_sha[$name]=$sha
      n=$((n + 1))
      [[ $name != toc.dat ]] || have_toc=1
    elif [[ $line =~ $COUNT_RE ]]; then
      count=${BASH_REMATCH[1]}
    fi
  done <"$manifest"
  if [[ -z $count || $n -ne $count || $n -eq 0 ]]; then
    echo "MANIFEST.json is unreadable (lists $n files, file_count ${count:-missing})"
    return 1
  fi
  if [[ $have_toc != 1 ]]; then
    echo "MANIFEST.json does not list toc.dat"
    return 1
  fi
  [[ $only != sizes ]] || return 0
  if ! got=$(cd "$dir" && printf '%s\0' "${!listed_sha[@]}" | xargs -0 -n 4 -P "$jobs" sha256sum --); then
    echo "cannot read the backup files"
    return 1
  fi
  while read -r gsha gname; do
    gname=${gname#\*}
    if [[ ${listed_sha[$gname]:-} != "$gsha" ]]; then
      echo "$gname: SHA-256 differs from MANIFEST.json"
      return 1
    fi
    checked=$((checked + 1))
  done <<<"$got"
  if [[ $checked -ne $n ]]; then
    echo "checked $checked of $n files"
    return 1
  fi
  return 0
}

# manifest_files DIR: names listed in DIR/MANIFEST.json
manifest_files() {
  local line
  while IFS= read -r line; do
    [[ $line =~ $FILE_RE ]] && printf '%s\n' "${BASH_REMATCH[1]}"
  done <"$1/MANIFEST.json"
  return 0
}

# ---- Outcome line (read by the log-based metrics of components/BackupAlerts.ts)
# Every robot ends its run with ONE JSON line on stdout, e.g.
#   {"event":"protheus.backup","status":"ok","environment":"c2a7dv","database":"protheus","seconds":742.1,"bytes":155189248,"backup":"20261127T000003Z"}
#   {"event":"protheus.copy","status":"failed",...,"exit_code":1,"error":"shipping failed ..."}
# GKE ships container stdout to Cloud Logging, which parses a JSON line into
# jsonPayload. The format is documented in docs/backups.md ("Outcome lines").

# json_string S: S as a JSON string literal (backslash, quote and control
# characters escaped; a message is one line, so control characters become spaces).
json_string() {
  local s=$1 LC_ALL=C
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/ }
  s=${s//$'\n'/ }
  s=${s//$'\r'/ }
  s=${s//[$'\x01'-$'\x1f']/ }
  printf '"%s"' "$s"
}

OUTCOME_EVENT=''
OUTCOME_FIELDS=()
OUTCOME_DONE=0
# outcome_begin EVENT: from now on, the exit of this script prints the outcome
# line (a script's own EXIT trap calls outcome_end instead). Called after
# argument parsing, so --help prints none.
outcome_begin() {
  OUTCOME_EVENT=$1
  OUTCOME_START=${EPOCHREALTIME//[!0-9]/}
  # The script's stdout, kept: a signal handled inside a command whose stdout
  # is redirected (e.g. >/dev/null) must still print the outcome line.
  exec {OUTCOME_FD}>&1
  trap 'outcome_end $?' EXIT
}

# outcome_field KEY VALUE: an extra field; a VALUE that is a number is printed as one.
outcome_field() { OUTCOME_FIELDS+=("$1" "$2"); }

# seconds_since USEC: seconds elapsed since an ${EPOCHREALTIME//[!0-9]/} value, one decimal.
seconds_since() {
  local d=$((${EPOCHREALTIME//[!0-9]/} - $1))
  printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}

# outcome_end RC: print the outcome line once (status from RC; error from the
# last die, else the exit code).
outcome_end() {
  local rc=$1 status=ok line i k v
  [[ -n $OUTCOME_EVENT && $OUTCOME_DONE == 0 ]] || return 0
  OUTCOME_DONE=1
  [[ $rc == 0 ]] || status=failed
  line="{\"event\":\"protheus.$OUTCOME_EVENT\",\"status\":\"$status\",\"environment\":$(json_string "${BACKUP_NAMESPACE:-}"),\"database\":$(json_string "${PGDATABASE:-}"),\"seconds\":$(seconds_since "$OUTCOME_START")"
  for ((i = 0; i + 1 < ${#OUTCOME_FIELDS[@]}; i += 2)); do
    k=${OUTCOME_FIELDS[i]} v=${OUTCOME_FIELDS[i + 1]}
    if [[ $v =~ ^(0|[1-9][0-9]*)(\.[0-9]+)?$ ]]; then line+=",$(json_string "$k"):$v"; else line+=",$(json_string "$k"):$(json_string "$v")"; fi
  done
  if [[ $rc != 0 ]]; then
    line+=",\"exit_code\":$rc,\"error\":$(json_string "${OUTCOME_ERROR:-exited with code $rc}")"
  fi
  printf '%s}\n' "$line" >&"${OUTCOME_FD:-1}"
}

# ---- Per-table row counts (backup.sh records them, drill.sh checks them)
# TABLE_ROWS_SQL prints "<JSON table name>|<rows>" for every ordinary table
# pg_dump dumps (not system schemas, not extension members), ordered by name.
# A table whose relation has no block at all holds no row visible to any
# snapshot (only TRUNCATE empties a file under a live snapshot, and pg_dump
# sees that the same way), so it is not read; the others are counted exactly
# with count(*), where the planner uses an index-only scan of the unique
# R_E_C_N_O_ index on all-visible pages instead of reading the wide heap.
# reltuples is never used: it is an estimate.
# shellcheck disable=SC2034 # used by the scripts that source this file
TABLE_ROWS_SQL="SELECT CASE WHEN pg_relation_size(c.oid) = 0 THEN format('SELECT %L, 0', to_json(n.nspname || '.' || c.relname)::text)
  ELSE format('SELECT %L, count(*) FROM ONLY %I.%I', to_json(n.nspname || '.' || c.relname)::text, n.nspname, c.relname) END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
\\gexec"
# One manifest line per table: {"table": "public.sa1010", "rows": 1234}
# shellcheck disable=SC2034 # used by the scripts that source this file
TABLE_RE='^[[:space:]]*\{"table": ("([^"\\]|\\.)*"), "rows": ([0-9]+)\},?[[:space:]]*$'
# shellcheck disable=SC2034 # used by the scripts that source this file
TABLE_COUNT_RE='"table_count": ([0-9]+)'
