#!/bin/sh
# What `make demo` runs, from the repository root after the build: start a throw-away local
# docker-registry, push deterministic test images into it, start the Harbor, SWR, SWR EE and
# JFrog Artifactory API emulators next to it, then let build/imgsync sync all of them (OCI,
# Harbor, SWR private and shared images, SWR Enterprise Edition instances, JFrog Docker
# repositories)
# into a SQLite database and print the inventory and the task status; push a new tag (and rebuild
# and delete one), sync again, and show the task history and what the second sync changed; check
# the connections.
# Everything it creates lives in one temporary directory, removed on exit (also on error or
# Ctrl-C), and the registry is stopped with it.
set -eu

IMGSYNC=${IMGSYNC:-build/imgsync}
REGISTRY_PY=tests/registry/registry.py
HARBOR_PY=tests/emulators/harbor_emulator.py
SWR_PY=tests/emulators/swr_emulator.py
SWR_EE_PY=tests/emulators/swr_ee_emulator.py
JFROG_PY=tests/emulators/jfrog_emulator.py

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
    # start_emulator runs in a command substitution (a subshell): its pids come back in a file
    for pid in $(cat "$TMP/emulator.pids" 2>/dev/null); do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
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

# Start an API emulator of the tests in the background (it stops by itself after 10 minutes at
# the latest) and print the port it listens on: start_emulator NAME SCRIPT DATASET
start_emulator() {
    python3 "$2" --dataset "$3" --port-file "$TMP/$1.port" --max-seconds 600 >/dev/null &
    echo "$!" >>"$TMP/emulator.pids"
    i=0
    while [ ! -s "$TMP/$1.port" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    port=$(cat "$TMP/$1.port" 2>/dev/null || true)
    case $port in
        '' | *[!0-9]*)
            echo "demo: the $1 emulator did not report a port" >&2
            exit 1
            ;;
    esac
    echo "$port"
}

# The Harbor REST API v2.0 emulator with its sample dataset (projects, robots, nested
# repositories, multi-arch indexes).
HARBOR_PORT=$(start_emulator harbor "$HARBOR_PY" tests/emulators/harbor_dataset.json)
echo "== started the Harbor API emulator on port $HARBOR_PORT (user admin)"
# The SWR API v2 + IAM emulator: it verifies every AK/SK signature and IAM token. Account "acme"
# has private repositories and images shared with it by two other accounts (one share expired).
SWR_PORT=$(start_emulator swr "$SWR_PY" tests/emulators/swr_dataset.json)
echo "== started the SWR + IAM API emulator on port $SWR_PORT (account acme)"
# The SWR Enterprise Edition API + IAM emulator: account "acme" has two Running instances holding
# the same repository path (two scopes) and three instances in other states (skipped, noted in
# the registry's status).
SWR_EE_PORT=$(start_emulator swr-ee "$SWR_EE_PY" tests/emulators/swr_ee_dataset.json)
echo "== started the SWR EE + IAM API emulator on port $SWR_EE_PORT (account acme)"
# The JFrog Artifactory emulator: local, remote (content in "-cache"), federated and virtual
# Docker repositories, nested images, digest "tags", AQL. Synced with an access token (Bearer).
JFROG_PORT=$(start_emulator jfrog "$JFROG_PY" tests/emulators/jfrog_dataset.json)
echo "== started the JFrog Artifactory emulator on port $JFROG_PORT (user admin)"

# Plain http is accepted for loopback endpoints; any other host would need "allow_http": true.
# Secrets never go in the file or on the command line: the password comes from the environment.
HARBOR_PASSWORD=Harbor12345
SWR_SK=acme-sk-0001-AbCdEfGhIjKlMnOpQrStUv
SWR_PASSWORD='Acme#Admin-Pass1'
SWR_EE_SK=acme-ee-sk-0001-AbCdEfGhIjKlMnOp
JFROG_TOKEN=atk-admin-3f8a2b6c4d
export HARBOR_PASSWORD SWR_SK SWR_PASSWORD SWR_EE_SK JFROG_TOKEN
SWR=http://127.0.0.1:$SWR_PORT
CFG=$TMP/imgsync.json
cat >"$CFG" <<EOF
{
  "registries": [
    {"name": "local", "type": "oci", "endpoint": "$URL"},
    {"name": "harbor", "type": "harbor", "endpoint": "http://127.0.0.1:$HARBOR_PORT",
     "username": "admin", "password_env": "HARBOR_PASSWORD"},
    {"name": "swr", "type": "swr-private", "region": "cn-north-4", "endpoint": "$SWR",
     "ak": "ACMEAKEXAMPLE0000001", "sk_env": "SWR_SK"},
    {"name": "swr-shared", "type": "swr-shared", "region": "cn-north-4", "endpoint": "$SWR",
     "iam_endpoint": "$SWR", "username": "acme-admin", "domain": "acme", "password_env": "SWR_PASSWORD"},
    {"name": "swr-ee", "type": "swr-enterprise", "region": "cn-north-4",
     "endpoint": "http://127.0.0.1:$SWR_EE_PORT", "project_id": "3f2e1d0c9b8a79685746352413021f0e",
     "ak": "ACMEEEAK000000000001", "sk_env": "SWR_EE_SK", "include_untagged": true},
    {"name": "jfrog", "type": "jfrog", "endpoint": "http://127.0.0.1:$JFROG_PORT", "token_env": "JFROG_TOKEN"}
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
# the status on stderr has a line "task N succeeded ..." (after the summary line "imgsync: synced ...")
SECOND=$(sed -n 's/^task \([0-9]*\) .*/\1/p' "$TMP/sync2.err" | head -n 1)

echo "== the task history: $IMGSYNC tasks --db $DB"
"$IMGSYNC" tasks --db "$DB" || sync_status=$?

echo "== what the second sync changed: $IMGSYNC changes --db $DB --task ${SECOND:-?}"
"$IMGSYNC" changes --db "$DB" --task "${SECOND:-0}" || sync_status=$?

echo "== the stored inventory of team/app, no network: $IMGSYNC images --db $DB --repo local:team/app --tag 'v*'"
"$IMGSYNC" images --db "$DB" --repo local:team/app --tag 'v*' || sync_status=$?

echo "== the SWR EE rows of library/nginx (two instances, two scopes): $IMGSYNC images --db $DB --repo swr-ee:library/nginx"
"$IMGSYNC" images --db "$DB" --repo swr-ee:library/nginx || sync_status=$?

echo "== checking the connections: $IMGSYNC check --config $CFG local|harbor|swr|swr-shared|swr-ee|jfrog"
check_status=0
for r in local harbor swr swr-shared swr-ee jfrog; do
    "$IMGSYNC" check --config "$CFG" "$r" || check_status=$?
done

if [ "$sync_status" -ne 0 ]; then
    echo "demo: a sync or a database command failed (exit status $sync_status)" >&2
    exit 1
fi
if [ "$check_status" -ne 0 ]; then
    echo "demo: the check failed (exit status $check_status)" >&2
    exit 1
fi
echo "== done"
