#!/bin/sh
# Regression checks of the imgsync program (build/imgsync, or $IMGSYNC) for the fixes of issue 6:
#   #13 a deeply nested configuration is refused before a tree is built (no stack overflow);
#   #6  C1 controls and invalid UTF-8 never reach the terminal;
#   #5  check has --timeout-ms and sync a documented default deadline;
#   and the JSON keys are the library's row fields (new fields appear without CLI changes);
#   exit statuses 3 (partial) and 128+N (stopped by signal N).
# Every server it starts is stopped on exit, also on failure. Run from the repository root.
set -u
IMGSYNC=${IMGSYNC:-build/imgsync}
HARBOR_PY=tests/emulators/harbor_emulator.py
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-cli.XXXXXX")
# the default database (--db) goes here, not into the caller's home
XDG_DATA_HOME=$TMP/data
export XDG_DATA_HOME
PIDS=
cleanup() {
    for pid in $PIDS; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    echo "cli-check: FAILED: $*" >&2
    failed=$((failed + 1))
}
# The output files of the last run() and its exit status.
run() {
    "$IMGSYNC" "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
}
# 1 when file $1 holds a C1 control (UTF-8 C2 80..C2 9F) or a byte that is not UTF-8.
has_unsafe_text() {
    python3 - "$1" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
try:
    text = data.decode('utf-8')
except UnicodeDecodeError:
    sys.exit(0)
sys.exit(0 if any(0x80 <= ord(c) <= 0x9f for c in text) else 1)
PY
}
# Wait for a server to write its port to file $1; print it.
wait_port() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    cat "$1" 2>/dev/null
}

[ -x "$IMGSYNC" ] || { echo "cli-check: $IMGSYNC is not built" >&2; exit 1; }

# ---- #13: 600 KB of nested arrays ---------------------------------------------------------
python3 -c "import sys; sys.stdout.write('[' * 300000 + ']' * 300000)" >"$TMP/deep.json"
run sync --config "$TMP/deep.json"
if [ "$status" -eq 2 ] && grep -q 'nested too deeply' "$TMP/err"; then ok; else
    bad "#13 deep config: exit $status (2 expected), stderr: $(head -c 300 "$TMP/err")"
fi
# 64 levels are fine (the limit is not off by one)
python3 -c "
import sys
sys.stdout.write('{\"registries\":[{\"name\":\"a\",\"type\":\"oci\",\"endpoint\":\"http://127.0.0.1:1\",'
                 '\"_c\":' + '[' * 61 + ']' * 61 + '}], \"settings\": {\"max_retries\": 0}}')" >"$TMP/depth64.json"
run sync --config "$TMP/depth64.json" --timeout-ms 5000
if [ "$status" -eq 1 ] && ! grep -q 'nested too deeply' "$TMP/err"; then ok; else
    bad "64 levels refused: exit $status, stderr: $(head -c 300 "$TMP/err")"
fi

# ---- #6: C1 controls and invalid UTF-8 on the terminal ------------------------------------
# from the command line (echoed in usage errors)
run sync --config "$TMP/none.json" "$(printf 'x\302\2332J')" "$(printf '\377')"
if [ "$status" -eq 2 ] && ! has_unsafe_text "$TMP/err"; then ok; else
    bad "#6 argv: exit $status, C1 or invalid UTF-8 on stderr"
fi
run sync --config "$(printf '%s/cfg\302\233\377.json' "$TMP")"
if [ "$status" -eq 2 ] && ! has_unsafe_text "$TMP/err"; then ok; else
    bad "#6 config path: exit $status, C1 or invalid UTF-8 on stderr"
fi
# from the configuration (a registry name with CSI, JSON-escaped)
printf '{"registries":[{"name":"a\\u009b31mb","type":"oci","endpoint":"http://127.0.0.1:1"}]}' \
    >"$TMP/c1.json"
run sync --config "$TMP/c1.json" --timeout-ms 5000
if [ "$status" -ne 0 ] && [ -s "$TMP/err" ] && ! has_unsafe_text "$TMP/err" &&
   ! has_unsafe_text "$TMP/out"; then ok; else
    bad "#6 config name: exit $status, C1 on stdout or stderr"
fi

# ---- #5: deadlines -----------------------------------------------------------------------
# a server that accepts connections and never answers
python3 -c "
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(16)
open(sys.argv[1], 'w').write(str(s.getsockname()[1]))
held = []
end = time.time() + 120
s.settimeout(1)
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
" "$TMP/silent.port" &
PIDS="$PIDS $!"
SILENT=$(wait_port "$TMP/silent.port")
printf '{"registries":[{"name":"silent","type":"oci","endpoint":"http://127.0.0.1:%s"}]}' \
    "$SILENT" >"$TMP/silent.json"
start=$(date +%s)
run check --config "$TMP/silent.json" --timeout-ms 1000 silent
took=$(($(date +%s) - start))
if [ "$status" -eq 1 ] && [ "$took" -le 10 ] && grep -q '^imgsync: check silent' "$TMP/err"; then ok; else
    bad "#5 check --timeout-ms 1000: exit $status after ${took}s: $(head -c 300 "$TMP/err")"
fi
run check --config "$TMP/silent.json" --timeout-ms 50 silent
if [ "$status" -eq 2 ]; then ok; else bad "#5 check --timeout-ms 50 (below 100): exit $status"; fi
run sync --help
if grep -q 'default 3600000' "$TMP/out" && grep -q 'default 30000' "$TMP/out"; then ok; else
    bad "#5 --help does not document the default deadlines"
fi

# ---- exit statuses: a sync stopped by a signal exits 128 + N ------------------------------
for sig in TERM INT; do
    "$IMGSYNC" sync --config "$TMP/silent.json" --timeout-ms 60000 >"$TMP/out" 2>"$TMP/err" &
    pid=$!
    sleep 1
    kill -s "$sig" "$pid"
    wait "$pid"
    status=$?
    want=143
    [ "$sig" = INT ] && want=130
    if [ "$status" -eq "$want" ] && grep -q 'interrupted' "$TMP/err"; then ok; else
        bad "SIG$sig during sync: exit $status ($want expected): $(head -c 300 "$TMP/err")"
    fi
done

# ---- JSON keys from the library's row field table (Harbor emulator) ---------------------
python3 "$HARBOR_PY" --dataset tests/emulators/harbor_dataset.json --port-file "$TMP/harbor.port" \
    --max-seconds 120 >/dev/null 2>&1 &
PIDS="$PIDS $!"
HARBOR=$(wait_port "$TMP/harbor.port")
HARBOR_PASSWORD=Harbor12345
export HARBOR_PASSWORD
printf '{"registries":[{"name":"h","type":"harbor","endpoint":"http://127.0.0.1:%s",
  "username":"admin","password_env":"HARBOR_PASSWORD"}]}' "$HARBOR" >"$TMP/harbor.json"
run sync --config "$TMP/harbor.json" --format ndjson
if [ "$status" -eq 0 ] && python3 - "$TMP/out" <<'PY'; then ok; else bad "JSON keys: exit $status: $(head -c 300 "$TMP/err")"; fi
import json, sys
want = ["registry", "registry_type", "image_type", "host", "namespace", "repository", "tag",
        "digest", "size", "latest_update_time", "latest_sync_time", "media_type",
        "artifact_type", "multi_arch", "partition", "owner", "share_status", "instance_id",
        "instance_name", "platforms", "created", "first_seen_time"]
rows = [json.loads(line) for line in open(sys.argv[1])]
assert rows, "no rows"
for r in rows:
    assert list(r) == want, "keys %s" % list(r)
    assert r["size"] is None or isinstance(r["size"], int), r["size"]
    assert isinstance(r["multi_arch"], bool) and isinstance(r["created"], int)
    assert r["first_seen_time"] == r["latest_sync_time"] > 0, (r["first_seen_time"], r["latest_sync_time"])
    assert all(isinstance(r[k], str) for k in ("partition", "owner", "platforms"))
PY

# ---- exit status 3: one project cannot be listed, the others sync --------------------------
python3 - "$HARBOR" <<'PY'
import json, sys, urllib.request
rule = {"type": "500", "pattern": "/api/v2.0/projects/library/repositories", "count": -1}
req = urllib.request.Request("http://127.0.0.1:%s/_emulator/faults" % sys.argv[1], method="POST",
                             data=json.dumps(rule).encode(), headers={"Content-Type": "application/json"})
urllib.request.urlopen(req).read()
PY
printf '{"registries":[{"name":"h","type":"harbor","endpoint":"http://127.0.0.1:%s",
  "username":"admin","password_env":"HARBOR_PASSWORD"}], "settings": {"max_retries": "0"}}' \
    "$HARBOR" >"$TMP/harbor-partial.json"
run sync --config "$TMP/harbor-partial.json" --format ndjson
if [ "$status" -eq 3 ] && [ -s "$TMP/out" ] && grep -q 'library' "$TMP/err"; then ok; else
    bad "partial sync: exit $status (3 expected), $(wc -l <"$TMP/out") rows: $(head -c 300 "$TMP/err")"
fi

echo "cli-check: deep config, control characters, deadlines, exit statuses, JSON keys ($passed checks)"
echo "$(( failed == 0 )) passed, $(( failed > 0 )) failed"
[ -z "${TEST_SUMMARY:-}" ] || echo "$(( failed == 0 )) $(( failed > 0 ))" >>"$TEST_SUMMARY"
[ "$failed" -eq 0 ]
