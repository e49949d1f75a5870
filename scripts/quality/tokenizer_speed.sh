#!/usr/bin/env bash
# Tokenizer speed, this checkout against an older revision: builds tokenizer_ids from both
# (build_tokenizer_ids.sh) and encodes each resources/text/*.txt file with each tokenizer.json
# given, best of three runs, one line per tokenizer and file:
#   name  file  bytes  tokens  old-seconds  new-seconds  old-MB/s  new-MB/s
# An old revision that refuses a tokenizer.json shows "refused". Timings on a shared machine
# are noisy: run it twice.
#   scripts/quality/tokenizer_speed.sh OLD_REVISION SCRATCH name=path/to/tokenizer.json...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
old=$1
scratch=$2
shift 2
mkdir -p "$scratch/old-tree"
git -C "$root" archive "$old" engine/src engine/include | tar -x -C "$scratch/old-tree"
"$here/build_tokenizer_ids.sh" "$scratch/old-tree" "$scratch/tokenizer_ids_old"
"$here/build_tokenizer_ids.sh" "$root" "$scratch/tokenizer_ids_new"
for spec in "$@"; do
  name=${spec%%=*}
  file=${spec#*=}
  for text in "$root"/resources/text/*.txt; do
    o=$("$scratch/tokenizer_ids_old" speed "$file" "$text" 2>/dev/null || echo "x x x refused")
    n=$("$scratch/tokenizer_ids_new" speed "$file" "$text")
    read -r _ bytes tokens newSeconds <<<"$n"
    read -r _ _ oldTokens oldSeconds <<<"$o"
    awk -v name="$name" -v f="$(basename "$text")" -v b="$bytes" -v t="$tokens" -v ot="$oldTokens" \
        -v os="$oldSeconds" -v ns="$newSeconds" 'BEGIN {
      if (os == "refused") printf "%s\t%s\t%d\t%d\trefused\t%.3f\t-\t%.2f\n", name, f, b, t, ns, b / ns / 1e6;
      else printf "%s\t%s\t%d\t%d (old %d)\t%.3f\t%.3f\t%.2f\t%.2f\n", name, f, b, t, ot, os, ns, b / os / 1e6, b / ns / 1e6 }'
  done
done
