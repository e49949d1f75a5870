#!/usr/bin/env bash
# The GPU path, proved in one short run (docs/gpu.md). Three modes:
#
#   scripts/gpu-check.sh --prepare      here, with apt: downloads the Debian packages the GPU
#                                       machine lacks (its image has CUDA, PyTorch, CMake, ninja and
#                                       a compiler, no Qt and no Debian -dev packages) into
#                                       .gpu-deps/debs (git-ignored) and prints the device call
#   scripts/gpu-check.sh                on a machine with an NVIDIA GPU and PyTorch: unpacks them
#                                       with dpkg -x into .gpu-deps/root, builds the engine, CLI and
#                                       tests GUI-off against PyTorch's LibTorch, runs every GPU test,
#                                       the kernel bench, awq bench FP16 vs GEMM vs GEMV, GPU vs CPU
#                                       quantization and the logits comparison with transformers,
#                                       and writes one report (9 minutes of wall time on an H100)
#   scripts/gpu-check.sh --dry-run --build DIR
#                                       on this CPU machine (CTest gpu_check_dry_run): every step
#                                       that needs no GPU, on an existing build, GPU steps marked
#                                       skipped, CPU fallbacks where there are some (about a minute)
#
# Options: --out DIR (default $OUT, else build-gpu/report), --build DIR, --jobs N, --budget SECONDS
# (GPU mode: 540; each step's limit is cut to what is left, and the report is rewritten after
# every step, so a run stopped from outside still leaves every figure measured so far).
# The report is DIR/gpu-check-report.md; the full log DIR/gpu-check.log. Every step runs even
# when an earlier one failed (each figure counts on a rare machine); the exit status is 1 when
# any step failed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
caller="$PWD"
mode=gpu
build=""
out="${OUT:-}"
jobs="$(nproc 2>/dev/null || echo 4)"
budget=540
while [ $# -gt 0 ]; do
    case "$1" in
    --prepare) mode=prepare ;;
    --dry-run) mode=dry ;;
    --build) build="$2"; shift ;;
    --out) out="$2"; shift ;;
    --jobs) jobs="$2"; shift ;;
    --budget) budget="$2"; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
# --build and --out are relative to where the script was called from; everything else to the tree.
case "$build" in ""|/*) ;; *) build="$caller/$build" ;; esac
case "$out" in ""|/*) ;; *) out="$caller/$out" ;; esac
cd "$root"

deps="$root/.gpu-deps"
# The build dependencies the GPU image lacks (scripts/setup-deps.sh's, GUI-off), and the
# runtime libraries their .so links point into. ~20 MiB.
DEBS=(
    nlohmann-json3-dev libsentencepiece-dev libsentencepiece0
    libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3
    libutf8proc-dev libutf8proc2
    libcpp-httplib-dev libcpp-httplib0.11 libssl-dev libssl3 libbrotli-dev libbrotli1 zlib1g-dev zlib1g
    qt6-base-dev qt6-base-dev-tools qmake6 qmake6-bin libqt6core6 libqt6test6 libqt6dbus6 libicu72
    libdouble-conversion3 libb2-1
    pkgconf pkgconf-bin libpkgconf3
)
# What the device tool must carry beside the tree (docs/gpu.md).
CARRY='[".gpu-deps/debs"]'
RUN_COMMAND='bash scripts/gpu-check.sh'

if [ "$mode" = prepare ]; then
    grep -qx '/.gpu-deps/' "$root/.gitignore" || { echo "gpu-check: .gitignore must list /.gpu-deps/" >&2; exit 1; }
    rm -rf "$deps/debs"
    mkdir -p "$deps/debs"
    (cd "$deps/debs" && apt-get download "${DEBS[@]}") || { echo "gpu-check: apt-get download failed" >&2; exit 1; }
    bytes=$(du -cb "$deps"/debs/*.deb | tail -1 | cut -f1)
    tree=$(git -C "$root" ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
    total=$(( (bytes + tree) / 1048576 ))
    echo "gpu-check: $(ls "$deps"/debs/*.deb | wc -l) packages, $((bytes / 1048576)) MiB in .gpu-deps/debs;" \
         "with the tree about $total MiB travel (the device tool takes 64 MiB)"
    [ "$total" -lt 60 ] || { echo "gpu-check: too large for the device tool" >&2; exit 1; }
    echo "Device call: run(command=\"$RUN_COMMAND\", carry=$CARRY, timeout_s=600)"
    exit 0
fi

if [ -z "$out" ]; then
    out="$root/build-gpu/report"
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
report="$out/gpu-check-report.md"
log="$out/gpu-check.log"
# Scratch (models, outputs) stays out of $OUT: only the report, the log and the JSON come back.
work="$out/work"
[ "$mode" = gpu ] && work="${TMPDIR:-/tmp}/awq-gpu-check"
rm -rf "$work"
mkdir -p "$work"
: >"$log"
: >"$work/sections.md"
failures=0
started=$(date +%s)
[ "$mode" = dry ] && budget=100000

# step NAME LIMIT_SECONDS COMMAND...: runs it with its output appended to the log, records
# ok / FAILED / skipped with its time in the step table.
steps=()
write_report() {
    {
        echo "# AWQ Studio GPU check ($mode)"
        echo
        echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet 2>/dev/null || echo ' (modified)'), $(( $(date +%s) - started )) s wall so far"
        echo
        sed 's/^/    /' "$work/gpu.txt" 2>/dev/null
        echo
        echo "| step | result | time |"
        echo "|---|---|---|"
        printf '%s\n' "${steps[@]}"
        cat "$work/sections.md"
    } >"$report"
}
step() {
    local name="$1" limit="$2"
    shift 2
    local left=$(( budget - ($(date +%s) - started) ))
    if [ "$left" -lt 15 ]; then
        steps+=("| $name | **not run**: the ${budget} s budget is spent | |")
        failures=$((failures + 1))
        write_report
        return 0
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    local t0 rc
    t0=$(date +%s)
    echo "=== $name: $*" >>"$log"
    # timeout runs a program, not a shell function: hand the step's functions and variables to a
    # fresh bash.
    timeout "$limit" bash -c "$(declare -p root bin build work gpu_device deps DEBS sysroot multiarch torch_prefix \
        pkgconfig_exe jobs 2>/dev/null); $(declare -f); \"\$@\"" gpu-check-step "$@" >>"$log" 2>&1
    rc=$?
    local seconds=$(( $(date +%s) - t0 ))
    if [ $rc -eq 0 ]; then
        steps+=("| $name | ok | $seconds s |")
    else
        failures=$((failures + 1))
        [ $rc -eq 124 ] && rc="timed out after $limit s"
        steps+=("| $name | **FAILED** ($rc) | $seconds s |")
    fi
    echo "=== $name: exit $rc after $seconds s" >>"$log"
    write_report
    return 0
}
skip() { steps+=("| $1 | skipped: $2 | |"); }
section() { { echo; echo "## $1"; echo; } >>"$work/sections.md"; }

if [ "$mode" = gpu ]; then
    build="${build:-$root/build-gpu}"
    gpu_device="cuda:0"
    command -v nvidia-smi >/dev/null && nvidia-smi -L >"$work/gpu.txt" 2>&1 || echo "no nvidia-smi" >"$work/gpu.txt"
    python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.get_device_name(0))' \
        >>"$work/gpu.txt" 2>&1
    torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)' 2>>"$log")

    # 1. The carried Debian packages, unpacked beside the tree (never into /).
    unpack() {
        rm -rf "$deps/root" && mkdir -p "$deps/root" || return 1
        local f
        for f in "$deps"/debs/*.deb; do dpkg -x "$f" "$deps/root" || return 1; done
    }
    [ -d "$deps/debs" ] || { echo "gpu-check: no .gpu-deps/debs: run scripts/gpu-check.sh --prepare first and carry it" >&2; exit 1; }
    step "unpack .gpu-deps/debs" 60 unpack
    sysroot="$deps/root"
    multiarch=x86_64-linux-gnu
    export PKG_CONFIG_SYSROOT_DIR="$sysroot"
    # Only the carried .pc files (LIBDIR replaces the default search path): the same versions as CI.
    export PKG_CONFIG_LIBDIR="$sysroot/usr/lib/$multiarch/pkgconfig:$sysroot/usr/share/pkgconfig"
    export LD_LIBRARY_PATH="$sysroot/usr/lib/$multiarch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    pkgconfig_exe=$(command -v pkg-config || echo "$sysroot/usr/bin/pkgconf")

    # 2. Configure and build GUI-off against PyTorch's LibTorch, Hopper only (time).
    configure() {
        cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAWQ_BUILD_GUI=OFF -DAWQ_ENABLE_CUDA=ON \
            -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc \
            -DCMAKE_PREFIX_PATH="$torch_prefix;$sysroot/usr;$sysroot/usr/lib/$multiarch/cmake" \
            -DPKG_CONFIG_EXECUTABLE="$pkgconfig_exe"
    }
    step "configure (PyTorch LibTorch, sm_90)" 120 configure
    targets=(awq awq_make_fixture awq_dump_logits awq_cuda_kernel_bench tst_cuda_dequantize tst_cuda_gemv
             tst_cuda_gemm_gemv tst_cuda_decoder tst_cuda_plan tst_quantize_device)
    step "build (${#targets[@]} targets, -j$jobs)" 330 cmake --build "$build" -j "$jobs" --target "${targets[@]}"
else
    [ -n "$build" ] && [ -x "$build/bin/awq" ] || { echo "gpu-check --dry-run: --build DIR must hold a built tree (bin/awq)" >&2; exit 2; }
    build="$(cd "$build" && pwd)"
    gpu_device="cpu"
    echo "dry run on $(uname -n): no GPU steps" >"$work/gpu.txt"
    skip "unpack, configure, build" "dry run (uses the build at $build)"
    # The packaging side: the list is what --prepare downloads; each name must be a package here.
    check_debs() { apt-cache show "${DEBS[@]}" >/dev/null; }
    if command -v apt-cache >/dev/null; then step "the carried package list resolves" 60 check_debs; fi
fi
bin="$build/bin"

# 3. Every GPU test (skipping themselves without a GPU), and the CPU-side tests of the GPU code.
run_tests() {
    local names="tst_cuda_plan|tst_quantize_device"
    if [ -x "$bin/tst_cuda_decoder" ]; then names="$names|tst_cuda_dequantize|tst_cuda_gemv|tst_cuda_gemm_gemv|tst_cuda_decoder"; fi
    ctest --test-dir "$build" -R "^($names)\$" -V
}
step "tests: GPU kernels, CUDA decoder, plan, device-generic quantizer" 240 run_tests
section "Tests"
grep -E "FAIL!  :|SKIP   :|QINFO  :|Totals:|tests passed|tests failed|Loc: " "$log" | tail -n 150 | sed 's/^/    /' \
    >>"$work/sections.md"

# 4. The kernel bench (GPU), or the CPU kernels' (dry run).
section "Kernel bench"
if [ "$mode" = gpu ]; then
    step "kernel bench" 120 bash -c "'$bin/awq_cuda_kernel_bench' --repeats 20 >'$work/kernels.txt'"
else
    skip "CUDA kernel bench" "no GPU; CPU kernels instead"
    step "kernel bench (CPU fallback)" 60 bash -c "'$bin/awq' bench --kernels --kernel-shapes 256x512 --kernel-rows 1,8 >'$work/kernels.txt'"
fi
sed 's/^/    /' "$work/kernels.txt" >>"$work/sections.md" 2>/dev/null

# 5. awq bench: FP16 vs GEMM vs GEMV on TinyLlama-1.1B and Llama-2-7B shapes.
section "awq bench"
bench() { # SHAPE BATCHES PREFILLS DECODE NAME
    "$bin/awq" bench --synthetic "$1" --device "$gpu_device" --variants fp32,gemm,gemv --batch "$2" --prefill "$3" \
        --decode "$4" --warmup 1 --repeats 1 --json "$work/bench-$5.json" >"$work/bench-$5.txt"
}
if [ "$mode" = gpu ]; then
    step "awq bench tinyllama-1.1b" 150 bench tinyllama-1.1b 1,8,16 512,2048 32 tinyllama
    step "awq bench llama-2-7b" 300 bench llama-2-7b 1,8,16 512,2048 32 llama-2-7b
else
    skip "awq bench on the GPU" "no GPU; the fused CPU decoder on the tiny shape instead"
    step "awq bench tiny (CPU fallback)" 120 bench tiny 1,2 16,32 4 tiny
fi
for f in "$work"/bench-*.txt; do [ -f "$f" ] && { echo "### $(basename "$f" .txt)"; echo; sed 's/^/    /' "$f"; echo; } >>"$work/sections.md"; done

# 6. Quantization on the GPU against the CPU: a TinyLlama-shaped fixture (4 of its 22 layers, fp16).
section "GPU quantization vs CPU"
quant_compare() {
    local model="$work/quant-model" layers="$1" device="$2" common t0
    if [ "$layers" = tiny ]; then # hidden 64: groups of 32; context 256
        "$bin/awq_make_fixture" "$model" --gqa >/dev/null || return 1
        common=(--group-size 32 --n-samples 64 --seq-len 128 --no-memory-check)
    else
        "$bin/awq_make_fixture" "$model" --tinyllama --layers "$layers" >/dev/null || return 1
        common=(--n-samples 64 --seq-len 512 --no-memory-check)
    fi
    t0=$(date +%s)
    "$bin/awq" quantize "$model" --out "$work/quant-cpu" --device cpu "${common[@]}" || return 1
    echo "cpu quantize: $(( $(date +%s) - t0 )) s" | tee "$work/quant-times.txt"
    t0=$(date +%s)
    "$bin/awq" quantize "$model" --out "$work/quant-dev" --device "$device" "${common[@]}" || return 1
    echo "$device quantize: $(( $(date +%s) - t0 )) s" | tee -a "$work/quant-times.txt"
    if env -u LD_LIBRARY_PATH python3 -c 'import numpy' 2>/dev/null; then
        env -u LD_LIBRARY_PATH python3 "$root/scripts/gpu/compare_quantized.py" "$work/quant-cpu" "$work/quant-dev" \
            >"$work/quant.txt"
    else # no numpy (the CPU machine): the CPU device must reproduce the default run byte for byte
        cmp "$work/quant-cpu/model.safetensors" "$work/quant-dev/model.safetensors" && echo "cpu vs $device: identical" >"$work/quant.txt"
    fi
}
if [ "$mode" = gpu ]; then
    step "quantize TinyLlama-shaped (4 layers) on cuda:0 and cpu, compare" 240 quant_compare 4 cuda:0
else
    skip "quantize on the GPU" "no GPU; the CPU device twice on the tiny fixture (same bytes)"
    step "quantize the tiny fixture, device cpu twice" 180 quant_compare tiny cpu
fi
sed 's/^/    /' "$work/quant-times.txt" >>"$work/sections.md" 2>/dev/null
sed 's/^/    /' "$work/quant.txt" >>"$work/sections.md" 2>/dev/null

# 7. Logits against transformers on random-init fixtures of every architecture (fp16).
section "Logits vs transformers (fp16, random-init fixtures)"
parse_python() { python3 -c 'import ast, sys; [ast.parse(open(f).read(), f) for f in sys.argv[1:]]' "$@"; }
step "python scripts parse" 30 parse_python "$root/scripts/gpu/compare_transformers.py" "$root/scripts/gpu/compare_quantized.py"
if [ "$mode" = gpu ]; then
    # PyTorch's Python runs on the image's own libraries (the binaries find the carried ones by RPATH).
    step "logits vs transformers" 180 env -u LD_LIBRARY_PATH python3 "$root/scripts/gpu/compare_transformers.py" --bin "$bin" \
        --work "$work/arch" --device "$gpu_device" --json "$work/transformers.json" --table "$work/transformers.md"
else
    skip "transformers comparison" "transformers exists only on the GPU machine; our side dumped on the CPU"
    step "logits dump of every architecture (CPU)" 180 python3 "$root/scripts/gpu/compare_transformers.py" --bin "$bin" \
        --work "$work/arch" --device cpu --ours-only --table "$work/transformers.md"
fi
cat "$work/transformers.md" >>"$work/sections.md" 2>/dev/null

write_report
# What comes back from the device tool: the report, the log and the bench JSON (8 files at most).
cp "$work"/bench-*.json "$work/transformers.json" "$out/" 2>/dev/null
echo "gpu-check: $failures failed step(s); report: $report"
[ "$failures" -eq 0 ]
