#!/usr/bin/env bash
# Spark overhead and sharing (llama-java-spark), in one JVM, Spark local[2]:
#   embed:    N sentences (default 10,000) with all-MiniLM-L6-v2 through the core Embedder alone
#             (2 threads) against LlamaEmbedder on Spark, alternating ROUNDS rounds (default 3);
#             prints each round and the median Spark/core time ratio (the overhead).
#   generate: PROMPTS prompts (default 40) x TOKENS tokens (default 64) with stories260K, greedy:
#             2 independent Sequences (one thread each, on 2 Java threads) against LlamaGenerator
#             (2 concurrent tasks into one shared BatchEngine with 2 threads); median tokens/s.
# Needs a build first (./mvnw -q install -DskipTests). WHAT=embed|generate|both (default both).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}; n=${N:-10000}; prompts=${PROMPTS:-40}; tokens=${TOKENS:-64}; what=${WHAT:-both}
models=${MODELS:-../shared/models}
[ -f java-api/spark/target/test-classes/org/llamajava/spark/SparkBenchmark.class ] || {
  echo "bench-spark: build first: ./mvnw -q install -DskipTests (or -pl java-api/spark test-compile)" >&2; exit 2; }
./mvnw -q -o -pl java-api/spark dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
cp="java-api/spark/target/test-classes:java-api/spark/target/classes:$(cat java-api/spark/target/bench-classpath.txt)"
# the --add-opens flags Spark needs on Java 17+, as the module's tests use them
flags=$(sed -n '/<spark.test.jvm.flags>-XX/,/<\/spark.test.jvm.flags>/p' java-api/spark/pom.xml | sed 's/<[^>]*>//g' | xargs)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|avx2|avx512f|avx512_bf16|amx_tile|fma|f16c)$' | xargs)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), java: $(java -version 2>&1 | head -1)"
if [ "$what" = embed ] || [ "$what" = both ]; then
  # shellcheck disable=SC2086
  java $flags -Xmx4g -cp "$cp" org.llamajava.spark.SparkBenchmark embed "$models/all-MiniLM-L6-v2-f16.gguf" "$n" "$rounds" 2>/dev/null
fi
if [ "$what" = generate ] || [ "$what" = both ]; then
  # shellcheck disable=SC2086
  java $flags -Xmx4g -cp "$cp" org.llamajava.spark.SparkBenchmark generate "$models/stories260K.gguf" "$prompts" "$tokens" "$rounds" 2>/dev/null
fi
