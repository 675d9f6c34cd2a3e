#!/usr/bin/env bash
# CI's test job: the README's test command, on a clean clone with ../shared beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

models=../shared/models
for m in stories260K.gguf llama-2-tiny-random.gguf; do
  if [ ! -f "$models/$m" ]; then
    echo "ci: $models/$m is missing; CI must run the model tests, not skip them" >&2
    exit 1
  fi
done
for tool in cmake g++ git npm java; do
  command -v "$tool" >/dev/null || { echo "ci: $tool is required (see README, Requirements)" >&2; exit 1; }
done

export CI=true
./mvnw -B verify
