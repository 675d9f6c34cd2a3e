#!/usr/bin/env bash
# Benchmarks llama-java against native llama-bench, built from the same pinned llama.cpp, and
# against the Java binding one would otherwise use, de.kherud:llama 4.2.0 (its own llama.cpp build,
# run by ci/kherud/KherudBench.java), on the same models and thread count, alternating the three in
# every round, and prints the median t/s of each and their ratios. Needs a build first
# (./mvnw -q install -DskipTests).
#
#   ci/bench.sh                 stories260K and a 135M-shape random model in Q8_0 and Q4_0
#   BENCH_1B=1 ci/bench.sh      also the 1B-shape random model in Q4_0 (writes ~2.6 GB once)
#   KHERUD=0 ci/bench.sh        without de.kherud:llama
#
# Environment: THREADS (default 2), REPS per run (5), ROUNDS (3), PP (512), TG (128),
# BENCH_MODELS (where generated models are cached; default ~/.cache/llama-java/bench-models),
# NGL (layers offloaded to a GPU, passed to both llama-bench and llama-java; default: each one's own
# default, 99), and, to run from another build (ci/gpu-prebuilt.sh does): LLAMA_OUT (a folder with
# llama.cpp's bin/ and lib/; default native/target/llama), JAR (the CLI jar), JAVA (the java
# command), MODELS_DIR (stories260K.gguf and llama-2-tiny-random.gguf; default ../shared/models).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${LLAMA_OUT:-native/target/llama}
jar=${JAR:-samples/target/llama-java.jar}
java=${JAVA:-java}
shared=${MODELS_DIR:-../shared/models}
[ -x "$out/bin/llama-bench" ] && [ -f "$jar" ] || { echo "bench: build first: ./mvnw -q install -DskipTests" >&2; exit 1; }
ngl=(); if [ -n "${NGL:-}" ]; then ngl=(-ngl "$NGL"); fi
export LD_LIBRARY_PATH="$out/lib"
threads=${THREADS:-2}; reps=${REPS:-5}; rounds=${ROUNDS:-3}; pp=${PP:-512}; tg=${TG:-128}
dir=${BENCH_MODELS:-$HOME/.cache/llama-java/bench-models}
vocab=$shared/llama-2-tiny-random.gguf
mkdir -p "$dir"
kherud=${KHERUD:-1}
kjar=$HOME/.m2/repository/de/kherud/llama/4.2.0/llama-4.2.0.jar
if [ "$kherud" = 1 ] && [ ! -f "$kjar" ]; then ./mvnw -q -N dependency:get -Dartifact=de.kherud:llama:4.2.0 >&2; fi

model() { # name shape type -> path of a quantized random model, made once
  local name=$1 shape=$2 type=$3 f16="$dir/$1-f16.gguf" q="$dir/$1-$3.gguf"
  if [ ! -f "$q" ]; then
    [ -f "$f16" ] || "$java" -jar "$jar" write-model --shape "$shape" --vocab-from "$vocab" --type f16 -o "$f16" >&2
    "$out/bin/llama-quantize" "$f16" "$q" "$type" >/dev/null 2>&1
  fi
  echo "$q"
}

models=("$shared/stories260K.gguf" "$(model smol135m smol135m Q8_0)" "$(model smol135m smol135m Q4_0)")
if [ "${BENCH_1B:-0}" = 1 ]; then models+=("$(model llama1b llama1b Q4_0)"); fi

rows() { # who model: llama-bench's markdown rows on stdin -> "who model test t/s" lines
  # test and t/s are the last two columns (a GPU build adds an ngl column before them)
  awk -v w="$1" -v m="$(basename "$2")" -F'|' '/^[|].* (pp|tg)[0-9]+ /{t=$(NF-2); gsub(/ /,"",t); split($(NF-1),a,"±"); print w, m, t, a[1]+0}'
}

results=$(mktemp)
for round in $(seq "$rounds"); do
  for m in "${models[@]}"; do
    echo "bench: round $round/$rounds: $(basename "$m")" >&2
    "$out/bin/llama-bench" -m "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps" "${ngl[@]}" -o md 2>/dev/null | rows native "$m" >> "$results"
    "$java" -jar "$jar" bench -m "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps" "${ngl[@]}" 2>/dev/null | rows java "$m" >> "$results"
    if [ "$kherud" = 1 ]; then # fails loudly (stderr, exit status) if a generation is short
      "$java" -cp "$kjar" ci/kherud/KherudBench.java -m "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps" | rows kherud "$m" >> "$results"
    fi
  done
done

python3 - "$results" "$threads" "$rounds" "$reps" <<'PY'
import sys, statistics, collections, platform, datetime, os
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    who, model, test, tps = line.split()
    rows[(model, test, who)].append(float(tps))
med = lambda model, test, who: statistics.median(rows[(model, test, who)]) if rows[(model, test, who)] else float("nan")
pct = lambda a, b: f"{100*a/b:.1f}%" if b == b and b else "-"
kherud = any(who == "kherud" for (_, _, who) in rows)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"llama-java vs native llama-bench{' vs de.kherud:llama 4.2.0' if kherud else ''}, {datetime.date.today()}, {cpu}, "
      f"{os.cpu_count()} cpus, -t {sys.argv[2]}, {sys.argv[3]} rounds x {sys.argv[4]} reps, medians of the round means")
print()
if kherud:
    print("| model | test | native t/s | llama-java t/s | kherud t/s | llama-java/native | kherud/native | llama-java/kherud |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
else:
    print("| model | test | native t/s | llama-java t/s | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
for (model, test) in sorted({(m, t) for (m, t, _) in rows}):
    n, j, k = med(model, test, "native"), med(model, test, "java"), med(model, test, "kherud")
    if kherud:
        print(f"| {model} | {test} | {n:.2f} | {j:.2f} | {k:.2f} | {pct(j, n)} | {pct(k, n)} | {pct(j, k)} |")
    else:
        print(f"| {model} | {test} | {n:.2f} | {j:.2f} | {pct(j, n)} |")
PY
rm -f "$results"
