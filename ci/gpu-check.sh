#!/usr/bin/env bash
# GPU check, for a machine with a GPU. Two legs, each: build llama-java for the backend, run the tests on the
# GPU (parity with llama.cpp's own tools from the same build), and benchmark llama-java against native
# llama-bench from the same build with every layer offloaded; llama-java must reach 0.97x native on every row.
#
#   cuda:   an NVIDIA GPU and a CUDA toolkit (with cuBLAS): the CUDA variant (-Dllama.backend=cuda), the whole
#           test suite with every layer offloaded (ModelParams' default)
#   vulkan: a Vulkan driver (the GPU vendor's, or Mesa's: apt-get install libvulkan1 mesa-vulkan-drivers): the
#           linux-x86_64-vulkan natives (-Dllama.backend=vulkan) and the Vulkan tests (ci/vulkan.sh: greedy text
#           equals llama-simple -ngl 99, partial offload, embeddings, 4 sequences) on Vulkan device
#           $GGML_VK_VISIBLE_DEVICES (default 0)
#
# Writes its report to $REPORT (default docs/results/gpu-results.md: device, date, tables).
#
#   CUDA_ARCHS=90 ci/gpu-check.sh                 # both legs (the Vulkan one where vulkaninfo finds a device)
#   GPU_CHECK_LEGS=vulkan ci/gpu-check.sh         # one leg
#   GPU_CHECK_SMOKE=1 GPU_CHECK_LEGS=vulkan REPORT=/tmp/smoke.md ci/gpu-check.sh
#       # a smoke run of the script itself (on Mesa's software Vulkan, lavapipe, in CI's machine): the Vulkan
#       # leg with stories260K only, one round, small pp/tg; its ratio is reported, not enforced
set -euo pipefail
cd "$(dirname "$0")/.."
archs=${CUDA_ARCHS:-native}
report=${REPORT:-docs/results/gpu-results.md}
smoke=${GPU_CHECK_SMOKE:-0}
export GGML_VK_VISIBLE_DEVICES=${GGML_VK_VISIBLE_DEVICES:-0}
if [ -n "${GPU_CHECK_LEGS:-}" ]; then
  legs=$GPU_CHECK_LEGS
else
  legs=""
  command -v nvidia-smi >/dev/null && legs="cuda"
  vulkaninfo --summary >/dev/null 2>&1 && legs="$legs vulkan"
fi
[ -n "${legs// /}" ] || { echo "gpu-check: no GPU leg to run (no nvidia-smi, no Vulkan device)" >&2; exit 1; }
rc=0

# bench_gate FILE: every llama-java/native ratio in ci/bench.sh's table must be >= 97%; prints the verdict
bench_gate() {
  python3 - "$1" <<'PY'
import sys
rows = [l.strip().strip("|").split("|") for l in open(sys.argv[1]) if l.startswith("| ")]
if not rows:
    print("ratio gate: no benchmark rows"); sys.exit(1)
head = [c.strip() for c in rows[0]]
col = head.index("llama-java/native")
bad = []
for r in rows[2:]:
    cell = r[col].strip()
    if not cell.endswith(")") and not cell.endswith("%"):
        bad.append(f"{r[0].strip()} {r[1].strip()}: no ratio"); continue
    v = float(cell.split("%")[0])
    if v < 97.0:
        bad.append(f"{r[0].strip()} {r[1].strip()}: {v:.1f}%")
print("ratio gate (llama-java/native >= 97%): " + ("PASS" if not bad else "FAIL: " + ", ".join(bad)))
sys.exit(1 if bad else 0)
PY
}

{
  echo "# GPU check, $(date -u +%F)$([ "$smoke" = 1 ] && echo " (smoke run: tiny settings, figures say nothing of speed)")"
  echo
  echo "legs: $legs"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/device: /'
  fi
  if command -v nvcc >/dev/null; then nvcc --version | tail -n 1 | sed 's/^/toolkit: /'; fi
  if vulkaninfo --summary >/dev/null 2>&1; then
    vulkaninfo --summary 2>/dev/null | grep -E '^\s*(deviceName|driverName|driverInfo)' | sed 's/^\s*/vulkan: /'
  fi
  echo
} > "$report"

for leg in $legs; do
  case $leg in
    cuda)
      ./mvnw -q -B install -DskipTests -Dllama.backend=cuda -Dllama.cuda.archs="$archs"
      { echo "## CUDA"; echo; java -cp samples/target/llama-java.jar org.llamajava.samples.Devices; } >> "$report"
      set +e
      ./mvnw -B verify -Dllama.backend=cuda -Dllama.cuda.archs="$archs" > /tmp/gpu-verify.log 2>&1
      t=$?
      set -e
      [ $t = 0 ] || rc=$t
      { echo; echo "### Tests with full offload (exit $t)"; echo; grep -E "Tests run:|FAIL" /tmp/gpu-verify.log | tail -n 20 | sed 's/^/    /'; } >> "$report"
      bench=/tmp/gpu-bench-cuda.md
      BENCH_1B=1 ROUNDS=${ROUNDS:-3} ci/bench.sh > "$bench"
      ;;
    vulkan)
      # the Vulkan tests (and the natives they need), as CI runs them on lavapipe
      set +e
      VULKAN_BACKEND=vulkan VULKAN_NO_INSTALL=1 ci/vulkan.sh > /tmp/gpu-verify-vulkan.log 2>&1
      t=$?
      set -e
      [ $t = 0 ] || rc=$t
      # the CLI with the Vulkan natives, for the benchmark
      ./mvnw -q -B -o install -DskipTests -Dllama.backend=vulkan -pl samples/cli -am 2>/dev/null \
        || ./mvnw -q -B install -DskipTests -Dllama.backend=vulkan -pl samples/cli -am
      { echo "## Vulkan (device $GGML_VK_VISIBLE_DEVICES)"; echo; java -cp samples/target/llama-java.jar org.llamajava.samples.Devices; } >> "$report"
      { echo; echo "### Vulkan tests, every layer on the device (exit $t)"; echo; grep -E "Tests run:|FAIL" /tmp/gpu-verify-vulkan.log | tail -n 20 | sed 's/^/    /'; } >> "$report"
      bench=/tmp/gpu-bench-vulkan.md
      if [ "$smoke" = 1 ]; then
        BENCH_SMALL=1 KHERUD=0 AA=0 NGL=99 ROUNDS=1 REPS=${REPS:-2} PP=${PP:-32} TG=${TG:-16} ci/bench.sh > "$bench"
      else
        KHERUD=0 NGL=99 ROUNDS=${ROUNDS:-3} ci/bench.sh > "$bench"
      fi
      ;;
    *) echo "gpu-check: unknown leg '$leg' (cuda or vulkan)" >&2; exit 2 ;;
  esac
  { echo; echo "### Benchmark ($leg)"; echo; cat "$bench"; echo; } >> "$report"
  set +e
  gate=$(bench_gate "$bench")
  g=$?
  set -e
  echo "$gate" >> "$report"
  if [ $g != 0 ] && [ "$smoke" != 1 ]; then rc=1; fi
done
cat "$report"
exit $rc
