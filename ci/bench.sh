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
#   BENCH_SMALL=1 ci/bench.sh   stories260K only (smoke checks: ci/gpu-check.sh on Mesa's software Vulkan)
#
# Environment: AA (1: a second native run closes each round, see below; 0: not), THREADS (default 2), REPS per run (5), ROUNDS (3), PP (512), TG (128),
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

if [ "${BENCH_SMALL:-0}" = 1 ]; then
  models=("$shared/stories260K.gguf")
else
  models=("$shared/stories260K.gguf" "$(model smol135m smol135m Q8_0)" "$(model smol135m smol135m Q4_0)")
fi
if [ "${BENCH_1B:-0}" = 1 ]; then models+=("$(model llama1b llama1b Q4_0)"); fi

rows() { # who round model: llama-bench's markdown rows on stdin -> "who round model test t/s" lines
  # test and t/s are the last two columns (a GPU build adds an ngl column before them)
  awk -v w="$1" -v r="$2" -v m="$(basename "$3")" -F'|' '/^[|].* (pp|tg)[0-9]+ /{t=$(NF-2); gsub(/ /,"",t); split($(NF-1),a,"±"); print w, r, m, t, a[1]+0}'
}

# Each round and model: native, llama-java, de.kherud:llama, then native again (AA=0 leaves the
# second native run out). The two native runs bracket the others in time: llama-java and kherud
# are compared with their mean, and their own ratio (native A/A) shows what this machine's noise
# alone does to a ratio of two identical runs.
aa=${AA:-1}
results=$(mktemp)
for round in $(seq "$rounds"); do
  for m in "${models[@]}"; do
    echo "bench: round $round/$rounds: $(basename "$m")" >&2
    "$out/bin/llama-bench" -m "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps" "${ngl[@]}" -o md 2>/dev/null | rows native "$round" "$m" >> "$results"
    "$java" -jar "$jar" bench -m "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps" "${ngl[@]}" 2>/dev/null | rows java "$round" "$m" >> "$results"
    if [ "$kherud" = 1 ]; then # fails loudly (stderr, exit status) if a generation is short
      "$java" -cp "$kjar" ci/kherud/KherudBench.java -m "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps" | rows kherud "$round" "$m" >> "$results"
    fi
    if [ "$aa" = 1 ]; then
      "$out/bin/llama-bench" -m "$m" -p "$pp" -n "$tg" -t "$threads" -r "$reps" "${ngl[@]}" -o md 2>/dev/null | rows native2 "$round" "$m" >> "$results"
    fi
  done
done

python3 - "$results" "$threads" "$rounds" "$reps" <<'PY'
import sys, statistics, collections, platform, datetime, os
runs = {}  # (model, test, who, round) -> mean t/s of that run
for line in open(sys.argv[1]):
    who, rnd, model, test, tps = line.split()
    runs[(model, test, who, rnd)] = float(tps)
keys = sorted({(m, t) for (m, t, _, _) in runs})
rounds = sorted({r for (_, _, _, r) in runs}, key=int)
whos = {w for (_, _, w, _) in runs}
kherud, aa = "kherud" in whos, "native2" in whos

def vals(model, test, who):
    return [runs[(model, test, who, r)] for r in rounds if (model, test, who, r) in runs]

def native(model, test, r):  # the round's native reference: the mean of the bracketing runs
    a, b = runs.get((model, test, "native", r)), runs.get((model, test, "native2", r))
    return None if a is None else a if b is None else (a + b) / 2

def ratios(model, test, num, den):  # per-round ratios num/den
    out = []
    for r in rounds:
        n = runs.get((model, test, num, r)) if num != "native" else native(model, test, r)
        d = native(model, test, r) if den == "native" else runs.get((model, test, den, r))
        if n and d:
            out.append(n / d)
    return out

def cell(rs, spread=True):
    if not rs:
        return "-"
    s = f"{100*statistics.median(rs):.1f}%"
    return s + (f" ({100*min(rs):.0f}–{100*max(rs):.0f})" if spread and len(rs) > 1 else "")

med = lambda xs: f"{statistics.median(xs):.2f}" if xs else "-"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"llama-java vs native llama-bench{' vs de.kherud:llama 4.2.0' if kherud else ''}, {datetime.date.today()}, {cpu}, "
      f"{os.cpu_count()} cpus, -t {sys.argv[2]}, {sys.argv[3]} rounds x {sys.argv[4]} reps. t/s: median of the runs' means. "
      "Ratios: median over rounds of each round's ratio (lowest–highest round in brackets)"
      + (", against the mean of the round's two native runs; native A/A: the second native run over the first" if aa else ""))
print()
head = ["model", "test", "native t/s", "llama-java t/s"] + (["kherud t/s"] if kherud else []) + ["llama-java/native"] \
    + (["native A/A"] if aa else []) + (["kherud/native", "llama-java/kherud"] if kherud else [])
print("| " + " | ".join(head) + " |")
print("| --- | --- |" + " ---: |" * (len(head) - 2))
for (model, test) in keys:
    row = [model, test, med(vals(model, test, "native") + vals(model, test, "native2")), med(vals(model, test, "java"))]
    if kherud:
        row.append(med(vals(model, test, "kherud")))
    row.append(cell(ratios(model, test, "java", "native")))
    if aa:
        row.append(cell([runs[(model, test, "native2", r)] / runs[(model, test, "native", r)] for r in rounds
                         if (model, test, "native2", r) in runs and (model, test, "native", r) in runs]))
    if kherud:
        row += [cell(ratios(model, test, "kherud", "native"), False), cell(ratios(model, test, "java", "kherud"), False)]
    print("| " + " | ".join(row) + " |")
PY
rm -f "$results"
