#!/usr/bin/env bash
# Bytes stored per sample by two recorder builds side by side (same moment, same processes): e.g. the schema before and
# after a change. Usage: bench/record-bytes.sh OLD NEW [SAMPLES] (default 40, 1 s apart); OLD and NEW are memscope.dll
# files (run with dotnet) or native binaries (dotnet publish -r linux-x64).
# Prints pages in use per sample and SQLite's payload per table per sample (dbstat), so one-off rows (keys, events) show apart.
set -euo pipefail
OLD=$1; NEW=$2; N=${3:-40}
DIR=$(mktemp -d /tmp/memscope-bytes-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
run() { case $1 in *.dll) dotnet "$@" ;; *) "$@" ;; esac; }
run "$OLD" record --db "$DIR/old.db" --interval 1s --count "$N" 2>/dev/null &
run "$NEW" record --db "$DIR/new.db" --interval 1s --count "$N" 2>/dev/null &
wait
for v in old new; do
  db=$DIR/$v.db
  sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  sqlite3 "$db" "SELECT '$v: schema ' || (SELECT MAX(version) FROM schema_version) || ', ' || COUNT(*) || ' samples, '
    || (((SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM pragma_freelist_count)) * (SELECT page_size FROM pragma_page_size) / COUNT(*))
    || ' bytes of pages in use per sample, ' || printf('%.1f', (SELECT COUNT(*) FROM process_samples) * 1.0 / COUNT(*)) || ' process rows per sample' FROM samples"
  sqlite3 "$db" "SELECT printf('  %-40s %8.1f bytes/sample', name, SUM(payload) * 1.0 / (SELECT COUNT(*) FROM samples)) FROM dbstat GROUP BY name HAVING SUM(payload) > 0 ORDER BY SUM(payload) DESC"
done
