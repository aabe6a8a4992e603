#!/bin/sh
# Docker/Podman credentials in the imgsync program (build/imgsync, or $IMGSYNC), issue 11: a
# registry that gives no credentials takes them from the auth file found by the default search
# (or the settings' / its own "auth_file"), directly or through a credential helper
# (tests/support/bin/docker-credential-fake), and `check --format json` names the source under
# "credentials"; missing and malformed files are refused naming the file; the secret is never
# printed. No server: the endpoint is a closed loopback port, so every accepted check ends in a
# network error (exit 1) after the credentials were resolved. Run from the repository root.
set -u
IMGSYNC=${IMGSYNC:-build/imgsync}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-authfile.XXXXXX")
XDG_DATA_HOME=$TMP/data
export XDG_DATA_HOME
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    echo "cli-authfile-check: FAILED: $*" >&2
    failed=$((failed + 1))
}
run() {
    "$IMGSYNC" "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
    cat "$TMP/out" "$TMP/err" >>"$TMP/all"
}
# A config with one oci registry "r" at a closed port; $1: more members of the registry, $2: the
# settings' members.
config() {
    printf '{"registries":[{"name":"r","type":"oci","endpoint":"http://%s"%s}],
  "settings":{"max_retries":"0"%s}}\n' "$HOSTPORT" "$1" "$2" >"$TMP/cfg.json"
}
# check --format json; the "credentials" member must be $2 (a grep pattern), the exit status $3.
expect_source() {
    run check --config "$TMP/cfg.json" --format json --timeout-ms 2000 r
    if [ "$status" -eq "$3" ] && grep -q "\"credentials\": \"$2\"" "$TMP/out"; then ok; else
        bad "$1: exit $status ($3 expected), stdout: $(head -c 400 "$TMP/out") stderr: $(head -c 300 "$TMP/err")"
    fi
}

[ -x "$IMGSYNC" ] || { echo "cli-authfile-check: $IMGSYNC is not built" >&2; exit 1; }
command -v python3 >/dev/null || { echo "cli-authfile-check: python3 is needed" >&2; exit 1; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOSTPORT=127.0.0.1:$PORT
SECRET="Af-Secret-$$-never-printed"
AUTH=$(printf 'alice:%s' "$SECRET" | base64 -w0)
: >"$TMP/all"
# a clean search order: only what each case sets
unset REGISTRY_AUTH_FILE XDG_RUNTIME_DIR DOCKER_CONFIG
HOME=$TMP/home
PATH=$(pwd)/tests/support/bin:$PATH
FAKE_HELPER_USER=alice
FAKE_HELPER_SECRET=$SECRET
export HOME PATH FAKE_HELPER_USER FAKE_HELPER_SECRET
mkdir -p "$HOME" "$TMP/dc" "$TMP/run/containers"

# nothing found
config "" ""
expect_source "no auth file" "none (no auth file found)" 1

# ~/.docker/config.json, then $DOCKER_CONFIG, then podman's, by the default search
mkdir -p "$HOME/.docker"
printf '{"auths":{"https://%s/v1/":{"auth":"%s"}}}\n' "$HOSTPORT" "$AUTH" >"$HOME/.docker/config.json"
expect_source "home docker config" "auth file $HOME/.docker/config.json" 1
printf '{"auths":{"%s":{"username":"bob","password":"%s"}}}\n' "$HOSTPORT" "$SECRET" >"$TMP/dc/config.json"
DOCKER_CONFIG=$TMP/dc expect_source "DOCKER_CONFIG" "auth file $TMP/dc/config.json" 1
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$HOSTPORT" "$AUTH" >"$TMP/run/containers/auth.json"
DOCKER_CONFIG=$TMP/dc XDG_RUNTIME_DIR=$TMP/run expect_source "podman first" "auth file $TMP/run/containers/auth.json" 1
printf '{"auths":{}}\n' >"$TMP/empty.json"
REGISTRY_AUTH_FILE=$TMP/empty.json expect_source "REGISTRY_AUTH_FILE first" "none (no entry for $HOSTPORT in $TMP/empty.json)" 1

# the registry's own credentials win; "none" turns the search off
config ',"username":"u","password_env":"AF_PW"' ""
AF_PW=x expect_source "own credentials" "options" 1
config "" ',"auth_file":"none"'
expect_source "settings none" "none" 1

# a credential helper named by the registry's own auth_file
printf '{"credHelpers":{"%s":"fake"}}\n' "$HOSTPORT" >"$TMP/helpers.json"
config ",\"auth_file\":\"$TMP/helpers.json\"" ""
expect_source "credential helper" "credential helper docker-credential-fake (auth file $TMP/helpers.json)" 1
FAKE_HELPER_MODE=fail run check --config "$TMP/cfg.json" --timeout-ms 2000 r
if [ "$status" -eq 1 ] && grep -q 'docker-credential-fake failed (exit status 3)' "$TMP/err"; then ok; else
    bad "failing helper: exit $status, stderr: $(head -c 300 "$TMP/err")"
fi

# refused: a missing file (when the config is read), a malformed one (when the check starts)
config ",\"auth_file\":\"$TMP/missing.json\"" ""
run check --config "$TMP/cfg.json" --timeout-ms 2000 r
if [ "$status" -eq 2 ] && grep -q "auth file '$TMP/missing.json': No such file" "$TMP/err"; then ok; else
    bad "missing auth_file: exit $status, stderr: $(head -c 300 "$TMP/err")"
fi
printf '{"auths":{"%s":{"password":"%s"' "$HOSTPORT" "$SECRET" >"$TMP/broken.json"
config "" ",\"auth_file\":\"$TMP/broken.json\""
run check --config "$TMP/cfg.json" --timeout-ms 2000 r
if [ "$status" -eq 1 ] && grep -q "auth file '$TMP/broken.json': not valid JSON" "$TMP/err"; then ok; else
    bad "malformed auth file: exit $status, stderr: $(head -c 300 "$TMP/err")"
fi

# the secret never appears in any output
if grep -q -e "$SECRET" -e "$AUTH" "$TMP/all"; then bad "a secret was printed"; else ok; fi

echo "cli-authfile-check: auth files, search order, helpers, refusals, no secret printed ($passed checks)"
echo "$(( failed == 0 )) passed, $(( failed > 0 )) failed"
[ -z "${TEST_SUMMARY:-}" ] || echo "$(( failed == 0 )) $(( failed > 0 ))" >>"$TEST_SUMMARY"
[ "$failed" -eq 0 ]
