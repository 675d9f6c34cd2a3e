#!/usr/bin/env bash
# llama-java's JFR events, as docs/observability.md shows them: ci/JfrSample.java under
# -XX:StartFlightRecording (default settings), then `jfr print` of org.llamajava events (EVENTS).
# Needs a build first (./mvnw -q install -DskipTests).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${MODEL:-../shared/models/stories260K.gguf}
./mvnw -q -o -pl java-api/core dependency:build-classpath -Dmdep.outputFile=target/jfr-classpath.txt >/dev/null
cp="java-api/core/target/classes:$(cat java-api/core/target/jfr-classpath.txt)"
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
java -XX:StartFlightRecording=filename=$out/llama.jfr,settings=default -cp "$cp" ci/JfrSample.java "$model" 2>/dev/null
jfr summary "$out/llama.jfr" | grep -E "org\.llamajava|Event Type" || true
jfr print --events "${EVENTS:-org.llamajava.ModelLoad,org.llamajava.ContextCreate,org.llamajava.Generation,org.llamajava.PromptCache}" "$out/llama.jfr"
echo "== the first two org.llamajava.Decode events"
jfr print --events org.llamajava.Decode "$out/llama.jfr" | awk '/^org.llamajava.Decode/ { n++ } n <= 2'
