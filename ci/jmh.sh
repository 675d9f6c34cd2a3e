#!/usr/bin/env bash
# JMH micro-benchmarks of the per-token Java path (java-api/core/src/test/java/org/llamajava/PerTokenBenchmark),
# with JMH's gc profiler for heap allocation per token. Needs a build first
# (./mvnw -q install -DskipTests). Forks, warm-up and measurement settings come from JMH_OPTS
# (default "-f 1 -wi 5 -w 1 -i 5 -r 1"), e.g. JMH_OPTS="-f 3 -wi 5 -i 10" ci/jmh.sh; other
# arguments go to JMH too.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f java-api/core/target/test-classes/org/llamajava/PerTokenBenchmark.class ] || { echo "jmh: build first: ./mvnw -q install -DskipTests" >&2; exit 2; }
./mvnw -q -o -pl java-api/core dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/jmh-classpath.txt >/dev/null
cp="java-api/core/target/test-classes:java-api/core/target/classes:$(cat java-api/core/target/jmh-classpath.txt)"
exec java -cp "$cp" org.openjdk.jmh.Main PerTokenBenchmark -prof gc -tu us ${JMH_OPTS:--f 1 -wi 5 -w 1 -i 5 -r 1} "$@"
