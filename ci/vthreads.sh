#!/usr/bin/env bash
# Virtual threads and native generation (docs/observability.md): ci/VirtualThreadPinning.java on a
# Java 21+ runtime (JAVA21, default Temurin 25's), with the virtual-thread scheduler on CARRIERS (2)
# carriers: 200 virtual threads each generate TOKENS (32) tokens of MODEL (stories260K), directly and
# the recommended ways, while a probe virtual thread measures the scheduler's lateness and JFR counts
# jdk.VirtualThreadPinned. Exits 3 if a recommended way pinned a virtual thread inside llama-java's
# native code (CI fails on it), 1 if one pinned for over 20 ms or let the probe wake over 100 ms late
# (times: CI reports them). Needs a build first (./mvnw -q install -DskipTests).
set -euo pipefail
cd "$(dirname "$0")/.."
java21=${JAVA21:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
model=${MODEL:-../shared/models/stories260K.gguf}
[ -x "$java21" ] || { echo "vthreads: no Java 21+ at $java21 (set JAVA21)" >&2; exit 2; }
[ -f java-api/core/target/classes/org/llamajava/TextPublisher.class ] || { echo "vthreads: build first" >&2; exit 2; }
./mvnw -q -o -pl java-api/core dependency:build-classpath -Dmdep.outputFile=target/vthreads-classpath.txt >/dev/null
cp="java-api/core/target/classes:$(cat java-api/core/target/vthreads-classpath.txt)"
echo "date: $(date -u +%F), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$java21" --enable-native-access=ALL-UNNAMED -Djdk.virtualThreadScheduler.parallelism=${CARRIERS:-2} -cp "$cp" ci/VirtualThreadPinning.java \
  "$model" "${TOKENS:-32}" "${MODES:-direct,offload,publisher,engine}"
