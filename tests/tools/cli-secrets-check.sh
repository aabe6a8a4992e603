#!/bin/sh
# Secret options of the imgsync program (build/imgsync, or $IMGSYNC), issue 8 "Configuration":
# every secret X (password, sk, security_token, token) is also accepted as X_env and X_file; a
# secret given twice or empty is refused with a message naming the registry and the option; a
# secret on the command line is refused; the secret itself is never printed.
# No server: the SWR endpoint is a closed loopback port, so an accepted configuration ends in a
# network error (exit 1) and a refused one in a configuration error (exit 2). Run from the
# repository root.
set -u
IMGSYNC=${IMGSYNC:-build/imgsync}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-secrets.XXXXXX")
XDG_DATA_HOME=$TMP/data
export XDG_DATA_HOME
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    echo "cli-secrets-check: FAILED: $*" >&2
    failed=$((failed + 1))
}
# Run imgsync; its outputs go to $TMP/out and $TMP/err (and are kept in $TMP/all).
run() {
    "$IMGSYNC" "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
    cat "$TMP/out" "$TMP/err" >>"$TMP/all"
}
# A config with one swr-private registry "s" whose options after "ak" are $1 (JSON members).
swr_config() {
    printf '{"registries":[{"name":"s","type":"swr-private","region":"cn-north-4",
  "endpoint":"http://127.0.0.1:1","ak":"AKCHECK",%s}],"settings":{"max_retries":"0"}}\n' "$1" \
        >"$TMP/cfg.json"
}
# The configuration is accepted: the check fails on the network, not on the config.
expect_accepted() {
    run check --config "$TMP/cfg.json" --timeout-ms 2000 s
    if [ "$status" -eq 1 ] && grep -q '^imgsync: check s: network error' "$TMP/err" &&
       ! grep -q 'config ' "$TMP/err"; then ok; else
        bad "$1: exit $status (1, a network error, expected): $(head -c 300 "$TMP/err")"
    fi
}
# The configuration is refused (exit 2) with a message matching $2.
expect_refused() {
    run check --config "$TMP/cfg.json" --timeout-ms 2000 s
    if [ "$status" -eq 2 ] && grep -q -e "$2" "$TMP/err"; then ok; else
        bad "$1: exit $status (2 expected), stderr: $(head -c 300 "$TMP/err")"
    fi
}

[ -x "$IMGSYNC" ] || { echo "cli-secrets-check: $IMGSYNC is not built" >&2; exit 1; }
SECRET="sk-Value-$$-never-printed"
: >"$TMP/all"
printf '%s\n' "$SECRET" >"$TMP/sk"   # a trailing newline, as echo leaves it
: >"$TMP/empty"
printf '\n' >"$TMP/newline-only"
SK_VALUE=$SECRET
SK_EMPTY=
export SK_VALUE SK_EMPTY
unset IMGSYNC_UNSET_TOKEN 2>/dev/null || true

# accepted: sk_file (trailing newline stripped) and sk_env, with security_token_file
swr_config "\"sk_file\":\"$TMP/sk\""
expect_accepted "sk_file"
swr_config '"sk_env":"SK_VALUE"'
expect_accepted "sk_env"
swr_config "\"sk_env\":\"SK_VALUE\",\"security_token_file\":\"$TMP/sk\""
expect_accepted "sk_env + security_token_file"

# a secret given twice
swr_config "\"sk\":\"$SECRET\",\"sk_env\":\"SK_VALUE\""
expect_refused "sk + sk_env" "registry 's': give only one of sk_env, sk_file and sk"
swr_config "\"sk_env\":\"SK_VALUE\",\"sk_file\":\"$TMP/sk\""
expect_refused "sk_env + sk_file" "give only one of sk_env, sk_file and sk"
swr_config "\"sk_env\":\"SK_VALUE\",\"security_token\":\"$SECRET\",\"security_token_file\":\"$TMP/sk\""
expect_refused "security_token + security_token_file" "give only one of security_token_env, security_token_file and security_token"

# empty secrets
swr_config "\"sk_file\":\"$TMP/empty\""
expect_refused "empty sk_file" "registry 's': sk_file .*empty is empty"
swr_config "\"sk_file\":\"$TMP/newline-only\""
expect_refused "sk_file holding only a newline" "registry 's': sk_file .* is empty"
swr_config '"sk_env":"SK_EMPTY"'
expect_refused "sk_env naming an empty variable" "registry 's': environment variable SK_EMPTY (sk_env) is empty"
swr_config '"sk":""'
expect_refused "empty sk" "registry 's': \"sk\" is empty"
swr_config '"sk_env":""'
expect_refused "sk_env \"\"" "registry 's': \"sk_env\" must be a non-empty string"
swr_config '"sk_env":"SK_VALUE","security_token_env":"IMGSYNC_UNSET_TOKEN"'
expect_refused "security_token_env unset" "registry 's': environment variable IMGSYNC_UNSET_TOKEN (security_token_env) is not set"
swr_config "\"sk_env\":\"SK_VALUE\",\"token_file\":\"$TMP/missing\""
expect_refused "token_file missing" "registry 's': cannot read token_file .*missing"

# a plain secret in the file works but warns (and the warning does not quote it)
swr_config "\"sk\":\"$SECRET\""
run check --config "$TMP/cfg.json" --timeout-ms 2000 s
if [ "$status" -eq 1 ] && grep -q "registry 's' has a plain \"sk\"; secrets belong in sk_env or sk_file" "$TMP/err"
then ok; else bad "plain sk: exit $status, stderr: $(head -c 300 "$TMP/err")"; fi

# never on the command line
swr_config '"sk_env":"SK_VALUE"'
for arg in "--sk=$SECRET" "--security-token=$SECRET" "--password" "--token_file=$TMP/sk" "--sk-env=SK_VALUE"; do
    run check --config "$TMP/cfg.json" "$arg" s
    if [ "$status" -eq 2 ] && grep -q 'secrets are never given on the command line' "$TMP/err"
    then ok; else bad "command line $arg: exit $status, stderr: $(head -c 300 "$TMP/err")"; fi
done
run sync --config "$TMP/cfg.json" --db :memory: --sk "$SECRET"
if [ "$status" -eq 2 ] && grep -q 'set sk_env .* or sk_file' "$TMP/err"; then ok; else
    bad "sync --sk VALUE: exit $status, stderr: $(head -c 300 "$TMP/err")"
fi

# a misspelled secret option is unknown, and its value is not echoed
run check --config "$TMP/cfg.json" "--passwd=$SECRET" s
if [ "$status" -eq 2 ] && grep -q "unknown option '--passwd' for check" "$TMP/err"; then ok; else
    bad "--passwd=VALUE: exit $status, stderr: $(head -c 300 "$TMP/err")"
fi

# the secret never appears in any output
if grep -q -e "$SECRET" "$TMP/all"; then bad "the secret was printed"; else ok; fi

echo "cli-secrets-check: X_env/X_file for every secret, twice/empty refused, none on the command line ($passed checks)"
echo "$(( failed == 0 )) passed, $(( failed > 0 )) failed"
[ -z "${TEST_SUMMARY:-}" ] || echo "$(( failed == 0 )) $(( failed > 0 ))" >>"$TEST_SUMMARY"
[ "$failed" -eq 0 ]
