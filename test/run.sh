#!/usr/bin/env bash
# `npm test`: the type check and the lint run beside mocha, which spends much of its
# time waiting on PostgreSQL and gcloud. mocha prints as it goes; the type check's and
# the lint's output follow when they fail. Fails when any of the three fails.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d "${TMPDIR:-/tmp}/protheus-checks.XXXXXX")
trap 'rm -rf -- "$logs"' EXIT
# Every node process of the run (npm, tsc, mocha, the commands the tests start) reuses the
# bytecode of the modules an earlier one compiled: about a fifth of a command's CPU.
export NODE_COMPILE_CACHE="$logs/node-compile-cache"
# The tests that start servers (a real PostgreSQL and gcloud, a registry) go first: they are
# the longest files. `--unit` (npm run test:unit) leaves them out.
server_tests=("test/scripts/*.test.ts" "test/registry/*.test.ts")
[[ ${1:-} == --unit ]] && shift && server_tests=()

npm run --silent build >"$logs/type-check" 2>&1 &
build=$!
npm run --silent lint >"$logs/lint" 2>&1 &
lint=$!
# Two workers for the two cores (three took as long, with more CPU); MOCHA_JOBS sets another number.
mocha --parallel --jobs "${MOCHA_JOBS:-2}" "${server_tests[@]}" "test/*.test.ts" "policy/test/*.test.ts" "$@"
status=$?

for check in build lint; do
    name=$([[ $check == build ]] && echo type-check || echo lint)
    if ! wait "${!check}"; then
        echo "npm test: the $name failed:" >&2
        cat "$logs/$name" >&2
        status=1
    fi
done
exit "$status"
