#!/bin/sh
# Profile of bench_million (`make bench-million-callgrind`): run build/bench_million once under
# callgrind (BENCH_IMAGES images, default 100000) and print, for each phase the bench dumps on its
# own (setup and the generator alone, sync 1, sync 2 of the unchanged data, iterate), the top
# BENCH_TOP (default 15) functions by inclusive and by self instructions, then the biggest
# callees of the functions named in BENCH_CALLEES (those the phase ran; default: the provider's
# page handler, the scope commit, the store's replace and the iterator). The profiles stay in
# build/callgrind.million.out.N for callgrind_annotate.
set -eu

cd "$(dirname "$0")/.."

images=${BENCH_IMAGES:-100000}
top=${BENCH_TOP:-15}
callees=${BENCH_CALLEES:-on_tags scope_commit replace_in_tx imgsync__store_diff write_put imgsync__sqlite_read_rows sqlite_snapshot imgsync_iter_next}
mk=${MAKE:-make}
case $images$top in
*[!0-9]* | '') echo "million_callgrind.sh: BENCH_IMAGES and BENCH_TOP must be positive integers" >&2; exit 2 ;;
esac
if ! command -v valgrind >/dev/null 2>&1 || ! command -v callgrind_annotate >/dev/null 2>&1; then
    echo "million_callgrind.sh: needs valgrind and callgrind_annotate (Debian package valgrind)" >&2
    exit 1
fi

$mk --no-print-directory build/bench_million >/dev/null

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-million-cg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

out=build/callgrind.million.out
rm -f "$out" "$out".*
callgrind() {
    valgrind --tool=callgrind --callgrind-out-file="$out" -q "$1" "$images" 2>"$tmp/valgrind.err"
}
echo "callgrind: build/bench_million $images -> $out.N (one file per phase)"
if ! callgrind build/bench_million; then
    if ! grep -q 'debuginfo reader' "$tmp/valgrind.err"; then
        cat "$tmp/valgrind.err" >&2
        exit 1
    fi
    # e.g. valgrind 3.19 cannot read clang 14's DWARF 5: profile a copy without debug info
    echo "callgrind: valgrind cannot read the debug info of build/bench_million; retrying on a copy without it"
    rm -f "$out" "$out".*
    objcopy --strip-debug build/bench_million "$tmp/bench_million"
    callgrind "$tmp/bench_million" || { cat "$tmp/valgrind.err" >&2; exit 1; }
fi
cat "$tmp/valgrind.err" >&2

# The function table follows the line naming its columns ("Ir ... file:function"). The frames
# every phase runs under (libc start, main, the loader, run_sync) are left out: in a dump taken
# mid-run callgrind shows their whole cost as theirs. Paths are shortened to the repository's,
# objects to their file name (none for the bench itself), and a function named twice (absolute and relative
# source path) is shown once.
table() {
    callgrind_annotate --threshold=100 "$@" 2>/dev/null |
        awk -v top="$top" -v root="$(pwd)/" '
            table && !NF { exit }
            table {
                if ($0 ~ /\(below main\)|__libc_start|:main \[|ld-linux|:run_sync \[/) next
                gsub(root, ""); gsub(/\[[^]]*\//, "["); sub(/ \[bench_million\]$/, "")
                if (seen[$0]++) next
                print; if (++n == top) exit
            }
            /file:function/ { table = 1; getline }'
}
# The 8 biggest callees (inclusive) of function $1 in profile $2.
callees_of() {
    callgrind_annotate --tree=calling --inclusive=yes --threshold=100 "$2" 2>/dev/null |
        awk -v fn="$1" -v root="$(pwd)/" '
            !NF { if (p) exit; next }
            p && $0 ~ /\*  / { exit }
            $0 ~ ("\\*  [^ ]*:" fn " \\[") { p = 1 }
            p {
                gsub(root, ""); gsub(/\[[^]]*\//, "["); sub(/ \[bench_million\]$/, "")
                print; if (++n == 9) exit
            }'
}
for f in "$out".*; do
    what=$(sed -n 's/^desc: Trigger: Client Request: //p' "$f")
    [ -n "$what" ] || continue
    total=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { print $1; exit }')
    echo
    echo "== $what: $total instructions (Ir) =="
    echo "-- top $top inclusive --"
    table --inclusive=yes "$f"
    echo "-- top $top self --"
    table "$f"
    for fn in $callees; do
        c=$(callees_of "$fn" "$f")
        [ -n "$c" ] || continue
        echo "-- $fn: its biggest callees --"
        echo "$c"
    done
done
