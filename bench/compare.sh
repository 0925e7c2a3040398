#!/usr/bin/env bash
# Side-by-side timing and peak RSS of memscope (native AOT) against the tools it replaces, in one run on one machine.
# Each figure is the median of several runs (hyperfine --export-json); peak RSS is the median of /usr/bin/time -v
# "Maximum resident set size" over several runs. Results: a markdown section on stdout and appended to bench/RESULTS.md.
#
#   bench/compare.sh [--memscope PATH] [--runs N] [--ps-runs N] [--procs N] [--ps-only] [--no-append]
#
# --ps-only: only the two `ps --sort pss` rows (the full PSS scan against cat and smem).
#
# Needs: hyperfine, GNU time (/usr/bin/time), procps (free, vmstat, pmap), smem, python3; root for smaps_rollup of
# every process (as in CI). Without --memscope the AOT binary is published first:
#   dotnet publish src/MemScope.Cli -c Release -r linux-x64 -o artifacts/aot
set -euo pipefail
cd "$(dirname "$0")/.."

MEMSCOPE=artifacts/aot/memscope
RUNS=20
PS_RUNS=5
PROCS=1000
APPEND=1
PS_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --memscope) MEMSCOPE="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --ps-runs) PS_RUNS="$2"; shift 2 ;;
    --procs) PROCS="$2"; shift 2 ;;
    --no-append) APPEND=0; shift ;;
    --ps-only) PS_ONLY=1; shift ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

for tool in hyperfine free vmstat pmap smem python3; do
  command -v "$tool" >/dev/null || { echo "compare.sh: '$tool' is missing (bash .ci/install-deps.sh)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "compare.sh: GNU time (/usr/bin/time, Debian package 'time') is missing" >&2; exit 1; }
if [ ! -x "$MEMSCOPE" ]; then
  echo "compare.sh: publishing the native AOT binary to artifacts/aot (takes minutes)" >&2
  dotnet publish src/MemScope.Cli -c Release -r linux-x64 -o artifacts/aot >&2
  MEMSCOPE=artifacts/aot/memscope
fi
MEMSCOPE=$(readlink -f "$MEMSCOPE")

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d /tmp/memscope_compare.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# A target with a realistic number of mappings for maps/pmap (python3 with a few modules loaded).
python3 -c 'import time, json, decimal, ssl, sqlite3; time.sleep(3600)' &
TARGET=$!
PIDS+=("$TARGET")
sleep 1

# per command of a hyperfine JSON export: "median_wall_seconds mean_cpu_seconds" (cpu = user + system)
medians() { python3 -c 'import json,sys; [print(r["median"], r["user"] + r["system"]) for r in json.load(open(sys.argv[1]))["results"]]' "$1"; }
ms() { python3 -c "import sys; print(f'{float(sys.argv[1])*1000:.2f}')" "$1"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/max(float(sys.argv[2]),1e-9):.2f}')" "$1" "$2"; }

# median peak RSS in KiB over 5 runs; $1 = a shell command line
peak_rss() {
  local vals=()
  for _ in 1 2 3 4 5; do
    vals+=("$(/usr/bin/time -v sh -c "$1 >/dev/null 2>&1" 2>&1 | awk -F': ' '/Maximum resident set size/ {print $2}')")
  done
  printf '%s\n' "${vals[@]}" | sort -n | sed -n 3p
}

ROWS=()
# run NAME GOAL_TIME_RATIO GOAL_RSS_KIB SHELL(-N or "") COMMAND REFERENCE...
compare() {
  local name="$1" goal="$2" rssgoal="$3" shellopt="$4" ours="$5"; shift 5
  local json="$WORK/$name.json" runs=$RUNS warmup=3
  local ignore=""
  # cat exits 1 for /proc/1 (EACCES even for root) and for pids that exit mid-glob: not a failed measurement.
  case "$name" in ps_*) runs=$PS_RUNS; warmup=1; ignore=--ignore-failure ;; esac
  # shellcheck disable=SC2086
  hyperfine $shellopt $ignore --style none --warmup "$warmup" --runs "$runs" --export-json "$json" "$ours" "$@" >/dev/null
  mapfile -t rows < <(medians "$json")
  local ours_wall=${rows[0]% *} ours_cpu=${rows[0]#* }
  local ours_rss; ours_rss=$(peak_rss "$ours")
  local i=1
  for ref in "$@"; do
    local ref_wall=${rows[$i]% *} ref_cpu=${rows[$i]#* }
    local ref_rss; ref_rss=$(peak_rss "$ref")
    local r; r=$(ratio "$ours_wall" "$ref_wall")
    local rc; rc=$(ratio "$ours_cpu" "$ref_cpu")
    local verdict="-"
    if [ "$goal" != "-" ]; then
      verdict=$(python3 -c "import sys; print('met' if float(sys.argv[1]) <= float(sys.argv[2]) else 'MISSED')" "$r" "$goal")
      verdict="≤${goal}×: $verdict (CPU: $(python3 -c "import sys; print('met' if float(sys.argv[1]) <= float(sys.argv[2]) else 'MISSED')" "$rc" "$goal"))"
    fi
    local rssverdict=""
    if [ "$rssgoal" != "-" ] && [ $i -eq 1 ]; then
      rssverdict=$([ "$ours_rss" -le "$rssgoal" ] && echo " (≤$((rssgoal / 1024)) MiB: met)" || echo " (≤$((rssgoal / 1024)) MiB: MISSED)")
    fi
    ROWS+=("| \`${ours/$MEMSCOPE/memscope}\` | \`$ref\` | $(ms "$ours_wall") | $(ms "$ref_wall") | **$r** | $(ms "$ours_cpu") | $(ms "$ref_cpu") | **$rc** | $verdict | $((ours_rss / 1024)).$(( (ours_rss % 1024) * 10 / 1024 )) MiB$rssverdict | $((ref_rss / 1024)).$(( (ref_rss % 1024) * 10 / 1024 )) MiB |")
    i=$((i + 1))
  done
}

if [ "$PS_ONLY" = 0 ]; then
  compare free 3 20480 -N "$MEMSCOPE free" "free"
  compare vmstat - - -N "$MEMSCOPE vmstat 1 1" "vmstat 1 1"
  if "$MEMSCOPE" maps --help >/dev/null 2>&1; then
    compare maps - - -N "$MEMSCOPE maps $TARGET -x" "pmap -x $TARGET"
  fi
fi

# 1,000 extra sleeping processes for the full PSS scan.
for _ in $(seq "$PROCS"); do sleep 3600 & PIDS+=("$!"); done
sleep 2
# A glob, not `ls`: ls fails (and set -e ends the run) when a process exits between the glob and its stat.
PROCDIRS=(/proc/[0-9]*); NPROC=${#PROCDIRS[@]}
compare ps_cat 1.3 - "" "$MEMSCOPE ps --sort pss" "cat /proc/[0-9]*/smaps_rollup"
compare ps_smem 1 - "" "$MEMSCOPE ps --sort pss" "smem"

{
  echo
  echo "## bench/compare.sh — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(free --version | head -1)"
  echo "- Load average at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg); processes during the ps rows: $NPROC ($PROCS extra \`sleep\`)"
  echo "- memscope: native AOT ($(du -h "$MEMSCOPE" | cut -f1) binary; beside it: $(ls "$(dirname "$MEMSCOPE")" | grep -v -e '^memscope$' -e '\.dbg$' -e '\.pdb$' | tr '\n' ' ')), \`dotnet publish src/MemScope.Cli -c Release -r linux-x64\`; ps reads processes on $(nproc) threads (CPU columns are the honest cost)"
  echo "- Command: \`bench/compare.sh --runs $RUNS --ps-runs $PS_RUNS --procs $PROCS$([ "$PS_ONLY" = 1 ] && echo ' --ps-only')\` (hyperfine $(hyperfine --version | cut -d' ' -f2): wall = median of $RUNS runs after 3 warm-ups ($PS_RUNS after 1 for the ps rows); CPU = mean user+sys; -N without a shell except the ps rows, where hyperfine subtracts the shell's start-up; peak RSS = median of 5 \`/usr/bin/time -v\` runs through \`sh -c\`)"
  echo
  echo "| memscope | reference | memscope wall ms (median) | reference wall ms (median) | wall ratio | memscope CPU ms (user+sys, mean) | reference CPU ms | CPU ratio | goal (wall; CPU) | memscope peak RSS | reference peak RSS |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
} | tee "$WORK/section.md"
if [ "$APPEND" = 1 ]; then cat "$WORK/section.md" >> bench/RESULTS.md; fi
