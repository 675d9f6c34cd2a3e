#!/usr/bin/env bash
# What ggml's extra CPU buffer types bring (weight repacking; Intel AMX kernels where the CPU has AMX):
# llama-java's bench with them (the default) against --no-repack, on the 135M-shape random model in
# Q8_0 and Q4_0 and a Llama-3.2-1B-layer model in Q4_K_M (rows a multiple of 256, so the k-quants
# stay), alternating in every round: default, --no-repack, default again (the A/A run: what this
# machine's noise alone does to a ratio of identical runs). Prints medians and ratios with the
# machine, its CPU flags and the date. Needs a build first (./mvnw -q install -DskipTests).
#
# Environment: THREADS (default 2), REPS per run (3), ROUNDS (3), PP (512), TG (64), BENCH_MODELS
# (where generated models are cached; default ~/.cache/llama-java/bench-models).
set -euo pipefail
cd "$(dirname "$0")/.."
jar=${JAR:-samples/target/llama-java.jar}
java=${JAVA:-java}
[ -f "$jar" ] || { echo "bench-repack: build first: ./mvnw -q install -DskipTests" >&2; exit 1; }
threads=${THREADS:-2}; reps=${REPS:-3}; rounds=${ROUNDS:-3}; pp=${PP:-512}; tg=${TG:-64}
dir=${BENCH_MODELS:-$HOME/.cache/llama-java/bench-models}
mkdir -p "$dir"

model() { # name shape type -> path of a quantized random model, made once with llama-java's own tools
  local f16="$dir/$1-f16.gguf" q="$dir/$1-$3.gguf"
  if [ ! -f "$q" ]; then
    [ -f "$f16" ] || "$java" -jar "$jar" write-model --shape "$2" --type f16 -o "$f16" >&2
    "$java" -jar "$jar" quantize "$f16" "$q" "$3" >&2
  fi
  echo "$q"
}
models=("$(model smol135m-tinyvocab smol135m Q8_0)" "$(model smol135m-tinyvocab smol135m Q4_0)"
        "$(model llama1b-layer 2048,1,32,8,8192 Q4_K_M)")

rows() { # who round model: bench's markdown rows on stdin -> "who round model test t/s"
  awk -v w="$1" -v r="$2" -v m="$(basename "$3")" -F'|' '/^[|].* (pp|tg)[0-9]+ /{t=$(NF-2); gsub(/ /,"",t); split($(NF-1),a,"±"); print w, r, m, t, a[1]+0}'
}
bench() { "$java" -jar "$jar" bench -m "$1" -p "$pp" -n "$tg" -t "$threads" -r "$reps" "${@:2}" 2>/dev/null; }

results=$(mktemp)
for round in $(seq "$rounds"); do
  for m in "${models[@]}"; do
    echo "bench-repack: round $round/$rounds: $(basename "$m")" >&2
    bench "$m" | rows extra "$round" "$m" >> "$results"
    bench "$m" --no-repack | rows plain "$round" "$m" >> "$results"
    bench "$m" | rows extra2 "$round" "$m" >> "$results"
  done
done
extra=$("$java" -jar "$jar" --version | grep '^CPU extra buffer types' || true)
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_vnni|avx512_bf16|amx_tile|amx_int8|amx_bf16)$' | tr '\n' ' ')

python3 - "$results" "$threads" "$rounds" "$reps" "$extra" "$flags" <<'PY'
import sys, statistics, datetime, os, platform
runs = {}
for line in open(sys.argv[1]):
    who, rnd, model, test, tps = line.split()
    runs[(model, test, who, rnd)] = float(tps)
keys = sorted({(m, t) for (m, t, _, _) in runs})
rounds = sorted({r for (_, _, _, r) in runs}, key=int)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"llama-java bench, extra buffer types on vs --no-repack, {datetime.date.today()}, {cpu}, {os.cpu_count()} cpus, "
      f"flags: {sys.argv[6].strip() or '-'}; {sys.argv[5]}; -t {sys.argv[2]}, {sys.argv[3]} rounds x {sys.argv[4]} reps. "
      "t/s: median of the runs' means; ratios: median over rounds (lowest-highest), on against the mean of the round's two runs")
print()
print("| model | test | on t/s | --no-repack t/s | on/--no-repack | A/A |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
def cell(rs):
    return "-" if not rs else f"{100*statistics.median(rs):.1f}% ({100*min(rs):.0f}-{100*max(rs):.0f})"
for (m, t) in keys:
    on = [(runs[(m, t, "extra", r)] + runs[(m, t, "extra2", r)]) / 2 for r in rounds
          if (m, t, "extra", r) in runs and (m, t, "extra2", r) in runs]
    off = [runs[(m, t, "plain", r)] for r in rounds if (m, t, "plain", r) in runs]
    ratio = [a / b for a, b in zip(on, off) if b]
    aa = [runs[(m, t, "extra2", r)] / runs[(m, t, "extra", r)] for r in rounds
          if (m, t, "extra", r) in runs and (m, t, "extra2", r) in runs]
    print(f"| {m} | {t} | {statistics.median(on):.2f} | {statistics.median(off):.2f} | {cell(ratio)} | {cell(aa)} |")
PY
rm -f "$results"
