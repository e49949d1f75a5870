#!/usr/bin/env bash
# Installs the Debian 12 packages AWQ Studio needs to build, test and run (the last line:
# what the package test, tests/package, checks the .deb with).
# Idempotent: packages already present are skipped, and apt is not touched at all
# when everything is installed. Must run as root (or with sudo available).
# --fuzz also installs clang and its libFuzzer/sanitizer runtime (scripts/fuzz.sh).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-pthread
  libsentencepiece-dev sentencepiece
  nlohmann-json3-dev
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libxkbcommon-dev libgl-dev
  xvfb xauth
  lintian file desktop-file-utils appstream
)
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi

echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

# LibTorch uses whichever libblas.so.3 is selected; make sure it is OpenBLAS
# (reference BLAS is ~20x slower for the matmuls the engine does).
if command -v update-alternatives >/dev/null; then
  for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
    target=$(update-alternatives --list "$alt" 2>/dev/null | grep -m1 openblas-pthread || true)
    if [ -n "$target" ]; then $SUDO update-alternatives --set "$alt" "$target" >/dev/null; fi
  done
fi
echo "setup-deps: done"
