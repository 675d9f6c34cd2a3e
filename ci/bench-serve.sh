#!/usr/bin/env bash
# Serving benchmark: llama-java's `serve` against llama.cpp's llama-server, built on demand from the
# same pinned llama.cpp source by ci/llama-server-build.sh (with this build's ggml options: GGML_NATIVE,
# no OpenMP; LLAMA_SERVER_BUILD=default: a default build, OpenMP on, as users build it; about 5 minutes on 2
# cores, once). Both get the
# same model, -np, -c, -b and threads; one load generator (ci/serveload/ServeLoad.java, the JDK's
# HTTP client) drives each in turn at each concurrency, the order alternating round by round, and
# the script prints per-phase aggregate generated tokens/s and time to first token (p50, p99), then
# the medians per server and concurrency and the ratio llama-java / llama-server. Loopback only.
# Not part of the tests. Needs a build first (./mvnw -q install -DskipTests, or verify).
#   ROUNDS (3), THREADS (2), NP (16), CTX (4096), BATCH (512), TOKENS (64 per request),
#   REQUESTS (per client per phase, 4), CONCURRENCY ("1 4 8 16"),
#   MODEL (../shared/models/stories260K.gguf), SMOL=1 also benchmarks a random-weight model in
#   SmolLM2-135M's shape (f16, written by the CLI's write-model)
#   NATIVE_ARGS: more llama-server flags (e.g. "--cache-ram 0": keep idle slots' KV, as llama-java's
#   engine did before its prompt cache)
# Each round also runs `llama-java bench -p 0 -n TOKENS` (tg, one sequence, no HTTP) while both
# servers idle, and the script compares the single client's stream rate (tokens/s after its first
# token, as the client sees them) with it: the issue's "single-client tokens/s within 2% of bench tg".
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}; threads=${THREADS:-2}; np=${NP:-16}; ctx=${CTX:-4096}; batch=${BATCH:-512}
tokens=${TOKENS:-64}; requests=${REQUESTS:-4}; conc=${CONCURRENCY:-"1 4 8 16"}
props=native/target/llama/llama-build.properties
jar=samples/target/llama-java.jar
[ -f "$props" ] && [ -f "$jar" ] || { echo "bench-serve: build first: ./mvnw -q install -DskipTests" >&2; exit 2; }
server=$(ci/llama-server-build.sh)

dir=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_ready() { # until /health answers 200
  for _ in $(seq 1 600); do
    curl -sf "$1/health" >/dev/null 2>&1 && return 0; sleep 0.2
  done
  echo "bench-serve: $1 did not come up" >&2; return 1
}
load() { java ci/serveload/ServeLoad.java "$1" "$2" "$3" "$requests" "$tokens" | awk '/^RESULT/'; }

models=("${MODEL:-../shared/models/stories260K.gguf}")
if [ "${SMOL:-0}" = 1 ]; then
  java -jar "$jar" write-model -o "$dir/smol135m.gguf" --shape smol135m --vocab-from ../shared/models/llama-2-tiny-random.gguf --type f16 >/dev/null
  models+=("$dir/smol135m.gguf")
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%F)"
echo "settings: -np $np -c $ctx -b $batch -t $threads; $requests requests of $tokens tokens per client per phase; $rounds rounds"
for model in "${models[@]}"; do
  jport=$(free_port); nport=$(free_port)
  java -jar "$jar" serve -m "$model" --port "$jport" -np "$np" -c "$ctx" -b "$batch" -t "$threads" -ngl 0 \
    >"$dir/java.out" 2>"$dir/java.err" & pids+=($!)
  "$server" -m "$model" --port "$nport" -np "$np" -c "$ctx" -b "$batch" -ub "$batch" -t "$threads" -ngl 0 \
    -kvu --no-ui ${NATIVE_ARGS:-} >"$dir/native.out" 2>"$dir/native.err" & pids+=($!)
  wait_ready "http://127.0.0.1:$jport"; wait_ready "http://127.0.0.1:$nport"
  # warm-up, untimed: the JVM's JIT, and both servers' first allocations
  load "http://127.0.0.1:$jport" warm-up 4 >/dev/null; load "http://127.0.0.1:$nport" warm-up 4 >/dev/null
  echo; echo "model: $(basename "$model")"
  printf "%-5s %-12s %5s %12s %12s %12s\n" round server conc "tok/s" "TTFT p50 ms" "TTFT p99 ms"
  : >"$dir/results"
  : >"$dir/tg"
  for r in $(seq 1 "$rounds"); do
    tg=$(java -jar "$jar" bench -m "$model" -p 0 -n "$tokens" -t "$threads" -r 5 2>/dev/null \
      | awk -F'|' '/ tg[0-9]+ / { split($(NF-1), a, " "); print a[1] }')
    echo "$r $tg" >>"$dir/tg"
    printf "%-5s %-12s %5s %12s\n" "$r" "bench tg" 1 "$tg"
    for c in $conc; do
      if [ $((r % 2)) = 1 ]; then order="java native"; else order="native java"; fi
      for who in $order; do
        port=$jport; [ "$who" = native ] && port=$nport
        line=$(load "http://127.0.0.1:$port" "$who" "$c")
        echo "$line" >>"$dir/results"
        echo "$line" | awk -v r="$r" '{ printf "%-5s %-12s %5s %12s %12s %12s\n", r, $2, $3, $4, $5, $6 }'
      done
    done
  done
  echo "medians over rounds (ratio: the median of the rounds' own llama-java / llama-server ratios, lowest and highest in brackets):"
  printf "%5s %11s %11s %20s %10s %10s %10s %10s %8s\n" conc "java tok/s" "native tok/s" "ratio" "java p50" "native p50" "java p99" "native p99" retried
  for c in $conc; do
    med() { awk -v w="$1" -v c="$c" -v f="$2" '$2 == w && $3 == c { print $f }' "$dir/results" | sort -g \
      | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
    ratio=$(awk -v c="$c" '$3 == c { n[$2]++; v[$2, n[$2]] = $4 } END { for (i = 1; i <= n["java"]; i++) print v["java", i] / v["native", i] }' \
      "$dir/results" | sort -g | awk '{ a[NR] = $1 } END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2;
        printf "%.2f [%.2f-%.2f]", m, a[1], a[NR] }')
    retried=$(awk -v c="$c" '$3 == c { r += $9 } END { print r + 0 }' "$dir/results")
    printf "%5s %11s %11s %20s %10s %10s %10s %10s %8s\n" "$c" "$(med java 4)" "$(med native 4)" "$ratio" \
      "$(med java 5)" "$(med native 5)" "$(med java 6)" "$(med native 6)" "$retried"
  done
  # the single client's stream rate (field 10) over the same round's bench tg
  single=$(awk 'NR == FNR { tg[$1] = $2; next } $2 == "java" && $3 == 1 { r++; if (tg[r] > 0) print $10 / tg[r] }' \
    "$dir/tg" "$dir/results" | sort -g | awk '{ a[NR] = $1 } END { if (NR) printf "%.3f [%.3f-%.3f]", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2), a[1], a[NR] }')
  echo "single client, llama-java: stream tokens/s after the first token over llama-java bench tg (median of rounds [lowest-highest]): $single"
  echo "   single-client stream tok/s per round, llama-java: $(awk '$2 == "java" && $3 == 1 { printf "%s ", $10 }' "$dir/results")llama-server: $(awk '$2 == "native" && $3 == 1 { printf "%s ", $10 }' "$dir/results"); llama-java bench tg: $(awk '{ printf "%s ", $2 }' "$dir/tg")"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=()
done
