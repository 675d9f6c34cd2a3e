#!/usr/bin/env bash
# Grammar-constrained generation: llama-java against llama.cpp's llama-completion --json-schema
# (built from the same source), same model, prompt, schema, sampler chain, seed and threads; each
# round runs native, llama-java, native again (the native A/A noise floor), with the schema and
# without it. Prints per-round ms per generated token (sampling + decoding: llama-completion's
# sampling + eval time over its generated tokens; llama-java's Timings.generationNanos) and the
# medians of the per-round ratios, and the grammar stage's cost per token (with minus without).
# Needs a build first (./mvnw -q install -DskipTests, or verify in a worktree).
#   ROUNDS (default 5), REPS per run (5), THREADS (1), N (max tokens, 256), SEED (42), TEMP (1.0),
#   MODEL (default ../shared/models/llama-2-tiny-random.gguf: a 32k vocabulary and a very cheap
#   decode, so the grammar stage dominates), SCHEMA (default ci/bench-grammar-schema.json)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}; reps=${REPS:-5}; threads=${THREADS:-1}; n=${N:-256}; seed=${SEED:-42}; temp=${TEMP:-1.0}
model=${MODEL:-../shared/models/llama-2-tiny-random.gguf}
schema=${SCHEMA:-ci/bench-grammar-schema.json}
prompt="Hello"
out=native/target/llama
[ -f java-api/core/target/test-classes/org/llamajava/grammar/GrammarBenchmark.class ] || { echo "bench-grammar: build first: ./mvnw -q install -DskipTests" >&2; exit 2; }
./mvnw -q -o -pl java-api/core dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
cp="java-api/core/target/test-classes:java-api/core/target/classes:$(cat java-api/core/target/bench-classpath.txt)"
# the native library of this build, not whatever an installed jar holds
cp="native/target/classes:$cp"

native() { # $1: schema file or none -> median ms per generated token over REPS runs
  local args=() r
  [ "$1" != none ] && args=(--json-schema-file "$1")
  for r in $(seq "$reps"); do
    LD_LIBRARY_PATH=$out/lib "$out/bin/llama-completion" -m "$model" -p "$prompt" -n "$n" --seed "$seed" -t "$threads" \
      -no-cnv --no-display-prompt --simple-io --no-warmup --samplers "top_k;top_p;min_p;temperature" --top-k 40 \
      --top-p 0.95 --min-p 0.05 --temp "$temp" -c $((n + 64)) "${args[@]}" 2>&1 >/dev/null \
      | awk '/common_perf_print: +sampling time/ { s = $(NF-1) }
             /common_perf_print: +eval time/ { e = $7; runs = $10 }
             END { printf "%.5f\n", (s + e) / (runs + 1) }'
  done | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
javarun() {
  java -cp "$cp" org.llamajava.grammar.GrammarBenchmark "$model" "$prompt" "$1" "$n" "$seed" "$threads" "$temp" "$reps" \
    2>/dev/null | awk '/^RESULT/ { print $3 / $2 }' | sort -g | awk '{ a[NR] = $1 } END { printf "%.5f\n", a[int((NR + 1) / 2)] }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%F); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model $(basename "$model"), schema $schema, prompt '$prompt', -n $n, seed $seed, temp $temp, -t $threads, $reps reps per run (median)"
printf "%-5s %10s %10s %10s %10s %10s %10s %9s %9s\n" round nat-ms/tok java nat2 nat-free java-free nat2-free java/nat A/A
speed=(); aa=(); speedf=(); aaf=(); gn=(); gj=()
for r in $(seq "$rounds"); do
  a=$(native "$schema"); j=$(javarun "$schema"); b=$(native "$schema")
  af=$(native none); jf=$(javarun none); bf=$(native none)
  # speed ratio java/native = native ms per token / java ms per token, against the mean of the two native runs
  s=$(awk -v a="$a" -v b="$b" -v j="$j" 'BEGIN { printf "%.3f", (a + b) / 2 / j }'); x=$(ratio "$a" "$b")
  sf=$(awk -v a="$af" -v b="$bf" -v j="$jf" 'BEGIN { printf "%.3f", (a + b) / 2 / j }'); xf=$(ratio "$af" "$bf")
  speed+=("$s"); aa+=("$x"); speedf+=("$sf"); aaf+=("$xf")
  gn+=("$(awk -v a="$a" -v b="$b" -v af="$af" -v bf="$bf" 'BEGIN { printf "%.5f", (a + b - af - bf) / 2 }')")
  gj+=("$(awk -v j="$j" -v jf="$jf" 'BEGIN { printf "%.5f", j - jf }')")
  printf "%-5s %10s %10s %10s %10s %10s %10s %9s %9s\n" "$r" "$a" "$j" "$b" "$af" "$jf" "$bf" "$s" "$x"
done
echo "with the schema: median speed java/native $(median "${speed[@]}")  native A/A $(median "${aa[@]}")"
echo "without grammar: median speed java/native $(median "${speedf[@]}")  native A/A $(median "${aaf[@]}")"
echo "grammar stage, ms per token (with minus without, median over rounds): native $(median "${gn[@]}")  llama-java $(median "${gj[@]}")"
