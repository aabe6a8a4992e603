#!/bin/sh
# Run libFuzzer harnesses for a fixed time each: run.sh BUILD_DIR SECONDS BINARY...
# Each harness works on a scratch copy of its seed corpus (tests/fuzz/corpus/<name>/ is never
# written to); a crash, leak, UBSan report or timeout fails it, its log and reproducer stay in
# BUILD_DIR. Prints one line per harness, then "N passed, M failed"; exit status 1 on a failure.
set -u
dir=$1
secs=$2
shift 2
pass=0
fail=0
mkdir -p "$dir/work" "$dir/logs" "$dir/artifacts"
for bin in "$@"; do
    name=$(basename "$bin")
    work="$dir/work/$name"
    log="$dir/logs/$name.log"
    rm -rf "$work"
    mkdir -p "$work"
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp "tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null
    fi
    set --
    [ -f "tests/fuzz/$name.dict" ] && set -- "-dict=tests/fuzz/$name.dict"
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
        "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/$name-" "$@" "$work" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ] && ! grep -q 'runtime error:\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|ERROR: libFuzzer' "$log"; then
        pass=$((pass + 1))
        echo "$name: ok (${runs:-? runs}, ${eps:-?} exec/s, ${cov:-cov: ?})"
    else
        fail=$((fail + 1))
        echo "$name: FAILED (exit $rc; log $log)"
        grep -m 3 'runtime error:\|ERROR: \|SUMMARY: \|Test unit written' "$log" | sed 's/^/    /'
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
