#!/usr/bin/env bash
# Regenerates docs/screenshots/ from the real widgets on a virtual X server (xvfb-run):
# the application's pages (awq-studio --page ... --screenshot), light and dark, and the
# wizard, chat and dashboard states the UI tests drive (AWQ_SCREENSHOT_DIR).
# Needs a build in build/ (scripts/build.sh) and xvfb (installed by setup-deps.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/docs/screenshots"
bin="$root/build/bin"
mkdir -p "$out"
config="$(mktemp -d)"
trap 'rm -rf "$config"' EXIT
export XDG_CONFIG_HOME="$config" # a fresh settings file: no recent models or remembered choices
export XDG_DATA_HOME="$config/data" # and no saved conversations from earlier runs
xvfb=(xvfb-run -a -s "-screen 0 1600x1000x24")

for page in library quantize chat benchmark; do
    "${xvfb[@]}" "$bin/awq-studio" --theme light --page "$page" --screenshot "$out/app-$page.png" --quit-after 3000
done
"${xvfb[@]}" "$bin/awq-studio" --theme dark --page library --screenshot "$out/app-library-dark.png" --quit-after 3000
"${xvfb[@]}" "$bin/awq-studio" --theme light --page library --screenshot "$out/main-window.png" --quit-after 3000

export AWQ_SCREENSHOT_DIR="$out"
# The tests' own settings and conversations (test mode), not the user's.
"${xvfb[@]}" "$bin/tst_quantize_wizard" quantizesAndTheOutputLoads
"${xvfb[@]}" "$bin/tst_chat_window" sendingStreamsTheReplyIntoTheTranscript compareModeAsksBothModels \
    repliesRenderAsMarkdownWithCopyLinks conversationListAutosavesAndRestores compareModeSavesAndOpensBothSides
"${xvfb[@]}" "$bin/tst_benchmark_dashboard" tinyRunFillsTheTableAndTheCharts chartsAreReadableInASmallWindow
"${xvfb[@]}" "$bin/tst_mainwindow" darkThemeAtRunTimeReachesTheNavigation
"${xvfb[@]}" "$bin/tst_chat_branches" editingAnEarlierMessageBranches
"${xvfb[@]}" "$bin/tst_job_indicator" aChatReplyShowsAndAClickGoesToChat
echo "screenshots in $out:"
ls "$out"
