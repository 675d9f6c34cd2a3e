#!/usr/bin/env bash
# Embedding throughput: llama-java's Embedder against llama.cpp's llama-embedding (built from the
# same source) on 1,000 mixed-length sentences with all-MiniLM-L6-v2, same threads, alternating
# round by round and closing each round with a second native run (the native A/A noise floor);
# also LangChain4j's ONNX Runtime model on the same texts. Prints per-round texts/s and the
# medians of the per-round ratios. Needs a build first (./mvnw -q install -DskipTests).
#   ROUNDS (default 5), THREADS (default 2), N (sentences, default 1000), ONNX=0 leaves it out
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}; threads=${THREADS:-2}; n=${N:-1000}
model=${MODEL:-../shared/models/all-MiniLM-L6-v2-f16.gguf}
out=native/target/llama
[ -f java-api/core/target/test-classes/org/llamajava/embed/EmbeddingBenchmark.class ] || { echo "bench-embed: build first: ./mvnw -q install -DskipTests" >&2; exit 2; }
./mvnw -q -o -pl java-api/core dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
cp="java-api/core/target/test-classes:java-api/core/target/classes:$(cat java-api/core/target/bench-classpath.txt)"
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
java -cp "$cp" org.llamajava.embed.EmbeddingBenchmark write "$dir/texts.txt" "$n"

native() { # texts/s over llama-embedding's decodes, from the timestamps of its batch_decode log lines:
  # texts of every batch but the last, over the time from the first batch's start to the last's
  # (tokenization before and printing after are left out; llama-java's figure includes tokenization)
  LD_LIBRARY_PATH=$out/lib "$out/bin/llamajava-embedding" -m "$model" -f "$dir/texts.txt" -t "$threads" -c 512 "$@" \
    --embd-output-format array >/dev/null 2>"$dir/native.err"
  grep 'batch_decode: n_tokens' "$dir/native.err" | awk '
    { split($1, t, "."); ts = t[1] * 60 + t[2] + t[3] / 1000 + t[4] / 1e6
      seq = $NF; if (NR == 1) first = ts; last = ts; if (NR > 1) done += prev; prev = seq }
    END { printf "%.1f", done / (last - first) }'
}
javarun() { # texts/s of one timed embedAll after a warm-up (tokenization and normalization included)
  java -cp "$cp" org.llamajava.embed.EmbeddingBenchmark java "$model" "$dir/texts.txt" "$threads" \
    | awk '/^RESULT/ { printf "%.1f", $3 / $5 }'
}
onnxrun() {
  java -cp "$cp" org.llamajava.embed.EmbeddingBenchmark onnx "$dir/texts.txt" 2>/dev/null \
    | awk '/^RESULT/ { printf "%.1f", $3 / $5 }'
}

# llama-java's Embedder batches at most its context (512 tokens for this model); llama-embedding
# takes n_batch = max(2048, n_ctx) by default, and a BERT batch attends over all of its tokens, so
# the like-for-like native run is -b 512 -ub 512; its default is reported too.
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%F); threads $threads; $n sentences"
printf "%-6s %12s %12s %12s %12s %12s %10s %10s %10s\n" round native-b512 java native2 native-dflt onnx java/nat A/A java/onnx
ratios=(); aa=(); onnxr=(); dflt=()
for r in $(seq 1 "$rounds"); do
  a=$(native -b 512 -ub 512); j=$(javarun); b=$(native -b 512 -ub 512); d=$(native)
  o=NA; [ "${ONNX:-1}" = 1 ] && o=$(onnxrun)
  rj=$(awk -v j="$j" -v a="$a" 'BEGIN { printf "%.3f", j / a }')
  ra=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')
  ro=NA; [ "$o" != NA ] && ro=$(awk -v j="$j" -v o="$o" 'BEGIN { printf "%.2f", j / o }')
  rd=$(awk -v j="$j" -v d="$d" 'BEGIN { printf "%.3f", j / d }')
  ratios+=("$rj"); aa+=("$ra"); onnxr+=("$ro"); dflt+=("$rd")
  printf "%-6s %12s %12s %12s %12s %12s %10s %10s %10s\n" "$r" "$a" "$j" "$b" "$d" "$o" "$rj" "$ra" "$ro"
done
median() { printf '%s\n' "$@" | grep -v NA | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "median java/native(-b 512): $(median "${ratios[@]}")   native A/A: $(median "${aa[@]}")   java/native(default -b): $(median "${dflt[@]}")   java/onnx: $(median "${onnxr[@]}")"
