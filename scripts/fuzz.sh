#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang with AddressSanitizer and UBSan) in
# ./build-fuzz, replays every seed of tests/fuzz/corpus, then fuzzes each target for
# SECONDS (default 20) from those seeds. Exits non-zero on any finding: a crash, a
# sanitizer report, an exception other than awq::Error, a timeout or an out-of-memory;
# the input that caused it is kept in build-fuzz/findings/. docs/reliability.md has the
# longer runs. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-20}"
bash scripts/setup-deps.sh --fuzz
jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
      -DAWQ_BUILD_FUZZERS=ON -DAWQ_BUILD_GUI=OFF -DAWQ_ENABLE_CUDA=OFF >/dev/null
cmake --build build-fuzz --target awq_fuzzers -j "$jobs"
(cd build-fuzz && ctest -L fuzz --output-on-failure)

findings="$root/build-fuzz/findings"
rm -rf "$findings" build-fuzz/fuzz-work
mkdir -p "$findings"
export ASAN_OPTIONS=detect_leaks=0
status=0
for target in safetensors config chat_template calibration tokenizer_json; do
  work="build-fuzz/fuzz-work/$target"
  mkdir -p "$work"
  log="build-fuzz/fuzz-work/$target.log"
  echo "fuzz: $target for ${seconds}s"
  if ! build-fuzz/bin/fuzz_$target -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
         -print_final_stats=1 -artifact_prefix="$findings/$target-" "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    echo "fuzz: FINDING in $target (input kept in $findings):" >&2
    tail -40 "$log" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$log" | sed "s/^/fuzz: $target /" || true
  fi
done
exit "$status"
