#!/usr/bin/env bash
# Builds llama.cpp's llama-server from the same pinned source as the natives (with this build's ggml
# options: GGML_NATIVE, no OpenMP; LLAMA_SERVER_BUILD=default: ggml's defaults, OpenMP on) into its own cache folder, $LLAMA_JAVA_CACHE/bench-server/KEY,
# once (about 5 minutes on 2 cores), and prints the binary's path. Used by ci/bench-serve.sh (the
# speed comparison) and ci/server-suite.sh (SUITE_SERVER=llama-server: the suite's own baseline).
# Needs a build of the natives first (./mvnw -q install -DskipTests).
set -euo pipefail
cd "$(dirname "$0")/.."
props=native/target/llama/llama-build.properties
[ -f "$props" ] || { echo "llama-server-build: build first: ./mvnw -q install -DskipTests" >&2; exit 2; }
src=$(grep '^llama.source.dir=' "$props" | cut -d= -f2-)
cache=${LLAMA_JAVA_CACHE:-$HOME/.cache/llama-java}
opts=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON
      -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_UI=OFF
      -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF)
# LLAMA_SERVER_BUILD=default: ggml's own defaults, as users build it (OpenMP on where the compiler has it);
# else this build's (GGML_NATIVE, no OpenMP: the same threading as llama-java's natives)
case ${LLAMA_SERVER_BUILD:-same} in
  default) ;;
  same) opts+=(-DGGML_OPENMP=OFF -DGGML_NATIVE=ON) ;;
  *) echo "llama-server-build: LLAMA_SERVER_BUILD is default or same, not $LLAMA_SERVER_BUILD" >&2; exit 2 ;;
esac
key=$(printf '%s|%s|%s' "$(grep '^llama.source.id=' "$props")" "${opts[*]}" "$(uname -m)" | sha256sum | cut -c1-16)
bdir=$cache/bench-server/$key
server=$bdir/bin/llama-server
if [ ! -x "$server" ]; then
  echo "llama-server-build: building llama-server from $src into $bdir (once)" >&2
  mkdir -p "$bdir"
  cmake -S "$src" -B "$bdir" "${opts[@]}" >"$bdir/configure.log" 2>&1 || { tail -20 "$bdir/configure.log" >&2; exit 1; }
  cmake --build "$bdir" --target llama-server -j "$(nproc)" >"$bdir/build.log" 2>&1 || { tail -30 "$bdir/build.log" >&2; exit 1; }
fi
echo "$server"
