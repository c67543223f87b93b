#!/bin/sh
# upddistr.sh - runs UPDDISTR (init-upddistr) in the protheus-updater pod and,
# when it ends, prints the end of UPDDISTR.LOG and result.json to stdout, so
# `kubectl logs` of a finished (failed) updater pod shows why it failed: a
# finished pod cannot be exec'd into, and the log lives on the volume.
#
# POSIX sh on purpose: the updater image is TOTVS's, not ours; only sh, tail
# and cat are assumed. Exits with UPDDISTR's own exit code.
set -u

PROG=upddistr

usage() {
  cat <<'EOF'
Usage: upddistr.sh [--help]

Runs $UPDDISTR_COMMAND, waits for it, then prints the last $UPDDISTR_LOG_LINES
lines of $UPDDISTR_LOG and the whole $UPDDISTR_RESULT (when present) to stdout.
Exits with the command's exit code.

Environment:
  UPDDISTR_COMMAND    command to run (default init-upddistr)
  UPDDISTR_LOG        UPDDISTR's log (default /volume/logs/UPDDISTR.LOG)
  UPDDISTR_RESULT     UPDDISTR's result file (default /volume/logs/result.json)
  UPDDISTR_LOG_LINES  how many lines of the log to print, 1-100000 (default 500)
  UPDDISTR_JOB        the Job's name: the same report is also kept in
                      <directory of UPDDISTR_LOG>/<UPDDISTR_JOB>.log, so it
                      outlives the Job (and its pod's log) when the Job is deleted
  BACKUP_NAMESPACE    the environment named in the outcome line

Exit codes:
  the command's own; 2 on a usage error; 127 when the command is not found
EOF
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
  '') ;;
  *)
    echo "$PROG: unknown argument: $1 (try --help)" >&2
    exit 2
    ;;
esac

UPDDISTR_COMMAND=${UPDDISTR_COMMAND:-init-upddistr}
UPDDISTR_LOG=${UPDDISTR_LOG:-/volume/logs/UPDDISTR.LOG}
UPDDISTR_RESULT=${UPDDISTR_RESULT:-/volume/logs/result.json}
UPDDISTR_LOG_LINES=${UPDDISTR_LOG_LINES:-500}

case $UPDDISTR_LOG_LINES in
  '' | *[!0-9]*)
    echo "$PROG: UPDDISTR_LOG_LINES must be a whole number from 1 to 100000: $UPDDISTR_LOG_LINES" >&2
    exit 2
    ;;
esac
if [ "$UPDDISTR_LOG_LINES" -lt 1 ] || [ "$UPDDISTR_LOG_LINES" -gt 100000 ]; then
  echo "$PROG: UPDDISTR_LOG_LINES must be a whole number from 1 to 100000: $UPDDISTR_LOG_LINES" >&2
  exit 2
fi

# ends_without_newline FILE: true when FILE's last byte is not a newline (a
# log cut off mid-line), so the end marker still starts its own line.
ends_without_newline() {
  [ -s "$1" ] && [ -n "$(tail -c 1 -- "$1")" ]
}

STARTED=$(date +%s)
CHILD=''
# Kubernetes stops a pod with SIGTERM: pass it on, so UPDDISTR can stop cleanly.
# shellcheck disable=SC2317 # run by the TERM and INT trap; shellcheck 0.9 misses calls from a trap when the script ends in exit
forward() {
  [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null
}
trap forward TERM INT

echo "$PROG: running $UPDDISTR_COMMAND"
# shellcheck disable=SC2086 # unquoted on purpose: the command may carry arguments (e.g. "init-upddistr --x")
$UPDDISTR_COMMAND &
CHILD=$!
# wait returns early (>128) when a trapped signal arrives: wait again for the real exit code.
while :; do
  wait "$CHILD"
  RC=$?
  [ "$RC" -gt 128 ] && kill -0 "$CHILD" 2>/dev/null && continue
  break
done
# The child may have ended between the interrupted wait and kill -0: the shell still
# holds its status, and a last wait returns it (127 if there is none to collect).
if [ "$RC" -gt 128 ]; then
  wait "$CHILD" 2>/dev/null
  LAST=$?
  [ "$LAST" -eq 127 ] || RC=$LAST
fi
CHILD=''

# report: the end of the log, the result file and the outcome line; printed, and kept under the Job's name.
report() {
  if [ -f "$UPDDISTR_LOG" ]; then
    echo "----- $PROG: last $UPDDISTR_LOG_LINES lines of $UPDDISTR_LOG -----"
    tail -n "$UPDDISTR_LOG_LINES" -- "$UPDDISTR_LOG"
    if ends_without_newline "$UPDDISTR_LOG"; then echo; fi
    echo "----- $PROG: end of $UPDDISTR_LOG -----"
  else
    echo "$PROG: $UPDDISTR_LOG does not exist (UPDDISTR wrote no log)"
  fi
  if [ -f "$UPDDISTR_RESULT" ]; then
    echo "----- $PROG: $UPDDISTR_RESULT -----"
    cat -- "$UPDDISTR_RESULT"
    if ends_without_newline "$UPDDISTR_RESULT"; then echo; fi
    echo "----- $PROG: end of $UPDDISTR_RESULT -----"
  fi
  if [ "$RC" -eq 0 ]; then
    echo "$PROG: $UPDDISTR_COMMAND finished successfully"
  else
    echo "$PROG: $UPDDISTR_COMMAND failed with exit code $RC"
  fi
  # The outcome line every robot ends with (format: docs/backups.md, "Outcome
  # lines"; read by components/BackupAlerts.ts): one JSON line on stdout.
  STATUS=ok
  [ "$RC" -eq 0 ] || STATUS=failed
  LINE="{\"event\":\"protheus.updater\",\"status\":\"$STATUS\",\"environment\":$(json "${BACKUP_NAMESPACE:-}"),\"database\":$(json "${PGDATABASE:-}"),\"seconds\":$SECONDS_TAKEN"
  if [ "$RC" -ne 0 ]; then
    LINE="$LINE,\"exit_code\":$RC,\"error\":$(json "$UPDDISTR_COMMAND failed with exit code $RC")"
  fi
  printf '%s}\n' "$LINE"
}
json() { printf '"%s"' "$(printf '%s' "$1" | tr '\000-\037' ' ' | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
SECONDS_TAKEN=$(($(date +%s) - STARTED))

report
[ "$RC" -eq 0 ] || echo "$PROG: $UPDDISTR_COMMAND failed with exit code $RC" >&2
# The copy is written aside and renamed, so a reader never takes a cut one for the report.
case ${UPDDISTR_JOB:-} in
  '') ;;
  */* | .*) echo "$PROG: UPDDISTR_JOB is not a Job name, report not kept: $UPDDISTR_JOB" >&2 ;;
  *)
    KEPT="$(dirname -- "$UPDDISTR_LOG")/$UPDDISTR_JOB.log"
    if report >"$KEPT.partial" && mv -f -- "$KEPT.partial" "$KEPT"; then
      echo "$PROG: report kept in $KEPT" >&2
    else
      rm -f -- "$KEPT.partial"
      echo "$PROG: could not keep the report in $KEPT" >&2
    fi
    ;;
esac
exit "$RC"
