// Runs a command as a pod with readOnlyRootFilesystem runs it: in its own mount namespace
// (unshare, as root) where every mount is read-only except the given directories, which stand
// for the pod's writable volumes (the scratch emptyDir, the environment volume, Rubrik).

/** bash: `<writable dir>... -- <command>`; exits 97 when a mount cannot be made read-only. */
const PRELUDE = `set -eu
writable=()
while [ "$1" != -- ]; do writable+=("$1"); shift; done
shift
mount --make-rprivate /
for d in "\${writable[@]}"; do mount --bind "$d" "$d"; done
mapfile -t mounts < <(awk '{print $2}' /proc/self/mounts)
for m in "\${mounts[@]}"; do
  case "$m" in /proc | /proc/* | /sys | /sys/* | /dev | /dev/*) continue ;; esac
  for d in "\${writable[@]}"; do [ "$m" = "$d" ] && continue 2; done
  mount -o remount,bind,ro "$m" || { echo "read-only root: cannot make $m read-only" >&2; exit 97; }
done
exec "$@"`;

/** The command prefix: what follows it runs with only `writable` writable. */
export function readOnlyRoot(writable: string[]): string[] {
    return ["unshare", "--mount", "bash", "-c", PRELUDE, "read-only-root", ...writable, "--"];
}
