#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU and a CUDA toolkit (with cuBLAS): builds the CUDA
# variant, runs the test suite with every layer offloaded (ModelParams' default), and benchmarks
# llama-java against native llama-bench's CUDA build from the same source. Writes its report to
# docs/results/gpu-results.md (device, date, tables).
#
#   CUDA_ARCHS=90 ci/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
archs=${CUDA_ARCHS:-native}
report=docs/results/gpu-results.md
{
  echo "# GPU check, $(date -u +%F)"
  echo
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/device: /'
  nvcc --version | tail -n 1 | sed 's/^/toolkit: /'
  echo
} > "$report"
./mvnw -q -B install -DskipTests -Dllama.backend=cuda -Dllama.cuda.archs="$archs"
java -cp samples/target/llama-java.jar org.llamajava.samples.Devices >> "$report"
set +e
./mvnw -B verify -Dllama.backend=cuda -Dllama.cuda.archs="$archs" > /tmp/gpu-verify.log 2>&1
rc=$?
set -e
{ echo; echo "## Tests with full offload (exit $rc)"; echo; grep -E "Tests run:|FAIL" /tmp/gpu-verify.log | tail -n 20 | sed 's/^/    /'; } >> "$report"
{ echo; echo "## Benchmark"; echo; BENCH_1B=1 ROUNDS=${ROUNDS:-3} ci/bench.sh; } >> "$report"
cat "$report"
exit $rc
