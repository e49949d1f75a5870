#!/usr/bin/env bash
# Quick start 1: installs what is needed, builds, and opens AWQ Studio on the bundled
# demo model (or on the model folder given as the first argument).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/build.sh
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec build/bin/awq-studio "$@"
fi
# No screen (a server, a container, CI): run on a virtual one and save what it shows.
shot="$root/build/awq-studio-screenshot.png"
echo "run-app: no display found; running on a virtual X server for 8 s, screenshot: $shot"
exec xvfb-run -a -s "-screen 0 1280x800x24" build/bin/awq-studio "$@" --screenshot "$shot" --quit-after 8000
