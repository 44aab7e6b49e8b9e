#!/usr/bin/env bash
# Benchmark on a full-size chatglm3-6b with random F16 weights (real weights cannot be downloaded everywhere):
# writes the checkpoint once (12.5 GB, safetensors shards), then loads it and reports load time, peak RSS,
# prefill tokens/s for a 128-token prompt and decode tokens/s.
#   scripts/bench-6b.sh [DIR]      (default DIR: /tmp/chatglm3-6b-random; extra options via BENCH_ARGS)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-/tmp/chatglm3-6b-random}"
TOKENIZER="${TOKENIZER:-$ROOT/../shared/fixtures/tokenizer/tokenizer.model}"
if [ ! -f "$DIR/model.safetensors.index.json" ]; then
  "$ROOT/chatglm" random-model -o "$DIR" --config 6b --type f16 --tokenizer "$TOKENIZER"
fi
exec "$ROOT/chatglm" bench -m "$DIR" -p 128 -n 32 -r 3 ${BENCH_ARGS:-}
