#!/usr/bin/env bash
# Batching engine against llama.cpp's llama-batched-bench (built from the same source): the same
# model, prompt length (PP), generated length (TG), parallel sequences (PL), batch size (-b, ubatch
# 512) and threads. Each round runs native, llama-java, native again (the native A/A noise floor)
# at each PL and prints the total throughput S = (PL*PP + PL*TG) / T in tokens/s: batched-bench's
# "S t/s" column (unshared prompts), and for llama-java the wall time from submitting PL requests
# with distinct random prompts to the last completion (BatchedBenchmark). Then the medians of the
# per-round ratios llama-java / native and native A/A. batched-bench feeds random tokens and never
# samples; the engine samples every token (greedy), assembles text and schedules, so the ratio is
# what serving costs over the bare decode loop. Not part of the tests; results go to
# docs/results/bench-results.md. Needs a build first (./mvnw -q install -DskipTests, or verify).
#   ROUNDS (5), REPS per run (3, median), THREADS (2), PP (128), TG (64), PL ("1 4 8 16"),
#   BATCH (2048), MODEL (../shared/models/stories260K.gguf); SMOL=1 instead benchmarks a
#   random-weight model in SmolLM2-135M's shape (f16, written by the CLI's write-model);
#   KVU (1): give llama-batched-bench -kvu, the unified KV buffer the engine's context uses (its
#   slots share the whole context); KVU=0 compares with batched-bench's default per-sequence
#   buffers, where attention reads only the sequence's own cells (faster at many sequences)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}; reps=${REPS:-3}; threads=${THREADS:-2}; pp=${PP:-128}; tg=${TG:-64}
pls=${PL:-"1 4 8 16"}; batch=${BATCH:-2048}
kvu=(); [ "${KVU:-1}" = 1 ] && kvu=(-kvu)
model=${MODEL:-../shared/models/stories260K.gguf}
out=native/target/llama
[ -x "$out/bin/llama-batched-bench" ] || { echo "bench-batched: $out/bin/llama-batched-bench missing: build first" >&2; exit 2; }
[ -f java-api/core/target/test-classes/org/llamajava/batch/BatchedBenchmark.class ] \
  || { echo "bench-batched: build first: ./mvnw -q install -DskipTests" >&2; exit 2; }
./mvnw -q -o -pl java-api/core dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
cp="native/target/classes:java-api/core/target/test-classes:java-api/core/target/classes:$(cat java-api/core/target/bench-classpath.txt)"
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
if [ "${SMOL:-0}" = 1 ]; then
  java -jar samples/target/llama-java.jar write-model -o "$dir/smol135m.gguf" --shape smol135m \
    --vocab-from ../shared/models/llama-2-tiny-random.gguf --type f16 >/dev/null
  model=$dir/smol135m.gguf
fi

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) printf "%.3f\n", a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
native() { # $1: PL -> median S t/s over REPS processes
  local r
  local r k s
  for r in $(seq "$reps"); do
    # llama.cpp's tools log from a background thread that can lose the last line at exit: run again
    for k in 1 2 3 4 5; do
      s=$(LD_LIBRARY_PATH=$out/lib "$out/bin/llama-batched-bench" -m "$model" -c $(($1 * (pp + tg))) -b "$batch" \
        -ub 512 -npp "$pp" -ntg "$tg" -npl "$1" -t "$threads" -tb "$threads" "${kvu[@]}" --output-format jsonl 2>/dev/null \
        | sed -n 's/.*"speed": \([0-9.]*\).*/\1/p')
      [ -n "$s" ] && break
    done
    echo "${s:?llama-batched-bench printed no result}"
  done | median
}
javarun() { # $1: PL -> median tokens/s over REPS repetitions in one JVM (after a warm-up)
  java -cp "$cp" org.llamajava.batch.BatchedBenchmark "$model" "$pp" "$tg" "$1" "$threads" "$batch" "$reps" 2>/dev/null \
    | awk '/^RESULT/ { printf "%.2f\n", $2 / ($3 / 1000) }' | median
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%F); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model $(basename "$model"), PP $pp, TG $tg, -b $batch -ub 512, -t $threads, batched-bench ${kvu[*]:-(per-sequence KV)}, $reps reps per run (median), $rounds rounds"
printf "%-5s %4s %12s %12s %12s %9s %9s\n" round PL native-S/s java-S/s native2-S/s java/nat A/A
declare -A sp aa
for r in $(seq "$rounds"); do
  for pl in $pls; do
    a=$(native "$pl"); j=$(javarun "$pl"); b=$(native "$pl")
    s=$(awk -v a="$a" -v b="$b" -v j="$j" 'BEGIN { printf "%.3f", j / ((a + b) / 2) }')
    x=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')
    sp[$pl]+="$s "; aa[$pl]+="$x "
    printf "%-5s %4s %12s %12s %12s %9s %9s\n" "$r" "$pl" "$a" "$j" "$b" "$s" "$x"
  done
done
for pl in $pls; do
  m=$(printf '%s\n' ${sp[$pl]} | median); n=$(printf '%s\n' ${aa[$pl]} | median)
  echo "PL $pl: median throughput llama-java / llama-batched-bench $m  (native A/A $n)"
done
