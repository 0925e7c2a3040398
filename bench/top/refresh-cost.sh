#!/usr/bin/env bash
# CPU time per refresh of `memscope top` with 1,000 extra sleeping processes.
# cpu(per refresh) = (cpu of N+1 frames − cpu of 1 frame) / N, so start-up is taken out.
# Usage: bench/top/refresh-cost.sh [MEMSCOPE_COMMAND...]   (default: the Release build via dotnet)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -gt 0 ]; then cmd=("$@"); else
  dotnet build -c Release src/MemScope.Cli -v q -nologo >/dev/null
  cmd=(dotnet src/MemScope.Cli/bin/Release/net10.0/memscope.dll)
fi
extra=1000
pids=()
for _ in $(seq $extra); do sleep 600 & pids+=($!); done
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
sleep 1
cpu() { /usr/bin/time -f '%U %S' "${cmd[@]}" top -b -n "$1" -d 0.2 >/dev/null 2>/tmp/memscope_top_time.$$; tail -1 /tmp/memscope_top_time.$$ | awk '{print $1 + $2}'; }
frames=21
runs=5
per=()
for _ in $(seq $runs); do
  one=$(cpu 1); many=$(cpu $frames)
  per+=("$(awk -v a="$one" -v b="$many" -v n=$((frames - 1)) 'BEGIN { printf "%.4f", (b - a) / n }')")
done
rm -f /tmp/memscope_top_time.$$
sorted=$(printf '%s\n' "${per[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
echo "processes: $(ls -d /proc/[0-9]* | wc -l) (with $extra extra sleeping)"
echo "CPU seconds per refresh, $runs runs: $(echo $sorted | tr '\n' ' ')"
echo "median: $median s"
