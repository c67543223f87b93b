# shellcheck shell=bash
# lib.sh - shared by backup.sh, copy.sh and restore.sh (sourced; shipped
# beside them in the same ConfigMap). The callers set PROG before sourcing.

die() { # die CODE MESSAGE: one-line reason on stderr, exit CODE
  local code=$1
  shift
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit "$code"
}
info() { printf '%s: %s\n' "$PROG" "$*"; }
err() { printf '%s: %s\n' "$PROG" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }

# no_arguments "$@": a script configured by environment variables takes only
# --help (printed by the caller's usage function).
no_arguments() {
  case "${1:-}" in
    -h | --help)
      usage
      exit 0
      ;;
    '') ;;
    *) die 2 "unknown argument: $1 (try --help)" ;;
  esac
  [[ $# -le 1 ]] || die 2 "too many arguments (try --help)"
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

# A backup's name is its UTC start time; its MANIFEST.json lists one file per
# line (written by backup.sh) so that bash can read it without jq.
# shellcheck disable=SC2034 # used by the scripts that source this file
TS_RE='^[0-9]{8}T[0-9]{6}Z$'
FILE_RE='^[[:space:]]*\{"name": "([A-Za-z0-9._-]+)", "size": ([0-9]+), "sha256": "([0-9a-f]{64})"\},?[[:space:]]*$'
COUNT_RE='"file_count": ([0-9]+)'
# Protheus versions are semver-shaped (12.1.2410, 12.1.2510-3), as the config
# schema checks updateDesiredVersion (no build metadata).
VERSION_RE='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
# Why a backup was taken (MANIFEST.json "reason").
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

# verify_backup DIR JOBS: every file listed in DIR/MANIFEST.json is present
# with the listed size and SHA-256. On failure prints a one-line reason.
verify_backup() {
  local dir=$1 jobs=$2 m=$1/MANIFEST.json line n=0 count='' name size sha have_toc=0 got gsha gname checked=0
  local -A want=()
  [[ -f $m ]] || {
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
      want[$name]=$sha
      n=$((n + 1))
      [[ $name != toc.dat ]] || have_toc=1
    elif [[ $line =~ $COUNT_RE ]]; then
      count=${BASH_REMATCH[1]}
    fi
  done <"$m"
  if [[ -z $count || $n -ne $count || $n -eq 0 ]]; then
    echo "MANIFEST.json is unreadable (lists $n files, file_count ${count:-missing})"
    return 1
  fi
  if [[ $have_toc != 1 ]]; then
    echo "MANIFEST.json does not list toc.dat"
    return 1
  fi
  if ! got=$(cd "$dir" && printf '%s\0' "${!want[@]}" | xargs -0 -n 4 -P "$jobs" sha256sum --); then
    echo "cannot read the backup files"
    return 1
  fi
  while read -r gsha gname; do
    gname=${gname#\*}
    if [[ ${want[$gname]:-} != "$gsha" ]]; then
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
