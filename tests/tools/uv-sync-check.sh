#!/bin/sh
# The libuv example (examples/uv_sync.c, built as build/uv_sync when libuv is installed) syncs a
# local docker-registry seeded with stage "initial" from its event loop: it must end
# "succeeded" and print exactly the images the harness pushed (repository:tag digest size), and
# fail clearly for a registry that is not there. Run from the repository root.
set -u
UV_SYNC=${UV_SYNC:-build/uv_sync}
REGISTRY_PY=${IMGSYNC_REGISTRY_PY:-tests/registry/registry.py}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-uv.XXXXXX")
cleanup() {
    python3 "$REGISTRY_PY" stop --dir "$TMP/reg" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    echo "uv-sync-check: FAILED: $*" >&2
    failed=$((failed + 1))
}
finish() {
    echo "uv-sync-check: $passed checks passed, $failed failed"
    if [ "$failed" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; exit 1; fi
}

[ -x "$UV_SYNC" ] || { bad "$UV_SYNC was not built (is libuv1-dev installed?)"; finish; }
PORT=$(python3 "$REGISTRY_PY" start --dir "$TMP/reg")
case $PORT in
    '' | *[!0-9]*) bad "the registry did not report a port"; finish ;;
esac
URL=http://127.0.0.1:$PORT
python3 "$REGISTRY_PY" seed --url "$URL" --out "$TMP/expected.json" --stage initial >/dev/null 2>&1 ||
    { bad "seeding the registry"; finish; }

timeout 60 "$UV_SYNC" local "$URL" >"$TMP/out" 2>"$TMP/err"
st=$?
[ "$st" -eq 0 ] && ok || bad "exit $st: $(head -c 300 "$TMP/err")"
head -n 1 "$TMP/out" | grep -Eq '^task [0-9]+: succeeded$' && ok || bad "first line: $(head -n 1 "$TMP/out")"
python3 - "$TMP/expected.json" "$TMP/out" <<'PY' && ok || bad "the images printed differ from the registry's"
import json, sys
want = sorted("%s:%s %s %d" % (r["repository"], r["tag"], r["digest"], r["size"]) for r in json.load(open(sys.argv[1])))
got = sorted(open(sys.argv[2]).read().splitlines()[1:])
if not want or got != want:
    print("expected %d rows, got %d" % (len(want), len(got)), file=sys.stderr)
    for line in sorted(set(want) ^ set(got))[:10]:
        print("  differs: " + line, file=sys.stderr)
    sys.exit(1)
PY

# nothing listens there: the task fails with the reason, exit 1, no crash or hang
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout 60 "$UV_SYNC" gone "http://127.0.0.1:$CLOSED" >"$TMP/out" 2>"$TMP/err"
st=$?
[ "$st" -eq 1 ] && ok || bad "unreachable registry: exit $st (1 expected): $(head -c 300 "$TMP/err")"
grep -Eq '^task [0-9]+: failed$' "$TMP/out" && grep -q '^  gone: ' "$TMP/out" && ok ||
    bad "unreachable registry: $(head -c 300 "$TMP/out")"
"$UV_SYNC" >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "usage error: exit status"
finish
