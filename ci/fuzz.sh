#!/usr/bin/env bash
# Fuzzes with Jazzer for a fixed budget; prints executions and findings; exits 1 if anything was found.
#   gguf     (default) GGUF loading (GgufFuzz, in java-api's test classes): a vocab-only load with the
#            vocabulary exercised and a full load with one decode, on mutations of seeds written by
#            GgufFuzzSeeds.
#   grammar  the GBNF checker against llama.cpp's grammar parser (GrammarFuzz): what Java accepts,
#            llama.cpp must accept and generate under; seeded with llama.cpp's grammars/*.gbnf.
#
#   ci/fuzz.sh [gguf|grammar] [SECONDS]   default 600; FUZZ_DIR (default java-api/core/target/fuzz[-grammar])
#                                         keeps corpus and findings
#
# Needs a build first: ./mvnw -q install -DskipTests
set -euo pipefail
cd "$(dirname "$0")/.."
target=gguf
case "${1:-}" in gguf|grammar) target=$1; shift ;; esac
case $target in
  gguf) main=org.llamajava.GgufFuzz; default_dir=java-api/core/target/fuzz ;;
  grammar) main=org.llamajava.GrammarFuzz; default_dir=java-api/core/target/fuzz-grammar ;;
esac
dir=$(realpath -m "${FUZZ_DIR:-$default_dir}")
mkdir -p "$dir"
[ -f "java-api/core/target/test-classes/${main//.//}.class" ] || { echo "fuzz: build first: ./mvnw -q install -DskipTests" >&2; exit 2; }
./mvnw -q -o -pl java-api/core dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$dir/cp.txt" >/dev/null
src=$(sed -n 's/^llama.source.dir=//p' native/target/llama/llama-build.properties 2>/dev/null || true)
exec java -Djava.util.logging.config.file="$PWD/java-api/core/src/test/resources/logging.properties" \
  -cp "$PWD/java-api/core/target/test-classes:$PWD/java-api/core/target/classes:$(cat "$dir/cp.txt")" \
  "$main" "$dir" "${1:-600}" "$src"
