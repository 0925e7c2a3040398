#!/usr/bin/env bash
# Behaviours of the native binary that the in-process test run cannot see: exit codes of the real process, one line on
# stderr for bad input (no stack trace), a closed stdout pipe, and how a recording ends on Ctrl-C (SIGINT) and SIGTERM.
#   bash .ci/aot-smoke.sh PATH/TO/memscope
set -euo pipefail
BIN=$(readlink -f "$1")
work=$(mktemp -d /tmp/memscope_aotsmoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
pass=0
ok() { pass=$((pass + 1)); echo "aot-smoke: ok   $*"; }
bad() { fails=$((fails + 1)); echo "aot-smoke: FAIL $*" >&2; }

# expect CODE ARGS...: exit code CODE; for a non-zero code exactly one stderr line "memscope: ...", nothing on stdout,
# no stack trace.
expect() {
  local want="$1"; shift
  local code=0
  timeout 60 "$BIN" "$@" >"$work/out" 2>"$work/err" </dev/null || code=$?
  if [ "$code" != "$want" ]; then bad "memscope $* exited $code, expected $want: $(head -c 500 "$work/err")"; return; fi
  if [ "$want" != 0 ]; then
    local lines; lines=$(wc -l <"$work/err")
    if [ "$lines" != 1 ] || ! grep -q '^memscope: ' "$work/err" || grep -q '   at ' "$work/err" || [ -s "$work/out" ]; then
      bad "memscope $*: want one 'memscope: ...' line on stderr and no stdout, got $lines lines: $(head -c 500 "$work/err")"
      return
    fi
  fi
  ok "memscope $* -> $code $( [ "$want" != 0 ] && cat "$work/err")"
}

expect 0 --version
expect 0 free -b
expect 0 ps --sort pss --top 5
expect 2 free --no-such-flag
expect 2 no-such-command
expect 2 vmstat abc
expect 2 free --proc-root /tmp
expect 3 ps --pid 999999999
expect 3 maps 999999999
expect 3 free --db "$work/none.db" --at now
expect 2 record --interval soon --db "$work/x.db"

# A reader that goes away (memscope ps | head -1): no stack trace and no hang.
code=0
timeout 60 bash -c "set -o pipefail; '$BIN' ps --top 2000 -o pid,rss,command 2>'$work/err' | head -1 >/dev/null" || code=$?
if grep -q '   at \|Unhandled' "$work/err"; then bad "ps | head -1 printed a stack trace: $(head -c 500 "$work/err")"
elif [ "$code" = 124 ]; then bad "ps | head -1 hung"
else ok "ps | head -1 (exit $code, stderr: $(head -c 200 "$work/err"))"; fi

# record, stopped by a signal: a clean stop (its summary line) with exit 0 for SIGTERM (a service stop) and 130 for
# Ctrl-C, the committed samples are in the database, it is consistent, and a replay reads it back.
for sig in INT TERM; do
  db="$work/rec-$sig.db"
  # env --default-signal: a background job of a script starts with SIGINT ignored; a terminal's Ctrl-C does not.
  env --default-signal=INT "$BIN" record --db "$db" --interval 0.5s -v >"$work/rec.out" 2>"$work/rec.err" </dev/null &
  pid=$!
  for _ in $(seq 120); do grep -q '^sample ' "$work/rec.out" 2>/dev/null && break; sleep 0.5; done
  kill -s "$sig" "$pid"
  code=0
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"; wait "$pid" || true
    bad "record ignored SIG$sig for 30 s"
    continue
  fi
  wait "$pid" || code=$?
  samples=$(grep -c '^sample ' "$work/rec.out" || true)
  stored=$(sqlite3 "$db" 'select count(*) from samples' 2>&1 || true)
  check=$(sqlite3 "$db" 'pragma integrity_check' 2>&1 || true)
  if [ "$samples" -lt 1 ]; then bad "record before SIG$sig committed no sample: $(head -c 500 "$work/rec.err")"
  elif [ "$code" != "$([ $sig = INT ] && echo 130 || echo 0)" ]; then bad "record exited $code on SIG$sig: $(head -c 500 "$work/rec.err")"
  elif ! grep -q '^memscope: stopped after' "$work/rec.err"; then bad "record did not stop cleanly on SIG$sig (no summary line): $(head -c 500 "$work/rec.err")"
  elif grep -q '   at \|Unhandled' "$work/rec.err"; then bad "record printed a stack trace on SIG$sig: $(head -c 500 "$work/rec.err")"
  elif [ "$stored" != "$samples" ] || [ "$check" != ok ]; then bad "record on SIG$sig: $samples reported, $stored stored, integrity $check"
  elif ! timeout 60 "$BIN" free --db "$db" --at now >/dev/null 2>"$work/err"; then bad "replay after SIG$sig: $(cat "$work/err")"
  else ok "record stopped by SIG$sig: exit $code, $samples samples committed and stored, integrity ok, replay ok"; fi
done

# What ships: the binary alone runs everything but plot (SQLite is linked in); plot loads libSkiaSharp.so and
# libHarfBuzzSharp.so from beside the binary, and without them says so in one line.
alone="$work/alone"
mkdir -p "$alone"
cp "$BIN" "$alone/memscope"
code=0
timeout 120 "$alone/memscope" record --db "$work/plot.db" --count 2 --interval 0.2s >/dev/null 2>"$work/err" </dev/null || code=$?
if [ "$code" != 0 ]; then bad "the binary alone cannot record (SQLite not linked in?): exit $code: $(head -c 500 "$work/err")"
else ok "the binary alone records (SQLite linked in)"; fi
code=0
timeout 120 "$alone/memscope" plot --db "$work/plot.db" --out "$work/plots-alone" >/dev/null 2>"$work/err" </dev/null || code=$?
if [ "$code" != 5 ] || [ "$(wc -l <"$work/err")" != 1 ] || ! grep -q 'libSkiaSharp.so is missing' "$work/err"; then
  bad "plot without libSkiaSharp.so: exit $code: $(head -c 500 "$work/err")"
else ok "plot without the Skia libraries -> 5 $(cat "$work/err")"; fi
code=0
timeout 120 "$BIN" plot --db "$work/plot.db" --out "$work/plots" >/dev/null 2>"$work/err" </dev/null || code=$?
pngs=$(ls "$work/plots"/*.png 2>/dev/null | wc -l)
if [ "$code" != 0 ] || [ "$pngs" -lt 1 ]; then bad "plot beside the Skia libraries: exit $code, $pngs PNG files: $(head -c 500 "$work/err")"
else ok "plot beside the Skia libraries wrote $pngs PNG files"; fi

echo "aot-smoke: checks ok $pass, checks failing $fails"
[ "$fails" = 0 ]
