#!/usr/bin/env bash
# Overhead of `memscope cachestat` (and `cachetop`) on page-cache-heavy reads: the same workload timed with hyperfine
# without tracing, then with the tracer running in the background; prints mean times and the ratio.
# Needs root (system-wide tracepoints), hyperfine, jq, dd. Usage: bench/cachestat-overhead.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
DIR=${BENCH_DIR:-/work/scratch/cache-bench}
SIZE_MB=${SIZE_MB:-256}
mkdir -p "$DIR"
FILE=$DIR/bench.$SIZE_MB.dat
[ -f "$FILE" ] || head -c "${SIZE_MB}M" /dev/urandom > "$FILE"
dotnet build src/MemScope.Cli -c Release -o "$DIR/bin" -v q -nologo >/dev/null
MEMSCOPE=(dotnet "$DIR/bin/memscope.dll")
cat "$FILE" > /dev/null

declare -A WORK=(
  [warm-4k]="dd if=$FILE of=/dev/null bs=4k status=none"
  [warm-1m]="dd if=$FILE of=/dev/null bs=1M status=none"
  [cold-1m]="sh -c 'dd if=$FILE iflag=nocache count=0 status=none; dd if=$FILE of=/dev/null bs=1M status=none'"
)

mean() { # name command -> mean seconds
  hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$DIR/$1.json" "$2" >/dev/null 2>&1 || \
    hyperfine --warmup 1 --runs "$RUNS" --export-json "$DIR/$1.json" "$2" >/dev/null
  jq -r '.results[0] | "\(.mean) \(.stddev)"' "$DIR/$1.json"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1 /proc/loadavg), file ${SIZE_MB} MiB, $RUNS runs each"
printf '%-8s %-9s %12s %12s %12s %8s\n' tracer workload base_ms traced_ms stddev_ms ratio
for tracer in cachestat cachetop; do
  for w in warm-4k warm-1m cold-1m; do
    read -r b bsd < <(mean "$w-base" "${WORK[$w]}")
    if [ "$tracer" = cachestat ]; then "${MEMSCOPE[@]}" cachestat 1 > "$DIR/tracer.out" 2>&1 &
    else "${MEMSCOPE[@]}" cachetop 1 -b > "$DIR/tracer.out" 2>&1 & fi
    tp=$!
    for _ in $(seq 50); do grep -qE '^(method|..:..:..)' "$DIR/tracer.out" 2>/dev/null && break; sleep 0.2; done
    read -r t tsd < <(mean "$w-$tracer" "${WORK[$w]}")
    # SIGTERM, not SIGINT: a non-interactive shell starts background jobs with SIGINT ignored, so -INT never arrives.
    kill -TERM "$tp"; wait "$tp" || true
    printf '%-8s %-9s %12.1f %12.1f %12.1f %8.3f\n' "$tracer" "$w" "$(echo "$b*1000" | bc -l)" "$(echo "$t*1000" | bc -l)" \
      "$(echo "$tsd*1000" | bc -l)" "$(echo "$t/$b" | bc -l)"
  done
done
