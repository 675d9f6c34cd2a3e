#!/usr/bin/env bash
# windows-x86_64, cross-built with MinGW-w64 and run under Wine: proves llama.cpp's DLLs.
#
#   ci/cross-windows.sh        # builds, runs, prints a report (recorded in ci/platforms.md)
#
# _WIN32_WINNT=0x0601 (Windows 7 API level): Debian 12's MinGW-w64 headers lack Windows 8's thread power-throttling API,
# which ggml uses only to keep Windows 11 from parking its threads' cores.
# Builds llama.cpp (libllama, libggml* and llama-simple.exe) from the pinned source
# with cmake/toolchains/windows-x86_64-mingw.cmake (its own key in the native build cache; the C++
# runtime is linked statically, so the DLLs need no MinGW DLL beside them), then runs llama.cpp's own
# llama-simple.exe under Wine on stories260K, greedy, and compares its text with the Linux x86-64
# llama-simple's (this checkout's native/target/llama, so build it first).
#
# What this does not do: build the JNI library or the llama-java-native-windows-x86_64 jar (JavaCPP's
# MinGW properties are a separate platform extension, "-mingw", and its Windows loader expects MSVC
# builds: not attempted), or run a JVM under Wine. See ci/platforms.md.
#
# Needs (Debian 12): apt-get install g++-mingw-w64-x86-64-posix wine64
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
models=$(cd "${MODELS:-$src/../shared/models}" 2>/dev/null && pwd) || { echo "cross-windows: no ../shared/models" >&2; exit 1; }
out=${WIN_OUT:-/tmp/llama-java-windows}
# Debian's wine64 package puts the loader in /usr/lib/wine (the wine package adds /usr/bin wrappers)
wine=$(command -v wine64 || command -v wine || ls /usr/lib/wine/wine64 2>/dev/null)
[ -n "$wine" ] || { echo "cross-windows: wine64 is missing (apt-get install wine64)" >&2; exit 1; }
for t in x86_64-w64-mingw32-g++-posix cmake; do
  command -v "$t" >/dev/null || { echo "cross-windows: $t is missing (apt-get install g++-mingw-w64-x86-64-posix wine64)" >&2; exit 1; }
done
failures=0

start=$(date +%s)
nice -n 10 cmake -DBACKEND=cpu -DOUT_DIR="$out" -DTOOLCHAIN_FILE="$src/cmake/toolchains/windows-x86_64-mingw.cmake" \
    '-DEXTRA_ARGS=-DGGML_NATIVE=OFF;-DLLAMA_BUILD_TOOLS=OFF;-DCMAKE_C_FLAGS=-D_WIN32_WINNT=0x0601;-DCMAKE_CXX_FLAGS=-D_WIN32_WINNT=0x0601' '-DTARGETS=llama;ggml;llama-simple' \
    -DSHIM_TOOLS=OFF -DSHIM_OPTIONAL=ON -DSHIM_DIR="$src/native/src/main/cpp" -P cmake/llama.cmake > "$out.log" 2>&1
rc=$?
echo "== MinGW-w64 build: exit $rc, $(( $(date +%s) - start )) s (log $out.log)"
[ $rc = 0 ] || { tail -n 30 "$out.log"; exit 1; }
echo "== DLLs and executables"
(cd "$out" && ls -l lib/*.dll bin/*.exe 2>/dev/null | awk '{print $5, $9}')
[ -f "$out/lib/libllamajava.dll" ] && echo "the shim (libllamajava.dll) built" || echo "the shim did not build for MinGW (see the log)"
file -b "$out/lib/"*llama.dll | head -n 1

# Wine looks for DLLs next to the executable; the model path goes through drive Z:, Wine's view of /
run=$out/run && rm -rf "$run" && mkdir -p "$run"
cp "$out"/lib/*.dll "$out"/bin/llama-simple.exe "$run/"
# MinGW's C++ runtime, which the DLLs link dynamically
for dll in $(x86_64-w64-mingw32-g++-posix -print-file-name=libstdc++-6.dll) \
           $(x86_64-w64-mingw32-g++-posix -print-file-name=libgcc_s_seh-1.dll) \
           $(x86_64-w64-mingw32-g++-posix -print-file-name=libwinpthread-1.dll); do
  [ -f "$dll" ] && cp "$dll" "$run/"
done
export WINEPREFIX=${WINEPREFIX:-/tmp/llama-java-wine} WINEDEBUG=-all
prompt="Once upon a time"
start=$(date +%s)
win_text=$(cd "$run" && timeout 600 "$wine" llama-simple.exe -m "Z:$models/stories260K.gguf" -n 32 "$prompt" 2>"$run/stderr.txt" | tr -d '\r')
echo "== llama-simple.exe under $("$wine" --version) ($(( $(date +%s) - start )) s): $win_text"
linux_text=$(LD_LIBRARY_PATH=$src/native/target/llama/lib "$src/native/target/llama/bin/llama-simple" -m "$models/stories260K.gguf" -n 32 "$prompt" 2>/dev/null)
echo "   linux-x86_64 llama-simple: $linux_text"
if [ -n "$win_text" ] && [ "$win_text" = "$linux_text" ]; then
  echo "PASS: llama-simple.exe under Wine generates the Linux text"
else
  echo "FAIL: the texts differ (stderr: $run/stderr.txt)"; tail -n 5 "$run/stderr.txt"; failures=1
fi
[ $failures = 0 ]
