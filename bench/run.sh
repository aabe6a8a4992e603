#!/bin/sh
# Benchmark of a full sync (`make bench`): build build/bench_sync, start a real registry
# (tests/registry/registry.py, Debian docker-registry) in a temporary directory, seed it with
# BENCH_REPOS repositories x BENCH_TAGS tags (default 300 x 10), run build/bench_sync against it
# and print its figures. The registry is stopped and the directory removed however this ends.
#
#   BENCH_REPOS=N BENCH_TAGS=N   dataset size
#   BENCH_ONLY=abcd              configurations to run (see bench/bench_sync.c)
#   BENCH_CALLGRIND=1            also run configuration (a) once under callgrind
#                                (build/callgrind.out) and print the top 15 functions
#   PYTHON=python3 MAKE=make     tools
set -eu

cd "$(dirname "$0")/.."

repos=${BENCH_REPOS:-300}
tags=${BENCH_TAGS:-10}
only=${BENCH_ONLY:-abcd}
py=${PYTHON:-python3}
mk=${MAKE:-make}
case $repos$tags in
*[!0-9]* | '') echo "run.sh: BENCH_REPOS and BENCH_TAGS must be positive integers" >&2; exit 2 ;;
esac
if [ "$repos" -lt 1 ] || [ "$tags" -lt 1 ]; then
    echo "run.sh: BENCH_REPOS and BENCH_TAGS must be positive integers" >&2
    exit 2
fi

$mk --no-print-directory build/bench_sync >/dev/null

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-bench.XXXXXX")
cleanup() {
    "$py" tests/registry/registry.py stop --dir "$tmp/registry" || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$tmp/registry"
port=$("$py" tests/registry/registry.py start --dir "$tmp/registry")
url="http://127.0.0.1:$port"
echo "registry: docker-registry $url ($tmp/registry)"

"$py" tests/registry/registry.py seed-bulk --url "$url" --repos "$repos" --tags "$tags" \
    --out "$tmp/expected.json"

echo "host: $(uname -sm), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs (registry on the same host)"
build/bench_sync --only "$only" "$url" "$tmp/expected.json"

if [ "${BENCH_CALLGRIND:-0}" = 1 ]; then
    if ! command -v valgrind >/dev/null 2>&1 || ! command -v callgrind_annotate >/dev/null 2>&1; then
        echo "run.sh: BENCH_CALLGRIND=1 needs valgrind and callgrind_annotate (Debian package valgrind)" >&2
        exit 1
    fi
    echo
    echo "callgrind: configuration (a) once, one process -> build/callgrind.out"
    callgrind() {
        valgrind --tool=callgrind --callgrind-out-file=build/callgrind.out -q \
            "$1" --only a --no-fork "$url" "$tmp/expected.json" 2>"$tmp/valgrind.err"
    }
    if ! callgrind build/bench_sync; then
        if ! grep -q 'debuginfo reader' "$tmp/valgrind.err"; then
            cat "$tmp/valgrind.err" >&2
            exit 1
        fi
        # e.g. valgrind 3.19 cannot read clang 14's DWARF 5: profile a copy without debug info
        # (function names still come from the symbol table, file names are lost)
        echo "callgrind: valgrind cannot read the debug info of build/bench_sync; retrying on a copy without it"
        objcopy --strip-debug build/bench_sync "$tmp/bench_sync"
        callgrind "$tmp/bench_sync" || { cat "$tmp/valgrind.err" >&2; exit 1; }
    fi
    cat "$tmp/valgrind.err" >&2
    echo
    echo "callgrind: top 15 functions by instructions (exclusive), whole program:"
    # the function table follows the line naming its columns ("Ir ... file:function")
    callgrind_annotate build/callgrind.out 2>/dev/null |
        awk 'table && NF { print; if (++n == 15) exit }
             /file:function/ { table = 1; getline }'
fi
