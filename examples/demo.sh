#!/bin/sh
# What `make demo` runs, from the repository root after the build: start a throw-away local
# docker-registry, push deterministic test images into it, then let build/imgsync sync it and
# print the inventory and the task status, and check the connection.
# Everything it creates lives in one temporary directory, removed on exit (also on error or
# Ctrl-C), and the registry is stopped with it.
set -eu

IMGSYNC=${IMGSYNC:-build/imgsync}
REGISTRY_PY=tests/registry/registry.py

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

# Plain http is accepted for loopback endpoints; any other host would need "allow_http": true.
CFG=$TMP/imgsync.json
cat >"$CFG" <<EOF
{
  "registries": [
    {"name": "local", "type": "oci", "endpoint": "$URL"}
  ]
}
EOF
# Harbor: a Harbor API emulator will be started here later and added to "registries" above,
# e.g. {"name": "harbor", "type": "harbor", "endpoint": "http://127.0.0.1:$HARBOR_PORT"}.

echo "== syncing: $IMGSYNC sync --config $CFG --format table"
sync_status=0
"$IMGSYNC" sync --config "$CFG" --format table || sync_status=$?

echo "== checking the connection: $IMGSYNC check --config $CFG local"
check_status=0
"$IMGSYNC" check --config "$CFG" local || check_status=$?

if [ "$sync_status" -ne 0 ]; then
    echo "demo: the sync failed (exit status $sync_status)" >&2
    exit 1
fi
if [ "$check_status" -ne 0 ]; then
    echo "demo: the check failed (exit status $check_status)" >&2
    exit 1
fi
echo "== done"
