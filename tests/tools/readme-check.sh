#!/bin/sh
# The C program of README.md ("Using the library") compiles warning-free as C99 against build/
# and syncs a real docker-registry on loopback (with a password): it must exit 0 and print the
# pushed images. $README names another file to check, $SANITIZE adds compiler flags. Run from the repository root after `make`; the registry is stopped on any exit.
set -u
REGISTRY_PY=tests/registry/registry.py
README=${README:-README.md}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-readme.XXXXXX")
cleanup() {
    python3 "$REGISTRY_PY" stop --dir "$TMP/reg" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

fail() {
    echo "readme-check: $*" >&2
    echo "0 passed, 1 failed"
    [ -z "${TEST_SUMMARY:-}" ] || echo "0 1" >>"$TEST_SUMMARY"
    exit 1
}

# the first ```c block of the README, without its fences
awk '/^```c$/ {inside = 1; next} inside && /^```$/ {exit} inside {print}' "$README" >"$TMP/readme.c"
grep -q 'int main' "$TMP/readme.c" || fail "no C program between the \`\`\`c fences of README.md"
# shellcheck disable=SC2086 # $SANITIZE: the flags of a sanitized build/, if any
${CC:-cc} -std=c99 -Wall -Wextra -Werror ${SANITIZE:-} -Iinclude -o "$TMP/readme" "$TMP/readme.c" \
    -Lbuild -limgsync -Wl,-rpath,"$(pwd)/build" >"$TMP/cc.log" 2>&1 ||
    { cat "$TMP/cc.log" >&2; fail "the README's C program does not compile warning-free"; }

# without REGISTRY_URL it explains itself and exits 2 (no crash on a missing password)
env -u REGISTRY_URL -u REGISTRY_USER -u REGISTRY_PASSWORD "$TMP/readme" >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "without REGISTRY_URL the README program exited $rc, expected 2"

PORT=$(python3 "$REGISTRY_PY" start --dir "$TMP/reg" --htpasswd "readme:readme-secret-1") ||
    fail "cannot start the registry"
URL=http://127.0.0.1:$PORT
REGISTRY_PASSWORD=readme-secret-1
export REGISTRY_PASSWORD
python3 "$REGISTRY_PY" seed --url "$URL" --user readme --password-env REGISTRY_PASSWORD \
    --out "$TMP/expected.json" --stage initial >"$TMP/seed.log" 2>&1 ||
    { cat "$TMP/seed.log" >&2; fail "cannot seed the registry"; }

# $VALGRIND, when set, prefixes the run (as in tests/tools/run-tests.sh)
# shellcheck disable=SC2086
REGISTRY_URL=$URL REGISTRY_USER=readme ${VALGRIND:-} "$TMP/readme" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/out" "$TMP/err" >&2; fail "the README program exited $rc"; }
grep -q '^sync succeeded$' "$TMP/out" || fail "no 'sync succeeded' line"
rows=$(grep -c '^alpine:3.19 sha256:[0-9a-f]\{64\}$' "$TMP/out")
[ "$rows" -eq 1 ] || { cat "$TMP/out" >&2; fail "the image rows are missing"; }
! grep -q readme-secret-1 "$TMP/out" "$TMP/err" || fail "the password was printed"

# a wrong password: a clean failure, exit 1
REGISTRY_PASSWORD=wrong REGISTRY_URL=$URL REGISTRY_USER=readme "$TMP/readme" >/dev/null 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "with a wrong password the README program exited $rc, expected 1"

echo "readme-check: the README's C program compiles with -Werror and syncs $(($(wc -l <"$TMP/out") - 1)) images"
echo "1 passed, 0 failed"
[ -z "${TEST_SUMMARY:-}" ] || echo "1 0" >>"$TEST_SUMMARY"
