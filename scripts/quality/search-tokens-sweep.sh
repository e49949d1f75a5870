#!/usr/bin/env bash
# The scale-search token budget (--max-search-tokens) against quality and time on the demo
# model (docs/quality.md): held-out perplexity of FP, RTN and AWQ with each budget, at
# w4 g128, w4 g64 (packed GEMM checkpoints) and w3 g128 (--fake-quant), and the seconds each
# AWQ run spent in its layers (scale + clip search; awq_studio_quant.json "seconds.layers").
# Timings on a shared machine are noisy: compare the ratios within one run.
# usage: [CONFIGS="4 128,3 128"] [FP=115.8881] scripts/quality/search-tokens-sweep.sh [BUDGET...]
#        (default budgets: 1024 4096 8192 0, 0 = all; default configs: w4 g128, w4 g64, w3 g128)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
awq="${AWQ:-$root/build/bin/awq}"
model="$root/resources/models/demo-llama"
text="$root/resources/text/brown-heldout.txt"
work="${WORK:-$root/build/quality-sweep}"
mkdir -p "$work"
budgets=("$@")
[ ${#budgets[@]} -gt 0 ] || budgets=(1024 4096 8192 0)

ppl() { "$awq" perplexity "$1" --text "$text" 2>/dev/null | sed -n 's/^perplexity: \([0-9.]*\).*/\1/p'; }
layer_seconds() { python3 -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['seconds']['layers']:.1f}\")" "$1/awq_studio_quant.json"; }

fp="${FP:-$(ppl "$model")}"
echo "FP: $fp"
printf '| config | RTN | budget | AWQ | gap recovered | layer seconds |\n|---|---|---|---|---|---|\n'
IFS=, read -r -a configs <<< "${CONFIGS:-4 128,4 64,3 128}"
for config in "${configs[@]}"; do
  read -r bits group <<< "$config"
  format=()
  [ "$bits" = 4 ] || format=(--fake-quant)
  name="w$bits-g$group"
  "$awq" quantize "$model" --out "$work/rtn-$name" --overwrite --method rtn --w-bit "$bits" --group-size "$group" \
    "${format[@]}" > "$work/rtn-$name.log" 2>&1
  rtn=$(ppl "$work/rtn-$name")
  for budget in "${budgets[@]}"; do
    out="$work/awq-$name-$budget"
    "$awq" quantize "$model" --out "$out" --overwrite --w-bit "$bits" --group-size "$group" "${format[@]}" \
      --max-search-tokens "$budget" > "$out.log" 2>&1
    awq_=$(ppl "$out")
    recovered=$(python3 -c "print(f'{100*($rtn-$awq_)/($rtn-$fp):.1f} %' if $rtn>$fp else 'n/a')")
    printf '| w%s g%s | %s | %s | %s | %s | %s |\n' "$bits" "$group" "$rtn" "$budget" "$awq_" "$recovered" \
      "$(layer_seconds "$out")"
  done
done
