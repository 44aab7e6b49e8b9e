#!/usr/bin/env bash
# Side-by-side benchmark: chatglm4j and a natively built llama.cpp on the same GGUF file, in the same run.
#
#   scripts/bench-vs-llamacpp.sh MODEL.gguf [-p 512] [-n 128] [-t 2] [--rounds 3] [-s 1,2,4,8 [--stream-gen 32]]
#
# llama.cpp is the peer that ../shared/peers/build-llama.sh builds for this CPU (GGML_NATIVE: AVX2 / AVX-512 / VNNI
# as the machine has them; ~10 minutes once, then cached); LLAMA_BIN=DIR uses another build's bin/ instead. Make
# the GGUF with that build's llama-quantize from an F16 file so that both engines read a llama.cpp-typed file.
# Prompt (ppN) and decode (tgN) run chatglm bench against llama-bench; with -s, aggregate decode of that many
# concurrent streams (chatglm bench -s) runs against llama-batched-bench's S_TG at the same batch size. The machine
# may be shared: the engines alternate (which one goes first flips every round), each run waits for the CPU to be
# idle first, and the summary gives medians over the rounds with the ratio chatglm4j / llama.cpp, the CPU flags
# and the load average.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
[[ $# -ge 1 ]] || { usage >&2; exit 2; }
model="$1"; shift
prompt=512; gen=128; threads=2; rounds=3; streams=""; streamGen=32
while [[ $# -gt 0 ]]; do
  case "$1" in
    -p) prompt="$2"; shift 2 ;;
    -n) gen="$2"; shift 2 ;;
    -t) threads="$2"; shift 2 ;;
    -s) streams="$2"; shift 2 ;;
    --stream-gen) streamGen="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-vs-llamacpp: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -f "$model" ]] || { echo "bench-vs-llamacpp: no such file: $model" >&2; exit 2; }
command -v python3 >/dev/null || { echo "bench-vs-llamacpp: needs python3 for the summary" >&2; exit 1; }

if [[ -z "${LLAMA_BIN:-}" ]]; then
  builder="$root/../shared/peers/build-llama.sh"
  [[ -x "$builder" ]] || { echo "bench-vs-llamacpp: $builder not found; set LLAMA_BIN to a llama.cpp bin/ folder" >&2; exit 1; }
  LLAMA_BIN="$("$builder")"
fi
for tool in llama-bench llama-batched-bench; do
  [[ -x "$LLAMA_BIN/$tool" ]] || { echo "bench-vs-llamacpp: $LLAMA_BIN/$tool missing" >&2; exit 1; }
done

# Waits (at most IDLE_WAIT = 120 s) until the whole machine used less than 15 % CPU over one second.
wait_idle() {
  local i a b idle total busy
  for ((i = 0; i < ${IDLE_WAIT:-120}; i++)); do
    read -r a < <(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8, $5+$6}' /proc/stat | tr ' ' ':')
    sleep 1
    read -r b < <(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8, $5+$6}' /proc/stat | tr ' ' ':')
    total=$(( ${b%%:*} - ${a%%:*} )); idle=$(( ${b##*:} - ${a##*:} ))
    busy=$(( total > 0 ? 100 * (total - idle) / total : 0 ))
    (( busy < 15 )) && { echo "load $(cut -d' ' -f1-3 /proc/loadavg), idle" >&2; return 0; }
  done
  echo "bench-vs-llamacpp: warning: the machine stayed busy (${busy}% CPU, load $(cut -d' ' -f1-3 /proc/loadavg)); measuring anyway" >&2
}

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
note() { echo "{\"note\":\"$1\",\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$results"; }
run_java() {
  wait_idle; note "chatglm4j"
  "$root/bin/chatglm" bench -m "$model" -p "$prompt" -n "$gen" -r 1 -t "$threads" --json 2>/dev/null \
    | sed 's/^{/{"engine":"chatglm4j",/' | tee -a "$results"
  if [[ -n "$streams" ]]; then
    wait_idle
    "$root/bin/chatglm" bench -m "$model" -p 0 -n "$streamGen" -s "$streams" -r 1 -t "$threads" --json 2>/dev/null \
      | sed 's/^{/{"engine":"chatglm4j",/' | tee -a "$results"
  fi
}
run_llama() {
  wait_idle; note "llama.cpp"
  "$LLAMA_BIN/llama-bench" -m "$model" -p "$prompt" -n "$gen" -t "$threads" -r 1 -o jsonl 2>/dev/null \
    | sed 's/^{/{"engine":"llama.cpp","tool":"llama-bench",/' | tee -a "$results"
  if [[ -n "$streams" ]]; then
    wait_idle
    local maxs; maxs="$(tr ',' '\n' <<<"$streams" | sort -n | tail -1)"
    "$LLAMA_BIN/llama-batched-bench" -m "$model" -t "$threads" -c $(( maxs * (streamGen + 16) + 64 )) -b 512 -ub 512 \
      -npp 8 -ntg "$streamGen" -npl "$streams" --output-format jsonl 2>/dev/null \
      | sed 's/^{/{"engine":"llama.cpp","tool":"llama-batched-bench",/' | tee -a "$results"
  fi
}
for ((r = 1; r <= rounds; r++)); do
  echo "round $r of $rounds" >&2
  if (( r % 2 == 1 )); then run_java; run_llama; else run_llama; run_java; fi
done

flags="$(grep -o -w -E 'avx2|avx512f|avx512bw|avx512vl|avx512_vnni|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')"
python3 - "$results" "$model" "$flags" <<'PY'
import json, statistics, sys
file, model, flags = sys.argv[1:]
rows = [json.loads(l) for l in open(file) if l.startswith("{")]
cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(" :\t")
vec = next((r.get("vector_bits") for r in rows if r.get("engine") == "chatglm4j" and "vector_bits" in r), "?")
loads = [r["load"] for r in rows if "note" in r]
res = {}  # (test, streams) -> engine -> [tokens/s]
for r in rows:
    e = r.get("engine")
    if e == "chatglm4j":
        key = (r["test"], r.get("streams", 1))
        res.setdefault(key, {}).setdefault(e, []).append(r["tokens_per_second"])
    elif r.get("tool") == "llama-bench":
        t = "pp%d" % r["n_prompt"] if r["n_prompt"] > 0 else "tg%d" % r["n_gen"]
        res.setdefault((t, 1), {}).setdefault(e, []).append(r["avg_ts"])
    elif r.get("tool") == "llama-batched-bench":
        res.setdefault(("tg%d" % r["tg"], r["pl"]), {}).setdefault("llama.cpp streams", []).append(r["speed_tg"])
print(f"\n{model}, {cpu}; flags: {flags}; chatglm4j kernels {vec}-bit")
print(f"load average before each run: {', '.join(loads)}")
print("| test | streams | chatglm4j | llama.cpp | ratio |")
print("| --- | --- | --- | --- | --- |")
for (t, s), by in sorted(res.items(), key=lambda kv: (kv[0][0][:2] != "pp", kv[0][1], kv[0][0])):
    j = by.get("chatglm4j")
    l = by.get("llama.cpp streams") if s > 1 or ("llama.cpp" not in by and "llama.cpp streams" in by) else by.get("llama.cpp")
    if not j or not l:
        continue
    mj, ml = statistics.median(j), statistics.median(l)
    src = "llama-batched-bench S_TG" if s > 1 or "llama.cpp" not in by else "llama-bench"
    print(f"| {t} | {s} | {mj:.2f} | {ml:.2f} ({src}) | {mj / ml:.2f} |")
print(f"medians over {max(len(v) for by in res.values() for v in by.values())} rounds")
PY
