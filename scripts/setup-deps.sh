#!/usr/bin/env bash
# Installs the Debian 12 packages AWQ Studio needs to build, test and run (the last line:
# what the package test, tests/package, checks the .deb with).
# Idempotent: packages already present are skipped, apt is not touched at all when
# everything is installed, and the BLAS alternatives are changed only when they differ.
# Must run as root (or with sudo available).
# --fuzz also installs clang and its libFuzzer/sanitizer runtime (scripts/fuzz.sh);
# --llamacpp-bench the Python packages that scripts/bench-vs-llamacpp.sh needs.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-openmp
  libsentencepiece-dev sentencepiece
  nlohmann-json3-dev libpcre2-dev libutf8proc-dev
  libcpp-httplib-dev curl python3
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libxkbcommon-dev libgl-dev
  xvfb xauth xdotool x11-apps netpbm
  lintian file desktop-file-utils appstream
)
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES+=(clang-14 libclang-rt-14-dev)
fi
# scripts/bench-vs-llamacpp.sh (not CI): llama.cpp's GGUF converter on Debian's Python.
if [ "${1:-}" = "--llamacpp-bench" ]; then
  PACKAGES+=(python3-torch python3-numpy python3-sentencepiece python3-yaml python3-tqdm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#PACKAGES[@]} packages already installed"
else
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    echo "setup-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# LibTorch uses whichever libblas.so.3 is selected; make it OpenBLAS built with OpenMP.
# Reference BLAS is ~20x slower for the engine's matmuls, and the pthreads OpenBLAS keeps
# its own threads spinning beside the engine's OpenMP threads: on 2 cores that halved the
# FP32 decode and the int4 prefill (docs/benchmarks.md). The OpenMP build shares libgomp's
# threads with LibTorch and the engine, and runs single-threaded inside their parallel loops.
if command -v update-alternatives >/dev/null; then
  for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu libopenblas.so.0-x86_64-linux-gnu; do
    target=$(update-alternatives --list "$alt" 2>/dev/null | grep -m1 openblas-openmp || true)
    current=$(update-alternatives --query "$alt" 2>/dev/null | sed -n 's/^Value: //p')
    if [ -n "$target" ] && [ "$current" != "$target" ]; then
      $SUDO update-alternatives --set "$alt" "$target" >/dev/null
    fi
  done
fi
echo "setup-deps: done"
