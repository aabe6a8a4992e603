#!/bin/sh
# The man pages (build/man, made by `make man`) document everything: every IMGSYNC_EXTERN function
# of include/imgsync/*.h is named in libimgsync.3 and of include/imgsync/sys/*.h in
# libimgsync-provider.3; every command and option of the imgsync program (src/cli/options.c,
# src/cli/main.c) is in imgsync.1; groff (and mandoc, when installed) find nothing to warn about.
# It also checks itself: a page with one function or command taken out must fail.
set -u
fail=0
err() { echo "man-check: $*" >&2; fail=1; }

functions() { # the public functions a header set declares
    sed -n 's/^IMGSYNC_EXTERN[^(]*[ *]\([a-z_0-9]*\)(.*/\1/p' "$@"
}
commands() { sh tests/tools/cli-names.sh commands; }
options() { sh tests/tools/cli-names.sh options; }
# names missing from page $1 (read on stdin, one per line)
missing_functions() {
    while read -r f; do grep -q "\\b$f\\b" "$1" || echo "$f"; done
}
missing_commands() {
    while read -r c; do grep -q "^\\.SY \"imgsync $c\"" "$1" && grep -q "^\\.B $c\$" "$1" || echo "$c"; done
}
missing_options() {
    while read -r o; do grep -qF -- "$(echo "$o" | sed 's/-/\\-/g')" "$1" || echo "$o"; done
}

pages="build/man/imgsync.1 build/man/libimgsync.3 build/man/libimgsync-provider.3"
for p in $pages; do [ -s "$p" ] || err "$p is missing (make man)"; done
if [ "$fail" -eq 0 ]; then
    m=$(functions include/imgsync/*.h | missing_functions build/man/libimgsync.3)
    [ -z "$m" ] || err "libimgsync.3 does not document:" "$m"
    m=$(functions include/imgsync/sys/*.h | missing_functions build/man/libimgsync-provider.3)
    [ -z "$m" ] || err "libimgsync-provider.3 does not document:" "$m"
    m=$(commands | missing_commands build/man/imgsync.1)
    [ -z "$m" ] || err "imgsync.1 does not document the commands:" "$m"
    m=$(options | missing_options build/man/imgsync.1)
    [ -z "$m" ] || err "imgsync.1 does not document the options:" "$m"
    [ "$(functions include/imgsync/*.h | wc -l)" -gt 100 ] || err "found too few public functions"
    [ "$(commands | wc -l)" -ge 10 ] || err "found too few commands in src/cli/options.c"
    for p in $pages; do
        w=$(groff -man -ww -z "$p" 2>&1)
        [ -z "$w" ] || err "groff warns about $p: $w"
        if command -v mandoc >/dev/null; then
            w=$(mandoc -T lint -W warning "$p" 2>&1)
            [ -z "$w" ] || err "mandoc warns about $p: $w"
        fi
    done
    # the check itself: a function and a command taken out are found missing
    tmp=$(mktemp)
    grep -v 'imgsync_iter_next' build/man/libimgsync.3 >"$tmp"
    [ "$(echo imgsync_iter_next | missing_functions "$tmp")" = imgsync_iter_next ] ||
        err "self-test: a function missing from the page was not noticed"
    grep -v '^\.B schedule rm$' build/man/imgsync.1 >"$tmp"
    [ "$(echo 'schedule rm' | missing_commands "$tmp")" = 'schedule rm' ] ||
        err "self-test: a command missing from the page was not noticed"
    rm -f "$tmp"
fi
if [ "$fail" -eq 0 ]; then
    echo "man-check: every public function, SPI function, command and option documented; no warnings"
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
fi
[ -z "${TEST_SUMMARY:-}" ] || echo "$((1 - fail)) $fail" >>"$TEST_SUMMARY"
exit "$fail"
