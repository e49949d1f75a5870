#!/usr/bin/env bash
# AWQ Studio's int4 CPU inference against llama.cpp, measured in one run on this machine.
#
#   scripts/bench-vs-llamacpp.sh [--scratch DIR] [--rounds N] [--threads N] [--quick] [--build DIR]
#
# 1. builds llama.cpp (llama-bench, llama-quantize; -DGGML_NATIVE=ON -DLLAMA_CURL=OFF) from the
#    source bundle inside the npm package node-llama-cpp@3.22.1 (package/llama/gitRelease.bundle),
#    once, into the scratch folder (default /tmp/awq-vs-llamacpp; later runs reuse it);
# 2. writes one random TinyLlama-1.1B-shaped fp16 checkpoint (awq_make_fixture --tinyllama),
#    converts it with llama.cpp's convert_hf_to_gguf.py (Debian's python3-torch, through
#    scripts/bench/convert_hf_shim.py) and quantizes Q4_0 and Q4_K_M with llama-quantize;
# 3. quantizes the same checkpoint with `awq quantize --method rtn --version gemv`;
# 4. checks that nothing else is using the cores, then runs llama-bench (-p 512 -n 64) on
#    each GGUF and `awq bench` on the AWQ checkpoint (batch 1: prefill 512 and decode 64
#    after 16 tokens, with the streaming bandwidth, once with the checkpoint's fp16 lm_head and
#    once with --lm-head int8; batch 8 decode with int8) interleaved, --rounds
#    times, and prints medians, ratios and the decode roofline fraction
#    (scripts/bench/summarize_vs_llamacpp.py). Raw JSON stays in SCRATCH/results-<date>/.
#
# --quick: one round of -p 64 -n 16 / short awq rows, to check that everything runs.
# Needs: cmake, ninja or make, git, npm, and Debian's python3-torch, python3-numpy,
# python3-sentencepiece, python3-yaml, python3-tqdm (`scripts/setup-deps.sh --llamacpp-bench`). Not a CI step.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRATCH=/tmp/awq-vs-llamacpp
BUILD=$REPO/build
ROUNDS=3
THREADS=2
QUICK=0
NODE_LLAMA_CPP=node-llama-cpp@3.22.1
PYTHON=/usr/bin/python3  # Debian's interpreter: python3-torch lives in its dist-packages

while [ $# -gt 0 ]; do
  case "$1" in
    --scratch) SCRATCH=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --quick) QUICK=1; ROUNDS=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-vs-llamacpp: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$ROUNDS" in ''|*[!0-9]*|0) echo "bench-vs-llamacpp: --rounds must be a positive integer" >&2; exit 2 ;; esac
case "$SCRATCH" in "$REPO"|"$REPO"/*) echo "bench-vs-llamacpp: the scratch folder must be outside the repository" >&2; exit 2 ;; esac
mkdir -p "$SCRATCH"
SCRATCH=$(cd "$SCRATCH" && pwd)
log() { printf '\n== %s\n' "$*"; }

# ---- prerequisites ----
missing=()
for tool in cmake git npm; do command -v "$tool" >/dev/null || missing+=("$tool"); done
for module in torch numpy sentencepiece yaml tqdm; do
  "$PYTHON" -c "import $module" 2>/dev/null || missing+=("python3-$module (for $PYTHON)")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench-vs-llamacpp: missing: ${missing[*]}" >&2
  echo "  install with: scripts/setup-deps.sh --llamacpp-bench" >&2
  exit 1
fi

# ---- AWQ Studio binaries ----
AWQ=$BUILD/bin/awq
FIXTURE=$BUILD/bin/awq_make_fixture
if [ ! -x "$AWQ" ] || [ ! -x "$FIXTURE" ]; then
  log "building awq and awq_make_fixture in $BUILD"
  [ -f "$BUILD/CMakeCache.txt" ] || cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build "$BUILD" --target awq awq_make_fixture
fi

# ---- llama.cpp, once ----
LLAMA=$SCRATCH/llama.cpp
LLAMA_BIN=$LLAMA/build/bin
if [ ! -x "$LLAMA_BIN/llama-bench" ] || [ ! -x "$LLAMA_BIN/llama-quantize" ]; then
  if [ ! -f "$LLAMA/convert_hf_to_gguf.py" ]; then
    log "fetching $NODE_LLAMA_CPP (llama.cpp's source bundle) into $SCRATCH/npm"
    mkdir -p "$SCRATCH/npm"
    (cd "$SCRATCH/npm" && npm pack --silent "$NODE_LLAMA_CPP" >/dev/null &&
       tar xzf node-llama-cpp-*.tgz package/llama/gitRelease.bundle package/llama/binariesGithubRelease.json)
    rm -rf "$LLAMA"
    git clone --quiet "$SCRATCH/npm/package/llama/gitRelease.bundle" "$LLAMA"
  fi
  log "building llama-bench and llama-quantize (several minutes on 2 cores)"
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$LLAMA" -B "$LLAMA/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null
  cmake --build "$LLAMA/build" --target llama-bench llama-quantize -j "$(nproc)"
fi
release=$(sed -n 's/.*"release": *"\([^"]*\)".*/\1/p' "$SCRATCH/npm/package/llama/binariesGithubRelease.json" 2>/dev/null || true)
echo "llama.cpp: ${release:-?} (commit $(git -C "$LLAMA" rev-parse --short HEAD)), $LLAMA_BIN"

# ---- the checkpoint and its quantized copies, once ----
MODEL=$SCRATCH/tinyllama-random
if [ ! -f "$MODEL/config.json" ]; then
  log "writing a random TinyLlama-1.1B-shaped fp16 checkpoint to $MODEL"
  rm -rf "$MODEL"
  "$FIXTURE" "$MODEL" --tinyllama
fi
GGUF=$SCRATCH/gguf
mkdir -p "$GGUF"
if [ ! -f "$GGUF/tinyllama-f16.gguf" ]; then
  log "converting to GGUF (llama.cpp's convert_hf_to_gguf.py)"
  "$PYTHON" "$REPO/scripts/bench/convert_hf_shim.py" "$LLAMA" "$MODEL" --outtype f16 \
    --outfile "$GGUF/tinyllama-f16.gguf.tmp"
  mv "$GGUF/tinyllama-f16.gguf.tmp" "$GGUF/tinyllama-f16.gguf"
fi
for type in Q4_0 Q4_K_M; do
  out=$GGUF/tinyllama-$(echo "$type" | tr 'A-Z' 'a-z').gguf
  if [ ! -f "$out" ]; then
    log "llama-quantize $type"
    "$LLAMA_BIN/llama-quantize" "$GGUF/tinyllama-f16.gguf" "$out.tmp" "$type" "$THREADS" >"$GGUF/quantize-$type.log" 2>&1 ||
      { tail -20 "$GGUF/quantize-$type.log" >&2; exit 1; }
    mv "$out.tmp" "$out"
  fi
done
AWQ_MODEL=$SCRATCH/tinyllama-awq-rtn-gemv
if [ ! -f "$AWQ_MODEL/config.json" ]; then
  log "awq quantize --method rtn --version gemv"
  "$AWQ" quantize "$MODEL" --method rtn --version gemv --out "$AWQ_MODEL" --overwrite --threads "$THREADS"
fi

# ---- is the machine idle? ----
log "machine"
grep -m1 'model name' /proc/cpuinfo | sed 's/.*: /cpu: /'
echo "cores: $(nproc); flags: $(grep -m1 -o -w -E 'avx512_vnni|avx512vnni' /proc/cpuinfo | head -1 || echo 'no avx512 vnni')"
echo "load average (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
busy=$(top -b -n 2 -d 1 | awk '/^top -/{n++} n==2 && $1 ~ /^[0-9]+$/ && $9+0 >= 10 {print $1, $9 "%", $12}' || true)
if [ -n "$busy" ]; then
  echo "WARNING: other processes are using the cores (pid, %cpu, command):"
  echo "$busy" | sed 's/^/  /'
  echo "WARNING: both engines spin-wait their threads; with a core taken the figures below are not comparable."
else
  echo "no other process above 10 % of a core: the machine looks idle"
fi

# ---- interleaved rounds ----
# The int8-activation prefill (issue 26) is the default; AWQ_CPU_PREFILL=float measures BLAS instead.
export AWQ_CPU_PREFILL=${AWQ_CPU_PREFILL:-int8}
echo "AWQ_CPU_PREFILL=$AWQ_CPU_PREFILL (int8: prefill on int8 activations with AVX-512 VNNI; float: dequantize + BLAS)"
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
RESULTS=$SCRATCH/results-$stamp
mkdir -p "$RESULTS"
for type in q4_0 q4_k_m; do echo "$GGUF/tinyllama-$type.gguf" >"$RESULTS/gguf-$type.path"; done
if [ "$QUICK" = 1 ]; then
  P=64; N=16; AWQ_PREFILL=16,64; AWQ_DECODE=16
else
  P=512; N=64; AWQ_PREFILL=16,512; AWQ_DECODE=64
fi
for r in $(seq 1 "$ROUNDS"); do
  for type in q4_0 q4_k_m; do
    log "round $r/$ROUNDS: llama-bench $type"
    "$LLAMA_BIN/llama-bench" -m "$GGUF/tinyllama-$type.gguf" -t "$THREADS" -p "$P" -n "$N" -r 1 -o json \
      >"$RESULTS/llama-$type-r$r.json" 2>"$RESULTS/llama-$type-r$r.log"
    "$PYTHON" -c 'import json, sys
for t in json.load(open(sys.argv[1])):
    print("  %4d prompt %3d gen: %.1f tok/s" % (t["n_prompt"], t["n_gen"], t["avg_ts"]))' "$RESULTS/llama-$type-r$r.json"
  done
  for head in source int8; do
    log "round $r/$ROUNDS: awq bench, batch 1 (prefill, decode, bandwidth), lm_head $head"
    "$AWQ" bench "$AWQ_MODEL" --variants gemv --batch 1 --prefill "$AWQ_PREFILL" --decode "$AWQ_DECODE" --warmup 1 \
      --repeats 1 --threads "$THREADS" --lm-head "$head" --bandwidth --json "$RESULTS/awq-b1-$head-r$r.json" \
      2>"$RESULTS/awq-b1-$head-r$r.log"
  done
  log "round $r/$ROUNDS: awq bench, batch 8 decode, lm_head int8"
  "$AWQ" bench "$AWQ_MODEL" --variants gemv --batch 8 --prefill 16 --decode "$AWQ_DECODE" --warmup 1 \
    --repeats 1 --threads "$THREADS" --lm-head int8 --json "$RESULTS/awq-b8-int8-r$r.json" 2>"$RESULTS/awq-b8-int8-r$r.log"
done

log "summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $THREADS threads, $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"
[ "$QUICK" = 1 ] && echo "(--quick: prefill $P, decode $N, one round: a smoke check, not a measurement)"
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PYTHON" "$REPO/scripts/bench/summarize_vs_llamacpp.py" "$RESULTS" "$LLAMA" "$P" | tee "$RESULTS/summary.md"
echo
echo "raw results: $RESULTS"
