#!/usr/bin/env bash
# The engine on a GPU in one command: OpenCL tests, verify and bench, results in one folder.
#
#   Benchmarks/gpu_check.sh bundle             here: build (release, tests included) and pack
#                                              .gpu/bundle.tar.xz with everything the run needs
#   Benchmarks/gpu_check.sh run [OUT]          there: unpack the bundle, run the checks on the
#                                              first GPU, write OUT (default Benchmarks/out/gpu)
#   Benchmarks/gpu_check.sh selftest [OUT]     here: bundle, then `run` in a scrubbed environment
#                                              on whatever OpenCL device exists (PoCL), the
#                                              end-to-end check of this script
#
# The GPU machine has the NVIDIA driver (libnvidia-opencl.so.1) but maybe no Swift, no OpenCL
# ICD loader, no clFFT and no network. So the bundle carries: lorem-gpu linked with Swift's
# standard library and Foundation statically (--static-swift-stdlib), the XCTest binary of the
# test suite with the Swift runtime libraries it loads, the ICD loader libOpenCL.so.1, libclFFT
# and an ICD file naming NVIDIA's OpenCL driver (used when the machine registers none). The
# bundle goes to the GPU machine as an ignored path in the device tool's `carry` (.gpu), e.g.
#
#   run(command: "bash Benchmarks/gpu_check.sh run $OUT/gpu", carry: [".gpu"], timeout_s: 560)
#
# `run` is time-boxed (LOREM_GPU_CHECK_BUDGET seconds, default 480) so it ends inside one device
# call; each step's output is written as it finishes, so a cut-short run still reports. The steps
# run cheapest-verdict first: verify, the kernel and engine tests, bench, then the larger runs.
#
# LOREM_GPU_BASELINE=path/to/lorem-gpu (bundle): a second binary, e.g. the wave-1 engine a472119
# built with --static-swift-stdlib, carried as bin/lorem-gpu-baseline; `run` then benches it and
# the current one alternately in one step (compare_baseline), --model random, --no-stages.
# LOREM_GPU_BASELINE_NAME names it in the MANIFEST.
# LOREM_GPU_CHECK_PACK=1 (run): pack every file but summary.md into OUT/results.tar.gz at the end,
# since the device tool brings back at most 8 files.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="$ROOT/.gpu/bundle.tar.xz"
SCRATCH="${LOREM_GPU_SCRATCH:-$ROOT/.build-gpu}"

die() { pack; echo "gpu_check: $*" >&2; exit 1; }

bundle() {
    command -v swift >/dev/null || die "swift not found"
    cd "$ROOT" || die "no repository at $ROOT"
    # lorem-gpu: release, Swift's stdlib and Foundation linked in. The tests: the debug build
    # `swift test` uses (XCTest has no static library to link, so its runtime travels as .so).
    mkdir -p "$SCRATCH"
    local log="$SCRATCH/gpu_check-build.log"
    echo "building lorem-gpu (release, --static-swift-stdlib) in $SCRATCH ..."
    swift build -c release --static-swift-stdlib --product lorem-gpu --scratch-path "$SCRATCH" \
        >"$log" 2>&1 || { tail -30 "$log"; die "build failed (log: $log)"; }
    echo "building the tests (debug) in .build ..."
    swift build --build-tests >"$log" 2>&1 || { tail -30 "$log"; die "test build failed (log: $log)"; }
    local stage
    stage="$(mktemp -d)"
    mkdir -p "$stage/bin" "$stage/lib" "$stage/vendors"
    cp "$SCRATCH/release/lorem-gpu" "$ROOT/.build/debug/lorem-gpuPackageTests.xctest" "$stage/bin/"
    if [[ -n "${LOREM_GPU_BASELINE:-}" ]]; then
        [[ -x "$LOREM_GPU_BASELINE" ]] || die "LOREM_GPU_BASELINE=$LOREM_GPU_BASELINE is not an executable"
        cp "$LOREM_GPU_BASELINE" "$stage/bin/lorem-gpu-baseline"
    fi
    # Debug info is most of their size and the device tool carries at most 64 MiB.
    strip --strip-debug "$stage/bin/"*
    # Every library the two binaries load that is not part of the C/C++ runtime every Linux has.
    local lib
    for lib in $(ldd "$stage/bin/lorem-gpu" "$stage/bin/lorem-gpuPackageTests.xctest" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u); do
        case "$(basename "$lib")" in
            libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libstdc++.so*|libgcc_s.so*|ld-linux*) ;;
            *) cp -L "$lib" "$stage/lib/" ;;
        esac
    done
    # NVIDIA's OpenCL driver, for a machine whose /etc/OpenCL/vendors is empty.
    echo "libnvidia-opencl.so.1" >"$stage/vendors/nvidia.icd"
    {
        echo "commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- Sources Kernels Tests || echo '+changes')"
        echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m), $(ldd --version | head -1)"
        echo "root $ROOT"
        [[ -n "${LOREM_GPU_BASELINE:-}" ]] && echo "baseline ${LOREM_GPU_BASELINE_NAME:-$LOREM_GPU_BASELINE}"
        swift --version 2>&1 | head -1
    } >"$stage/MANIFEST"
    mkdir -p "$ROOT/.gpu"
    tar -C "$stage" -cf - . | xz -T0 -6 >"$BUNDLE.tmp" && mv "$BUNDLE.tmp" "$BUNDLE" || die "cannot write $BUNDLE"
    rm -rf "$stage"
    echo "wrote $BUNDLE ($(du -h "$BUNDLE" | cut -f1))"
}

# Runs "$@" with a time limit, its output to $OUT/$name.log; records the status in the summary.
step() {
    local name="$1" limit=$(( $2 * ${LOREM_GPU_CHECK_SCALE:-1} )); shift 2
    local left=$(( DEADLINE - $(date +%s) ))
    if (( left < 20 )); then
        echo "| $name | skipped: the time box is spent |" >>"$OUT/summary.md"; return 1
    fi
    (( limit > left )) && limit=$left
    local t0=$(date +%s) rc
    timeout --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1; rc=$?
    local took=$(( $(date +%s) - t0 ))
    local verdict="ok"
    (( rc == 124 || rc == 137 )) && verdict="cut at ${limit} s"
    (( rc != 0 && rc != 124 && rc != 137 )) && verdict="FAILED (exit $rc)"
    echo "| $name | $verdict, ${took} s |" >>"$OUT/summary.md"
    echo "$name: $verdict (${took} s)"
    return $rc
}

# With LOREM_GPU_CHECK_PACK=1: everything but summary.md into OUT/results.tar.gz.
pack() {
    [[ "${LOREM_GPU_CHECK_PACK:-}" == 1 && -d "${OUT:-}" ]] || return 0
    local files; files="$(cd "$OUT" && ls -A | grep -vxE 'summary.md|results.tar.gz')"
    [[ -n "$files" ]] || return 0
    (cd "$OUT" && tar -czf results.tar.gz $files && rm -f $files)
}

run_checks() {
    local any_device="$1"
    OUT="${2:-$ROOT/Benchmarks/out/gpu}"
    DEADLINE=$(( $(date +%s) + ${LOREM_GPU_CHECK_BUDGET:-480} ))
    [[ -f "$BUNDLE" ]] || die "no bundle at $BUNDLE: run 'Benchmarks/gpu_check.sh bundle' first (and carry .gpu)"
    mkdir -p "$OUT" || die "cannot create $OUT"
    local B; B="$(mktemp -d /tmp/lorem-gpu-bundle.XXXXXX)"
    trap "rm -rf '$B'" EXIT  # B is local: expanded now, not when the trap runs
    if command -v xz >/dev/null; then
        xz -dc "$BUNDLE" | tar -C "$B" -xf - || die "cannot unpack $BUNDLE"
    else
        python3 -c 'import lzma, sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())' "$BUNDLE" \
            | tar -C "$B" -xf - || die "cannot unpack $BUNDLE (no xz; python3's lzma failed too)"
    fi
    export LD_LIBRARY_PATH="$B/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    # NVIDIA's OpenCL driver may be present but not registered (the machine may register only
    # PoCL): give the loader every registered ICD plus NVIDIA's, by full path when it lives outside
    # the linker's search path, as under /usr/local/nvidia.
    local nv
    nv="$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl.so.1/ {print $NF; exit}')"
    [[ -z "$nv" ]] && nv="$(ls /usr/local/nvidia/lib64/libnvidia-opencl.so.1 /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 2>/dev/null | head -1)"
    if [[ -n "$nv" ]] && ! grep -qs nvidia /etc/OpenCL/vendors/*.icd; then
        cp /etc/OpenCL/vendors/*.icd "$B/vendors/" 2>/dev/null
        echo "$nv" >"$B/vendors/nvidia.icd"
        export OCL_ICD_VENDORS="$B/vendors"
    elif ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
        export OCL_ICD_VENDORS="$B/vendors"
    fi
    # The tests find their fixtures through the source paths they were compiled with.
    local built_root; built_root="$(awk '$1 == "root" {print $2}' "$B/MANIFEST")"
    if [[ "$built_root" != "$ROOT" && ! -e "$built_root/Tests/Fixtures" ]]; then
        mkdir -p "$(dirname "$built_root")" && ln -sfn "$ROOT" "$built_root"
    fi
    local lorem="$B/bin/lorem-gpu" tests="$B/bin/lorem-gpuPackageTests.xctest"
    # XCTest selects by Module.Class, comma separated: every class of a test module.
    classes() { "$tests" --list-tests 2>/dev/null | awk -F/ -v m="$1." 'index($1, m) == 1 {print $1}' | sort -u | paste -sd, -; }
    {
        echo "# lorem-gpu on a GPU: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo
        sed 's/^/    /' "$B/MANIFEST"
        echo
        echo "| step | result |"
        echo "|---|---|"
    } >"$OUT/summary.md"
    { nvidia-smi -L 2>&1 || true; ldd "$lorem" "$tests"; echo "OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-}"; } >"$OUT/environment.log" 2>&1
    if grep -q "=> not found" "$OUT/environment.log"; then
        echo "| libraries | FAILED: $(grep -c "=> not found" "$OUT/environment.log") not found (environment.log) |" >>"$OUT/summary.md"
    fi
    step devices 60 "$lorem" devices || die "no OpenCL device (see $OUT/devices.log, $OUT/environment.log)"
    cat "$OUT/devices.log"
    if [[ "$any_device" != yes ]] && ! grep -qi '^\*.*gpu,' "$OUT/devices.log"; then
        die "the default OpenCL device is not a GPU (see $OUT/devices.log)"
    fi
    # End to end against the CPU reference first (float32 and float64), then the device families'
    # tests and the engine's, then the timings and the commands that run the engine end to end.
    step verify_f32 60 "$lorem" verify --precision f32
    step verify_f64 60 "$lorem" verify --precision f64
    step tests_kernels 240 "$tests" "$(classes LoremCLTests)"
    step tests_engine 200 "$tests" "$(classes LoremGPUEngineTests)"
    # The issue's range (10k to 100k atoms) on a GPU; a CPU self-test keeps to sizes it can hold.
    local cells="4,8,12,16,22" water="512,4096,16384" large="24" huge="32"
    [[ "$any_device" == yes ]] && { cells="2,4"; water="64"; large=""; huge=""; }
    step bench_f32 180 "$lorem" bench -q --precision f32 --cells "$cells" --water "$water" --molecules 256 \
        --repeats 3 --json "$OUT/bench_f32.json"
    [[ -n "$large" ]] && step bench_large 120 "$lorem" bench -q --precision f32 --model default --cells "$large" \
        --repeats 2 --no-stages --json "$OUT/bench_large.json"
    if [[ -x "$B/bin/lorem-gpu-baseline" ]]; then
        local ccells="12,16,22" cwater="4096,16384"
        [[ "$any_device" == yes ]] && { ccells="2"; cwater="64"; }
        step compare_baseline 150 bash -c '
            for round in 1 2; do
                for which in baseline current; do
                    bin="$1"; [[ $which == baseline ]] && bin="$2"
                    echo "## round $round: $which"
                    "$bin" bench -q --model random --precision f32 --cells "$3" --water "$4" --repeats 2 \
                        --no-stages --json "$5/compare_${which}_$round.json" || exit 1
                done
            done' compare "$lorem" "$B/bin/lorem-gpu-baseline" "$ccells" "$cwater" "$OUT"
    fi
    step tests_commands 120 "$tests" "$(classes LoremGPUTests)"
    # 262,144 atoms: more than a 24 GiB machine holds.
    [[ -n "$huge" ]] && step bench_huge 120 "$lorem" bench -q --precision f32 --model default --cells "$huge" \
        --repeats 1 --no-stages --json "$OUT/bench_huge.json"
    {
        echo
        for t in tests_kernels tests_engine tests_commands; do
            [[ -f "$OUT/$t.log" ]] && echo "$t: $(grep -E 'Executed [0-9]+ tests' "$OUT/$t.log" | tail -1 | sed 's/^[[:space:]]*//')"
        done
        echo
        echo '```'
        cat "$OUT/devices.log"
        grep -hE '^(OK|FAILED)' "$OUT"/verify_*.log 2>/dev/null
        [[ -f "$OUT/bench_f32.log" ]] && cat "$OUT/bench_f32.log"
        [[ -f "$OUT/bench_large.log" ]] && cat "$OUT/bench_large.log"
        [[ -f "$OUT/compare_baseline.log" ]] && cat "$OUT/compare_baseline.log"
        [[ -f "$OUT/bench_huge.log" ]] && cat "$OUT/bench_huge.log"
        echo '```'
    } >>"$OUT/summary.md"
    echo "results in $OUT (summary.md)"
    pack
    # Non-zero when anything failed, was cut at its limit or skipped for lack of time.
    ! grep -qE "FAILED|cut at|skipped" "$OUT/summary.md"
}

case "${1:-}" in
    bundle) bundle ;;
    run) run_checks no "${2:-}" ;;
    selftest)
        bundle || exit 1
        # A scrubbed environment: no Swift toolchain on PATH, only the bundle's libraries.
        env -i PATH=/usr/bin:/bin HOME="${HOME:-/root}" LOREM_GPU_CHECK_BUDGET="${LOREM_GPU_CHECK_BUDGET:-3000}" \
            LOREM_GPU_CHECK_SCALE="${LOREM_GPU_CHECK_SCALE:-8}" \
            bash "$0" run-any "${2:-$ROOT/Benchmarks/out/gpu-selftest}"
        ;;
    run-any) run_checks yes "${2:-}" ;;
    *) sed -n '2,24p' "$0"; exit 2 ;;
esac
