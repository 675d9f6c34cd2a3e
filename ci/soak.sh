#!/usr/bin/env bash
# Soak: 1,000 model load/close and 10,000 context create/use/close cycles on stories260K in one JVM;
# fails if resident memory grows by 5% or more after warm-up, or if a non-daemon thread is left.
#   ci/soak.sh                   the default counts (about a minute)
#   ci/soak.sh --duration 1h     the hour-long mode: both kinds alternated, RSS printed every minute
# Other flags go to org.llamajava.samples.Soak (--model PATH, --models N, --contexts N,
# --max-growth PCT, --ctx-size N, --batch N, --threads N).
# The JVM gets a fixed, pre-touched heap and C1 only, so that RSS measures native memory rather than
# the heap resizing itself or the C2 compiler's arenas (which alone grow RSS by about 10% in the
# model phase); override with SOAK_JAVA_OPTS. Needs a build (./mvnw -q install -DskipTests).
set -euo pipefail
cd "$(dirname "$0")/.."
jar=samples/target/llama-java.jar
[ -f "$jar" ] || { echo "error: $jar not found; build first: ./mvnw -q install -DskipTests" >&2; exit 2; }
opts=${SOAK_JAVA_OPTS:--Xms64m -Xmx64m -XX:+AlwaysPreTouch -XX:+UseSerialGC -XX:TieredStopAtLevel=1}
start=$(date +%s.%N)
set +e
# shellcheck disable=SC2086
# glibc's fixed mmap threshold (see Soak's javadoc): freed large buffers go back to the system at once
MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-131072} java $opts -cp "$jar" org.llamajava.samples.Soak "$@"
rc=$?
set -e
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "soak.sh: JVM ran %.1f s in all (start to exit)\n", e-s}'
exit $rc
