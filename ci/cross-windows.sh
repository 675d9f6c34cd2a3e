#!/usr/bin/env bash
# windows-x86_64, cross-built with MinGW-w64 and run under Wine: proves llama.cpp's DLLs, and builds the
# JNI library and the native jar as far as a Linux machine without a Windows JVM can.
#
#   ci/cross-windows.sh        # builds, runs, prints PASS/FAIL lines (recorded in docs/results/platforms.md); exit 0 = all passed
#
# 1. builds llama.cpp (libllama, libllama-common, libmtmd, libggml*, llama-simple.exe) and the shim
#    (libllamajava.dll; SHIM_OPTIONAL: left out if it fails) from the pinned source with
#    cmake/toolchains/windows-x86_64-mingw.cmake (its own key in the native build cache). The GNU C++
#    runtime (libstdc++-6, libgcc_s_seh-1, libwinpthread-1) is linked dynamically and published beside
#    the DLLs. C files compile with _WIN32_WINNT=0x0601 (Windows 7 API level): Debian 12's MinGW-w64 headers
#    lack Windows 8's thread power-throttling API, which ggml-cpu.c uses (only to keep Windows 11 from
#    parking its threads' cores); C++ files with 0x0A00, as cpp-httplib (in libllama-common) requires Windows 10;
# 2. runs llama.cpp's own llama-simple.exe under Wine on stories260K (greedy, 32 tokens) and compares its
#    text with the Linux x86-64 llama-simple's (this checkout's native/target/llama: build it first);
# 3. through Maven in a clone of HEAD (WIN_DIR, default /tmp/llama-java-windows-mvn): the JNI libraries
#    with JavaCPP's windows-x86_64-mingw properties (g++ instead of cl.exe) and the
#    llama-java-native-VERSION-windows-x86_64.jar; checks the jar's contents (NativeJarContentsTest),
#    lists every DLL the JNI libraries import (objdump -p) and where it comes from (the jar, or a
#    Windows system DLL as Wine provides it), and loads them under Wine with LoadLibrary from a small
#    MinGW-built program (their imports resolve; JNI_OnLoad is exported, not called).
#
# Not done here (no Windows JVM on this machine): loading the libraries through a JVM and JavaCPP's
# Loader, any Java test on Windows. See docs/results/platforms.md.
#
# Needs (Debian 12): apt-get install g++-mingw-w64-x86-64-posix wine64; a JDK 17 for Maven.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
models=$(cd "${MODELS:-$src/../shared/models}" 2>/dev/null && pwd) || { echo "cross-windows: no ../shared/models" >&2; exit 1; }
out=${WIN_OUT:-/tmp/llama-java-windows}
work=${WIN_DIR:-/tmp/llama-java-windows-mvn}
console=${JUNIT_CONSOLE:-$HOME/.cache/llama-java-cross/junit-platform-console-standalone-1.11.4.jar}
# Debian's wine64 package puts the loader in /usr/lib/wine (the wine package adds /usr/bin wrappers)
wine=$(command -v wine64 || command -v wine || ls /usr/lib/wine/wine64 2>/dev/null)
[ -n "$wine" ] || { echo "cross-windows: wine64 is missing (apt-get install wine64)" >&2; exit 1; }
cxx=x86_64-w64-mingw32-g++-posix
for t in $cxx x86_64-w64-mingw32-gcc-posix x86_64-w64-mingw32-objdump cmake git java; do
  command -v "$t" >/dev/null || { echo "cross-windows: $t is missing (apt-get install g++-mingw-w64-x86-64-posix wine64)" >&2; exit 1; }
done
[ -x "$src/native/target/llama/bin/llama-simple" ] || { echo "cross-windows: build this checkout first (native/target/llama)" >&2; exit 1; }
if [ ! -f "$console" ]; then # JUnit's console launcher, for the jar check (as ci/cross-arm64.sh fetches it)
  mkdir -p "$(dirname "$console")"
  ./mvnw -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 \
      -DoutputDirectory="$(dirname "$console")" || exit 1
fi
failures=0
pass() { echo "PASS: $*"; }
failed() { echo "FAIL: $*"; failures=$((failures + 1)); }
export WINEPREFIX=${WINEPREFIX:-/tmp/llama-java-wine} WINEDEBUG=-all

# ---- 1. llama.cpp and the shim -------------------------------------------------------------------
# the same llama.cpp options and targets for the cmake build here and the Maven build below (one build key):
# no tools but libmtmd (LLAMA_BUILD_MTMD), which the JNI library links
extra='-DGGML_NATIVE=OFF;-DLLAMA_BUILD_TOOLS=OFF;-DLLAMA_BUILD_MTMD=ON;-DCMAKE_C_FLAGS=-D_WIN32_WINNT=0x0601;-DCMAKE_CXX_FLAGS=-D_WIN32_WINNT=0x0A00'
targets='llama;ggml;llama-common;mtmd;llama-simple'
start=$(date +%s)
nice -n 10 cmake -DBACKEND=cpu -DOUT_DIR="$out" -DTOOLCHAIN_FILE="$src/cmake/toolchains/windows-x86_64-mingw.cmake" \
    "-DEXTRA_ARGS=$extra" "-DTARGETS=$targets" \
    -DSHIM_TOOLS=OFF -DSHIM_OPTIONAL=ON -DSHIM_DIR="$src/native/src/main/cpp" -P cmake/llama.cmake > "$out.log" 2>&1
rc=$?
echo "== MinGW-w64 build ($($cxx --version | head -n 1)): exit $rc, $(( $(date +%s) - start )) s (log $out.log)"
[ $rc = 0 ] || { tail -n 30 "$out.log"; exit 1; }
echo "== DLLs and executables (bytes)"
(cd "$out" && ls -l lib/*.dll bin/*.exe 2>/dev/null | awk '{print $5, $9}')
echo "   $(file -b "$out/lib/libllama.dll")"
if [ -f "$out/lib/libllamajava.dll" ]; then pass "the shim (libllamajava.dll) builds with MinGW-w64"; else failed "the shim did not build (see $out.log)"; fi

# ---- 2. llama-simple.exe under Wine ----------------------------------------------------------------
# Wine looks for DLLs next to the executable; the model path goes through drive Z:, Wine's view of /
run=$out/run && rm -rf "$run" && mkdir -p "$run"
cp "$out"/lib/*.dll "$out"/bin/llama-simple.exe "$run/"
prompt="Once upon a time"
start=$(date +%s)
win_text=$(cd "$run" && timeout 600 "$wine" llama-simple.exe -m "Z:$models/stories260K.gguf" -n 32 "$prompt" 2>"$run/stderr.txt" | tr -d '\r')
echo "== llama-simple.exe under $("$wine" --version) ($(( $(date +%s) - start )) s): $win_text"
linux_text=$(LD_LIBRARY_PATH=$src/native/target/llama/lib "$src/native/target/llama/bin/llama-simple" -m "$models/stories260K.gguf" -n 32 "$prompt" 2>/dev/null)
echo "   linux-x86_64 llama-simple: $linux_text"
if [ -n "$win_text" ] && [ "$win_text" = "$linux_text" ]; then
  pass "llama-simple.exe under Wine generates the Linux text"
else
  failed "the texts differ (stderr: $run/stderr.txt)"; tail -n 5 "$run/stderr.txt"
  # WINEDEBUG=-all hides why a program did not start (a DLL not found): once more with the loader's errors
  (cd "$run" && WINEDEBUG=err+module timeout 300 "$wine" llama-simple.exe -m "Z:$models/stories260K.gguf" -n 1 "$prompt" 2>&1 >/dev/null | tail -n 5)
fi
[ -f "$out/lib/libllamajava.dll" ] || { echo "== cross-windows: $failures failure(s); no shim, so no JNI library"; exit 1; }

# ---- 3. the JNI libraries and the native jar, through Maven in a clone -------------------------------
rm -rf "$work" && git clone -q "$src" "$work" || exit 1
cd "$work"
start=$(date +%s)
nice -n 10 ./mvnw -B -o package dependency:build-classpath -pl native,java-api/core -DskipTests \
    -Djavacpp.platform=windows-x86_64 -Djavacpp.properties=windows-x86_64-mingw -Djavacpp.compiler=$cxx \
    -Dllama.toolchain.file="$work/cmake/toolchains/windows-x86_64-mingw.cmake" "-Dllama.extra.args=$extra" \
    "-Dllama.targets=$targets" -Dllama.shim.tools=OFF \
    -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=test > win-build.log 2>&1
rc=$?
echo "== Maven build (JNI with JavaCPP's windows-x86_64-mingw properties): exit $rc, $(( $(date +%s) - start )) s (log $work/win-build.log)"
[ $rc = 0 ] || { grep -E "error|ERROR" win-build.log | head -n 30; echo "== cross-windows: $((failures + 1)) failure(s)"; exit 1; }
natives=$work/native/target/classes/org/llamajava/bindings/windows-x86_64
jni=$work/java-api/core/target/classes/org/llamajava/bindings/windows-x86_64
echo "== artifacts (bytes)"
ls -l native/target/*windows-x86_64.jar java-api/core/target/llama-java-*.jar "$jni"/*.dll | awk '{print $5, $9}' | sed "s|$work/||"
echo "   $(file -b "$jni/jnillama.dll")"

if java -Dllama.native.jars="$work/native/target" -jar "$console" execute \
     -cp "java-api/core/target/test-classes:java-api/core/target/classes:$(cat java-api/core/target/classpath.txt)" \
     --select-method org.llamajava.release.NativeJarContentsTest#everyNativeJarInAFolderIsComplete \
     --details=none --disable-banner > jar-check.log 2>&1; then
  pass "llama-java-native-*-windows-x86_64.jar holds the libraries and the licence notices"
else
  cat jar-check.log 2>/dev/null; failed "native jar contents (console launcher: $console)"
fi

# every DLL a JNI library imports is in the native jar, beside it, or a Windows system DLL (Wine's system32)
"$wine" cmd /c exit >/dev/null 2>&1 # creates the prefix
sys32=$WINEPREFIX/drive_c/windows/system32
unresolved=0
for dll in "$jni"/*.dll; do
  imports=$(x86_64-w64-mingw32-objdump -p "$dll" | awk '/DLL Name:/ {print $3}')
  line=""
  for i in $imports; do
    if [ -f "$natives/$i" ] || [ -f "$jni/$i" ]; then line+=" $i(jar)"
    elif [ -n "$(find "$sys32" -maxdepth 1 -iname "$i" -print -quit)" ]; then line+=" $i(system)"
    else line+=" $i(UNRESOLVED)"; unresolved=$((unresolved + 1)); fi
  done
  echo "== $(basename "$dll") imports:$line"
done
if [ $unresolved = 0 ]; then pass "every DLL the JNI libraries import is in the jars or Windows'"; else failed "$unresolved unresolved import(s)"; fi

cat > loadlib.c <<'C'
#include <windows.h>
#include <stdio.h>
/* LoadLibrary each DLL named (from this program's folder): their imports must resolve */
int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        HMODULE h = LoadLibraryA(argv[i]);
        if (!h) { printf("cannot load %s: error %lu\n", argv[i], GetLastError()); return 1; }
        printf("loaded %s, JNI_OnLoad %s\n", argv[i], GetProcAddress(h, "JNI_OnLoad") ? "exported" : "missing");
        if (!GetProcAddress(h, "JNI_OnLoad")) return 2;
    }
    return 0;
}
C
loadrun=$work/loadrun && mkdir -p "$loadrun"
cp "$natives"/*.dll "$jni"/*.dll "$loadrun/"
x86_64-w64-mingw32-gcc-posix -O2 -o "$loadrun/loadlib.exe" loadlib.c || exit 1
jnis=$(cd "$jni" && ls *.dll)
load=$(cd "$loadrun" && timeout 300 "$wine" loadlib.exe $jnis 2>&1 | tr -d '\r')
rc=$?
echo "$load" | sed 's/^/   /'
if [ $rc = 0 ] && ! echo "$load" | grep -q "cannot load"; then pass "the JNI libraries load under Wine (LoadLibrary) with the jar's DLLs"; else failed "LoadLibrary under Wine"; fi
echo "== cross-windows: $failures failure(s)"
[ $failures = 0 ]
