#!/bin/sh
# The imgsync program's -v / -vv / --debug (issue 11): the library's log on stderr against a real
# docker-registry on loopback with htpasswd credentials. -v shows task and registry lines, --debug
# (or -vv, before or after the command) one line per HTTP request; every line is
# "TIMESTAMP LEVEL: message", without escape sequences when stderr is not a terminal; the password
# and the Authorization header never show, also when the password is refused. Without -v nothing
# of the log shows. The registry is stopped on exit, also on failure. Run from the repository root.
set -u
IMGSYNC=${IMGSYNC:-build/imgsync}
REGISTRY_PY=tests/registry/registry.py
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-log.XXXXXX")
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
    echo "cli-log-check: FAILED: $*" >&2
    failed=$((failed + 1))
}
run() {
    "$IMGSYNC" "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
    cat "$TMP/err" >>"$TMP/all"
}
err() { head -c 400 "$TMP/err"; }
# has REGEX DESCRIPTION -- some stderr line of the last run matches
has() { if grep -Eq -e "$1" "$TMP/err"; then ok; else bad "$2: no line matches '$1': $(err)"; fi; }
hasnt() { if grep -Eq -e "$1" "$TMP/err"; then bad "$2: a line matches '$1': $(err)"; else ok; fi; }

[ -x "$IMGSYNC" ] || { echo "cli-log-check: $IMGSYNC is not built" >&2; exit 1; }
SECRET=log-Secret-$$-77
WRONG=log-Wrong-$$-88
PORT=$(python3 "$REGISTRY_PY" start --dir "$TMP/reg" --htpasswd "lg:$SECRET") || {
    echo "cli-log-check: cannot start the registry" >&2
    exit 1
}
URL=http://127.0.0.1:$PORT
REG_PASSWORD=$SECRET
WRONG_PASSWORD=$WRONG
export REG_PASSWORD WRONG_PASSWORD
python3 "$REGISTRY_PY" seed --url "$URL" --user lg --password-env REG_PASSWORD \
    --out "$TMP/expected.json" --stage initial >"$TMP/seed.log" 2>&1 || {
    cat "$TMP/seed.log" >&2
    exit 1
}
printf '{"registries":[{"name":"local","type":"oci","endpoint":"%s","username":"lg",
  "password_env":"REG_PASSWORD"}],"settings":{"max_retries":"0"}}' "$URL" >"$TMP/cfg.json"
printf '{"registries":[{"name":"local","type":"oci","endpoint":"%s","username":"lg",
  "password_env":"WRONG_PASSWORD"}],"settings":{"max_retries":"0"}}' "$URL" >"$TMP/wrong.json"
: >"$TMP/all"
TS='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

# without -v: the status only
run sync --config "$TMP/cfg.json" --db :memory:
[ "$status" -eq 0 ] && ok || bad "sync: exit $status: $(err)"
hasnt "$TS" "sync without -v"

# -v: task and registry lines, no request
run sync -v --config "$TMP/cfg.json" --db :memory:
[ "$status" -eq 0 ] && ok || bad "sync -v: exit $status: $(err)"
has "$TS info: task 1: sync of 1 registry started\$" "sync -v: task start"
has "$TS info: registry 'local' \\(oci, $URL\\): sync started\$" "sync -v: registry start"
has "$TS info: registry 'local': finished, 5 repositories listed, 0 failed\$" "sync -v: registry end"
has "$TS info: task 1: succeeded; repositories 5/5, 0 failed; images 35 found, 35 added, 0 updated, 0 removed; [0-9]+ requests, 0 retries\$" "sync -v: task end"
hasnt " debug: " "sync -v"

# --debug before the command, -vv after it: one line per request
for args in "--debug sync" "sync -vv"; do
    # shellcheck disable=SC2086 # the words are meant to split
    run $args --config "$TMP/cfg.json" --db :memory:
    [ "$status" -eq 0 ] && ok || bad "$args: exit $status: $(err)"
    has "$TS debug: registry 'local': GET $URL/v2/ -> 200, 2 bytes, [0-9]+ ms, attempt 1\$" "$args: /v2/"
    has "$TS debug: registry 'local': GET $URL/v2/_catalog\\?n=100 -> 200, [0-9]+ bytes, [0-9]+ ms, attempt 1\$" "$args: catalog"
    has "$TS debug: registry 'local': GET $URL/v2/team/app/manifests/[a-z0-9.-]+ -> 200, [0-9]+ bytes, [0-9]+ ms, attempt 1\$" "$args: manifests"
    has "$TS info: task 1: succeeded" "$args: task end"
    requests=$(grep -c " debug: registry 'local': " "$TMP/err")
    counted=$(sed -n 's/.*; \([0-9]*\) requests, 0 retries$/\1/p' "$TMP/err" | head -n 1)
    [ "$requests" = "$counted" ] && ok || bad "$args: $requests request lines, the task counted $counted"
done

# a refused password: the 401 shows, the password does not
run sync --debug --config "$TMP/wrong.json" --db :memory:
[ "$status" -eq 1 ] && ok || bad "wrong password: exit $status (1 expected): $(err)"
has "$TS debug: registry 'local': GET $URL/v2/ -> 401, [0-9]+ bytes, [0-9]+ ms, attempt 1\$" "wrong password: 401"
has "$TS error: registry 'local' failed: " "wrong password: error line"
has "$TS error: task 1: failed" "wrong password: task failed"

# never a secret, a header, or an escape sequence (stderr is a file here)
if grep -q -e "$SECRET" -e "$WRONG" "$TMP/all"; then bad "a password in stderr"; else ok; fi
if grep -qi -e "authorization" -e "basic " "$TMP/all"; then bad "a header in stderr: $(grep -i -e authorization -e 'basic ' "$TMP/all" | head -n 3)"; else ok; fi
if LC_ALL=C grep -q "$(printf '\033')" "$TMP/all"; then bad "an escape sequence without a terminal"; else ok; fi

# the help mentions it
run --help
if grep -q -e "-vv" "$TMP/out" && grep -q -e "--debug" "$TMP/out"; then ok; else bad "--help does not mention -vv / --debug"; fi

echo "cli-log-check: $passed passed, $failed failed"
[ -z "${TEST_SUMMARY:-}" ] || echo "$(( failed == 0 )) $(( failed > 0 ))" >>"$TEST_SUMMARY"
[ "$failed" -eq 0 ]
