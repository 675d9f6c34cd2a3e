#!/usr/bin/env bash
# The release build (-Prelease: portable CPU natives with GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS,
# sources, javadoc, SBOM) in a clone of HEAD (RELEASE_DIR, default /tmp/llama-java-release), checked
# against this checkout's host-native build:
#   - the release CLI's greedy `generate` on stories260K equals the host-native CLI's text;
#   - Llama.systemInfo() names the CPU variant ggml chose (CpuVariantTest), the native jar holds its
#     variants and licences (NativeJarContentsTest), generation equals llama-simple's (GenerationOracleTest);
#   - every module has its sources and javadoc jars and an SBOM.
#
#   ci/release-check.sh        # exit 0 = all passed; the report is recorded in docs/results/platforms.md
#
# The full llama.cpp build of 14 x86-64 CPU variants takes long (about an hour on 2 loaded cores);
# it is cached under its own key. Build this checkout first (samples/target/llama-java.jar).
# The build runs online: CycloneDX's makeBom skips itself offline (no SBOM); the tests run offline.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
work=${RELEASE_DIR:-/tmp/llama-java-release}
models=$(cd "${MODELS:-$src/../shared/models}" 2>/dev/null && pwd) || { echo "release-check: no ../shared/models" >&2; exit 1; }
host_cli=${HOST_CLI:-$src/samples/target/llama-java.jar}
[ -f "$host_cli" ] || { echo "release-check: no host-native CLI jar at $host_cli" >&2; exit 1; }
failures=0
pass() { echo "PASS: $*"; }
failed() { echo "FAIL: $*"; failures=$((failures + 1)); }
# llama.cpp targets: the libraries the JNI library links (mtmd too) and llama-simple (GenerationOracleTest's oracle)
targets='-Dllama.targets=llama;ggml;common;llama-common;mtmd;llama-simple'

rm -rf "$work" && git clone -q "$src" "$work" || exit 1
cd "$work"
start=$(date +%s)
nice -n 10 ./mvnw -B -Prelease package -DskipTests "$targets" > release-build.log 2>&1
rc=$?
echo "== -Prelease package: exit $rc, $(( $(date +%s) - start )) s (log $work/release-build.log)"
[ $rc = 0 ] || { grep -E "ERROR|BUILD" release-build.log | head -n 30; exit 1; }
echo "== artifacts (bytes)"
ls -l native/target/*.jar java-api/*/target/*.jar samples/target/llama-java.jar | awk '{print $5, $9}'
echo "== CPU variants in the native jar"
unzip -l native/target/llama-java-native-*-linux-x86_64.jar | grep -o 'libggml-cpu-[a-z0-9_]*\.so' | tr '\n' ' '; echo
for m in native java-api/core java-api/server java-api/micrometer java-api/opentelemetry java-api/langchain4j java-api/spring-ai java-api/spring-ai-starter java-api/spark samples/cli; do
  ls "$m"/target/*-sources.jar "$m"/target/*-javadoc.jar "$m"/target/bom.json >/dev/null 2>&1 \
    && pass "$m: sources, javadoc, SBOM" || failed "$m lacks sources, javadoc or SBOM: $(ls "$m"/target)"
done

prompt="Once upon a time"
# both CLI jars are named llama-java.jar, and JavaCPP's cache folder is named after the jar: each its own,
# or the release run finds the host-native libggml-cpu.so left there and registers a second CPU backend
jcache=$work/javacpp-cache
gen() { java -Dorg.bytedeco.javacpp.cachedir="$jcache/$2" -jar "$1" generate -m "$models/stories260K.gguf" -p "$prompt" -n 32 --temp 0 -t 2 2>/dev/null; }
rm -rf "$jcache"
host_text=$(gen "$host_cli" host)
release_text=$(gen samples/target/llama-java.jar release)
echo "== host-native: $host_text"
echo "   release:     $release_text"
if [ -n "$release_text" ] && [ "$release_text" = "$host_text" ]; then pass "the release jar generates the host-native text"; else failed "texts differ"; fi

start=$(date +%s)
nice -n 10 ./mvnw -B -o -Prelease verify -pl native,java-api/core "$targets" -Dllama.require.shared=true \
    -Dshared.models.dir="$models" \
    -Dtest='CpuVariantTest,NativeJarContentsTest,PlatformArtifactTest,GenerationOracleTest,RpcTest' -Dsurefire.failIfNoSpecifiedTests=false \
    -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -Dcyclonedx.skip=true > release-tests.log 2>&1
rc=$?
echo "== tests against the release natives: exit $rc, $(( $(date +%s) - start )) s (log $work/release-tests.log)"
grep -E "Tests run:.*Fail" release-tests.log | tail -n 6 | sed 's/^/   /'
[ $rc = 0 ] && pass "CpuVariantTest, NativeJarContentsTest, PlatformArtifactTest, GenerationOracleTest, RpcTest" || failed "tests"
cat > SysInfo.java <<'JAVA'
public class SysInfo { public static void main(String[] a) {
    System.out.println(org.llamajava.Llama.backendNames() + " " + org.llamajava.Llama.systemInfo()); } }
JAVA
sysinfo() { java -Dorg.bytedeco.javacpp.cachedir="$jcache/$2" -cp "$1" SysInfo.java 2>/dev/null; }
release_info=$(sysinfo samples/target/llama-java.jar release)
echo "== Llama.backendNames() and systemInfo() (release): $release_info"
echo "   (host-native): $(sysinfo "$host_cli" host)"
# one CPU backend (the variant ggml chose, named at the end) and the RPC backend, loaded from the jar
case "$release_info" in
  "[RPC, CPU] CPU : "*"CPU_VARIANT = "*) pass "the release natives register RPC and one CPU variant, and name it";;
  *) failed "backends or CPU variant: $release_info";;
esac
echo "== release-check: $failures failure(s)"
[ $failures = 0 ]
