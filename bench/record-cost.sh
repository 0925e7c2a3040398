#!/usr/bin/env bash
# The recorder's own cost: CPU time per sample, RSS while recording at 1 s, bytes stored per sample.
# Usage: [BIN=path/to/native/memscope | DLL=path/to/memscope.dll] [EXTRA=1000] [RUNS=3] [TOP=10] bench/record-cost.sh [SAMPLES]
#   BIN    a native AOT binary (dotnet publish src/MemScope.Cli -c Release -r linux-x64 -o DIR); else
#   DLL    a built memscope.dll run with `dotnet` (default: a Release build of this tree, built first)
#   EXTRA  start this many extra idle processes (sleep) for the run, killed at the end (default 0)
#   RUNS   independent recordings (fresh database each); figures are per run plus the median of the runs (default 1)
#   SAMPLES measured samples per run after 5 warm-up samples (default 60)
# Prints one summary block; copy it into bench/RESULTS.md with the command line.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-60}
CONF=${CONF:-Release}
RUNS=${RUNS:-1}
EXTRA=${EXTRA:-0}
TOP=${TOP:-10}
if [ -n "${BIN:-}" ]; then
  CMD=("$BIN"); WHAT="native $BIN"
else
  [ -n "${DLL:-}" ] || dotnet build -c "$CONF" src/MemScope.Cli -v q -nologo >/dev/null
  DLL=${DLL:-src/MemScope.Cli/bin/$CONF/net10.0/memscope.dll}
  CMD=(dotnet "$DLL"); WHAT="JIT dotnet $DLL"
fi
DIR=$(mktemp -d /tmp/memscope-bench-XXXXXX)
SLEEPERS=()
PID=
cleanup() {
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null || true
  for s in "${SLEEPERS[@]}"; do kill "$s" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT
for ((i = 0; i < EXTRA; i++)); do sleep 3600 & SLEEPERS+=($!); done
hz=$(getconf CLK_TCK)
median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
RESULTS=$DIR/results
for ((run = 1; run <= RUNS; run++)); do
  DB=$DIR/bench$run.db
  : >"$DIR/log" # exists before the first poll below
  "${CMD[@]}" record --db "$DB" --interval 1s --top "$TOP" -v >"$DIR/log" 2>"$DIR/err" &
  PID=$!
  samples() { grep -c '^sample' "$DIR/log" || true; }
  ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$PID/stat"; }
  # Warm-up: JIT, SQLite setup and the first full read of every process happen in the first samples.
  until [ "$(samples)" -ge 5 ]; do
    kill -0 "$PID" 2>/dev/null || { cat "$DIR/err" >&2; exit 1; }
    sleep 0.1
  done
  s0=$(samples); t0=$(ticks); w0=$(date +%s.%N)
  rss_max=0; rss_sum=0; rss_n=0
  while [ "$(samples)" -lt $((s0 + N)) ]; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
    rss_sum=$((rss_sum + rss)); rss_n=$((rss_n + 1)); [ "$rss" -gt "$rss_max" ] && rss_max=$rss
    sleep 0.5
  done
  s1=$(samples); t1=$(ticks); w1=$(date +%s.%N)
  # open descriptors (kept /proc/PID/stat files: ~4.4 KiB of kernel memory each, outside RSS)
  fds=$(ls "/proc/$PID/fd" | wc -l)
  kill -TERM "$PID"; wait "$PID" || true; PID=
  tail_lines() { grep '^sample' "$DIR/log" | tail -n "$N"; }
  procs=$(tail_lines | awk '{s += $6} END {printf "%.0f", s / NR}')
  collect=$(tail_lines | awk '{gsub("ms","",$8); print $8}' | median)
  write=$(tail_lines | awk '{gsub("ms","",$10); print $10}' | median)
  count=$(sqlite3 "$DB" "SELECT COUNT(*) FROM samples")
  used=$(sqlite3 "$DB" "SELECT (SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM pragma_freelist_count)")
  psize=$(sqlite3 "$DB" "SELECT page_size FROM pragma_page_size")
  awk -v s0="$s0" -v s1="$s1" -v t0="$t0" -v t1="$t1" -v w0="$w0" -v w1="$w1" -v hz="$hz" -v rmax="$rss_max" -v rsum="$rss_sum" -v rn="$rss_n" \
      -v count="$count" -v used="$used" -v psize="$psize" -v procs="$procs" -v collect="$collect" -v write="$write" -v run="$run" -v fds="$fds" 'BEGIN {
    n = s1 - s0; cpu = (t1 - t0) / hz; wall = w1 - w0
    printf "%d %.2f %.3f %.1f %.1f %.1f %s %s %d %d\n", run, cpu * 1000 / n, cpu * 100 / wall, rsum / rn / 1024, rmax / 1024, used * psize / count / 1024, collect, write, procs, fds
  }' >>"$RESULTS"
  rm -f "$DB" "$DB-wal" "$DB-shm"
done
col() { awk -v c="$1" '{print $c}' "$RESULTS" | median; }
echo "recorder: $WHAT record --interval 1s --top $TOP; $RUNS run(s) of $N samples after 5 warm-up; extra idle processes: $EXTRA; $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  run  cpu_ms/sample  %core@1s  rss_mean_MiB  rss_max_MiB  KiB/sample  collect_ms(median)  write_ms(median)  processes  open_fds"
awk '{printf "  %3d  %13.2f  %8.3f  %12.1f  %11.1f  %10.1f  %18s  %16s  %9d  %8d\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10}' "$RESULTS"
printf "  median: CPU %.2f ms per sample (%.2f%% of one core at 1 s); RSS mean %.1f MiB, max %.1f MiB; stored %.1f KiB per sample; ~%.0f processes recorded\n" \
  "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)" "$(col 6)" "$(col 9)"
