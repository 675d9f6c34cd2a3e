#!/usr/bin/env bash
# Distributed inference over llama.cpp's RPC backend, on one machine: prompt processing (pp) and
# generation (tg) tokens/s with every layer on one loopback RPC server (llama.cpp's
# ggml-rpc-server from the same source, 1 thread... THREADS) against fully local, for llama-java
# (RpcBenchmark: ModelParams.rpcServers) and for llama.cpp's llama-bench (--rpc), alternating
# round by round, with a second llama-bench --rpc run per round as the A/A noise floor. Needs a
# build first (a verify of java-api/core).
#   ROUNDS (default 3), THREADS (default 2), PP (default 64), TG (default 32), REPS (default 3),
#   MODEL (default ../shared/models/stories260K.gguf), PORT (default 50152), GUARD (default 1; 0 runs
#   llama-java with its RPC guard off: calls on the caller's thread as in llama.cpp's tools, to see
#   what the guard's worker thread costs)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}; threads=${THREADS:-2}; pp=${PP:-64}; tg=${TG:-32}; reps=${REPS:-3}; port=${PORT:-50152}
model=${MODEL:-../shared/models/stories260K.gguf}
out=native/target/llama
[ -f java-api/core/target/test-classes/org/llamajava/RpcBenchmark.class ] || { echo "bench-rpc: build first" >&2; exit 2; }
./mvnw -q -o -pl java-api/core dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
# this worktree's natives (native/target/classes), not an installed copy from ~/.m2
cp="java-api/core/target/test-classes:java-api/core/target/classes:$(sed 's#[^:]*llama-java-native-[^:]*\.jar#native/target/classes#' java-api/core/target/bench-classpath.txt)"
LD_LIBRARY_PATH=$out/lib "$out/bin/ggml-rpc-server" -H 127.0.0.1 -p "$port" -t "$threads" >/dev/null 2>&1 &
server=$!; trap 'kill $server 2>/dev/null' EXIT
sleep 2
bench() { # pp_tps tg_tps of llama-bench (avg over its repetitions)
  LD_LIBRARY_PATH=$out/lib "$out/bin/llama-bench" -m "$model" -p "$pp" -n "$tg" -t "$threads" -r "$reps" -o csv "$@" 2>/dev/null \
    | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); c[$i] = i } next }
               { gsub(/"/, ""); if ($c["n_gen"] == 0) p = $c["avg_ts"]; else g = $c["avg_ts"] } END { printf "%.2f %.2f", p, g }'
}
javarun() {
  java -Dbench.rpcGuard="$([ "${GUARD:-1}" = 0 ] && echo false || echo true)" -cp "$cp" org.llamajava.RpcBenchmark "$model" "$1" "$pp" "$tg" "$reps" "$threads" 2>/dev/null \
    | awk '/^RESULT/ { printf "%.2f %.2f", $2, $3 }'
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%F); model $(basename "$model"); threads $threads; pp $pp, tg $tg; RPC guard ${GUARD:-1}"
printf "%-5s %16s %16s %16s %16s %16s %14s %14s %12s\n" round native-local native-rpc java-local java-rpc native-rpc2 java/nat-rpc rpc/local-java A/A-rpc
rp=(); rt=(); lp=(); lt=(); ap=()
for r in $(seq 1 "$rounds"); do
  nl=$(bench); nr=$(bench --rpc "127.0.0.1:$port" -ngl 99); jl=$(javarun local); jr=$(javarun "127.0.0.1:$port")
  nr2=$(bench --rpc "127.0.0.1:$port" -ngl 99)
  set -- $nr; nrp=$1; nrt=$2; set -- $nr2; nrp2=$1; nrt2=$2; set -- $jr; jrp=$1; jrt=$2; set -- $jl; jlp=$1; jlt=$2
  a=$(awk -v j="$jrp" -v x="$nrp" -v y="$nrp2" -v jt="$jrt" -v xt="$nrt" -v yt="$nrt2" 'BEGIN { printf "%.3f/%.3f", j / ((x + y) / 2), jt / ((xt + yt) / 2) }')
  b=$(awk -v j="$jrp" -v l="$jlp" -v jt="$jrt" -v lt="$jlt" 'BEGIN { printf "%.3f/%.3f", j / l, jt / lt }')
  c=$(awk -v x="$nrp" -v y="$nrp2" -v xt="$nrt" -v yt="$nrt2" 'BEGIN { printf "%.3f/%.3f", y / x, yt / xt }')
  rp+=("${a%/*}"); rt+=("${a#*/}"); lp+=("${b%/*}"); lt+=("${b#*/}"); ap+=("$c")
  printf "%-5s %16s %16s %16s %16s %16s %14s %14s %12s\n" "$r" "$nl" "$nr" "$jl" "$jr" "$nr2" "$a" "$b" "$c"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "(columns: pp tg tokens/s; ratios pp/tg) median java-rpc/llama-bench-rpc: pp $(median "${rp[@]}") tg $(median "${rt[@]}");   java rpc/local: pp $(median "${lp[@]}") tg $(median "${lt[@]}")"
