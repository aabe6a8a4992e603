#!/bin/sh
# The ABI gate (make abi-check): compare a library with its committed abidw baseline.
#   abi-check.sh BASELINE.abi LIBRARY HEADERS_DIR CHANGELOG
# Fails on any change abidiff reports other than added symbols (removed or changed functions,
# variables or types: an incompatible change, or one that needs a deliberate new baseline), and
# on added symbols that the Unreleased section of CHANGELOG does not name under an "### ABI"
# heading. Only types of the public headers count (the handles are opaque).
#   abi-check.sh --self-test
# runs the gate on small libraries built for the purpose: unchanged passes; a removed function,
# a changed parameter type and an added function without or outside the ABI note fail; an added
# function named in the note passes.
set -u

# the symbols a library defines, one per line, without their version
lib_symbols() {
    nm -D --defined-only "$1" | awk '$2 ~ /[TDBRVWi]/ {sub(/@.*/, "", $3); print $3}' | sort -u
}
# the symbols of an abidw baseline
abi_symbols() {
    sed -n "s/.*<elf-symbol name='\([^']*\)'.*is-defined='yes'.*/\1/p" "$1" | sort -u
}
# the text under "### ABI..." headings of the "## [Unreleased]" section
abi_notes() {
    awk '/^## / {unreleased = ($0 ~ /^## \[Unreleased\]/); abi = 0; next}
         unreleased && /^### / {abi = ($0 ~ /^### ABI/); next}
         unreleased && abi {print}' "$1"
}

gate() { # BASELINE LIBRARY HEADERS CHANGELOG
    base=$1 lib=$2 headers=$3 changelog=$4
    work=$(mktemp -d)
    # Handles are opaque: a struct the public headers do not define is private, whatever
    # abidiff concludes from its header's name (src/core/ctx.h defines imgsync_ctx; libabigail
    # takes it for the public ctx.h).
    public=$(grep -rhoE --include='*.h' 'struct [A-Za-z_0-9]+ \{' "$headers" | awk '{print $2}' | sort -u | paste -sd '|' -)
    printf '[suppress_type]\n  type_kind = struct\n  name_not_regexp = ^(%s)$\n' "${public:-none}" >"$work/private.supp"
    abidiff --no-added-syms --drop-private-types --hd2 "$headers" --suppressions "$work/private.supp" \
        "$base" "$lib" >"$work/report" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$work/report" >&2
        if [ $((rc & 8)) -ne 0 ]; then
            echo "abi-check: INCOMPATIBLE ABI change against $base (above)" >&2
        elif [ $((rc & 4)) -ne 0 ]; then
            echo "abi-check: ABI change against $base (above): only additions are allowed;" \
                "an intended compatible change needs a new baseline (make abi-baseline) and a CHANGELOG ABI note" >&2
        else
            echo "abi-check: abidiff failed (exit $rc)" >&2
        fi
        rm -rf "$work"
        return 1
    fi
    abi_symbols "$base" >"$work/old"
    lib_symbols "$lib" >"$work/new"
    abi_notes "$changelog" >"$work/notes"
    missing=
    for s in $(comm -13 "$work/old" "$work/new"); do
        grep -qw -- "$s" "$work/notes" || missing="$missing $s"
    done
    added=$(comm -13 "$work/old" "$work/new" | wc -l)
    rm -rf "$work"
    if [ -n "$missing" ]; then
        echo "abi-check: added symbols not named under an '### ABI' heading of the Unreleased section" \
            "of $changelog:$missing" >&2
        return 1
    fi
    echo "abi-check: $lib keeps the ABI of $base ($added added symbols, each noted in $changelog)"
    return 0
}

self_test() {
    t=$(mktemp -d)
    trap 'rm -rf "$t"' EXIT
    fail=0
    # vN/ holds the public header, vN.src/ the source and its private header
    for v in v1 v2 v3 v4 v5 v6; do mkdir -p "$t/$v" "$t/$v.src/priv"; done
    cat >"$t/v1/t.h" <<'H'
struct t_opts { int a; };
typedef struct t_ctx t_ctx;
int t_a(int x);
int t_b(const struct t_opts *o);
int t_d(t_ctx *c);
H
    # the opaque handle's body, in a private header of the same name (as src/core/ctx.h)
    printf 'struct t_ctx { int x; };\n' >"$t/v1.src/priv/t.h"
    cat >"$t/v1.src/t.c" <<'C'
#include "t.h"
#include "priv/t.h"
struct t_private { int q; };
int t_a(int x) { struct t_private p = {x}; return p.q; }
int t_b(const struct t_opts *o) { return o->a; }
int t_d(t_ctx *c) { return c->x; }
C
    # v2 removes t_b, v3 adds t_c, v4 changes the type of t_a's parameter
    grep -v t_b "$t/v1/t.h" >"$t/v2/t.h"
    grep -v '^int t_b' "$t/v1.src/t.c" >"$t/v2.src/t.c"
    { cat "$t/v1/t.h"; echo 'int t_c(void);'; } >"$t/v3/t.h"
    { cat "$t/v1.src/t.c"; echo 'int t_c(void) { return 3; }'; } >"$t/v3.src/t.c"
    sed 's/int t_a(int x)/int t_a(long x)/' "$t/v1/t.h" >"$t/v4/t.h"
    sed 's/int t_a(int x) { struct t_private p = {x}/int t_a(long x) { struct t_private p = {(int)x}/' \
        "$t/v1.src/t.c" >"$t/v4.src/t.c"
    # v5 changes the opaque handle's private layout, v6 a member of the public struct
    for v in v2 v3 v4 v5 v6; do cp "$t/v1.src/priv/t.h" "$t/$v.src/priv/t.h"; done
    cp "$t/v1/t.h" "$t/v5/"
    cp "$t/v1.src/t.c" "$t/v5.src/"
    printf 'struct t_ctx { long before; int x; };\n' >"$t/v5.src/priv/t.h"
    sed 's/struct t_opts { int a; }/struct t_opts { long a; }/' "$t/v1/t.h" >"$t/v6/t.h"
    cp "$t/v1.src/t.c" "$t/v6.src/"
    for v in v1 v2 v3 v4 v5 v6; do
        ${CC:-cc} -g -gdwarf-4 -O0 -shared -fPIC -Wl,-soname,libt.so.1 -I"$t/$v" -o "$t/$v/libt.so.1" "$t/$v.src/t.c" ||
            { echo "abi-check: self-test: cannot build $v" >&2; return 1; }
    done
    abidw --no-corpus-path --no-comp-dir-path --short-locs --headers-dir "$t/v1" --drop-private-types \
        --out-file "$t/base.abi" "$t/v1/libt.so.1" || return 1
    printf '# Changelog\n\n## [Unreleased]\n\n### Added\n- t_c, a new function.\n\n## [0.0.1]\n\n### ABI\n- t_c\n' \
        >"$t/no-note.md"
    # shellcheck disable=SC2016 # the backquotes are Markdown
    printf '# Changelog\n\n## [Unreleased]\n\n### Added\n- a function\n\n### ABI (issue 3)\n- New: `t_c`.\n' \
        >"$t/note.md"
    expect() { # WANT(0 pass, 1 fail) WHAT VERSION CHANGELOG
        if gate "$t/base.abi" "$t/$3/libt.so.1" "$t/$3" "$4" >"$t/out" 2>&1; then got=0; else got=1; fi
        if [ "$got" -ne "$1" ]; then
            cat "$t/out" >&2
            echo "abi-check: self-test: $2: the gate $([ "$got" -eq 0 ] && echo passed || echo failed)" >&2
            fail=1
        fi
    }
    expect 0 "unchanged library" v1 "$t/no-note.md"
    expect 1 "a removed function" v2 "$t/note.md"
    expect 1 "a changed parameter type" v4 "$t/note.md"
    expect 0 "a changed private layout of an opaque handle" v5 "$t/no-note.md"
    expect 1 "a changed member of a public struct" v6 "$t/note.md"
    expect 1 "an added function without an ABI note (only under Added and in a released section)" v3 "$t/no-note.md"
    expect 0 "an added function named in the Unreleased ABI note" v3 "$t/note.md"
    # the same on the real library and baseline, when make gave the objects' link flags: relinked
    # with a function hidden, and with one added
    if [ -n "${ABI_DEP_LIBS:-}" ] && [ -f build/libimgsync.a ]; then
        printf 'LIBIMGSYNC_1.0 { global: imgsync_*; local: imgsync_version_num; *; };\n' >"$t/hide.map"
        printf '__attribute__((visibility("default"))) int imgsync_abi_selftest_added(void);\n%s\n' \
            'int imgsync_abi_selftest_added(void) { return 1; }' >"$t/added.c"
        mkdir -p "$t/real"
        # shellcheck disable=SC2086 # ABI_DEP_LIBS: several flags
        if ! ${CC:-cc} -g -gdwarf-4 -fPIC -c -o "$t/added.o" "$t/added.c" ||
           ! ${CC:-cc} -shared -Wl,-soname,libimgsync.so.1 -Wl,--version-script="$t/hide.map" -o "$t/real/removed.so" \
                 -Wl,--whole-archive build/libimgsync.a -Wl,--no-whole-archive $ABI_DEP_LIBS ||
           ! ${CC:-cc} -shared -Wl,-soname,libimgsync.so.1 -Wl,--version-script=src/libimgsync.map -o "$t/real/added.so" \
                 -Wl,--whole-archive build/libimgsync.a -Wl,--no-whole-archive "$t/added.o" $ABI_DEP_LIBS; then
            echo "abi-check: self-test: cannot relink build/libimgsync.a" >&2
            fail=1
        fi
        { cat CHANGELOG.md; printf '\n## [0.0.0]\n\n### ABI\n- imgsync_abi_selftest_added\n'; } >"$t/real/no-note.md"
        awk '{print} /^## \[Unreleased\]/ {print "\n### ABI (self-test)\n- `imgsync_abi_selftest_added`"}' \
            CHANGELOG.md >"$t/real/note.md"
        real() { # WANT WHAT LIBRARY CHANGELOG
            if gate abi/libimgsync.so.1.abi "$t/real/$3" include "$t/real/$4" >"$t/out" 2>&1; then got=0; else got=1; fi
            if [ "$got" -ne "$1" ]; then
                cat "$t/out" >&2
                echo "abi-check: self-test: libimgsync $2: the gate $([ "$got" -eq 0 ] && echo passed || echo failed)" >&2
                fail=1
            fi
        }
        real 1 "without imgsync_version_num" removed.so note.md
        real 1 "with a function added, not noted" added.so no-note.md
        real 0 "with a function added and noted" added.so note.md
    fi
    if [ "$fail" -eq 0 ]; then
        echo "abi-check: self-test: removed or changed interfaces (a public struct member too) and unnoted added" \
            "symbols fail; noted additions and private layouts of opaque handles pass"
        echo "1 passed, 0 failed"
    else
        echo "0 passed, 1 failed"
    fi
    [ -z "${TEST_SUMMARY:-}" ] || echo "$((1 - fail)) $fail" >>"$TEST_SUMMARY"
    return "$fail"
}

if ! command -v abidiff >/dev/null; then
    echo "abi-check: abidiff is not installed (Debian package abigail-tools)" >&2
    exit 1
fi
if [ "${1:-}" = --self-test ]; then
    self_test
    exit $?
fi
[ $# -eq 4 ] || { echo "usage: abi-check.sh BASELINE.abi LIBRARY HEADERS_DIR CHANGELOG | --self-test" >&2; exit 2; }
gate "$@"
