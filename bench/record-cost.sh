#!/usr/bin/env bash
# The recorder's own cost: CPU time per sample, RSS while recording at 1 s, bytes stored per sample.
# Usage: bench/record-cost.sh [SAMPLES] (default 60). Prints one summary block; append it to bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-60}
CONF=${CONF:-Release}
[ -n "${DLL:-}" ] || dotnet build -c "$CONF" src/MemScope.Cli -v q -nologo >/dev/null
DLL=${DLL:-src/MemScope.Cli/bin/$CONF/net10.0/memscope.dll}
DIR=$(mktemp -d /tmp/memscope-bench-XXXXXX)
DB=$DIR/bench.db
dotnet "$DLL" record --db "$DB" --interval 1s -v >"$DIR/log" 2>"$DIR/err" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
samples() { grep -c '^sample' "$DIR/log" || true; }
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
# Warm-up: JIT and SQLite setup happen in the first samples; measure the steady state after 5.
until [ "$(samples)" -ge 5 ]; do sleep 0.1; done
s0=$(samples); t0=$(ticks); w0=$(date +%s.%N)
rss_max=0; rss_sum=0; rss_n=0
while [ "$(samples)" -lt $((s0 + N)) ]; do
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
  rss_sum=$((rss_sum + rss)); rss_n=$((rss_n + 1)); [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  sleep 0.5
done
s1=$(samples); t1=$(ticks); w1=$(date +%s.%N)
kill -TERM $PID; wait $PID || true
hz=$(getconf CLK_TCK)
procs=$(grep '^sample' "$DIR/log" | tail -n "$N" | awk '{s += $6} END {printf "%.0f", s / NR}')
collect=$(grep '^sample' "$DIR/log" | tail -n "$N" | awk '{gsub("ms","",$8); s += $8} END {printf "%.1f", s / NR}')
write=$(grep '^sample' "$DIR/log" | tail -n "$N" | awk '{gsub("ms","",$10); s += $10} END {printf "%.1f", s / NR}')
count=$(sqlite3 "$DB" "SELECT COUNT(*) FROM samples")
used=$(sqlite3 "$DB" "SELECT (SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM pragma_freelist_count)")
psize=$(sqlite3 "$DB" "SELECT page_size FROM pragma_page_size")
awk -v s0="$s0" -v s1="$s1" -v t0="$t0" -v t1="$t1" -v w0="$w0" -v w1="$w1" -v hz="$hz" -v rmax="$rss_max" -v rsum="$rss_sum" -v rn="$rss_n" \
    -v count="$count" -v used="$used" -v psize="$psize" -v procs="$procs" -v collect="$collect" -v write="$write" -v conf="$CONF" 'BEGIN {
  n = s1 - s0; cpu = (t1 - t0) / hz; wall = w1 - w0
  printf "recorder (%s, dotnet memscope.dll record --interval 1s), %d samples after 5 warm-up, ~%d processes recorded per sample\n", conf, n, procs
  printf "  CPU per sample:      %.1f ms  (%.2f%% of one core at 1 s)\n", cpu * 1000 / n, cpu * 100 / wall
  printf "  wall per sample:     collect %s ms, write+retention %s ms (mean)\n", collect, write
  printf "  RSS while recording: mean %.1f MiB, max %.1f MiB\n", rsum / rn / 1024, rmax / 1024
  printf "  stored per sample:   %.1f KiB (%d samples, %.1f KiB of pages in use)\n", used * psize / count / 1024, count, used * psize / 1024
}'
