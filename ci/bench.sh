#!/usr/bin/env bash
# Benchmarks llama-java against native llama-bench, built from the same pinned llama.cpp, on the
# same models and thread count, alternating the two in every round, and prints the median t/s of
# each and their ratio. Needs a build first (./mvnw -q install -DskipTests).
#
#   ci/bench.sh                 stories260K and a 135M-shape random model in Q8_0 and Q4_0
#   BENCH_1B=1 ci/bench.sh      also the 1B-shape random model in Q4_0 (writes ~2.6 GB once)
#
# Environment: THREADS (default 2), REPS per run (5), ROUNDS (3), PP (512), TG (128),
# BENCH_MODELS (where generated models are cached; default ~/.cache/llama-java/bench-models).
set -euo pipefail
cd "$(dirname "$0")/.."
out=native/target/llama
jar=samples/target/llama-java.jar
[ -x "$out/bin/llama-bench" ] && [ -f "$jar" ] || { echo "bench: build first: ./mvnw -q install -DskipTests" >&2; exit 1; }
export LD_LIBRARY_PATH="$out/lib"
threads=${THREADS:-2}; reps=${REPS:-5}; rounds=${ROUNDS:-3}; pp=${PP:-512}; tg=${TG:-128}
dir=${BENCH_MODELS:-$HOME/.cache/llama-java/bench-models}
vocab=../shared/models/llama-2-tiny-random.gguf
mkdir -p "$dir"

model() { # name shape type -> path of a quantized random model, made once
  local name=$1 shape=$2 type=$3 f16="$dir/$1-f16.gguf" q="$dir/$1-$3.gguf"
  if [ ! -f "$q" ]; then
    [ -f "$f16" ] || java -jar "$jar" write-model --shape "$shape" --vocab-from "$vocab" --type f16 -o "$f16" >&2
    "$out/bin/llama-quantize" "$f16" "$q" "$type" >/dev/null 2>&1
  fi
  echo "$q"
}

models=(../shared/models/stories260K.gguf "$(model smol135m smol135m Q8_0)" "$(model smol135m smol135m Q4_0)")
if [ "${BENCH_1B:-0}" = 1 ]; then models+=("$(model llama1b llama1b Q4_0)"); fi

results=$(mktemp)
for round in $(seq "$rounds"); do
  for m in "${models[@]}"; do
    echo "bench: round $round/$rounds: $(basename "$m")" >&2
    "$out/bin/llama-bench" -m "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps" -o md 2>/dev/null \
      | awk -v m="$(basename "$m")" -F'|' '/^[|].* (pp|tg)[0-9]+ /{gsub(/ /,"",$7); split($8,a,"±"); print "native", m, $7, a[1]+0}' >> "$results"
    java -jar "$jar" bench -m "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps" 2>/dev/null \
      | awk -v m="$(basename "$m")" -F'|' '/^[|].* (pp|tg)[0-9]+ /{gsub(/ /,"",$7); split($8,a,"±"); print "java", m, $7, a[1]+0}' >> "$results"
  done
done

python3 - "$results" "$threads" "$rounds" "$reps" <<'PY'
import sys, statistics, collections, platform, datetime, os
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    who, model, test, tps = line.split()
    rows[(model, test, who)].append(float(tps))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"llama-java vs native llama-bench, {datetime.date.today()}, {cpu}, {os.cpu_count()} cpus, "
      f"-t {sys.argv[2]}, {sys.argv[3]} rounds x {sys.argv[4]} reps, medians of the round means")
print()
print("| model | test | native t/s | llama-java t/s | ratio |")
print("| --- | --- | ---: | ---: | ---: |")
for (model, test) in sorted({(m, t) for (m, t, _) in rows}):
    n = statistics.median(rows[(model, test, "native")]) if rows[(model, test, "native")] else float("nan")
    j = statistics.median(rows[(model, test, "java")]) if rows[(model, test, "java")] else float("nan")
    print(f"| {model} | {test} | {n:.2f} | {j:.2f} | {100*j/n:.1f}% |")
PY
rm -f "$results"
