#!/usr/bin/env bash
# The Vulkan tests (issue #27): builds the linux-x86_64-gpu natives (the cached CPU build plus llama.cpp's
# Vulkan and CUDA backends prebuilt for the pinned release, cmake/prebuilt-backends.cmake) and runs the core's Vulkan
# tests (tag "vulkan", the vulkan-tests profile) on the first Vulkan device: in CI, Mesa's software Vulkan
# (lavapipe), installed here from Debian when missing. ci/test.sh runs it last (it leaves the Vulkan
# natives in native/target). docs/gpu.md has the details.
#
#   ci/vulkan.sh                 # install what is missing (apt-get), build, test
#   VULKAN_BACKEND=vulkan ci/vulkan.sh # the linux-x86_64-vulkan natives instead of linux-x86_64-gpu
#   VULKAN_NO_INSTALL=1 ci/vulkan.sh   # never call apt-get (fails with what to install)
#   VULKAN_SETUP_ONLY=1 ci/vulkan.sh   # steps 1 and 2 only: install what is missing, show the device
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. The Vulkan loader, Mesa's drivers (lavapipe among them) and vulkaninfo, from Debian's archive
need=()
ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || need+=(mesa-vulkan-drivers)
# (no "| grep -q" under pipefail: grep's early exit would fail ldconfig with SIGPIPE)
case "$(ldconfig -p 2>/dev/null)" in *'libvulkan.so.1 '*) ;; *) need+=(libvulkan1) ;; esac
command -v vulkaninfo >/dev/null || need+=(vulkan-tools)
command -v nm >/dev/null || need+=(binutils) # the ABI test reads the libraries' symbols
if [ ${#need[@]} -gt 0 ]; then
  if [ -n "${VULKAN_NO_INSTALL:-}" ]; then
    echo "ci: Vulkan tests need these Debian packages: ${need[*]} (apt-get install -y ${need[*]})" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "ci: installing ${need[*]} (apt-get)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. The device: ggml skips CPU-type Vulkan devices (lavapipe) unless GGML_VK_VISIBLE_DEVICES names them
if ! vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|deviceType' ; then
  echo "ci: vulkaninfo finds no Vulkan device" >&2
  exit 1
fi

[ -z "${VULKAN_SETUP_ONLY:-}" ] || exit 0

# 3. Build the natives (no llama.cpp compile when the CPU build is cached) and run the Vulkan tests. By default
# the linux-x86_64-gpu natives of -Dllama.backend=gpu: the linux-x86_64-vulkan ones (the same CPU build and
# Vulkan backend) plus the prebuilt CUDA backend, so that the same run also shows the run-time choice
# (GpuArtifactTest: CUDA skipped without its runtime, Vulkan chosen, the CPU without a Vulkan driver).
# VULKAN_BACKEND=vulkan builds and tests the linux-x86_64-vulkan natives instead (ci/gpu-check.sh does).
backend=${VULKAN_BACKEND:-gpu}
start=$(date +%s)
./mvnw -B verify -Dllama.backend="$backend" -pl native,java-api/core
echo "ci: $backend natives built and their Vulkan tests passed in $(( $(date +%s) - start )) s"
