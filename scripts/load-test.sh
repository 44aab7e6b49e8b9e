#!/usr/bin/env bash
# Load benchmark (not a test): starts `chatglm serve` with --parallel 4 --queue 64 and runs 100 streaming clients at
# once against it (LoadBenchmark in the server's test sources). Prints completed / 503 / other, p50/p99 latency and
# whether every completed reply equals the same prompt's reply alone (greedy).
#   scripts/load-test.sh [MODEL] [CLIENTS] [MAX_TOKENS]     (MODEL defaults to the tiny fixture model)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
MODEL="${1:-$ROOT/../shared/fixtures/tiny-chatglm3}"
CLIENTS="${2:-100}"
MAX_TOKENS="${3:-32}"
cd "$ROOT"
mvn -q -B ${MAVEN_ARGS:-} install -DskipTests >/dev/null 2>&1 || { echo "load-test: build failed (mvn install -DskipTests)" >&2; exit 1; }
CP="$(mvn -q -B ${MAVEN_ARGS:-} -pl chatglm4j-server dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout 2>/dev/null)"
out="$(mktemp "${TMPDIR:-/tmp}/chatglm-load.XXXXXX")"
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$out"' EXIT
"$ROOT/chatglm" serve -m "$MODEL" --port 0 --parallel 4 --queue 64 >"$out" 2>/dev/null &
server=$!
for _ in $(seq 600); do
  url="$(grep -o 'http://[^ ]*/v1' "$out" || true)"
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { echo "load-test: the server did not start" >&2; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { echo "load-test: the server did not become ready" >&2; exit 1; }
echo "model $MODEL; $(nproc) processors; CPU flags: $(grep -o -w -E 'avx2|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ')"
"$JAVA" -cp "chatglm4j-server/target/test-classes:chatglm4j-server/target/classes:$CP" io.github.chatglm4j.server.LoadBenchmark \
  "${url%/v1}" "$CLIENTS" "$MAX_TOKENS"
