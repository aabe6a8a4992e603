#!/bin/sh
# Check the packaging: only imgsync_* symbols are exported, the SONAME is right, and a program
# builds against an installed copy through pkg-config and runs.
set -eu
lib=build/libimgsync.so
fail=0
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^imgsync_' || true)
if [ -n "$bad" ]; then
    echo "install-check: symbols exported outside imgsync_*: $bad" >&2
    fail=1
fi
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
if [ "$soname" != "libimgsync.so.1" ]; then
    echo "install-check: SONAME is '$soname', expected libimgsync.so.1" >&2
    fail=1
fi
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
# DESTDIR staging must honour PREFIX ...
make --no-print-directory -s install PREFIX=/opt/imgsync DESTDIR="$dest/stage" >/dev/null
if [ ! -f "$dest/stage/opt/imgsync/lib/libimgsync.so.1" ] ||
   ! grep -q '^libdir=/opt/imgsync/lib$' "$dest/stage/opt/imgsync/lib/pkgconfig/libimgsync.pc"; then
    echo "install-check: DESTDIR/PREFIX install is wrong" >&2
    fail=1
fi
make --no-print-directory -s uninstall PREFIX=/opt/imgsync DESTDIR="$dest/stage" >/dev/null
# ... and a real prefix must give a pkg-config file a program builds with.
make --no-print-directory -s install PREFIX="$dest/usr" >/dev/null
export PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig"
# shellcheck disable=SC2046
${CC:-cc} -std=c99 -Wall -Wextra -Werror -o "$dest/minimal" examples/minimal.c $(pkg-config --cflags --libs libimgsync)
LD_LIBRARY_PATH="$dest/usr/lib" "$dest/minimal" 2>/dev/null >/dev/null && rc=0 || rc=$?
# minimal without arguments must print its usage and exit 2 (proves it loaded the library)
if [ "$rc" -ne 2 ]; then
    echo "install-check: installed example did not run (exit $rc)" >&2
    fail=1
fi
# the installed imgsync program (built from src/cli) finds the installed library by its rpath
if ! "$dest/usr/bin/imgsync" --version 2>/dev/null | grep -q '^imgsync '; then
    echo "install-check: the installed imgsync does not run" >&2
    fail=1
fi
make --no-print-directory -s uninstall PREFIX="$dest/usr" >/dev/null
left=$(find "$dest/usr" "$dest/stage" -type f | grep -v '/minimal$' || true)
if [ -n "$left" ]; then
    echo "install-check: uninstall left files: $left" >&2
    fail=1
fi
if [ "$fail" -eq 0 ]; then
    echo "install-check: exports, SONAME, pkg-config build and uninstall OK"
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
fi
[ -z "${TEST_SUMMARY:-}" ] || echo "$((1 - fail)) $fail" >>"$TEST_SUMMARY"
exit "$fail"
