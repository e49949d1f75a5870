#!/usr/bin/env bash
# Builds scripts/quality/tokenizer_ids.cpp against the tokenizer.json sources of an engine
# tree (this checkout, or an older one unpacked with `git archive`), with g++ alone: no
# LibTorch, no Qt, no CMake. Used by compare_tokenizers.sh and tokenizer_speed.sh.
#   scripts/quality/build_tokenizer_ids.sh SOURCE_ROOT OUTPUT_BINARY
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$1
out=$2
src=$root/engine/src
files=("$src/core/error.cpp" "$src/io/atomic_file.cpp" "$src/io/json_file.cpp")
# The union of the file sets over the tokenizer's history: the hand-written matcher
# (split_pattern, unicode_tables) before PCRE2, the pipeline split by stage after.
for f in unicode_text unicode_tables split_pattern hf_regex bpe_model word_models hf_pipeline hf_normalizers hf_precompiled \
         hf_pre_tokenizers hf_decoders hf_bpe_backend; do
  if [ -f "$src/tokenizer/$f.cpp" ]; then files+=("$src/tokenizer/$f.cpp"); fi
done
libs=()
if [ -f "$src/tokenizer/hf_regex.cpp" ]; then libs=(-lpcre2-8 -lutf8proc); fi
g++ -std=c++17 -O2 -DNDEBUG -I"$root/engine/include" -I"$src" -o "$out" "$here/tokenizer_ids.cpp" "${files[@]}" "${libs[@]}"
