#!/usr/bin/env bash
# Runs java-api's test suite against llama.cpp built with AddressSanitizer (-Dllama.sanitize=address),
# with the ASan runtime preloaded into the test JVMs (see java-api/core/pom.xml's asan profile). It
# works in a clone of HEAD (ASAN_DIR, default /tmp/llama-java-asan) so this tree's normal build is
# left alone; the ASan build of llama.cpp is cached like the others, under its own key.
#
#   ci/asan.sh [extra Maven arguments, e.g. -Dtest='BadGgufMatrixTest']
#
# Any ASan report fails the test JVM (abort_on_error=1) and is kept in java-api/core/target/asan.*.
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${ASAN_DIR:-/tmp/llama-java-asan}
rm -rf "$dir" && git clone -q "$PWD" "$dir" || exit 1
cd "$dir"
start=$(date +%s)
./mvnw -B -Dllama.sanitize=address -Dllama.require.shared=true -pl native,java-api/core verify "$@" 2>&1 | tee asan-run.log \
  | grep -E "Tests run:|BUILD|ERROR\]" | tail -n 40
rc=${PIPESTATUS[0]}
reports=$(ls java-api/core/target/asan.* 2>/dev/null | wc -l)
echo "asan: exit $rc, $reports AddressSanitizer report(s), $(( $(date +%s) - start )) s; log $dir/asan-run.log"
[ "$reports" -gt 0 ] && head -n 40 java-api/core/target/asan.*
[ "$rc" = 0 ] && [ "$reports" = 0 ]
