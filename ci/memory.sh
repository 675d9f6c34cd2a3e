#!/usr/bin/env bash
# Memory report: llama-java's process after loading each model and after a 1,000-token
# generation, against llama.cpp's own llama-completion doing the same work (peak RSS by GNU time).
# Needs a build (./mvnw -q install -DskipTests) and ci/bench.sh's models (or give MODEL paths).
set -euo pipefail
cd "$(dirname "$0")/.."
out=native/target/llama
export LD_LIBRARY_PATH="$out/lib"
dir=${BENCH_MODELS:-$HOME/.cache/llama-java/bench-models}
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(../shared/models/stories260K.gguf "$dir"/smol135m-Q8_0.gguf "$dir"/smol135m-Q4_0.gguf "$dir"/llama1b-Q4_0.gguf)
for m in "${models[@]}"; do
  [ -f "$m" ] || continue
  echo "## $(basename "$m") ($(du -h "$m" | cut -f1))"
  java -Xmx512m -cp samples/target/llama-java.jar org.llamajava.samples.MemoryReport "$m" 1000 2>/dev/null | sed 's/^/    llama-java  /'
  peak=$( { /usr/bin/time -f "%M" "$out/bin/llama-completion" -m "$m" -p "Once upon a time" -n 1000 -c 1016 \
            --temp 0.8 --seed 1 -t 2 -no-cnv --ignore-eos >/dev/null 2>/tmp/llama-mem.err; } 2>&1; tail -n 1 /tmp/llama-mem.err)
  echo "    llama.cpp   llama-completion, 1000 tokens: peak RSS $(awk -v k="$peak" 'BEGIN{printf "%.1f", k/1024}') MiB"
done
