#!/usr/bin/env bash
# Held-out perplexity (256-token windows: the model's context) of the demo model at full precision, RTN and AWQ, at w4 g128 and
# w3 g128 (docs/quality.md). w4 runs write real packed GEMM checkpoints; w3 has no packed
# format, so it is evaluated through --fake-quant (the dequantized weights in fp16).
# usage: scripts/quality/demo-quant-quality.sh [extra awq quantize options...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
awq="$root/build/bin/awq"
model="$root/resources/models/demo-llama"
text="$root/resources/text/brown-heldout.txt"
work="${WORK:-$root/build/quality}"
mkdir -p "$work"

ppl() { "$awq" perplexity "$1" --text "$text" 2>/dev/null | sed -n 's/^perplexity: \([0-9.]*\).*/\1/p'; }

printf '| config | FP16 | RTN | AWQ | gap recovered |\n|---|---|---|---|---|\n'
fp=$(ppl "$model")
for bits in 4 3; do
  format=()
  [ "$bits" = 4 ] || format=(--fake-quant)
  for method in rtn awq; do
    "$awq" quantize "$model" --out "$work/$method-w$bits" --overwrite --method "$method" --w-bit "$bits" \
      --group-size 128 "${format[@]}" "$@" > "$work/$method-w$bits.log" 2>&1
  done
  rtn=$(ppl "$work/rtn-w$bits")
  awq_=$(ppl "$work/awq-w$bits")
  recovered=$(python3 -c "print(f'{100*($rtn-$awq_)/($rtn-$fp):.0f} %' if $rtn>$fp else 'n/a')")
  printf '| w%s g128 | %s | %s | %s | %s |\n' "$bits" "$fp" "$rtn" "$awq_" "$recovered"
done
