#!/usr/bin/env bash
# Speculative decoding with n-gram lookup: llama-java (Speculation.ngram) against plain greedy
# decoding and against llama.cpp's llama-lookup (same source, same draft length, greedy) on a
# "rewrite" task: the prompt holds a text twice and starts it a third time, so the continuation
# can copy from the context. Alternates the runs round by round and closes each round with a
# second native lookup run (the native A/A noise floor); prints per-round tokens/s over the
# generation (prompt excluded) and the medians of the per-round ratios. Needs a build first
# (./mvnw -q install -DskipTests, or a verify of java-api/core).
#   ROUNDS (default 3), THREADS (default 2), N (tokens, default 128), DRAFT (draft max, default 16),
#   MODEL (default ../shared/models/stories260K.gguf), TEXT (a file to rewrite; default a
#   TinyStories-style paragraph)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}; threads=${THREADS:-2}; n=${N:-128}; draft=${DRAFT:-16}
model=${MODEL:-../shared/models/stories260K.gguf}
out=native/target/llama
[ -f java-api/core/target/test-classes/org/llamajava/SpeculationBenchmark.class ] || { echo "bench-spec: build first" >&2; exit 2; }
./mvnw -q -o -pl java-api/core dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
# this worktree's natives (native/target/classes), not an installed copy from ~/.m2
cp="java-api/core/target/test-classes:java-api/core/target/classes:$(sed 's#[^:]*llama-java-native-[^:]*\.jar#native/target/classes#' java-api/core/target/bench-classpath.txt)"
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
if [ -n "${TEXT:-}" ]; then cp "$TEXT" "$dir/text.txt"; else
  printf '%s' "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high. Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do." > "$dir/text.txt"
fi
{ cat "$dir/text.txt"; printf '\n\n'; cat "$dir/text.txt"; printf '\n\n'; head -c 16 "$dir/text.txt"; } > "$dir/prompt.txt"

native() { # t/s, drafted, accepted of llama-lookup's decode (its own figures)
  LD_LIBRARY_PATH=$out/lib "$out/bin/llama-lookup" -m "$model" -f "$dir/prompt.txt" -n "$n" -t "$threads" -c 4096 \
    --spec-draft-n-max "$1" --temp 0 --top-k 1 -s 1 >/dev/null 2>"$dir/native.err"
  awk '/decoded/ { s = $(NF-1) } /n_drafted/ { d = $NF } /n_accept / { a = $NF } END { printf "%s %s %s", s, d, a }' "$dir/native.err"
}
javarun() { # t/s, drafted, accepted of one timed generation after a warm-up
  java -cp "$cp" org.llamajava.SpeculationBenchmark "$model" "$dir/prompt.txt" "$n" "$threads" "$1" "$draft" 2>/dev/null \
    | awk '/^RESULT/ { printf "%.3f %s %s", $2 / $3, $4, $5 }'
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%F); model $(basename "$model"); threads $threads; $n tokens; draft max $draft"
printf "%-6s %12s %18s %12s %18s %12s %10s %10s %10s %8s\n" round nat-plain nat-lookup[d/a] java-plain java-ngram[d/a] nat-lookup2 java/nat java-gain nat-gain A/A
r1=(); r2=(); r3=(); aa=()
for r in $(seq 1 "$rounds"); do
  np=$(native 0); nl=$(native "$draft"); jp=$(javarun plain); jn=$(javarun ngram); nl2=$(native "$draft")
  set -- $np; np_s=$1; set -- $nl; nl_s=$1; nl_d="$2/$3"; set -- $jp; jp_s=$1; set -- $jn; jn_s=$1; jn_d="$2/$3"
  set -- $nl2; nl2_s=$1
  a=$(awk -v x="$jn_s" -v y="$nl_s" -v z="$nl2_s" 'BEGIN { printf "%.3f", x / ((y + z) / 2) }')
  b=$(awk -v x="$jn_s" -v y="$jp_s" 'BEGIN { printf "%.3f", x / y }')
  c=$(awk -v x="$nl_s" -v y="$np_s" 'BEGIN { printf "%.3f", x / y }')
  d=$(awk -v x="$nl2_s" -v y="$nl_s" 'BEGIN { printf "%.3f", x / y }')
  r1+=("$a"); r2+=("$b"); r3+=("$c"); aa+=("$d")
  printf "%-6s %12s %18s %12s %18s %12s %10s %10s %10s %8s\n" "$r" "$np_s" "$nl_s[$nl_d]" "$jp_s" "$jn_s[$jn_d]" "$nl2_s" "$a" "$b" "$c" "$d"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "median java-ngram/llama-lookup: $(median "${r1[@]}")   java ngram/plain: $(median "${r2[@]}")   llama-lookup/plain: $(median "${r3[@]}")   native A/A: $(median "${aa[@]}")"
