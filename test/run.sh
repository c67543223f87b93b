#!/usr/bin/env bash
# `npm test`: the type check, the lint and shellcheck run beside mocha, which spends much
# of its time waiting on PostgreSQL and gcloud. mocha prints as it goes; a check's output
# follows when it fails. Fails when mocha or any check fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
logs=$(mktemp -d "${TMPDIR:-/tmp}/protheus-checks.XXXXXX")
trap 'rm -rf -- "$logs"' EXIT
# Every node process of the run (npm, tsc, mocha, the commands the tests start) reuses the
# bytecode of the modules an earlier one compiled: about a fifth of a command's CPU.
export NODE_COMPILE_CACHE="$logs/node-compile-cache"
# The tests that start servers (a real PostgreSQL and gcloud, a registry) go first: they are
# the longest files. `--unit` (npm run test:unit) leaves them out.
server_tests=("test/scripts/*.test.ts" "test/registry/*.test.ts")
[[ ${1:-} == --unit ]] && shift && server_tests=()

declare -A check_pid=()
npm run --silent build >"$logs/type-check" 2>&1 &
check_pid[type-check]=$!
npm run --silent lint >"$logs/lint" 2>&1 &
check_pid[lint]=$!
npm run --silent shellcheck >"$logs/shellcheck" 2>&1 &
check_pid[shellcheck]=$!
# Two workers for the two cores (three took as long, with more CPU); MOCHA_JOBS sets another number.
mocha --parallel --jobs "${MOCHA_JOBS:-2}" "${server_tests[@]}" "test/*.test.ts" "policy/test/*.test.ts" "$@"
status=$?

for name in type-check lint shellcheck; do
    if ! wait "${check_pid[$name]}"; then
        echo "npm test: $name failed:" >&2
        cat "$logs/$name" >&2
        status=1
    fi
done
exit "$status"
