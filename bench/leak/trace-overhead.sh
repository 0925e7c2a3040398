#!/usr/bin/env bash
# Slowdown of a traced program: malloc+free pairs per second of tests/.../Leak/leaky.c ("bench" mode) run
#   1. untraced,
#   2. under `memscope leak PID --trace` (uprobes on malloc/free/... entry and return, stacks of every allocation),
#   3. under `memscope leak PID --trace --sample-every N`,
#   4. under heaptrack (LD_PRELOAD, from the start),
# each REPEAT times, side by side. Needs root (uprobes), gcc, heaptrack. Usage:
#   bench/leak/trace-overhead.sh [SECONDS=5] [REPEAT=3] [SAMPLE_EVERY=100]
# MEMSCOPE=path/to/memscope overrides the binary (default: a Release build of src/MemScope.Cli).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_RUN=${1:-5}
REPEAT=${2:-3}
EVERY=${3:-100}
SIZE=64
work=$(mktemp -d /tmp/memscope-bench-leak.XXXXXX)
trap 'rm -rf "$work"' EXIT

gcc -O0 -fno-omit-frame-pointer -o "$work/leaky" tests/MemScope.IntegrationTests/Leak/leaky.c
if [ -z "${MEMSCOPE:-}" ]; then
  dotnet build -c Release src/MemScope.Cli -v q -nologo >/dev/null
  MEMSCOPE=src/MemScope.Cli/bin/Release/net10.0/memscope
fi

untraced() { "$work/leaky" bench "$SECONDS_RUN" "$SIZE" | awk '{print $2}'; }

# Starts leaky waiting for SIGUSR1, attaches memscope, waits until it is tracing, then releases leaky.
traced() {
  local out="$work/leaky.out"
  : >"$out"
  "$work/leaky" bench "$SECONDS_RUN" "$SIZE" wait >"$out" &
  local lp=$!
  for _ in $(seq 1 100); do grep -q '^ready' "$out" && break; sleep 0.05; done
  "$MEMSCOPE" leak "$lp" --trace --interval 1h "$@" >"$work/trace.out" 2>"$work/trace.err" &
  local ms=$!
  for _ in $(seq 1 600); do grep -q '^tracing pid' "$work/trace.out" 2>/dev/null && break; sleep 0.1; done
  kill -USR1 "$lp"
  wait "$lp" || true
  kill -TERM "$ms" 2>/dev/null || true   # memscope removes its probes on SIGTERM/SIGINT
  wait "$ms" 2>/dev/null || true
  awk '/allocs_per_sec/ {print $2}' "$out"
}

heaptracked() {
  (cd "$work" && heaptrack -o "$work/ht" "$work/leaky" bench "$SECONDS_RUN" "$SIZE" 2>/dev/null | awk '/allocs_per_sec/ {print $2}')
  rm -f "$work"/ht*
}

printf '# %s, %s s per run, %s runs, %s-byte malloc+free pairs, load %s\n' "$(date -u +%FT%TZ)" "$SECONDS_RUN" "$REPEAT" "$SIZE" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %s\n' "mode" "allocs/s per run"
for mode in untraced traced traced_sampled heaptracked; do
  vals=()
  for _ in $(seq 1 "$REPEAT"); do
    case $mode in
      untraced) vals+=("$(untraced)") ;;
      traced) vals+=("$(traced)") ;;
      traced_sampled) vals+=("$(traced --sample-every "$EVERY")") ;;
      heaptracked) vals+=("$(heaptracked)") ;;
    esac
  done
  label=$mode
  [ "$mode" = traced ] && label="memscope leak --trace"
  [ "$mode" = traced_sampled ] && label="memscope leak --trace --sample-every $EVERY"
  [ "$mode" = heaptracked ] && label="heaptrack"
  printf '%-44s %s\n' "$label" "${vals[*]}"
done
