#!/usr/bin/env bash
# Quick start 2: installs what is needed, builds, and runs every test (CTest), then a short
# fuzzing run of the file readers (scripts/fuzz.sh: clang, ASan + UBSan).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/build.sh
jobs="$(nproc 2>/dev/null || echo 2)"
(cd build && ctest --output-on-failure -j "$jobs" --timeout 900)
bash scripts/fuzz.sh "${AWQ_FUZZ_SECONDS:-20}"
