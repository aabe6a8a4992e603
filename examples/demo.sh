#!/bin/sh
# What `make demo` runs, from the repository root after the build: start a throw-away local
# docker-registry, push deterministic test images into it, start the Harbor API emulator next to
# it, then let build/imgsync sync both into a SQLite database and print the inventory and the
# task status; push a new tag (and rebuild and delete one), sync again, and show the task
# history and what the second sync changed; check both connections.
# Everything it creates lives in one temporary directory, removed on exit (also on error or
# Ctrl-C), and the registry is stopped with it.
set -eu

IMGSYNC=${IMGSYNC:-build/imgsync}
REGISTRY_PY=tests/registry/registry.py
HARBOR_PY=tests/emulators/harbor_emulator.py
HARBOR_PID=

if [ ! -x "$IMGSYNC" ]; then
    echo "demo: $IMGSYNC is missing; run 'make' first (or 'make demo')" >&2
    exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "demo: python3 is needed to run the test registry ('make deps' installs it)" >&2
    exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-demo.XXXXXX")
cleanup() {
    # Stop first: the registry's storage is inside $TMP.
    python3 "$REGISTRY_PY" stop --dir "$TMP/reg" >/dev/null 2>&1 || true
    if [ -n "$HARBOR_PID" ]; then
        kill "$HARBOR_PID" 2>/dev/null || true
        wait "$HARBOR_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
# Turn signals into a normal exit so that the EXIT trap cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

PORT=$(python3 "$REGISTRY_PY" start --dir "$TMP/reg")
case $PORT in
    '' | *[!0-9]*)
        echo "demo: the registry did not report a port" >&2
        exit 1
        ;;
esac
URL=http://127.0.0.1:$PORT
echo "== starting a local docker-registry on port $PORT"

echo "== seeding it with the test images (stage 'initial')"
python3 "$REGISTRY_PY" seed --url "$URL" --out "$TMP/expected.json" --stage initial

# The Harbor REST API v2.0 emulator of the tests, with its sample dataset (projects, robots,
# nested repositories, multi-arch indexes); it stops by itself after 10 minutes at the latest.
python3 "$HARBOR_PY" --dataset tests/emulators/harbor_dataset.json --port-file "$TMP/harbor.port" \
    --max-seconds 600 >/dev/null &
HARBOR_PID=$!
i=0
while [ ! -s "$TMP/harbor.port" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
HARBOR_PORT=$(cat "$TMP/harbor.port" 2>/dev/null || true)
case $HARBOR_PORT in
    '' | *[!0-9]*)
        echo "demo: the Harbor emulator did not report a port" >&2
        exit 1
        ;;
esac
echo "== started the Harbor API emulator on port $HARBOR_PORT (user admin)"

# Plain http is accepted for loopback endpoints; any other host would need "allow_http": true.
# Secrets never go in the file or on the command line: the password comes from the environment.
HARBOR_PASSWORD=Harbor12345
export HARBOR_PASSWORD
CFG=$TMP/imgsync.json
cat >"$CFG" <<EOF
{
  "registries": [
    {"name": "local", "type": "oci", "endpoint": "$URL"},
    {"name": "harbor", "type": "harbor", "endpoint": "http://127.0.0.1:$HARBOR_PORT",
     "username": "admin", "password_env": "HARBOR_PASSWORD"}
  ]
}
EOF

# The inventory, the task history and the change feed live in this SQLite file.
DB=$TMP/imgsync.db

echo "== syncing: $IMGSYNC sync --config $CFG --db $DB"
sync_status=0
"$IMGSYNC" sync --config "$CFG" --db "$DB" || sync_status=$?

echo "== pushing team/app:v3 and newrepo:1, rebuilding team/app:v2, deleting alpine:3.18 (stage 'update')"
python3 "$REGISTRY_PY" seed --url "$URL" --out "$TMP/expected.json" --stage update

echo "== syncing again (inventory not shown): $IMGSYNC sync --config $CFG --db $DB --registry local"
"$IMGSYNC" sync --config "$CFG" --db "$DB" --registry local >/dev/null 2>"$TMP/sync2.err" ||
    sync_status=$?
cat "$TMP/sync2.err" >&2
# the status on stderr starts with "task N succeeded ..."
SECOND=$(sed -n '1s/^task \([0-9]*\) .*/\1/p' "$TMP/sync2.err")

echo "== the task history: $IMGSYNC tasks --db $DB"
"$IMGSYNC" tasks --db "$DB" || sync_status=$?

echo "== what the second sync changed: $IMGSYNC changes --db $DB --task ${SECOND:-?}"
"$IMGSYNC" changes --db "$DB" --task "${SECOND:-0}" || sync_status=$?

echo "== the stored inventory of team/app, no network: $IMGSYNC images --db $DB --repo local:team/app --tag 'v*'"
"$IMGSYNC" images --db "$DB" --repo local:team/app --tag 'v*' || sync_status=$?

echo "== checking the connections: $IMGSYNC check --config $CFG local|harbor"
check_status=0
"$IMGSYNC" check --config "$CFG" local || check_status=$?
"$IMGSYNC" check --config "$CFG" harbor || check_status=$?

if [ "$sync_status" -ne 0 ]; then
    echo "demo: a sync or a database command failed (exit status $sync_status)" >&2
    exit 1
fi
if [ "$check_status" -ne 0 ]; then
    echo "demo: the check failed (exit status $check_status)" >&2
    exit 1
fi
echo "== done"
