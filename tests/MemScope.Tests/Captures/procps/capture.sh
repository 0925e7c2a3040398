#!/bin/sh
# Regenerates the procps-ng oracle outputs in this folder (needs root, procps-ng 4.0.2).
# For every input set in inputs.txt, the fixture files are bind-mounted over /proc/meminfo, /proc/stat and
# /proc/vmstat in a private mount namespace (KERNEL-NOTES.md), and the real `free`/`vmstat` is run with every
# flag set in free-flags.txt / vmstat-flags.txt. Output: free/<input>/<flags>.txt, vmstat/<input>/<flags>.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$(cd "$here/../../../../../shared/fixtures" 2>/dev/null && pwd || echo /work/shared/fixtures)
resolve() { case "$1" in @*) echo "$here/${1#@}";; *) echo "$fixtures/$1";; esac; }
key() { k=$(printf "%s\n" "$1" | sed 's/--*//g; s/ /_/g'); [ -n "$k" ] || k=default; echo "$k"; }
free --version | grep -q 'procps-ng 4.0.2' || echo "warning: not procps-ng 4.0.2: $(free --version)" >&2
grep -v '^#' "$here/inputs.txt" | while IFS='|' read -r name mem stat vm; do
  [ -n "$name" ] || continue
  M=$(resolve "$mem"); S=$(resolve "$stat"); V=$(resolve "$vm")
  mkdir -p "$here/free/$name" "$here/vmstat/$name"
  while read -r flags; do
    unshare -m sh -c "mount --bind '$M' /proc/meminfo && free $flags" > "$here/free/$name/$(key "$flags").txt" </dev/null
  done < "$here/free-flags.txt"
  unshare -m sh -c "mount --bind '$M' /proc/meminfo && free" > "$here/free/$name/default.txt" </dev/null
  while read -r flags; do
    unshare -m sh -c "mount --bind '$M' /proc/meminfo && mount --bind '$S' /proc/stat && mount --bind '$V' /proc/vmstat && vmstat $flags" \
      > "$here/vmstat/$name/$(key "$flags").txt" </dev/null
  done < "$here/vmstat-flags.txt"
  unshare -m sh -c "mount --bind '$M' /proc/meminfo && mount --bind '$S' /proc/stat && mount --bind '$V' /proc/vmstat && vmstat" \
      > "$here/vmstat/$name/default.txt" </dev/null
done
echo "captured into $here"
