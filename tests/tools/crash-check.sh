#!/bin/sh
# Crash test of the persistent store (issue 7): `imgsync sync --db F` against a slowed Harbor
# emulator is killed with SIGKILL at several moments of a sync; after each kill the database
# opens, the task that was running is recorded as failed with reason "interrupted", the rows of
# the last complete sync are all there (nothing committed is lost, nothing half-written shows),
# and a following sync completes. Run from the repository root; stops its servers on exit.
set -u
IMGSYNC=${IMGSYNC:-build/imgsync}
HARBOR_PY=tests/emulators/harbor_emulator.py
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-crash.XXXXXX")
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
    echo "crash-check: FAILED: $*" >&2
    failed=$((failed + 1))
}

python3 "$HARBOR_PY" --generate "projects=3,repos=8,artifacts=4" --port-file "$TMP/port" --max-seconds 300 \
    >/dev/null 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
PORT=$(cat "$TMP/port" 2>/dev/null)
[ -n "$PORT" ] || { echo "crash-check: the Harbor emulator did not start" >&2; exit 1; }
URL=http://127.0.0.1:$PORT
HARBOR_PASSWORD=Harbor12345
export HARBOR_PASSWORD
printf '{"registries":[{"name":"h","type":"harbor","endpoint":"%s","username":"admin",
  "password_env":"HARBOR_PASSWORD"}],"settings":{"max_connections":"2"}}' "$URL" >"$TMP/config.json"
DB=$TMP/inventory.db

# every Harbor request answers 150 ms late: a sync takes seconds, with commits along the way
slow() {
    curl -sf -X POST "$URL/_emulator/faults" -d '{"rules":[{"type":"slow","pattern":"/api/","count":-1,
      "delay_ms":150}],"replace":true}' >/dev/null || bad "cannot set the emulator's delay"
}

# tasks_json -> the latest task's "state reason" of `imgsync tasks --format json`
latest() {
    "$IMGSYNC" tasks --db "$DB" --limit 1 --format json 2>"$TMP/err" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d[0]["state"] + "|" + d[0]["reason"] if d else "none|")' 2>>"$TMP/err"
}

count_rows() { "$IMGSYNC" images --db "$DB" --format ndjson 2>>"$TMP/err" | wc -l; }

# kill_at SECONDS EXPECTED_ROWS -- start a sync, SIGKILL it after SECONDS, check the database
kill_at() {
    "$IMGSYNC" sync --config "$TMP/config.json" --db "$DB" --format ndjson >/dev/null 2>&1 &
    pid=$!
    sleep "$1"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    st=$?
    [ "$st" -eq 137 ] || { bad "the sync ended before the kill at $1 s (exit $st): make it slower"; return; }
    got=$(latest)
    case $got in
    "failed|interrupted") ok ;;
    *) bad "after SIGKILL at $1 s the latest task is '$got', not failed|interrupted: $(head -c 300 "$TMP/err")" ;;
    esac
    rows=$(count_rows)
    if [ -n "$2" ]; then
        [ "$rows" -eq "$2" ] && ok || bad "after SIGKILL at $1 s: $rows rows, $2 expected (the last complete sync)"
    fi
}

slow
kill_at 0.3 ""   # while checking the registry: no commit yet
kill_at 1.5 ""   # mid-listing: some repositories committed
# a complete sync, then kills in a re-sync must keep every row of it
"$IMGSYNC" sync --config "$TMP/config.json" --db "$DB" --format ndjson >/dev/null 2>"$TMP/err"
st=$?
[ "$st" -eq 0 ] && ok || bad "a complete sync after the kills: exit $st: $(head -c 300 "$TMP/err")"
full=$(count_rows)
[ "$full" -gt 0 ] && ok || bad "no rows after a complete sync"
kill_at 0.8 "$full"
kill_at 2.5 "$full"
# the interrupted tasks stay listed as such, and a new sync completes
n=$("$IMGSYNC" tasks --db "$DB" --state failed --format json 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for t in json.load(sys.stdin) if t["reason"] == "interrupted"))')
[ "$n" = 4 ] && ok || bad "$n interrupted tasks listed, 4 expected"
curl -sf -X DELETE "$URL/_emulator/faults" >/dev/null
"$IMGSYNC" sync --config "$TMP/config.json" --db "$DB" --format ndjson >/dev/null 2>"$TMP/err"
st=$?
[ "$st" -eq 0 ] && ok || bad "the sync after the crashes: exit $st: $(head -c 300 "$TMP/err")"
[ "$(count_rows)" -eq "$full" ] && ok || bad "rows after the last sync differ from the complete sync's"
if command -v sqlite3 >/dev/null 2>&1; then
    [ "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok ] && ok || bad "integrity_check of the database"
fi

echo "crash-check: $passed checks passed, $failed failed"
if [ "$failed" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; exit 1; fi
