#!/usr/bin/env bash
# `npm run shellcheck` (part of `npm test`): shellcheck, at its default severity, on the given
# files, else on every shell script of the repository: the files git tracks or would track named
# *.sh or starting with a sh/bash shebang or a "shellcheck shell=" directive (lib.sh, sourced).
# An exception must say why: a "shellcheck disable=" directive without "# reason" fails too.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
command -v shellcheck >/dev/null 2>&1 || {
  echo "shellcheck: not installed (Debian package shellcheck; .ci/run installs it)" >&2
  exit 2
}

files=("$@")
if ((${#files[@]} == 0)); then
  while IFS= read -r -d '' f; do
    [[ -f $f ]] || continue
    first=''
    IFS= read -r first <"$f" || true
    if [[ $f == *.sh || $f == *.bash || $first =~ ^#!.*[/\ ](ba|da)?sh([[:space:]]|$) || $first == '# shellcheck shell='* ]]; then
      files+=("$f")
    fi
  done < <(git ls-files -z --cached --others --exclude-standard)
  ((${#files[@]} > 0)) || {
    echo "shellcheck: no shell script found (is this a git checkout?)" >&2
    exit 2
  }
fi

status=0
# -x: follow `source` into lib.sh, so its functions and variables count where they are used.
shellcheck -x -- "${files[@]}" || status=1
if unexplained=$(grep -HnE '^[[:space:]]*#[[:space:]]*shellcheck[[:space:]].*disable=' -- "${files[@]}" |
  grep -vE 'disable=[A-Za-z0-9,-]+[[:space:]]+#[[:space:]]*[^[:space:]]'); then
  echo "shellcheck: a disable directive without its reason (write: # shellcheck disable=SCxxxx # why):" >&2
  echo "$unexplained" >&2
  status=1
fi
exit "$status"
