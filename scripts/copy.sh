#!/usr/bin/env bash
# copy.sh - ship complete backups from the environment volume to Google Cloud
# Storage and/or the Rubrik Managed Volume (NFS).
#
# Runs in the stock google/cloud-sdk:slim image (bash, gcloud, coreutils; no
# PostgreSQL tools needed). Configured only by environment variables; see
# --help and docs/backups.md.
set -euo pipefail

PROG=copy
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || { echo "$PROG: cannot read lib.sh beside this script" >&2; exit 2; }

usage() {
  cat <<'EOF'
Usage: copy.sh [--help]

Ships every complete backup in $BACKUP_DIR/$PGDATABASE/ (a <timestamp>/ dir
with MANIFEST.json, never a .partial) that a target does not have yet. A
backup is verified locally (SHA-256 and size of every file in MANIFEST.json)
before it is shipped; a backup that fails verification is reported and not
shipped. MANIFEST.json is always shipped LAST: a target "has" a backup when
its MANIFEST.json is there, so an interrupted copy is resumed next run.

  gcs     gs://$GCS_BUCKET/$BACKUP_NAMESPACE/<timestamp>/
          Objects already present with the same size and CRC32C (gcloud
          storage hash) are skipped: the bucket's retention policy forbids
          overwrites. gcloud checks the MD5 of each upload itself; a
          mismatch fails the copy before MANIFEST.json is uploaded.
  rubrik  $RUBRIK_DIR/$BACKUP_NAMESPACE/<timestamp>/
          Copied into <timestamp>.partial/, SHA-256 verified there, then
          renamed atomically.

Environment:
  BACKUP_TARGETS    comma list of gcs, rubrik (required, non-empty)
  PGDATABASE        database whose backups are shipped (required)
  BACKUP_DIR        root of backups (default /volume/backups)
  BACKUP_NAMESPACE  Kubernetes namespace; prefix at every target (required)
  GCS_BUCKET        bucket name, without gs:// (required for gcs)
  RUBRIK_DIR        mounted Rubrik Managed Volume path (required for rubrik;
                    must be an existing directory)
  COPY_JOBS         parallel checksum processes (default 2)

Exit codes:
  0  every complete backup is at every target (or nothing to ship)
  1  shipping to a target failed (other backups/targets were still tried)
  2  usage or configuration error (bad variable, unknown argument, missing
     tool, RUBRIK_DIR not a directory)
  3  no target failed, but at least one local backup failed verification
     (corrupt or missing file) and was not shipped
EOF
}


# first meaningful error line of a gcloud stderr file
gcloud_reason() {
  local line
  line=$(grep -m1 -E '^ERROR' "$1" || grep -m1 -v -E '^[[:space:].]*$|^Copying |^Average throughput' "$1" || true)
  line=${line#ERROR: }
  printf '%s' "${line:-unknown error}"
}

no_arguments "$@"
outcome_begin copy

BACKUP_DIR=${BACKUP_DIR:-/volume/backups}
BACKUP_TARGETS=${BACKUP_TARGETS:-}
COPY_JOBS=${COPY_JOBS:-2}
GCLOUD=gcloud

[[ -n ${PGDATABASE:-} ]] || die 2 "PGDATABASE is required"
[[ $PGDATABASE != */* && $PGDATABASE != .* ]] || die 2 "PGDATABASE must not contain '/' or start with '.': $PGDATABASE"
[[ $BACKUP_DIR == /* ]] || die 2 "BACKUP_DIR must be an absolute path: $BACKUP_DIR"
[[ -n ${BACKUP_NAMESPACE:-} ]] || die 2 "BACKUP_NAMESPACE is required"
[[ $BACKUP_NAMESPACE =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]] || die 2 "BACKUP_NAMESPACE must be a Kubernetes namespace name: $BACKUP_NAMESPACE"
[[ $COPY_JOBS =~ ^[1-9][0-9]*$ ]] || die 2 "COPY_JOBS must be a positive integer: $COPY_JOBS"
[[ -n ${BACKUP_TARGETS//[[:space:],]/} ]] || die 2 "BACKUP_TARGETS is required (comma list of gcs, rubrik)"
TO_GCS=0
TO_RUBRIK=0
IFS=',' read -r -a _targets <<<"$BACKUP_TARGETS"
for t in "${_targets[@]}"; do
  t=${t//[[:space:]]/}
  case "$t" in
    gcs) TO_GCS=1 ;;
    rubrik) TO_RUBRIK=1 ;;
    '') ;;
    *) die 2 "BACKUP_TARGETS: unknown target \"$t\" (allowed: gcs, rubrik)" ;;
  esac
done
if [[ $TO_GCS == 1 ]]; then
  [[ -n ${GCS_BUCKET:-} ]] || die 2 "GCS_BUCKET is required for target gcs"
  [[ $GCS_BUCKET =~ ^[a-z0-9][a-z0-9._-]*[a-z0-9]$ ]] || die 2 "GCS_BUCKET must be a bucket name without gs://: $GCS_BUCKET"
  command -v "$GCLOUD" >/dev/null 2>&1 || die 2 "required command not found: $GCLOUD"
fi
if [[ $TO_RUBRIK == 1 ]]; then
  [[ -n ${RUBRIK_DIR:-} ]] || die 2 "RUBRIK_DIR is required for target rubrik"
  [[ -d $RUBRIK_DIR ]] || die 2 "RUBRIK_DIR is not a directory (Managed Volume not mounted?): $RUBRIK_DIR"
fi
for tool in sha256sum stat xargs cp mv; do
  command -v "$tool" >/dev/null 2>&1 || die 2 "required command not found: $tool"
done

# gcloud: no prompts; no parallel composite uploads (their temporary
# component objects cannot be deleted under the bucket's retention policy).
export CLOUDSDK_CORE_DISABLE_PROMPTS=1
export CLOUDSDK_STORAGE_PARALLEL_COMPOSITE_UPLOAD_ENABLED=False

TMP=$(mktemp -d "${TMPDIR:-/tmp}/copy.XXXXXX")
RUBRIK_PARTIAL=''
# shellcheck disable=SC2317 # run by the EXIT trap; shellcheck 0.9 misses calls from a trap when the script ends in exit
cleanup() {
  local rc=$?
  if [[ -n $RUBRIK_PARTIAL && -e $RUBRIK_PARTIAL ]]; then rm -rf -- "$RUBRIK_PARTIAL" || true; fi
  rm -rf -- "$TMP" || true
  outcome_end "$rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'die 1 "interrupted by SIGTERM"' TERM
trap 'die 1 "interrupted by SIGINT"' INT

SRC_DIR=$BACKUP_DIR/$PGDATABASE
GCS_PREFIX="gs://${GCS_BUCKET:-}/$BACKUP_NAMESPACE"

# gcs_list PATTERN OUT: "<object name> <size> <crc32c>" of every object
# matching PATTERN (possibly none). On failure GCS_LIST_ERROR says why.
GCS_LIST_ERROR=''
gcs_list() {
  local pattern=$1 out=$2
  if ! "$GCLOUD" storage objects list "$pattern" --raw --format='value(name,size,crc32c)' >"$TMP/list.raw" 2>"$TMP/list.err"; then
    if grep -qi 'matched no objects' "$TMP/list.err"; then
      : >"$out"
      return 0
    fi
    GCS_LIST_ERROR="gcs: cannot list $pattern: $(gcloud_reason "$TMP/list.err")"
    err "$GCS_LIST_ERROR"
    return 1
  fi
  tr '\t' ' ' <"$TMP/list.raw" | grep -v '^ *$' >"$out" || true
  return 0
}

# gcs_objects NAME: RSIZE and RCRC (by file name) of the backup NAME's objects
# in the run's listing of the namespace ($TMP/bucket).
gcs_objects() {
  local name=$1 oname size crc
  declare -gA RSIZE=() RCRC=()
  while read -r oname size crc; do
    [[ $oname == "$BACKUP_NAMESPACE/$name/"* ]] || continue
    RSIZE[${oname##*/}]=$size
    RCRC[${oname##*/}]=$crc
  done <"$TMP/bucket"
}

ship_gcs() {
  local name=$1 dir=$SRC_DIR/$1 f url crc size
  local -a files=() missing=()
  local -A lcrc=()
  mapfile -t files < <(manifest_files "$dir")
  gcs_objects "$name"
  # Objects already there (an earlier interrupted run) must match the local files by size and
  # CRC32C: they cannot be overwritten (retention policy).
  if ((${#RSIZE[@]} > 0)); then
    if ! (cd "$dir" && "$GCLOUD" storage hash --skip-md5 --format='value(url,crc32c_hash)' "${files[@]}") >"$TMP/hash.out" 2>"$TMP/hash.err"; then
      err "gcs: $name: cannot hash local files: $(gcloud_reason "$TMP/hash.err")"
      return 1
    fi
    while IFS=$'\t' read -r url crc; do
      if [[ -n $url ]]; then lcrc[${url##*/}]=$crc; fi
    done <"$TMP/hash.out"
  fi
  for f in "${files[@]}"; do
    if [[ -z ${RSIZE[$f]:-} ]]; then
      missing+=("$dir/$f")
      continue
    fi
    size=$(stat -c %s -- "$dir/$f")
    if [[ ${RSIZE[$f]} != "$size" || ${RCRC[$f]} != "${lcrc[$f]:-}" ]]; then
      err "gcs: $name: $f: target object differs (size ${RSIZE[$f]}/$size, crc32c ${RCRC[$f]}/${lcrc[$f]:-}); it cannot be overwritten (retention policy): resolve by hand"
      return 1
    fi
  done
  # gcloud checks the MD5 of every object it uploads against its own digest of the local file
  # and fails the copy on a mismatch, so a zero exit means every data file arrived intact.
  if ((${#missing[@]} > 0)); then
    if ! printf '%s\n' "${missing[@]}" | "$GCLOUD" storage cp -I "$GCS_PREFIX/$name/" >"$TMP/cp.out" 2>"$TMP/cp.err"; then
      # gcloud removes an object whose checksum does not match; the retention policy refuses that.
      # Its "Removing" line comes from a worker process and can be lost; the refusal names the object too.
      local damaged
      damaged=$(sed -n -e 's#^Removing \(gs://[^#]*\).*#\1#p' \
        -e "s#.*Object '\\([^']*\\)' is subject to bucket's retention policy.*#gs://\\1#p" "$TMP/cp.err" | head -n1)
      if [[ -n $damaged ]]; then
        err "gcs: $name: upload failed: $damaged arrived damaged (its checksum differs from the local file's) and stays in the bucket (retention policy): resolve by hand"
      else
        err "gcs: $name: upload failed: $(gcloud_reason "$TMP/cp.err")"
      fi
      return 1
    fi
  fi
  # Manifest last: from now on the target "has" this backup.
  if ! "$GCLOUD" storage cp "$dir/MANIFEST.json" "$GCS_PREFIX/$name/MANIFEST.json" >"$TMP/cp.out" 2>"$TMP/cp.err"; then
    err "gcs: $name: upload of MANIFEST.json failed: $(gcloud_reason "$TMP/cp.err")"
    return 1
  fi
  info "gcs: shipped $name to $GCS_PREFIX/$name/ (${#missing[@]} of ${#files[@]} data files uploaded, CRC32C checked)"
  return 0
}

gcs_has() { # gcs_has NAME: 0 = manifest present, 1 = absent
  grep -q "^$BACKUP_NAMESPACE/$1/MANIFEST.json " "$TMP/bucket"
}

ship_rubrik() {
  local name=$1 dir=$SRC_DIR/$1 ns_dir=$RUBRIK_DIR/$BACKUP_NAMESPACE reason
  local dest=$ns_dir/$name
  mkdir -p -- "$ns_dir" || {
    err "rubrik: cannot create $ns_dir"
    return 1
  }
  RUBRIK_PARTIAL=$dest.partial
  rm -rf -- "$RUBRIK_PARTIAL"
  # A final-named dir without manifest is not a backup (by this protocol): replace it.
  if [[ -e $dest && ! -f $dest/MANIFEST.json ]]; then rm -rf -- "$dest"; fi
  if ! mkdir -- "$RUBRIK_PARTIAL" ||
    ! (cd "$dir" && find . -maxdepth 1 -type f ! -name 'MANIFEST.json*' -printf '%f\0' | xargs -0 -r cp -p -t "$RUBRIK_PARTIAL" --) 2>"$TMP/rcp.err" ||
    ! cp -p -- "$dir/MANIFEST.json" "$RUBRIK_PARTIAL/MANIFEST.json" 2>>"$TMP/rcp.err"; then
    err "rubrik: $name: copy to $RUBRIK_PARTIAL failed: $(head -n1 "$TMP/rcp.err")"
    rm -rf -- "$RUBRIK_PARTIAL"
    RUBRIK_PARTIAL=''
    return 1
  fi
  sync -- "$RUBRIK_PARTIAL"/* 2>/dev/null || true
  if ! reason=$(verify_backup "$RUBRIK_PARTIAL" "$COPY_JOBS"); then
    err "rubrik: $name: verification at the target failed: $reason"
    rm -rf -- "$RUBRIK_PARTIAL"
    RUBRIK_PARTIAL=''
    return 1
  fi
  if ! mv -T -- "$RUBRIK_PARTIAL" "$dest"; then
    err "rubrik: $name: cannot rename $RUBRIK_PARTIAL to $dest"
    return 1
  fi
  RUBRIK_PARTIAL=''
  sync -- "$ns_dir" 2>/dev/null || true
  info "rubrik: shipped $name to $dest (sha256 verified at the target)"
  return 0
}

# ship TARGET NAME: the backup NAME to TARGET (gcs or rubrik).
ship() {
  case $1 in
    gcs) ship_gcs "$2" ;;
    rubrik) ship_rubrik "$2" ;;
  esac
}

if [[ ! -d $SRC_DIR ]]; then
  info "nothing to ship: $SRC_DIR does not exist"
  exit 0
fi

FAILED=0
BAD=0
SHIPPED=0
PRESENT=0
# One listing of the namespace serves every backup: what GCS already has and
# what an interrupted run left there. When it fails, GCS is not tried this run
# (Rubrik still is), and the run fails with the listing's cause.
if [[ $TO_GCS == 1 ]] && ! gcs_list "$GCS_PREFIX/**" "$TMP/bucket"; then
  FAILED=1
  TO_GCS=0
fi
for d in "$SRC_DIR"/*; do
  [[ -d $d ]] || continue
  name=${d##*/}
  if [[ $name == *.partial ]]; then
    info "skip $name: backup in progress or abandoned (.partial)"
    continue
  fi
  [[ $name =~ $TS_RE ]] || continue
  if [[ ! -f $d/MANIFEST.json ]]; then
    info "skip $name: no MANIFEST.json (incomplete)"
    continue
  fi
  need=()
  if [[ $TO_GCS == 1 ]]; then
    gcs_has "$name" || need+=(gcs)
  fi
  if [[ $TO_RUBRIK == 1 && ! -f $RUBRIK_DIR/$BACKUP_NAMESPACE/$name/MANIFEST.json ]]; then
    need+=(rubrik)
  fi
  if ((${#need[@]} == 0)); then
    PRESENT=$((PRESENT + 1))
    continue
  fi
  if ! reason=$(verify_backup "$d" "$COPY_JOBS"); then
    err "backup $name failed local verification, not shipped: $reason"
    BAD=1
    continue
  fi
  for t in "${need[@]}"; do
    if ship "$t" "$name"; then
      SHIPPED=$((SHIPPED + 1))
    else
      FAILED=1
    fi
  done
done

outcome_field shipped "$SHIPPED"
if [[ -n $GCS_LIST_ERROR ]]; then
  info "done: $SHIPPED shipment(s); GCS not tried: its listing failed"
  die 1 "$GCS_LIST_ERROR"
fi
info "done: $SHIPPED shipment(s), $PRESENT backup(s) already at every target"
if [[ $FAILED == 1 ]]; then
  die 1 "shipping failed for at least one backup (see above)"
fi
if [[ $BAD == 1 ]]; then
  die 3 "at least one local backup failed verification and was not shipped (see above)"
fi
exit 0
