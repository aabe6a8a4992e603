#!/bin/sh
# Check the packaging: only imgsync_* symbols are exported and the SONAME is right; `make install`
# only copies (no compiler line, nothing in build/ made again), gives a /usr program without
# RUNPATH, honours DESTDIR and PREFIX, installs the man pages, completions, pkg-config and CMake
# files; `make uninstall` removes all of it and the directories install created, nothing else;
# and from an installed tree a dynamic (pkg-config), a static (pkg-config --static, the command
# of README.md) and a CMake consumer build and run. Leaves build/ made for the default PREFIX.
set -eu
lib=build/libimgsync.so
fail=0
err() { echo "install-check: $*" >&2; fail=1; }
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^imgsync_' || true)
[ -z "$bad" ] || err "symbols exported outside imgsync_*: $bad"
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libimgsync.so.1" ] || err "SONAME is '$soname', expected libimgsync.so.1"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
mk() { make --no-print-directory "$@"; }

# --- a /usr package staged in DESTDIR: install only copies, the program has no RUNPATH -------
mk -s all PREFIX=/usr >/dev/null
touch "$dest/before"
sleep 1 # mtimes of files install would make again must be later than the mark
mk install PREFIX=/usr DESTDIR="$dest/stage" >"$dest/install.log" 2>&1 || { cat "$dest/install.log" >&2; err "make install failed"; }
cc_name=$(basename "${CC:-cc}")
if grep -E "(^|[ /])($cc_name|cc|gcc|clang|ld)( |$)| -o |ldconfig" "$dest/install.log" >&2; then
    err "make install compiled, linked or ran ldconfig (above) for a DESTDIR staging"
fi
remade=$(find build -newer "$dest/before" -type f)
[ -z "$remade" ] || err "make install made files in build/ again: $remade"
s="$dest/stage/usr"
for f in lib/libimgsync.so.1 lib/libimgsync.so lib/libimgsync.a lib/pkgconfig/libimgsync.pc \
         lib/cmake/libimgsync/libimgsyncConfig.cmake lib/cmake/libimgsync/libimgsyncConfigVersion.cmake \
         include/imgsync.h include/imgsync/sys/provider.h bin/imgsync share/man/man1/imgsync.1 \
         share/man/man3/libimgsync.3 share/man/man3/libimgsync-provider.3 \
         share/bash-completion/completions/imgsync share/zsh/site-functions/_imgsync; do
    [ -e "$s/$f" ] || err "make install did not install $f"
done
grep -q '^libdir=/usr/lib$' "$s/lib/pkgconfig/libimgsync.pc" 2>/dev/null || err "libimgsync.pc: libdir is not /usr/lib"
if readelf -d "$s/bin/imgsync" | grep -E 'RUNPATH|RPATH' >&2; then
    err "the /usr imgsync program has a RUNPATH or RPATH (above)"
fi
# a second install over the first one: uninstall still removes the directories the first made
mk -s install PREFIX=/usr DESTDIR="$dest/stage" >/dev/null
mk -s uninstall PREFIX=/usr DESTDIR="$dest/stage" >/dev/null
left=$(cd "$dest/stage" && find . -mindepth 1)
[ -z "$left" ] || err "uninstall of the /usr staging (installed twice) left: $left"

# --- ldconfig: only for the system itself (PREFIX /usr or /usr/local, no DESTDIR); as root
# (install checks the uid) it cannot be tried here without installing into /usr
# shellcheck disable=SC2016 # $(RUN_LDCONFIG) is make's
ldconfig_for() { make --no-print-directory -s --eval 'show-ldconfig: ; @echo "$(RUN_LDCONFIG)"' show-ldconfig "$@"; }
if [ "$(ldconfig_for PREFIX=/usr)" != yes ] || [ "$(ldconfig_for PREFIX=/usr/local/)" != yes ] ||
   [ -n "$(ldconfig_for PREFIX=/usr DESTDIR="$dest/stage")" ] || [ -n "$(ldconfig_for PREFIX=/opt/imgsync)" ]; then
    err "ldconfig would not run exactly for PREFIX /usr and /usr/local without DESTDIR"
fi

# --- directories that existed before are kept, with what else is in them --------------------
mkdir -p "$dest/pre/usr/share/man/man1"
echo keep >"$dest/pre/usr/share/man/man1/other.1"
mk -s install PREFIX=/usr DESTDIR="$dest/pre" >/dev/null
mk -s uninstall PREFIX=/usr DESTDIR="$dest/pre" >/dev/null
left=$(cd "$dest/pre" && find . -mindepth 1 | sort | tr '\n' ' ')
[ "$left" = "./usr ./usr/share ./usr/share/man ./usr/share/man/man1 ./usr/share/man/man1/other.1 " ] ||
    err "uninstall into an existing tree left or took the wrong things: $left"

# --- install refuses files made for another prefix, and creates nothing ---------------------
if mk -s install PREFIX=/opt/imgsync DESTDIR="$dest/refused" >"$dest/refused.log" 2>&1 ||
   [ -e "$dest/refused" ] || ! grep -q "run 'make'" "$dest/refused.log"; then
    cat "$dest/refused.log" >&2
    err "make install of files made for /usr into PREFIX=/opt/imgsync was not refused with a hint"
fi

# --- a real prefix: the consumers build and run from the installed tree ---------------------
p="$dest/usr"
mk -s all PREFIX="$p" >/dev/null
mk -s install PREFIX="$p" >/dev/null
export PKG_CONFIG_PATH="$p/lib/pkgconfig"
cc="${CC:-cc} -std=c99 -Wall -Wextra -Werror"
# the installed imgsync (src/cli) finds the installed library by its rpath (not a system prefix)
"$p/bin/imgsync" --version 2>/dev/null | grep -q '^imgsync ' || err "the installed imgsync does not run"
# dynamic: pkg-config
# shellcheck disable=SC2046
$cc -o "$dest/minimal" examples/minimal.c $(pkg-config --cflags --libs libimgsync) || err "dynamic consumer does not build"
rc=0
LD_LIBRARY_PATH="$p/lib" "$dest/minimal" >/dev/null 2>&1 || rc=$?
# minimal without arguments must print its usage and exit 2 (proves it loaded the library)
[ "$rc" -eq 2 ] || err "dynamic consumer (minimal) did not run (exit $rc)"
# shellcheck disable=SC2046
if ! $cc -o "$dest/consumer" tests/cmake-consumer/consumer.c $(pkg-config --cflags --libs libimgsync); then
    err "dynamic consumer does not build"
elif ! LD_LIBRARY_PATH="$p/lib" "$dest/consumer" | grep -q '^consumer: libimgsync .*, 0 images$'; then
    err "dynamic consumer does not run"
fi
# static: libimgsync.a, its dependencies dynamically (README.md, "Installing")
# shellcheck disable=SC2046
$cc -o "$dest/consumer-static" tests/cmake-consumer/consumer.c $(pkg-config --cflags libimgsync) \
    $(pkg-config --static --libs libimgsync | sed 's/-limgsync\>/-l:libimgsync.a/') ||
    err "static consumer does not build"
if readelf -d "$dest/consumer-static" 2>/dev/null | grep -q 'NEEDED.*libimgsync'; then
    err "static consumer needs libimgsync.so"
fi
"$dest/consumer-static" | grep -q '^consumer: libimgsync .*, 0 images$' || err "static consumer does not run"
# CMake: find_package(libimgsync), shared and static targets
if command -v cmake >/dev/null; then
    if cmake -S tests/cmake-consumer -B "$dest/cmake" -DCMAKE_PREFIX_PATH="$p" >"$dest/cmake.log" 2>&1 &&
       cmake --build "$dest/cmake" >>"$dest/cmake.log" 2>&1; then
        LD_LIBRARY_PATH="$p/lib" "$dest/cmake/consumer" | grep -q '^consumer: libimgsync .*, 0 images$' ||
            err "CMake consumer does not run"
        "$dest/cmake/consumer_static" | grep -q '^consumer: libimgsync .*, 0 images$' ||
            err "CMake static consumer does not run"
        ! readelf -d "$dest/cmake/consumer_static" | grep -q 'NEEDED.*libimgsync' ||
            err "CMake static consumer needs libimgsync.so"
    else
        cat "$dest/cmake.log" >&2
        err "CMake consumer does not configure or build"
    fi
    # the version file refuses a newer version than the installed one
    ! cmake -S tests/cmake-consumer -B "$dest/cmake-newer" -DCMAKE_PREFIX_PATH="$p" -DIMGSYNC_WANT=0.2 \
        >/dev/null 2>&1 || err "find_package(libimgsync 0.2) accepted version 0.1"
else
    err "cmake is not installed (Debian package cmake)"
fi
mk -s uninstall PREFIX="$p" >/dev/null
left=$(find "$p" 2>/dev/null || true)
[ -z "$left" ] || err "uninstall left: $left"
# build/ back to the default PREFIX, as `make` leaves it
mk -s all >/dev/null

if [ "$fail" -eq 0 ]; then
    echo "install-check: exports, SONAME, copy-only install without RUNPATH, uninstall, pkg-config," \
        "static and CMake consumers OK"
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
fi
[ -z "${TEST_SUMMARY:-}" ] || echo "$((1 - fail)) $fail" >>"$TEST_SUMMARY"
exit "$fail"
