#!/usr/bin/env bash
# linux-arm64, cross-built on x86-64 and run under qemu-user with Debian's arm64 JDK.
#
#   ci/cross-arm64.sh          # builds, checks, prints a report (recorded in docs/results/platforms.md); exit 0 = all passed
#
# 1. cross-compiles llama.cpp and the shim (cmake/toolchains/linux-arm64.cmake, its own build key in the
#    native build cache), the JavaCPP JNI library (aarch64-linux-gnu-g++), and packages
#    llama-java-native-VERSION-linux-arm64.jar, the arm64 llama-java jar and an arm64 CLI jar, through
#    Maven in a clone of HEAD (CROSS_DIR, default /tmp/llama-java-arm64), so this tree is left alone;
# 2. checks the native jar's contents (NativeJarContentsTest, on the host JVM);
# 3. under qemu-aarch64 with the arm64 JRE: the CLI's greedy `generate` on stories260K equals the x86-64
#    CLI's text (and llama-simple's, both architectures), then a subset of the test suite through JUnit's
#    console launcher: GenerationOracleTest (against the arm64 llama-simple, also under qemu),
#    TokenizerVectorsTest and BadInputTest.
#
# Needs (Debian 12): apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user-static, and
# `dpkg --add-architecture arm64 && apt-get update` so that `apt-get download` can fetch the arm64 JRE
# and its libraries; they are unpacked under ~/.cache/llama-java-cross/arm64-root, not installed. The
# x86-64 reference is this checkout's CLI jar (samples/target/llama-java.jar) if built, else its
# llama-simple's continuation (GenerationOracleTest holds the two equal on x86-64).
# ALL_VARIANTS=1 builds ggml's arm64 CPU variants (armv8.0 ... armv9.2, picked at run time) instead of
# one armv8-a baseline build.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
work=${CROSS_DIR:-/tmp/llama-java-arm64}
models=$(cd "${MODELS:-$src/../shared/models}" 2>/dev/null && pwd) || { echo "cross-arm64: no ../shared/models" >&2; exit 1; }
cross=${LLAMA_JAVA_CROSS_CACHE:-$HOME/.cache/llama-java-cross}
root=$cross/arm64-root
jdk=$root/usr/lib/jvm/java-17-openjdk-arm64
console=$cross/junit-platform-console-standalone-1.11.4.jar
x86_cli=${X86_CLI:-$src/samples/target/llama-java.jar}
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
failures=0
pass() { echo "PASS: $*"; }
failed() { echo "FAIL: $*"; failures=$((failures + 1)); }

for t in aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ cmake java git; do
  command -v "$t" >/dev/null || { echo "cross-arm64: $t is missing (apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu)" >&2; exit 1; }
done
[ -n "$qemu" ] || { echo "cross-arm64: qemu-aarch64 is missing (apt-get install qemu-user-static)" >&2; exit 1; }
[ -x "$src/native/target/llama/bin/llama-simple" ] || { echo "cross-arm64: build this checkout first (native/target/llama)" >&2; exit 1; }

# ---- the arm64 JRE (Debian's, unpacked) and JUnit's console launcher ------------------------------
if [ ! -x "$jdk/bin/java" ]; then
  mkdir -p "$cross/debs-arm64" "$root"
  (cd "$cross/debs-arm64" && apt-get download openjdk-17-jre-headless:arm64 libc6:arm64 libgcc-s1:arm64 \
      libstdc++6:arm64 zlib1g:arm64) || { echo "cross-arm64: apt-get download failed; dpkg --add-architecture arm64 && apt-get update" >&2; exit 1; }
  for d in "$cross"/debs-arm64/*.deb; do dpkg-deb -x "$d" "$root"; done
fi
if [ ! -f "$console" ]; then
  ./mvnw -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 \
      -DoutputDirectory="$cross" || exit 1
fi
# VFORK: the default launch mechanism execs the arm64 jspawnhelper, which the host kernel cannot run
qjava() { "$qemu" -L "$root" "$jdk/bin/java" -XX:+UseSerialGC -Djdk.lang.Process.launchMechanism=VFORK "$@"; }
echo "== arm64 JVM under $(basename "$qemu"): $(qjava -version 2>&1 | sed -n 2p)"

# ---- 1. cross build in a clone --------------------------------------------------------------------
rm -rf "$work" && git clone -q "$src" "$work" || exit 1
cd "$work"
if [ "${ALL_VARIANTS:-0}" = 1 ]; then cpu=(-Dllama.cpu.all.variants=ON); else cpu=(-Dllama.extra.args=-DGGML_NATIVE=OFF); fi
start=$(date +%s)
nice -n 10 ./mvnw -B -o package dependency:build-classpath -pl native,java-api/core,java-api/server,samples/demos,samples/cli -DskipTests \
    -Djavacpp.platform=linux-arm64 -Djavacpp.compiler=aarch64-linux-gnu-g++ \
    -Dllama.toolchain.file="$work/cmake/toolchains/linux-arm64.cmake" "${cpu[@]}" \
    '-Dllama.targets=llama;ggml;common;llama-common;mtmd;llama-simple' -Dllama.shim.tools=OFF \
    -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=test > cross-build.log 2>&1
rc=$?
echo "== cross build: exit $rc, $(( $(date +%s) - start )) s (log $work/cross-build.log)"
[ $rc = 0 ] || { tail -n 40 cross-build.log; exit 1; }
out=$work/native/target/llama
echo "== artifacts"
ls -l native/target/*.jar java-api/core/target/llama-java-*.jar samples/target/llama-java.jar | awk '{print $5, $9}'
echo "== ELF: $(file -b "$out/lib/libllama.so" | cut -d, -f1-2); JNI: $(file -b java-api/core/target/classes/org/llamajava/bindings/linux-arm64/libjnillama.so | cut -d, -f1-2)"

# ---- 2. the native jar's contents -------------------------------------------------------------------
core_cp="java-api/core/target/test-classes:java-api/core/target/classes:$(cat java-api/core/target/classpath.txt)"
if java -Dllama.native.jars="$work/native/target" -jar "$console" execute -cp "$core_cp" \
     --select-method org.llamajava.release.NativeJarContentsTest#everyNativeJarInAFolderIsComplete \
     --details=none --disable-banner > jar-check.log 2>&1; then
  pass "llama-java-native-*-linux-arm64.jar holds the libraries and the licence notices"
else
  cat jar-check.log; failed "native jar contents"
fi

# ---- 3. under qemu --------------------------------------------------------------------------------
prompt="Once upon a time"
gen() { "$@" generate -m "$models/stories260K.gguf" -p "$prompt" -n 32 --temp 0 -t 2 2>/dev/null; }
x86_simple=$(LD_LIBRARY_PATH=$src/native/target/llama/lib "$src/native/target/llama/bin/llama-simple" -m "$models/stories260K.gguf" -n 32 "$prompt" 2>/dev/null)
if [ -f "$x86_cli" ]; then
  x86_text=$(gen java -jar "$x86_cli"); x86_from="the x86-64 CLI"
else # llama-simple prints "<s> PROMPT" and then the continuation
  x86_text=${x86_simple#"<s> $prompt"}; x86_from="x86-64 llama-simple's continuation"
fi
start=$(date +%s)
arm_text=$(gen qjava -jar samples/target/llama-java.jar)
echo "== CLI generate under qemu ($(( $(date +%s) - start )) s): $arm_text"
echo "   $x86_from: $x86_text"
if [ -n "$arm_text" ] && [ "$(echo "$arm_text" | sed 's/[[:space:]]*$//')" = "$(echo "$x86_text" | sed 's/[[:space:]]*$//')" ]; then
  pass "arm64 greedy text equals x86-64's"; else failed "arm64 text differs from x86-64's"; fi
arm_simple=$("$qemu" -L "$root" -E LD_LIBRARY_PATH="$out/lib" "$out/bin/llama-simple" -m "$models/stories260K.gguf" -n 32 "$prompt" 2>/dev/null)
if [ -n "$arm_simple" ] && [ "$arm_simple" = "$x86_simple" ]; then pass "arm64 llama-simple equals x86-64 llama-simple"; else
  failed "llama-simple differs: arm64 '$arm_simple' x86-64 '$x86_simple'"; fi

# the tests run llama-simple as a subprocess: an arm64 binary, so through qemu (no binfmt_misc needed)
qout=$work/qemu-out
mkdir -p "$qout/bin" && ln -sfn "$out/lib" "$qout/lib"
cp "$out/llama-build.properties" "$qout/"
printf '#!/bin/sh\nexec %s -L %s %s "$@"\n' "$qemu" "$root" "$out/bin/llama-simple" > "$qout/bin/llama-simple"
chmod +x "$qout/bin/llama-simple"
start=$(date +%s)
qjava -Dllama.build.properties="$qout/llama-build.properties" -Dllama.models.dir="$models" -Dllama.require.shared=true \
    -Djava.util.logging.config.file=java-api/core/src/test/resources/logging.properties \
    -jar "$console" execute -cp "$core_cp" \
    --select-class org.llamajava.GenerationOracleTest --select-class org.llamajava.TokenizerVectorsTest \
    --select-class org.llamajava.BadInputTest --select-class org.llamajava.CpuVariantTest \
    --details=summary --disable-banner > qemu-tests.log 2>&1
rc=$?
echo "== test subset under qemu: exit $rc, $(( $(date +%s) - start )) s (log $work/qemu-tests.log)"
grep -E "tests (successful|failed|skipped|found)|containers failed" qemu-tests.log | sed 's/^/   /'
if [ $rc = 0 ]; then pass "GenerationOracleTest, TokenizerVectorsTest, BadInputTest, CpuVariantTest on arm64"; else
  grep -E "MethodSource|=> " qemu-tests.log | head -n 20; failed "tests under qemu"; fi

echo "== cross-arm64: $failures failure(s)"
[ $failures = 0 ]
