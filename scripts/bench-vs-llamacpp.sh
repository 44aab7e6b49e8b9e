#!/usr/bin/env bash
# Side-by-side benchmark: chatglm4j and llama.cpp on the same GGUF file, in the same run.
#
#   scripts/bench-vs-llamacpp.sh MODEL.gguf [-p 512] [-n 128] [-t 2] [--rounds 3]
#
# llama.cpp comes from the npm package node-llama-cpp (prebuilt AVX2 CPU binaries, no compiler needed), installed
# once into ${CHATGLM_CACHE:-~/.cache/chatglm4j}/llamacpp-peer. The machine this runs on may be shared: the two
# engines alternate (which one goes first flips every round), each run waits for the CPU to be idle first, and the
# summary reports medians over the rounds with the ratio chatglm4j / llama.cpp.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
[[ $# -ge 1 ]] || { usage >&2; exit 2; }
model="$1"; shift
prompt=512; gen=128; threads=2; rounds=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    -p) prompt="$2"; shift 2 ;;
    -n) gen="$2"; shift 2 ;;
    -t) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-vs-llamacpp: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -f "$model" ]] || { echo "bench-vs-llamacpp: no such file: $model" >&2; exit 2; }

command -v node >/dev/null && command -v npm >/dev/null || {
  echo "bench-vs-llamacpp: needs node >= 20 and npm (e.g. apt-get install nodejs npm, or NodeSource for node 20)" >&2; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[[ "$node_major" -ge 20 ]] || { echo "bench-vs-llamacpp: node-llama-cpp needs node >= 20, found $(node --version)" >&2; exit 1; }

peer="${CHATGLM_CACHE:-$HOME/.cache/chatglm4j}/llamacpp-peer"
mkdir -p "$peer"
cp "$here/llamacpp-peer/package.json" "$here/llamacpp-peer/bench.mjs" "$peer/"
if [[ ! -d "$peer/node_modules/node-llama-cpp" ]]; then
  echo "installing node-llama-cpp into $peer (about 700 MB, once)..." >&2
  (cd "$peer" && npm install --no-audit --no-fund --loglevel=error >&2)
fi

# Waits (at most 120 s) until the whole machine used less than 15 % CPU over one second.
wait_idle() {
  local i a b idle total busy
  for ((i = 0; i < 120; i++)); do
    read -r a < <(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8, $5+$6}' /proc/stat | tr ' ' ':')
    sleep 1
    read -r b < <(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8, $5+$6}' /proc/stat | tr ' ' ':')
    total=$(( ${b%%:*} - ${a%%:*} )); idle=$(( ${b##*:} - ${a##*:} ))
    busy=$(( total > 0 ? 100 * (total - idle) / total : 0 ))
    (( busy < 15 )) && return 0
  done
  echo "bench-vs-llamacpp: warning: the machine stayed busy (${busy}% CPU); measuring anyway" >&2
}

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
run_java() {
  wait_idle
  "$root/bin/chatglm" bench -m "$model" -p "$prompt" -n "$gen" -r 1 -t "$threads" --json 2>/dev/null \
    | sed 's/^{/{"engine":"chatglm4j",/' | tee -a "$results"
}
run_llama() {
  wait_idle
  node "$peer/bench.mjs" "$model" "$prompt" "$gen" "$threads" | tee -a "$results"
}
for ((r = 1; r <= rounds; r++)); do
  echo "round $r of $rounds" >&2
  if (( r % 2 == 1 )); then run_java; run_llama; else run_llama; run_java; fi
done

node - "$results" "$model" <<'JS'
const fs = require("fs");
const [file, model] = process.argv.slice(2);
const rows = fs.readFileSync(file, "utf8").split("\n").filter(l => l.startsWith("{")).map(l => JSON.parse(l));
const median = a => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const tests = [...new Set(rows.map(r => r.test))];
console.log(`\n${model}: median tokens/s over ${Math.max(...tests.map(t => rows.filter(r => r.test === t).length)) / 2} rounds`);
console.log("| test   | chatglm4j | llama.cpp | ratio |");
console.log("| ------ | --------- | --------- | ----- |");
for (const t of tests) {
  const j = rows.filter(r => r.test === t && r.engine === "chatglm4j").map(r => r.tokens_per_second);
  const l = rows.filter(r => r.test === t && r.engine === "llama.cpp").map(r => r.tokens_per_second);
  if (!j.length || !l.length) continue;
  const mj = median(j), ml = median(l);
  console.log(`| ${t.padEnd(6)} | ${mj.toFixed(2).padStart(9)} | ${ml.toFixed(2).padStart(9)} | ${(mj / ml).toFixed(2).padStart(5)} |`);
}
JS
