#!/usr/bin/env bash
# Prints a `dotnet test --filter` expression selecting every test class of the project $1 that runs memscope as a
# program: through tests/Shared/CliRun.cs (CliRun.Run / StartInfo / Command) or a child-process helper built on it
# (LabProcess, RecorderProcess, ServeProcess). .ci/run reruns exactly these against the Native AOT binary
# (MEMSCOPE_BIN). A class is named by its simple name with dots around it, so FooTests does not select FooTestsBar.
set -euo pipefail
proj="$1"
classes=$(grep -rlE 'CliRun\.|LabProcess|RecorderProcess|ServeProcess' "$proj" --include='*.cs' \
  | grep -v '/obj/' \
  | xargs grep -hoP '^\s*(public |internal |private )?(sealed |static |partial |abstract )*class \K\w+' \
  | sort -u)
[ -n "$classes" ] || { echo "cli-test-filter: no CLI-facing test class in $proj" >&2; exit 1; }
printf '%s\n' $classes | sed 's/.*/FullyQualifiedName~.&./' | paste -sd'|'
