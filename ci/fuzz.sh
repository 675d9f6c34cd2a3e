#!/usr/bin/env bash
# Fuzzes GGUF loading with Jazzer for a fixed budget (GgufFuzz, in java-api's test classes): a
# vocab-only load with the vocabulary exercised and a full load with one decode, on mutations of
# seeds written by GgufFuzzSeeds. Prints executions and findings; exits 1 if anything was found.
#
#   ci/fuzz.sh [SECONDS]      default 600; FUZZ_DIR (default java-api/core/target/fuzz) keeps corpus and findings
#
# Needs a build first: ./mvnw -q install -DskipTests
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(realpath -m "${FUZZ_DIR:-java-api/core/target/fuzz}")
mkdir -p "$dir"
[ -f java-api/core/target/test-classes/org/llamajava/GgufFuzz.class ] || { echo "fuzz: build first: ./mvnw -q install -DskipTests" >&2; exit 2; }
./mvnw -q -o -pl java-api/core dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$dir/cp.txt" >/dev/null
src=$(sed -n 's/^llama.source.dir=//p' native/target/llama/llama-build.properties 2>/dev/null || true)
exec java -Djava.util.logging.config.file="$PWD/java-api/core/src/test/resources/logging.properties" \
  -cp "$PWD/java-api/core/target/test-classes:$PWD/java-api/core/target/classes:$(cat "$dir/cp.txt")" \
  org.llamajava.GgufFuzz "$dir" "${1:-600}" "$src"
