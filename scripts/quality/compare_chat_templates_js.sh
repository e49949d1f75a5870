#!/usr/bin/env bash
# Second reference for the chat templates (not part of the build or CI): installs
# @huggingface/jinja (the Jinja port Transformers.js uses) into a scratch folder outside the
# repository and renders every case of tests/data/chat_templates/jinja2-reference.json with
# it, printing per template how many renderings equal Python Jinja2's. The engine itself is
# compared with Jinja2 by tst_chat_template_reference. Needs node/npm.
#   scripts/quality/compare_chat_templates_js.sh [SCRATCH]     (default /tmp/awq-jinja-peers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
scratch=${1:-/tmp/awq-jinja-peers}
mkdir -p "$scratch"
(
  cd "$scratch"
  [ -f package.json ] || npm init -y >/dev/null
  npm install --no-audit --no-fund @huggingface/jinja@0.5.13 >/dev/null
)
node "$here/compare_chat_templates_js.mjs" "$scratch" "$root/tests/data/chat_templates/jinja2-reference.json" \
  "$root/tests/data/chat_templates"
