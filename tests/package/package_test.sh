#!/usr/bin/env bash
# The Debian package, end to end, without installing anything into /:
#   1. cpack -G DEB in the build tree (into WORK/pkg)
#   2. its control fields and file list (binaries, shim, desktop entry, icon, metainfo,
#      man pages, doc, demo model and texts; nothing outside /usr)
#   3. lintian: no errors (warnings are printed)
#   4. dpkg -x into WORK/root, then from there: awq --version (which must report the
#      scratch root's data folder, not the source tree), awq info on the installed demo
#      model, a short awq generate (which must load the scratch root's libawq_spm.so),
#      desktop-file-validate / appstreamcli validate on the installed files when present,
#      and awq-studio under xvfb-run (or offscreen) taking a screenshot.
# usage: package_test.sh --cpack CPACK --build BUILD_DIR --work WORK_DIR --gui ON|OFF
# Exit 77 (CTest: skipped) when dpkg-deb is missing (not a Debian system).
set -euo pipefail

cpack=cpack build="" work="" gui=ON
while [ $# -gt 0 ]; do
  case "$1" in
    --cpack) cpack=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --gui) gui=$2; shift 2 ;;
    *) echo "package_test: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$build" ] && [ -n "$work" ] || { echo "usage: $0 --cpack CPACK --build DIR --work DIR --gui ON|OFF" >&2; exit 2; }
case "$gui" in ON|on|1|TRUE|true|YES|yes) gui=ON ;; *) gui=OFF ;; esac

fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
step() { echo "== $* ($((SECONDS))s)"; }
command -v dpkg-deb >/dev/null || { echo "package_test: dpkg-deb not found, skipping"; exit 77; }

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

step "cpack -G DEB"
(cd "$build" && "$cpack" -G DEB -B "$work/pkg") >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack -G DEB"; }
debs=("$work"/pkg/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb in $work/pkg, found: ${debs[*]}"
deb=${debs[0]}
echo "$(basename "$deb"): $(du -h "$deb" | cut -f1)"

step "control fields"
dpkg-deb -f "$deb" Package Version Architecture Maintainer Installed-Size Section Depends
depends=$(dpkg-deb -f "$deb" Depends)
want_deps=(libtorch1.13 libsentencepiece0 libopenblas0-openmp libc6 libstdc++6)
[ "$gui" = ON ] && want_deps+=(libqt6core6 libqt6gui6 libqt6widgets6 libqt6charts6 qt6-qpa-plugins)
dep_names=$(sed 's/([^)]*)//g; s/|/,/g' <<<"$depends" | tr ',' '\n' | tr -d ' ')
for d in "${want_deps[@]}"; do
  grep -qxF "$d" <<<"$dep_names" || fail "Depends lacks $d: $depends"
done
[ "$(dpkg-deb -f "$deb" Package)" = awq-studio ] || fail "package name"

step "file list"
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' | sort >"$work/files.txt"
want_files=(
  /usr/bin/awq
  /usr/lib/awq-studio/libawq_spm.so
  /usr/share/awq-studio/models/demo-llama/config.json
  /usr/share/awq-studio/models/demo-llama/model.safetensors
  /usr/share/awq-studio/models/demo-llama/tokenizer.model
  /usr/share/awq-studio/models/demo-llama/tokenizer_config.json
  /usr/share/awq-studio/models/demo-llama/README.md
  /usr/share/awq-studio/text/brown-calibration.txt
  /usr/share/awq-studio/text/brown-heldout.txt
  /usr/share/man/man1/awq.1.gz
  /usr/share/doc/awq-studio/copyright
  /usr/share/doc/awq-studio/changelog.gz
)
[ "$gui" = ON ] && want_files+=(
  /usr/bin/awq-studio
  /usr/share/man/man1/awq-studio.1.gz
  /usr/share/applications/awq-studio.desktop
  /usr/share/icons/hicolor/scalable/apps/awq-studio.svg
  /usr/share/metainfo/org.awqstudio.AwqStudio.metainfo.xml
)
for f in "${want_files[@]}"; do
  grep -qxF "$f" "$work/files.txt" || { cat "$work/files.txt"; fail "the package lacks $f"; }
done
outside=$(grep -v '^/usr\(/\|$\)' "$work/files.txt" | grep -vx '/' || true)
[ -z "$outside" ] || fail "files outside /usr: $outside"
grep -v '/$' "$work/files.txt"

step "lintian"
command -v lintian >/dev/null || fail "lintian is not installed (scripts/setup-deps.sh installs it)"
# --fail-on error: warnings and infos are shown but do not fail the test.
if ! lintian --fail-on error --tag-display-limit 0 "$deb" >"$work/lintian.txt" 2>&1; then
  cat "$work/lintian.txt"; fail "lintian reports errors"
fi
grep -v "^running with root privileges" "$work/lintian.txt" || echo "(lintian: nothing to report)"

step "dpkg -x into a scratch root"
root="$work/root"
dpkg -x "$deb" "$root"
# Nothing may point the programs elsewhere: no data or shim overrides from the environment.
unset AWQ_STUDIO_DATA AWQ_SPM_LIBRARY AWQ_SOURCE_DIR
for b in "$root/usr/bin/awq" "$root/usr/bin/awq-studio" "$root/usr/lib/awq-studio/libawq_spm.so"; do
  [ -e "$b" ] || continue
  rpath=$(readelf -d "$b" | grep -E 'R(UN)?PATH' || true)
  if [ -n "$rpath" ] && grep -v '\$ORIGIN' <<<"$rpath" | grep -q .; then
    fail "$b has a non-relocatable RPATH/RUNPATH: $rpath"
  fi
done

step "awq --version"
"$root/usr/bin/awq" --version | tee "$work/version.txt"
grep -qx "data: $root/usr/share/awq-studio" "$work/version.txt" ||
  fail "the installed awq does not use the scratch root's data folder $root/usr/share/awq-studio"

step "awq info (installed demo model)"
"$root/usr/bin/awq" info "$root/usr/share/awq-studio/models/demo-llama" || fail "awq info on the installed demo model"

step "awq generate (the installed sentencepiece shim)"
LD_DEBUG=libs "$root/usr/bin/awq" generate "$root/usr/share/awq-studio/models/demo-llama" \
  --prompt "The" --max-new-tokens 8 --threads 1 >"$work/generate.txt" 2>"$work/generate.err" ||
  { grep -v '^ *[0-9]*:' "$work/generate.err" || true; fail "awq generate on the installed demo model"; }
grep -q "calling init: $root/usr/lib/awq-studio/libawq_spm.so\$" "$work/generate.err" ||
  { grep -F libawq_spm "$work/generate.err" || true; fail "awq did not load the scratch root's libawq_spm.so"; }
echo "generated: $(tr '\n' ' ' <"$work/generate.txt")"

if [ "$gui" = ON ]; then
  step "desktop entry and AppStream metadata"
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$root/usr/share/applications/awq-studio.desktop" || fail "desktop-file-validate"
  else
    echo "desktop-file-validate not installed: skipped"
  fi
  if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net "$root/usr/share/metainfo/org.awqstudio.AwqStudio.metainfo.xml" ||
      fail "appstreamcli validate"
  else
    echo "appstreamcli not installed: skipped"
  fi

  step "awq-studio (screenshot)"
  shot="$work/awq-studio.png"
  export XDG_CONFIG_HOME="$work/config" XDG_RUNTIME_DIR="$work/runtime"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  if command -v xvfb-run >/dev/null; then
    env -u QT_QPA_PLATFORM xvfb-run -a -s "-screen 0 1280x800x24" \
      "$root/usr/bin/awq-studio" --quit-after 3000 --screenshot "$shot" || fail "awq-studio under xvfb-run"
  else
    QT_QPA_PLATFORM=offscreen "$root/usr/bin/awq-studio" --quit-after 3000 --screenshot "$shot" ||
      fail "awq-studio (offscreen)"
  fi
  [ -s "$shot" ] || fail "no screenshot at $shot"
  [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$shot is not a PNG"
  echo "screenshot: $shot ($(stat -c %s "$shot") bytes)"
fi

step "package test passed"
