#!/usr/bin/env bash
# Quick start 2: installs what is needed, builds, and runs every test (CTest).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/build.sh
jobs="$(nproc 2>/dev/null || echo 2)"
cd build
ctest --output-on-failure -j "$jobs" --timeout 900
