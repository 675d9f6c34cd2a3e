#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU and the CUDA toolkit but no Maven and no network (the
# device machines this project is lent): ci/gpu-check.sh does the same with Maven.
#
# It builds llama.cpp's CUDA variant (all CPU variants too, loaded at run time) from a llama.cpp
# source folder with cmake/llama.cmake, puts those libraries into a copy of a llama-java CLI jar
# built elsewhere (the JNI glue is the jar's own: it is compiled against the same headers), and
# then, each against llama.cpp's own tools from the same build:
#   1. lists the devices the Java API sees;
#   2. greedy generation with every layer on the GPU equals llama-simple's (also on the GPU), and
#      equals llama-java's own on the CPU (-ngl 0);
#   3. runs the two-turn chat sample and a short soak (model and context cycles) on the GPU;
#   4. ci/bench.sh on the GPU (-ngl 99), then on the CPU (-ngl 0) with THREADS threads.
# Writes the report to $REPORT (default docs/results/gpu-results.md) and prints it.
#
#   LLAMA_CPP_DIR=/path/to/llama.cpp JAR=llama-java.jar JAVA=/path/to/bin/java \
#   MODELS_DIR=/path/with/stories260K.gguf+llama-2-tiny-random.gguf ci/gpu-prebuilt.sh [PHASE...]
#
# Phases, in this order by default: build (llama.cpp and the jar), check (1-3), gpu-bench, cpu-bench.
# Each later phase needs the build phase's output in WORK; the report is started by check and
# appended to by the others.
#
# Environment: CUDA_ARCHS (default native), WORK (build folder, default /tmp/llama-java-gpu),
# ROUNDS and REPS (bench, default 3 and 3), THREADS (CPU bench threads, default 2), BENCH_1B (1:
# also the 1B shape; default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
phases=" ${*:-build check gpu-bench cpu-bench} "
has() { [[ "$phases" == *" $1 "* ]]; }
: "${LLAMA_CPP_DIR:?set LLAMA_CPP_DIR to a llama.cpp source folder}"
jar=${JAR:-samples/target/llama-java.jar}
java=${JAVA:-java}
models=${MODELS_DIR:-../shared/models}
work=${WORK:-/tmp/llama-java-gpu}
out=$work/llama
gjar=$work/llama-java-gpu.jar
report=${REPORT:-docs/results/gpu-results.md}
export LD_LIBRARY_PATH="$out/lib${CUDA_HOME:+:$CUDA_HOME/lib64}:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

mkdir -p "$work"
if has build; then
  start=$(date +%s)
  cmake -DBACKEND=cuda "-DCUDA_ARCHS=${CUDA_ARCHS:-native}" "-DLLAMA_CPP_DIR=$LLAMA_CPP_DIR" \
        "-DOUT_DIR=$out" "-DCACHE_DIR=$work/cache" -P cmake/llama.cmake > "$work.build.log" 2>&1 \
    || { tail -n 40 "$work.build.log"; exit 1; }
  echo "gpu-prebuilt: llama.cpp CUDA build took $(( $(date +%s) - start )) s" | tee "$work.build-time"
  # The jar's natives, replaced by this build's (the JNI library libjnillama.so stays).
  python3 - "$jar" "$out/lib" "$gjar" <<'PY'
import os, sys, zipfile
src, lib, dst = sys.argv[1:]
prefix = "org/llamajava/bindings/linux-x86_64/"
new = sorted(f for f in os.listdir(lib) if f.endswith(".so") or f == "ggml-backends.txt")
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        name = item.filename
        base = name[len(prefix):] if name.startswith(prefix) else None
        if base and "/" not in base and not base.startswith("libjni") and (base.endswith(".so") or base.endswith(".txt")):
            continue
        zout.writestr(item, zin.read(name))
    for f in new:
        zout.write(os.path.join(lib, f), prefix + f)
print("gpu-prebuilt: " + dst + " holds " + ", ".join(new))
PY
fi
[ -f "$gjar" ] || { echo "gpu-prebuilt: run the build phase first" >&2; exit 1; }
stories=$models/stories260K.gguf
prompt="Once upon a time"
fail=0
if has check; then
{
  echo "# GPU check (ci/gpu-prebuilt.sh), $(date -u +%F)"
  echo
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/device: /'
  nvcc --version | tail -n 1 | sed 's/^/toolkit: /'
  echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cpus"
  echo "JVM: $("$java" -version 2>&1 | head -n 1)"
  cat "$work.build-time" 2>/dev/null || true
  echo
  echo "## Devices seen through the Java API"
  echo
  "$java" -cp "$gjar" org.llamajava.samples.Devices
} > "$report"

check() { # name, then the command; records pass/fail in the report
  local name=$1; shift
  if "$@" > "$work/check.log" 2>&1; then echo "- $name: pass" >> "$report"
  else echo "- $name: FAIL" >> "$report"; sed 's/^/      /' "$work/check.log" | tail -n 20 >> "$report"; fail=1; fi
}
oracle() { # greedy: llama-java on the GPU = llama-simple on the GPU = llama-java on the CPU
  local n=$1 simple gpu cpu
  simple=$("$out/bin/llama-simple" -m "$stories" -n "$n" "$prompt" 2>/dev/null)
  gpu=$("$java" -jar "$gjar" generate -m "$stories" -p "$prompt" -n "$n" --temp 0 -ngl 99)
  cpu=$("$java" -jar "$gjar" generate -m "$stories" -p "$prompt" -n "$n" --temp 0 -ngl 0)
  echo "llama-simple: $simple"; echo "GPU: $gpu"; echo "CPU: $cpu"
  [[ "$simple" == "<s>"*"$prompt$gpu" ]] && [ "$gpu" = "$cpu" ] && [ -n "$gpu" ]
}
{ echo; echo "## Checks with every layer on the GPU"; echo; } >> "$report"
for n in 16 64 256; do check "greedy $n tokens: llama-java (GPU) = llama-simple (GPU) = llama-java (CPU)" oracle "$n"; done
check "two-turn chat sample" "$java" -cp "$gjar" org.llamajava.samples.TwoTurnChat "$stories"
check "soak: 100 model and 1,000 context cycles, RSS growth < 5%" \
  "$java" -Xms64m -Xmx64m -XX:+AlwaysPreTouch -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -cp "$gjar" org.llamajava.samples.Soak --model "$stories" --models 100 --contexts 1000
fi

export LLAMA_OUT=$out JAR=$gjar JAVA=$java MODELS_DIR=$models KHERUD=0 BENCH_1B=${BENCH_1B:-1}
export ROUNDS=${ROUNDS:-3} REPS=${REPS:-3} BENCH_MODELS=$work/models
if has gpu-bench; then
  { echo; echo "## Benchmark on the GPU (-ngl 99, -t ${THREADS:-2})"; echo; NGL=99 ci/bench.sh; } >> "$report"
fi
if has cpu-bench; then
  { echo; echo "## Benchmark on the CPU (-ngl 0, -t ${THREADS:-2}), same build"; echo; NGL=0 ci/bench.sh; } >> "$report"
fi
[ -f "$report" ] && cat "$report"
exit $fail
