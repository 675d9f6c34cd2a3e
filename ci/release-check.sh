#!/usr/bin/env bash
# The release build (-Prelease: portable CPU natives with GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS,
# sources, javadoc, SBOM) in a clone of HEAD (RELEASE_DIR, default /tmp/llama-java-release), checked
# against this checkout's host-native build:
#   - the release CLI's greedy `generate` on stories260K equals the host-native CLI's text;
#   - Llama.systemInfo() names the CPU variant ggml chose (CpuVariantTest), the native jar holds its
#     variants and licences (NativeJarContentsTest), generation equals llama-simple's (GenerationOracleTest);
#   - every module has its sources and javadoc jars and an SBOM.
#
#   ci/release-check.sh        # exit 0 = all passed; the report is recorded in ci/platforms.md
#
# The full llama.cpp build of 14 x86-64 CPU variants takes long (about an hour on 2 loaded cores);
# it is cached under its own key. Build this checkout first (samples/target/llama-java.jar).
# Maven runs offline (-o: the dependencies are those this checkout's build already fetched); MVN_ONLINE=1
# lets the first build download them.
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
offline=-o; [ "${MVN_ONLINE:-0}" = 1 ] && offline=
nice -n 10 ./mvnw -B $offline -Prelease package -DskipTests "$targets" > release-build.log 2>&1
rc=$?
echo "== -Prelease package: exit $rc, $(( $(date +%s) - start )) s (log $work/release-build.log)"
[ $rc = 0 ] || { grep -E "ERROR|BUILD" release-build.log | head -n 30; exit 1; }
echo "== artifacts (bytes)"
ls -l native/target/*.jar java-api/*/target/*.jar samples/target/llama-java.jar | awk '{print $5, $9}'
echo "== CPU variants in the native jar"
unzip -l native/target/llama-java-native-*-linux-x86_64.jar | grep -o 'libggml-cpu-[a-z0-9_]*\.so' | tr '\n' ' '; echo
for m in native java-api/core java-api/server java-api/langchain4j samples; do
  ls "$m"/target/*-sources.jar "$m"/target/*-javadoc.jar "$m"/target/bom.json >/dev/null 2>&1 \
    && pass "$m: sources, javadoc, SBOM" || failed "$m lacks sources, javadoc or SBOM: $(ls "$m"/target)"
done

prompt="Once upon a time"
gen() { java -jar "$1" generate -m "$models/stories260K.gguf" -p "$prompt" -n 32 --temp 0 -t 2 2>/dev/null; }
host_text=$(gen "$host_cli")
release_text=$(gen samples/target/llama-java.jar)
echo "== host-native: $host_text"
echo "   release:     $release_text"
if [ -n "$release_text" ] && [ "$release_text" = "$host_text" ]; then pass "the release jar generates the host-native text"; else failed "texts differ"; fi

start=$(date +%s)
nice -n 10 ./mvnw -B -o -Prelease verify -pl native,java-api/core "$targets" -Dllama.require.shared=true \
    -Dtest='CpuVariantTest,NativeJarContentsTest,PlatformArtifactTest,GenerationOracleTest' -Dsurefire.failIfNoSpecifiedTests=false \
    -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -Dcyclonedx.skip=true > release-tests.log 2>&1
rc=$?
echo "== tests against the release natives: exit $rc, $(( $(date +%s) - start )) s (log $work/release-tests.log)"
grep -E "Tests run:.*Fail" release-tests.log | tail -n 6 | sed 's/^/   /'
[ $rc = 0 ] && pass "CpuVariantTest, NativeJarContentsTest, PlatformArtifactTest, GenerationOracleTest" || failed "tests"
cat > SysInfo.java <<'JAVA'
public class SysInfo { public static void main(String[] a) { System.out.println(org.llamajava.Llama.systemInfo()); } }
JAVA
echo "== Llama.systemInfo() (release): $(java -cp samples/target/llama-java.jar SysInfo.java 2>/dev/null)"
echo "   Llama.systemInfo() (host-native): $(java -cp "$host_cli" SysInfo.java 2>/dev/null)"
echo "== release-check: $failures failure(s)"
[ $failures = 0 ]
