#!/bin/sh
# Checks of the imgsync program's database commands (issue 7), against a real docker-registry
# on loopback and the Harbor emulator: --db (default path, :memory:, errors), the task recorded
# by sync and kept across runs, tasks / task ID / changes / images with their filters, schedule
# add / list / rm, the daemon (a scheduled task that hangs is canceled by SIGTERM, exit 143;
# SIGINT -> 130; SIGHUP ignored; nothing left running),
# JSON validity of every --format json, usage errors (exit 2) and a secret that never shows.
# Every server it starts is stopped on exit, also on failure. Run from the repository root.
set -u
IMGSYNC=${IMGSYNC:-build/imgsync}
REGISTRY_PY=tests/registry/registry.py
HARBOR_PY=tests/emulators/harbor_emulator.py
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-history.XXXXXX")
PIDS=
cleanup() {
    python3 "$REGISTRY_PY" stop --dir "$TMP/reg" >/dev/null 2>&1 || true
    for pid in $PIDS; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

XDG_DATA_HOME=$TMP/data
export XDG_DATA_HOME
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    echo "cli-history-check: FAILED: $*" >&2
    failed=$((failed + 1))
}
run() {
    "$IMGSYNC" "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
}
err() { head -c 400 "$TMP/err"; }
# expect STATUS DESCRIPTION -- the last run() exited with STATUS
expect() {
    if [ "$status" -eq "$1" ]; then ok; else bad "$2: exit $status ($1 expected): $(err)"; fi
}
# json_ok FILE DESCRIPTION [PYTHON-ASSERTIONS on `d`]
json_ok() {
    if python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
$3
" "$1" 2>"$TMP/py.err"; then ok; else bad "$2: $(head -c 400 "$TMP/py.err") in $(head -c 300 "$1")"; fi
}
wait_port() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    cat "$1" 2>/dev/null
}

[ -x "$IMGSYNC" ] || { echo "cli-history-check: $IMGSYNC is not built" >&2; exit 1; }
DB=$TMP/imgsync.db

# ---- usage errors (2) and store errors (1) --------------------------------------------------
run tasks --db "$TMP/no/such/dir/x.db"
if [ "$status" -eq 1 ] && grep -q 'database .*x.db: ' "$TMP/err"; then ok; else
    bad "bad --db path: exit $status (1 expected with the store's reason): $(err)"
fi
printf 'not a database, not at all' >"$TMP/garbage.db"
run images --db "$TMP/garbage.db"
expect 1 "--db on a file that is not a database"
run schedule add --db "$DB" --daily 25:00
expect 2 "--daily 25:00"
for when in 7:00 07:60 0700 07:00x ""; do
    run schedule add --db "$DB" --daily "$when"
    expect 2 "--daily '$when'"
done
run schedule add --db "$DB" --every 0m
expect 2 "--every 0m"
run schedule add --db "$DB" --every 32d
expect 2 "--every 32d"
run schedule add --db "$DB"
expect 2 "schedule add without --daily/--every"
run schedule add --db "$DB" --daily 01:00 --every 1h
expect 2 "schedule add with --daily and --every"
run schedule
expect 2 "schedule without a subcommand"
run schedule frob
expect 2 "schedule frob"
for cmd in tasks "task 1" "schedule list"; do
    # shellcheck disable=SC2086 # the command's words
    run $cmd --db "$DB" --format yaml
    expect 2 "$cmd --format yaml"
    # shellcheck disable=SC2086
    run $cmd --db "$DB" --format ndjson
    expect 2 "$cmd --format ndjson (table or json only)"
done
for cmd in images changes; do
    run $cmd --db "$DB" --format csv
    expect 2 "$cmd --format csv"
done
run tasks --db "$DB" --state exploded
expect 2 "tasks --state exploded"
run tasks --db "$DB" --trigger cron
expect 2 "tasks --trigger cron"
run tasks --db "$DB" --limit -1
expect 2 "tasks --limit -1"
run tasks --db "$DB" --tag x
if [ "$status" -eq 2 ] && grep -q "unknown option '--tag' for tasks" "$TMP/err" &&
   grep -q '^usage: imgsync tasks' "$TMP/err"; then ok; else
    bad "tasks --tag: exit $status, no per-command usage: $(err)"
fi
run task --db "$DB"
expect 2 "task without ID"
run task --db "$DB" abc
expect 2 "task abc"
run changes --db "$DB" --task 1 --since 1
expect 2 "changes --task with --since"
run images --db "$DB" --updated-since yesterday
expect 2 "images --updated-since yesterday"
run images --db "$DB" --updated-since 2026-02-30T00:00:00Z
expect 2 "images --updated-since 2026-02-30"
run daemon --db "$DB"
expect 2 "daemon without --config"
run frobnicate
expect 2 "unknown command"
run --help
if [ "$status" -eq 0 ] && grep -q '143 SIGTERM' "$TMP/out" && grep -q 'imgsync daemon' "$TMP/out" &&
   grep -q 'XDG_DATA_HOME' "$TMP/out"; then ok; else bad "--help: exit $status or incomplete"; fi

# ---- the default database: $XDG_DATA_HOME/imgsync/imgsync.db, directories 0700 -------------
run images
if [ "$status" -eq 0 ] && [ -f "$XDG_DATA_HOME/imgsync/imgsync.db" ] &&
   [ "$(stat -c %a "$XDG_DATA_HOME/imgsync")" = 700 ] && [ "$(stat -c %a "$XDG_DATA_HOME")" = 700 ]; then
    ok
else
    bad "default database: exit $status, $(ls -la "$XDG_DATA_HOME" "$XDG_DATA_HOME/imgsync" 2>&1 | head -c 300)"
fi
( unset XDG_DATA_HOME; HOME=$TMP/home "$IMGSYNC" images >"$TMP/out" 2>"$TMP/err" )
status=$?
if [ "$status" -eq 0 ] && [ -f "$TMP/home/.local/share/imgsync/imgsync.db" ]; then ok; else
    bad "default database under HOME: exit $status: $(err)"
fi
run task --db "$DB" 999999
if [ "$status" -eq 1 ] && grep -q 'task 999999' "$TMP/err"; then ok; else
    bad "unknown task id: exit $status (1 expected): $(err)"
fi
run schedule rm --db "$DB" 999999
expect 1 "schedule rm of an unknown id"

# ---- a daemon whose scheduled sync hangs: started now, stopped at the end ---------------------
# a server that accepts connections and never answers
python3 -c "
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(16)
open(sys.argv[1], 'w').write(str(s.getsockname()[1]))
held = []
end = time.time() + 300
s.settimeout(1)
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
" "$TMP/silent.port" &
PIDS="$PIDS $!"
SILENT=$(wait_port "$TMP/silent.port")
printf '{"registries":[{"name":"silent","type":"oci","endpoint":"http://127.0.0.1:%s"}],
  "settings":{"low_speed_time_ms":"600000","request_timeout_ms":"600000"}}' "$SILENT" >"$TMP/silent.json"
run schedule add --db "$TMP/daemon.db" --every 1m
expect 0 "schedule add --every 1m"
"$IMGSYNC" daemon --config "$TMP/silent.json" --db "$TMP/daemon.db" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DAEMON=$!
PIDS="$PIDS $DAEMON"

# ---- a real registry, a password that must never show ----------------------------------------
SECRET=hist-Secret-4711
PORT=$(python3 "$REGISTRY_PY" start --dir "$TMP/reg" --htpasswd "hist:$SECRET") || {
    echo "cli-history-check: cannot start the registry" >&2
    exit 1
}
URL=http://127.0.0.1:$PORT
REG_PASSWORD=$SECRET
export REG_PASSWORD
python3 "$REGISTRY_PY" seed --url "$URL" --user hist --password-env REG_PASSWORD \
    --out "$TMP/expected.json" --stage initial >"$TMP/seed.log" 2>&1 || {
    cat "$TMP/seed.log" >&2
    exit 1
}
printf '{"registries":[{"name":"local","type":"oci","endpoint":"%s","username":"hist",
  "password_env":"REG_PASSWORD"}]}' "$URL" >"$TMP/cfg.json"
# everything the program printed, for the secret check at the end
ALL=$TMP/all-output
: >"$ALL"
keep() { cat "$TMP/out" "$TMP/err" >>"$ALL"; }

# ---- two syncs into one database ----------------------------------------------------------
run sync --config "$TMP/cfg.json" --db "$DB" --format json
keep
expect 0 "first sync"
head -n 1 "$TMP/err" >"$TMP/status1.json"
json_ok "$TMP/status1.json" "sync --format json: task status on stderr" \
    "assert d['state'] == 'succeeded' and d['trigger'] == 'manual' and d['registries'][0]['name'] == 'local', d"
json_ok "$TMP/out" "sync --format json: inventory" "assert len(d) == 35, len(d)"
FIRST=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['id'])" "$TMP/status1.json" 2>/dev/null)
python3 "$REGISTRY_PY" seed --url "$URL" --user hist --password-env REG_PASSWORD \
    --out "$TMP/expected2.json" --stage update >"$TMP/seed.log" 2>&1 || cat "$TMP/seed.log" >&2
run sync --config "$TMP/cfg.json" --db "$DB"
keep
expect 0 "second sync"
# it prints what it synced (36 rows and the header), not the row it removed
if [ "$(wc -l <"$TMP/out")" -eq 37 ] && ! grep -q '^local  *Oci  *alpine  *3\.18 ' "$TMP/out"; then ok; else
    bad "second sync printed $(wc -l <"$TMP/out") lines (37 expected)"
fi
SECOND=$(sed -n 's/^task \([0-9]*\) .*/\1/p' "$TMP/err" | head -n 1)
if [ -n "$FIRST" ] && [ -n "$SECOND" ] && [ "$SECOND" -gt "$FIRST" ]; then ok; else
    bad "task ids across runs: first '$FIRST', second '$SECOND'"
fi

run tasks --db "$DB" --format json
keep
json_ok "$TMP/out" "tasks --format json: both tasks, newest first" "
ids = [t['id'] for t in d]
assert ids == sorted(ids, reverse=True) and ids[:2] == [$SECOND, $FIRST], ids
assert all(t['state'] == 'succeeded' and t['trigger'] == 'manual' for t in d), d"
run tasks --db "$DB"
keep
if [ "$status" -eq 0 ] && head -n 1 "$TMP/out" | grep -q '^ *ID  TRIGGER  STATE' &&
   [ "$(sed -n '2p' "$TMP/out" | awk '{print $1}')" = "$SECOND" ]; then ok; else
    bad "tasks table: exit $status: $(head -c 300 "$TMP/out") $(err)"
fi
run tasks --db "$DB" --limit 1 --state succeeded --trigger manual --format json
json_ok "$TMP/out" "tasks --limit 1 --state succeeded" "assert [t['id'] for t in d] == [$SECOND], d"
run tasks --db "$DB" --trigger scheduled --format json
json_ok "$TMP/out" "tasks --trigger scheduled (none)" "assert d == [], d"
run task --db "$DB" "$FIRST"
keep
if [ "$status" -eq 0 ] && grep -q "^task $FIRST: succeeded (manual)" "$TMP/out" &&
   grep -q '^local  *Oci  *finished' "$TMP/out"; then ok; else
    bad "task ID table: exit $status: $(head -c 400 "$TMP/out") $(err)"
fi
run task --db "$DB" --format json "$SECOND"
json_ok "$TMP/out" "task --format json" "
assert d['id'] == $SECOND and d['counters']['images_added'] == 2, d['counters']
assert d['counters']['images_updated'] == 1 and d['counters']['images_removed'] == 1, d['counters']"

# ---- the change feed ------------------------------------------------------------------------
run changes --db "$DB" --task "$FIRST" --format json
keep
json_ok "$TMP/out" "changes --task FIRST: 35 added rows" "
assert len(d) == 35 and all(c['kind'] == 'added' and c['task_id'] == $FIRST for c in d), len(d)
assert all(c['old_digest'] == '' and c['old_size'] is None for c in d)"
run changes --db "$DB" --since "$FIRST" --format ndjson
keep
if [ "$status" -eq 0 ] && python3 - "$TMP/out" <<'PY'; then ok; else bad "changes --since FIRST: exit $status: $(head -c 300 "$TMP/out") $(err)"; fi
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
kinds = sorted((r["kind"], r["repository"], r["tag"]) for r in rows)
assert kinds == [("added", "newrepo", "1"), ("added", "team/app", "v3"),
                 ("removed", "alpine", "3.18"), ("updated", "team/app", "v2")], kinds
up = [r for r in rows if r["kind"] == "updated"][0]
assert up["old_digest"].startswith("sha256:") and up["old_digest"] != up["digest"], up
PY
run changes --db "$DB" --task "$SECOND"
if [ "$status" -eq 0 ] && grep -q '^KIND  *TASK' "$TMP/out" && grep -q '^updated .*team/app  *v2 ' "$TMP/out"; then
    ok
else
    bad "changes table: exit $status: $(head -c 400 "$TMP/out") $(err)"
fi
run changes --db "$DB" --task 999999 --format json
json_ok "$TMP/out" "changes of an unknown task: empty" "assert d == []"

# ---- images: the stored inventory, no configuration, filters ---------------------------------
run images --db "$DB" --format json
keep
json_ok "$TMP/out" "images --format json" "assert len(d) == 36 and d[0]['registry'] == 'local', len(d)"
run images --db "$DB" --repo local:team/app --tag 'v*' --format ndjson
if [ "$status" -eq 0 ] && [ "$(wc -l <"$TMP/out")" -eq 4 ]; then ok; else
    bad "images --repo local:team/app --tag 'v*': exit $status, $(wc -l <"$TMP/out") rows (4 expected): $(err)"
fi
run images --db "$DB" --registry local --exclude-repo 'team/**' --exclude-tag 'build-*' --format ndjson
if [ "$status" -eq 0 ] && [ "$(wc -l <"$TMP/out")" -eq 7 ]; then ok; else
    bad "images --exclude-repo: exit $status, $(wc -l <"$TMP/out") rows (7 expected): $(err)"
fi
run images --db "$DB" --registry elsewhere --format json
json_ok "$TMP/out" "images of a registry with no rows" "assert d == []"
run images --db "$DB" --repo team/app
expect 2 "images --repo without REGISTRY: and no --config"
run images --db "$DB" --config "$TMP/cfg.json" --repo team/app --format ndjson
if [ "$status" -eq 0 ] && [ "$(wc -l <"$TMP/out")" -eq 29 ]; then ok; else
    bad "images --config --repo team/app: exit $status, $(wc -l <"$TMP/out") rows (29 expected): $(err)"
fi
run images --db "$DB"
if [ "$status" -eq 0 ] && [ "$(wc -l <"$TMP/out")" -eq 37 ] && head -n 1 "$TMP/out" | grep -q '^REGISTRY  TYPE'; then
    ok
else
    bad "images table: exit $status, $(wc -l <"$TMP/out") lines: $(err)"
fi
# OCI registries publish no update time: --updated-since leaves none of their rows
run images --db "$DB" --updated-since 24h --format json
json_ok "$TMP/out" "images --updated-since 24h (OCI rows have no time)" "assert d == [], len(d)"
run images --db :memory: --format json
json_ok "$TMP/out" "images --db :memory: is empty" "assert d == []"

# Harbor rows carry push times: RFC 3339 and durations select by them
python3 "$HARBOR_PY" --dataset tests/emulators/harbor_dataset.json --port-file "$TMP/harbor.port" \
    --max-seconds 120 >/dev/null 2>&1 &
PIDS="$PIDS $!"
HARBOR=$(wait_port "$TMP/harbor.port")
HARBOR_PASSWORD=Harbor12345
export HARBOR_PASSWORD
printf '{"registries":[{"name":"h","type":"harbor","endpoint":"http://127.0.0.1:%s",
  "username":"admin","password_env":"HARBOR_PASSWORD"}]}' "$HARBOR" >"$TMP/harbor.json"
run sync --config "$TMP/harbor.json" --db "$DB" --format ndjson
keep
expect 0 "harbor sync"
# sync prints the rows of its configuration's registries, not every row of the database
if [ "$(wc -l <"$TMP/out")" -gt 0 ] && ! grep -q '"registry":"local"' "$TMP/out"; then ok; else
    bad "harbor sync printed other registries' rows of the database: $(head -c 300 "$TMP/out")"
fi
# --db :memory: leaves no file behind
rm -rf "$TMP/data2"
XDG_DATA_HOME=$TMP/data2 "$IMGSYNC" sync --config "$TMP/harbor.json" --db :memory: --format ndjson \
    >"$TMP/out" 2>"$TMP/err"
status=$?
if [ "$status" -eq 0 ] && [ "$(wc -l <"$TMP/out")" -gt 0 ] && [ ! -e "$TMP/data2" ]; then ok; else
    bad "sync --db :memory:: exit $status, $(ls "$TMP/data2" 2>&1): $(err)"
fi
run images --db "$DB" --registry h --updated-since 1970-01-01T00:00:01Z --format ndjson
all_h=$(wc -l <"$TMP/out")
run images --db "$DB" --registry h --updated-since 2999-01-01T00:00:00+02:00 --format ndjson
if [ "$all_h" -gt 0 ] && [ "$(wc -l <"$TMP/out")" -eq 0 ]; then ok; else
    bad "images --updated-since (harbor): $all_h rows since 1970, $(wc -l <"$TMP/out") since 2999"
fi
run images --db "$DB" --type harbor --format ndjson
if [ "$(wc -l <"$TMP/out")" -eq "$all_h" ]; then ok; else bad "images --type harbor: $(wc -l <"$TMP/out") rows, $all_h expected"; fi

# ---- check --format json --------------------------------------------------------------------
run check --config "$TMP/cfg.json" --format json local
keep
json_ok "$TMP/out" "check --format json" "assert d == {'registry': 'local', 'ok': True, 'error': '', 'message': '', 'credentials': 'options'}, d"
printf '{"registries":[{"name":"local","type":"oci","endpoint":"%s","username":"hist",
  "password":"wrong-%s"}]}' "$URL" "$SECRET" >"$TMP/wrong.json"
run check --config "$TMP/wrong.json" --format json local
keep
if [ "$status" -eq 1 ]; then ok; else bad "check with a wrong password: exit $status"; fi
json_ok "$TMP/out" "check --format json (failure)" "assert d['ok'] is False and d['error'], d"
# a sync whose login is rejected shows none of the rows earlier syncs stored
run sync --config "$TMP/wrong.json" --db "$DB" --format ndjson
keep
if [ "$status" -eq 1 ] && [ ! -s "$TMP/out" ]; then ok; else
    bad "sync with a wrong password: exit $status, $(wc -l <"$TMP/out") rows printed (none expected)"
fi

# ---- schedules ------------------------------------------------------------------------------
run schedule add --db "$DB" --daily 01:00 --registry local --exclude-tag 'build-*'
keep
expect 0 "schedule add --daily 01:00"
DAILY=$(sed -n 's/^schedule \([0-9]*\):.*/\1/p' "$TMP/out")
run schedule add --db "$DB" --every 6h --config "$TMP/cfg.json" --repo team/app
expect 0 "schedule add --every 6h"
EVERY=$(sed -n 's/^schedule \([0-9]*\):.*/\1/p' "$TMP/out")
run schedule list --db "$DB" --format json
keep
json_ok "$TMP/out" "schedule list --format json" "
by_id = {s['id']: s for s in d}
s = by_id[$DAILY]
assert s['kind'] == 'daily' and s['time'] == '01:00' and s['next'] > 0, s
assert s['request']['providers'] == ['local'], s
e = by_id[$EVERY]
assert e['kind'] == 'every' and e['every_minutes'] == 360, e"
run schedule list --db "$DB"
if [ "$status" -eq 0 ] && grep -q 'daily 01:00' "$TMP/out" && grep -q 'every 6h' "$TMP/out"; then ok; else
    bad "schedule list table: exit $status: $(head -c 300 "$TMP/out") $(err)"
fi
run schedule rm --db "$DB" "$EVERY"
expect 0 "schedule rm"
run schedule rm --db "$DB" "$EVERY"
expect 1 "schedule rm twice"

# ---- the daemon: signals --------------------------------------------------------------------
for sig in TERM INT; do
    "$IMGSYNC" daemon --config "$TMP/cfg.json" --db "$DB" >"$TMP/out" 2>"$TMP/err" &
    pid=$!
    i=0
    while ! grep -q 'daemon started' "$TMP/err" && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -q 'daemon started' "$TMP/err" || bad "daemon SIG$sig: not started after 30 s: $(err)"
    kill -s HUP "$pid" 2>/dev/null # logged and ignored
    sleep 0.2
    kill -s "$sig" "$pid"
    wait "$pid"
    status=$?
    keep
    want=143
    [ "$sig" = INT ] && want=130
    if [ "$status" -eq "$want" ] && grep -q 'daemon started: 1 registries, 1 schedules' "$TMP/err" &&
       grep -q 'SIGHUP ignored' "$TMP/err"; then ok; else
        bad "daemon SIG$sig: exit $status ($want expected): $(err)"
    fi
done
run tasks --db "$DB" --state running --format json
json_ok "$TMP/out" "no task left running after the daemon" "assert d == [], d"

# the daemon started above: its first run (one minute after the schedule was added) hangs on
# the silent server; SIGTERM cancels it, records it as canceled and exits 143
i=0
while ! grep -q 'task [0-9]* started (scheduled, schedule 1)' "$TMP/daemon.err" && [ $i -lt 900 ]; do
    sleep 0.1
    i=$((i + 1))
done
sleep 0.5
kill -s TERM "$DAEMON"
wait "$DAEMON"
status=$?
if [ "$status" -eq 143 ] && grep -q 'task [0-9]* canceled (scheduled)' "$TMP/daemon.err"; then ok; else
    bad "daemon SIGTERM during a task: exit $status (143 expected): $(head -c 600 "$TMP/daemon.err")"
fi
run tasks --db "$TMP/daemon.db" --format json
json_ok "$TMP/out" "the daemon's task is recorded as canceled" "
assert [(t['state'], t['trigger'], t['schedule_id']) for t in d] == [('canceled', 'scheduled', 1)], d"

# ---- no secret anywhere ---------------------------------------------------------------------
if grep -q -e "$SECRET" -e Harbor12345 "$ALL"; then bad "a password was printed"; else ok; fi

echo "cli-history-check: --db, tasks, task, changes, images, check/sync JSON, schedules, daemon ($passed checks)"
echo "$(( failed == 0 )) passed, $(( failed > 0 )) failed"
[ -z "${TEST_SUMMARY:-}" ] || echo "$(( failed == 0 )) $(( failed > 0 ))" >>"$TEST_SUMMARY"
[ "$failed" -eq 0 ]
