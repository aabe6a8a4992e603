#!/bin/sh
# Checks of the imgsync program's one-shot commands and CLI conventions (issue 11), against a real
# docker-registry on loopback (tests/registry/registry.py) with the stage "initial" content:
#   ls / inspect / catalog (table and --json, multi-arch platforms, by digest), bad references,
#   an unknown host, per-command --help and usage errors, --config - and the XDG default
#   configuration, the progress line on a pseudo-terminal (redraws limited) and the summary line
#   elsewhere; the provider options proxy (tests/tools/forward_proxy.py: absolute-URI GET and
#   CONNECT, proxy credentials never shown), the proxy environment rules, and TLS: client
#   certificates (a registry with http.tls.clientcas), cert_file/key_file checks, SSL_CERT_FILE
#   and SSL_CERT_DIR. Certificates are made with the openssl CLI. Every server it starts is
#   stopped on exit, also on failure. Run from the repository root.
set -u
IMGSYNC=${IMGSYNC:-build/imgsync}
REGISTRY_PY=tests/registry/registry.py
PROXY_PY=tests/tools/forward_proxy.py
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-oneshot.XXXXXX")
XDG_DATA_HOME=$TMP/data
XDG_CONFIG_HOME=$TMP/config
export XDG_DATA_HOME XDG_CONFIG_HOME
# the proxy variables of the caller's environment must not decide where requests go
unset http_proxy https_proxy HTTPS_PROXY HTTP_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY \
    SSL_CERT_FILE SSL_CERT_DIR
PIDS=
cleanup() {
    for pid in $PIDS; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for d in "$TMP/reg" "$TMP/tlsreg" "$TMP/authreg"; do
        [ -f "$d/registry.pid" ] && python3 "$REGISTRY_PY" stop --dir "$d" >/dev/null 2>&1
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
    echo "cli-oneshot-check: FAILED: $*" >&2
    failed=$((failed + 1))
}
run() {
    "$IMGSYNC" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    status=$?
}
err() { head -c 400 "$TMP/err"; }
wait_port() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    cat "$1" 2>/dev/null
}
# A forward proxy: start_proxy NAME [ARGS]; its port in $PROXY_PORT, its log $TMP/NAME.log.
start_proxy() {
    name=$1
    shift
    python3 "$PROXY_PY" --port-file "$TMP/$name.port" --log "$TMP/$name.log" "$@" &
    PIDS="$PIDS $!"
    PROXY_PORT=$(wait_port "$TMP/$name.port")
}
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
# rows_match JSON_ROWS EXPECTED [REPOSITORY]: the rows (repository, tag, digest, size) are
# exactly those expected (of one repository when given).
rows_match() {
    python3 - "$@" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
want = json.load(open(sys.argv[2]))
if len(sys.argv) > 3:
    want = [w for w in want if w["repository"] == sys.argv[3]]
key = lambda r: (r["repository"], r["tag"], r["digest"], r["size"])
got, exp = sorted(map(key, rows)), sorted(map(key, want))
if got != exp:
    print(f"rows differ: {len(got)} rows, {len(exp)} expected; first differences: "
          f"{sorted(set(got) ^ set(exp))[:3]}", file=sys.stderr)
    sys.exit(1)
PY
}

[ -x "$IMGSYNC" ] || { echo "cli-oneshot-check: $IMGSYNC is not built" >&2; exit 1; }

# ---- the registry and its content ---------------------------------------------------------
if ! PORT=$(python3 "$REGISTRY_PY" start --dir "$TMP/reg" 2>"$TMP/reg.err"); then
    echo "cli-oneshot-check: cannot start the registry: $(cat "$TMP/reg.err")" >&2
    exit 1
fi
REG=127.0.0.1:$PORT
python3 "$REGISTRY_PY" seed --url "http://$REG" --out "$TMP/expected.json" >"$TMP/seed.log" 2>&1 ||
    { cat "$TMP/seed.log" >&2; exit 1; }
fact() { python3 -c "import json,sys; r=[x for x in json.load(open('$TMP/expected.json')) if x['repository']==sys.argv[1] and x['tag']==sys.argv[2]][0]; print(r[sys.argv[3]])" "$@"; }

# ---- ls ----------------------------------------------------------------------------------
run ls "$REG/team/app"
ntags=$(python3 -c "import json; print(sum(1 for r in json.load(open('$TMP/expected.json')) if r['repository']=='team/app'))")
V1=$(fact team/app v1 digest)
if [ "$status" -eq 0 ] && [ "$(lines "$TMP/out")" -eq $((ntags + 1)) ] && head -n 1 "$TMP/out" | grep -q '^TAG  *DIGEST  *SIZE' &&
   grep -q "^v1  *$V1 " "$TMP/out"; then ok; else
    bad "ls table: exit $status, $(lines "$TMP/out") lines ($((ntags + 1)) expected): $(err)"
fi
# the summary line (stderr is not a terminal; with --json stderr has none): one line, no carriage return
if [ "$(grep -c '^imgsync: synced 100% (1/1 repositories), [0-9]* images in .* images/s' "$TMP/err")" -eq 1 ] &&
   ! grep -q "$(printf '\r')" "$TMP/err"; then ok; else
    bad "summary line off a terminal: $(err)"
fi
run ls --json "$REG/team/app"
if [ "$status" -eq 0 ] && rows_match "$TMP/out" "$TMP/expected.json" team/app; then ok; else
    bad "ls --json: exit $status: $(err)"
fi
run ls "$REG/team/app:v1"
if [ "$status" -eq 2 ] && grep -q 'takes no :tag' "$TMP/err"; then ok; else bad "ls with a tag: exit $status: $(err)"; fi
run ls "$REG/no/such/repo"
if [ "$status" -eq 1 ] && grep -qi 'not found' "$TMP/err"; then ok; else bad "ls of a missing repository: exit $status: $(err)"; fi

# ---- inspect -----------------------------------------------------------------------------
MULTI=$(fact multi/arch latest digest)
run inspect --json "$REG/multi/arch"
if [ "$status" -eq 0 ] && python3 - "$TMP/out" "$MULTI" "$(fact multi/arch latest size)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["tag"] == "latest" and r["digest"] == sys.argv[2] and r["size"] == int(sys.argv[3]), r
assert r["multi_arch"] is True and r["platforms"] == "linux/amd64,linux/arm64/v8", r
assert r["media_type"] == "application/vnd.docker.distribution.manifest.list.v2+json", r
PY
then ok; else bad "inspect --json multi/arch: exit $status: $(err)"; fi
run inspect "$REG/multi/arch:oci-index"
if [ "$status" -eq 0 ] && grep -q '^platforms:  linux/amd64,linux/arm64/v8$' "$TMP/out" &&
   grep -q '^media type: application/vnd.oci.image.index.v1+json$' "$TMP/out" &&
   grep -q "^digest:     $(fact multi/arch oci-index digest)\$" "$TMP/out"; then ok; else
    bad "inspect table multi/arch:oci-index: exit $status: $(cat "$TMP/out") $(err)"
fi
ALPINE=$(fact alpine 3.19 digest)
run inspect --json "$REG/alpine@$ALPINE"
if [ "$status" -eq 0 ] && python3 -c "import json,sys; r=json.load(open('$TMP/out')); sys.exit(r['digest']!='$ALPINE' or r['repository']!='alpine' or r['multi_arch'])"; then ok; else
    bad "inspect by digest: exit $status: $(err)"
fi
run inspect "$REG/alpine:3.18@$ALPINE"
if [ "$status" -eq 1 ] && grep -q 'not found' "$TMP/err"; then ok; else bad "inspect tag with another digest: exit $status: $(err)"; fi
run inspect "$REG/alpine:nope"
if [ "$status" -eq 1 ] && grep -q 'tag not found' "$TMP/err"; then ok; else bad "inspect of a missing tag: exit $status: $(err)"; fi

# ---- catalog -----------------------------------------------------------------------------
python3 -c "import json; print('\n'.join(sorted({r['repository'] for r in json.load(open('$TMP/expected.json'))})))" >"$TMP/repos"
run catalog "$REG"
if [ "$status" -eq 0 ] && cmp -s "$TMP/out" "$TMP/repos"; then ok; else bad "catalog: exit $status: $(cat "$TMP/out") $(err)"; fi
run catalog --json "$REG"
if [ "$status" -eq 0 ] && python3 -c "import json,sys; sys.exit(json.load(open('$TMP/out')) != open('$TMP/repos').read().split())"; then ok; else
    bad "catalog --json: exit $status: $(err)"
fi

# ---- credentials: an htpasswd registry, from an auth file or --password-stdin -------------
OS_PW="Oneshot-pw-$$"
unset REGISTRY_AUTH_FILE XDG_RUNTIME_DIR DOCKER_CONFIG # only the auth files each case names
if APORT=$(python3 "$REGISTRY_PY" start --dir "$TMP/authreg" --htpasswd "olive:$OS_PW" 2>"$TMP/areg.err"); then
    AREG=127.0.0.1:$APORT
    OS_PW="$OS_PW" python3 "$REGISTRY_PY" seed --url "http://$AREG" --user olive --password-env OS_PW \
        --out "$TMP/aexpected.json" >"$TMP/aseed.log" 2>&1 || { cat "$TMP/aseed.log" >&2; exit 1; }
    # no credentials: refused (not an empty success)
    HOME=$TMP/nohome run ls "$AREG/team/app"
    if [ "$status" -ne 0 ]; then ok; else bad "ls of an htpasswd registry without credentials succeeded"; fi
    # the Docker auth file found by the default search ($REGISTRY_AUTH_FILE first)
    printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$AREG" "$(printf 'olive:%s' "$OS_PW" | base64 -w0)" >"$TMP/oauth.json"
    REGISTRY_AUTH_FILE=$TMP/oauth.json run ls --json "$AREG/team/app"
    if [ "$status" -eq 0 ] && rows_match "$TMP/out" "$TMP/aexpected.json" team/app 2>"$TMP/rm.err"; then ok; else
        bad "ls with credentials from an auth file: exit $status: $(err) $(cat "$TMP/rm.err")"
    fi
    # --username + --password-stdin
    printf '%s\n' "$OS_PW" | HOME=$TMP/nohome "$IMGSYNC" catalog --username olive --password-stdin "$AREG" \
        >"$TMP/out" 2>"$TMP/err"
    status=$?
    if [ "$status" -eq 0 ] && grep -q '^team/app$' "$TMP/out"; then ok; else
        bad "catalog with --password-stdin: exit $status: $(err)"
    fi
    if grep -q -e "$OS_PW" "$TMP/out" "$TMP/err"; then bad "the password was printed"; else ok; fi
else
    bad "cannot start the htpasswd registry: $(cat "$TMP/areg.err")"
fi

# ---- bad references, unknown host ---------------------------------------------------------
for ref in 'UPPER/case' "$REG/x@sha256:12" "$REG//x" "$(printf 'a.io/x\033[31m')" "$(printf 'a.io/\302\233x')" ''; do
    run inspect "$ref"
    if [ "$status" -eq 2 ] && grep -q 'invalid reference' "$TMP/err" && [ ! -s "$TMP/out" ] &&
       ! grep -q "$(printf '\033')" "$TMP/err"; then ok; else
        bad "bad reference '$ref': exit $status: $(err)"
    fi
done
run ls no-such-host.invalid/team/app
if [ "$status" -eq 1 ] && grep -q 'resolve host' "$TMP/err"; then ok; else bad "unknown host: exit $status: $(err)"; fi

# ---- per-command --help, usage errors ------------------------------------------------------
for cmd in sync check images tasks task changes "schedule add" "schedule list" "schedule rm" daemon ls inspect catalog; do
    # shellcheck disable=SC2086
    run $cmd --help
    if [ "$status" -eq 0 ] && head -n 1 "$TMP/out" | grep -q "^usage: imgsync $cmd " && [ ! -s "$TMP/err" ] &&
       grep -q '^options:' "$TMP/out"; then ok; else
        bad "$cmd --help: exit $status: $(head -n 2 "$TMP/out") $(err)"
    fi
done
run ls
if [ "$status" -eq 2 ] && [ ! -s "$TMP/out" ] && grep -q '^usage: imgsync ls' "$TMP/err"; then ok; else
    bad "ls without a reference: exit $status: $(err)"
fi
run inspect --db x.db "$REG/alpine"
if [ "$status" -eq 2 ] && grep -q "unknown option '--db'" "$TMP/err"; then ok; else bad "inspect --db: exit $status: $(err)"; fi
run inspect --password-stdin "$REG/alpine"
if [ "$status" -eq 2 ] && grep -q 'needs --username' "$TMP/err"; then ok; else bad "--password-stdin alone: exit $status: $(err)"; fi

# ---- --config -, the XDG default ----------------------------------------------------------
printf '{"registries":[{"name":"local","type":"oci","endpoint":"http://%s"}]}\n' "$REG" >"$TMP/cfg.json"
"$IMGSYNC" sync --config - --db :memory: --format json <"$TMP/cfg.json" >"$TMP/out" 2>"$TMP/err"
status=$?
if [ "$status" -eq 0 ] && rows_match "$TMP/out" "$TMP/expected.json"; then ok; else bad "--config -: exit $status: $(err)"; fi
printf '{"registries": [' | "$IMGSYNC" sync --config - --db :memory: >"$TMP/out" 2>"$TMP/err"
status=$?
if [ "$status" -eq 2 ] && grep -q '^imgsync: config (stdin): ' "$TMP/err"; then ok; else bad "--config - with bad JSON: exit $status: $(err)"; fi
run sync --db :memory:
if [ "$status" -eq 2 ] && grep -q "needs --config FILE (no default configuration $XDG_CONFIG_HOME/imgsync/config.json)" "$TMP/err"; then ok; else
    bad "sync without any configuration: exit $status: $(err)"
fi
mkdir -p "$XDG_CONFIG_HOME/imgsync"
cp "$TMP/cfg.json" "$XDG_CONFIG_HOME/imgsync/config.json"
run sync --db :memory: --format json
if [ "$status" -eq 0 ] && rows_match "$TMP/out" "$TMP/expected.json"; then ok; else bad "XDG default configuration: exit $status: $(err)"; fi
run check local
if [ "$status" -eq 0 ] && grep -q '^registry local: OK' "$TMP/out"; then ok; else bad "check with the XDG default: exit $status: $(err)"; fi
# without XDG_CONFIG_HOME: ~/.config/imgsync/config.json
mkdir -p "$TMP/home/.config/imgsync"
cp "$TMP/cfg.json" "$TMP/home/.config/imgsync/config.json"
env -u XDG_CONFIG_HOME HOME="$TMP/home" "$IMGSYNC" check local >"$TMP/out" 2>"$TMP/err"
status=$?
if [ "$status" -eq 0 ]; then ok; else bad "check with ~/.config/imgsync/config.json: exit $status: $(err)"; fi
rm -f "$XDG_CONFIG_HOME/imgsync/config.json"

# ---- progress on a terminal: redrawn at most ~4 times a second ---------------------------
# a slow path: every request through a proxy that waits 150 ms, two connections at a time
start_proxy slow --delay-ms 150
printf '{"registries":[{"name":"local","type":"oci","endpoint":"http://%s","proxy":"http://127.0.0.1:%s"}],
 "settings":{"max_connections":"2","max_host_connections":"2"}}\n' "$REG" "$PROXY_PORT" >"$TMP/slow.json"
cat >"$TMP/progress_pty.py" <<'PY'
import os, pty, sys, time
argv = [sys.argv[1], "sync", "--config", sys.argv[2], "--db", ":memory:"]
began = time.monotonic()
pid, fd = pty.fork()
if pid == 0:
    # stdout to /dev/null: only stderr (the progress) is on the terminal
    out = os.open(os.devnull, os.O_WRONLY)
    os.dup2(out, 1)
    os.execv(argv[0], argv)
data = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
_, st = os.waitpid(pid, 0)
elapsed = time.monotonic() - began
open(sys.argv[3], "wb").write(data)
print(os.waitstatus_to_exitcode(st), data.count(b"\rsyncing: "), "%.2f" % elapsed)
PY
set -- $(python3 "$TMP/progress_pty.py" "$IMGSYNC" "$TMP/slow.json" "$TMP/pty.out")
echo "progress on a pty: exit ${1:-x}, ${2:-0} redraws in ${3:-0} s" >&2
pst=${1:-x} redraws=${2:-0} elapsed=${3:-0}
# at most one redraw per 250 ms (+2: the first one and rounding), and some progress shown
limit=$(python3 -c "import math; print(math.floor(float('$elapsed') * 4) + 2)")
if [ "$pst" = 0 ] && [ "$redraws" -ge 2 ] && [ "$redraws" -le "$limit" ] &&
   grep -q 'syncing: [0-9]*% ([0-9]*/[0-9]* repositories), [0-9]* images, [0-9.]* images/s' "$TMP/pty.out" &&
   ! grep -q 'imgsync: synced' "$TMP/pty.out"; then ok; else
    bad "progress on a terminal: exit $pst, $redraws redraws in ${elapsed}s (at most $limit): $(tail -c 300 "$TMP/pty.out" | tr '\r\033' '|E')"
fi

# ---- proxy: the provider option ------------------------------------------------------------
start_proxy fwd
FWD=$PROXY_PORT
printf '{"registries":[{"name":"local","type":"oci","endpoint":"http://%s","proxy":"http://127.0.0.1:%s"}]}\n' \
    "$REG" "$FWD" >"$TMP/proxy.json"
# no_proxy does not bypass a configured proxy
no_proxy=127.0.0.1,localhost "$IMGSYNC" sync --config "$TMP/proxy.json" --db :memory: --format json \
    >"$TMP/out" 2>"$TMP/err"
status=$?
seen=$(grep -c "^GET http://$REG/v2/" "$TMP/fwd.log")
if [ "$status" -eq 0 ] && rows_match "$TMP/out" "$TMP/expected.json" && [ "$seen" -ge 30 ]; then ok; else
    bad "sync through the proxy: exit $status, the proxy saw $seen requests: $(err)"
fi
# proxy credentials: accepted by the proxy, never shown
start_proxy auth --user 'puser:pr0xy-s3cret'
AUTH=$PROXY_PORT
printf '{"registries":[{"name":"local","type":"oci","endpoint":"http://%s","proxy":"http://puser:pr0xy-s3cret@127.0.0.1:%s"}]}\n' \
    "$REG" "$AUTH" >"$TMP/pauth.json"
run sync --config "$TMP/pauth.json" --db :memory:
if [ "$status" -eq 0 ] && [ "$(grep -c '^GET ' "$TMP/auth.log")" -ge 30 ] && ! grep -q DENIED "$TMP/auth.log"; then ok; else
    bad "proxy with credentials: exit $status: $(err)"
fi
sed 's/pr0xy-s3cret/wr0ng-s3cret/' "$TMP/pauth.json" >"$TMP/pwrong.json"
run sync --config "$TMP/pwrong.json" --db :memory: --format json
if [ "$status" -eq 1 ] && grep -q DENIED "$TMP/auth.log" && ! grep -q 's3cret' "$TMP/out" "$TMP/err"; then ok; else
    bad "proxy with a wrong password: exit $status, secret shown or not refused: $(err)"
fi
printf '{"registries":[{"name":"local","type":"oci","endpoint":"http://%s","proxy":"ftp://u:pr0xy-s3cret@h"}]}\n' "$REG" >"$TMP/pbad.json"
run sync --config "$TMP/pbad.json" --db :memory:
if [ "$status" -eq 2 ] && grep -q "option 'proxy' must be" "$TMP/err" && ! grep -q 's3cret' "$TMP/err"; then ok; else
    bad "proxy ftp://: exit $status: $(err)"
fi

# ---- proxy: the environment (libcurl's rules) and "none" -----------------------------------
before=$(lines "$TMP/fwd.log")
http_proxy=http://127.0.0.1:$FWD "$IMGSYNC" ls "$REG/alpine" >"$TMP/out" 2>"$TMP/err"
status=$?
after=$(lines "$TMP/fwd.log")
if [ "$status" -eq 0 ] && [ "$after" -gt "$before" ]; then ok; else bad "http_proxy: exit $status, proxy saw $((after - before)): $(err)"; fi
before=$after
HTTP_PROXY=http://127.0.0.1:$FWD "$IMGSYNC" ls "$REG/alpine" >"$TMP/out" 2>"$TMP/err"
status=$?
after=$(lines "$TMP/fwd.log")
if [ "$status" -eq 0 ] && [ "$after" -eq "$before" ]; then ok; else bad "HTTP_PROXY (upper case) is used: exit $status, proxy saw $((after - before))"; fi
http_proxy=http://127.0.0.1:$FWD no_proxy=127.0.0.1 "$IMGSYNC" ls "$REG/alpine" >"$TMP/out" 2>"$TMP/err"
status=$?
after=$(lines "$TMP/fwd.log")
if [ "$status" -eq 0 ] && [ "$after" -eq "$before" ]; then ok; else bad "no_proxy: exit $status, proxy saw $((after - before))"; fi
printf '{"registries":[{"name":"local","type":"oci","endpoint":"http://%s","proxy":"none"}]}\n' "$REG" >"$TMP/pnone.json"
http_proxy=http://127.0.0.1:$FWD "$IMGSYNC" sync --config "$TMP/pnone.json" --db :memory: >"$TMP/out" 2>"$TMP/err"
status=$?
after=$(lines "$TMP/fwd.log")
if [ "$status" -eq 0 ] && [ "$after" -eq "$before" ]; then ok; else bad "proxy none with http_proxy set: exit $status, proxy saw $((after - before))"; fi

# ---- TLS: a registry that requires client certificates -------------------------------------
PKI=$TMP/pki
mkdir -p "$PKI"
(
    cd "$PKI" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=imgsync test CA" \
        -keyout ca.key -out ca.pem &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr &&
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out server.pem &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=imgsync client CA" \
        -keyout client-ca.key -out client-ca.pem &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=imgsync client" -keyout client.key -out client.csr &&
    printf 'extendedKeyUsage=clientAuth\n' >client.ext &&
    openssl x509 -req -in client.csr -CA client-ca.pem -CAkey client-ca.key -CAcreateserial -days 2 \
        -extfile client.ext -out client.pem &&
    mkdir cadir && cp ca.pem cadir/ && openssl rehash cadir
) >"$TMP/openssl.log" 2>&1 || { cat "$TMP/openssl.log" >&2; exit 1; }
# the TLS registry serves the content of the first one (same storage)
mkdir -p "$TMP/tlsreg"
ln -s "$TMP/reg/data" "$TMP/tlsreg/data"
if ! TPORT=$(python3 "$REGISTRY_PY" start --dir "$TMP/tlsreg" --tls-cert "$PKI/server.pem" \
        --tls-key "$PKI/server.key" --tls-client-ca "$PKI/client-ca.pem" 2>"$TMP/tlsreg.err"); then
    echo "cli-oneshot-check: cannot start the TLS registry: $(cat "$TMP/tlsreg.err")" >&2
    exit 1
fi
tls_config() { # tls_config FILE EXTRA-JSON-MEMBERS
    printf '{"registries":[{"name":"tls","type":"oci","endpoint":"https://127.0.0.1:%s"%s}]}\n' "$TPORT" "$2" >"$1"
}
tls_config "$TMP/nocert.json" ",\"ca_file\":\"$PKI/ca.pem\""
run sync --config "$TMP/nocert.json" --db :memory: --timeout-ms 20000
if [ "$status" -eq 1 ] && grep -qi 'tls\|ssl\|certificate\|handshake' "$TMP/err" && [ "$(lines "$TMP/out")" -le 1 ]; then ok; else
    bad "mTLS without a client certificate: exit $status: $(err)"
fi
CERT=",\"cert_file\":\"$PKI/client.pem\",\"key_file\":\"$PKI/client.key\""
tls_config "$TMP/mtls.json" ",\"ca_file\":\"$PKI/ca.pem\"$CERT"
run sync --config "$TMP/mtls.json" --db :memory: --format json
if [ "$status" -eq 0 ] && rows_match "$TMP/out" "$TMP/expected.json"; then ok; else bad "mTLS with cert_file/key_file: exit $status: $(err)"; fi
tls_config "$TMP/nokey.json" ",\"ca_file\":\"$PKI/ca.pem\",\"cert_file\":\"$PKI/client.pem\",\"key_file\":\"$PKI/missing.key\""
run sync --config "$TMP/nokey.json" --db :memory:
if [ "$status" -eq 2 ] && grep -q "key_file '$PKI/missing.key': cannot open" "$TMP/err"; then ok; else bad "missing key_file: exit $status: $(err)"; fi
tls_config "$TMP/certkey.json" ",\"ca_file\":\"$PKI/ca.pem\",\"cert_file\":\"$PKI/client.key\""
run sync --config "$TMP/certkey.json" --db :memory:
if [ "$status" -eq 2 ] && grep -q "cert_file '$PKI/client.key': no PEM certificate" "$TMP/err"; then ok; else bad "cert_file holding a key: exit $status: $(err)"; fi
# the private CA from SSL_CERT_FILE / SSL_CERT_DIR when the registry names no ca_file
tls_config "$TMP/envca.json" "$CERT"
run sync --config "$TMP/envca.json" --db :memory: --timeout-ms 20000
if [ "$status" -eq 1 ] && grep -qi 'certificate' "$TMP/err"; then ok; else bad "private CA not trusted by default: exit $status: $(err)"; fi
SSL_CERT_FILE=$PKI/ca.pem "$IMGSYNC" sync --config "$TMP/envca.json" --db :memory: --format json >"$TMP/out" 2>"$TMP/err"
status=$?
if [ "$status" -eq 0 ] && rows_match "$TMP/out" "$TMP/expected.json"; then ok; else bad "SSL_CERT_FILE: exit $status: $(err)"; fi
SSL_CERT_DIR=$PKI/cadir "$IMGSYNC" sync --config "$TMP/envca.json" --db :memory: --format json >"$TMP/out" 2>"$TMP/err"
status=$?
if [ "$status" -eq 0 ] && rows_match "$TMP/out" "$TMP/expected.json"; then ok; else bad "SSL_CERT_DIR: exit $status: $(err)"; fi
SSL_CERT_FILE=$TMP/no-such.pem "$IMGSYNC" sync --config "$TMP/envca.json" --db :memory: >"$TMP/out" 2>"$TMP/err"
status=$?
if [ "$status" -eq 2 ] && grep -q "SSL_CERT_FILE: .*ca_file '$TMP/no-such.pem'" "$TMP/err"; then ok; else bad "SSL_CERT_FILE missing: exit $status: $(err)"; fi
# https through the proxy: a CONNECT tunnel
tls_config "$TMP/mtlsproxy.json" ",\"ca_file\":\"$PKI/ca.pem\"$CERT,\"proxy\":\"http://127.0.0.1:$FWD\""
run sync --config "$TMP/mtlsproxy.json" --db :memory: --format json
if [ "$status" -eq 0 ] && rows_match "$TMP/out" "$TMP/expected.json" &&
   grep -q "^CONNECT 127.0.0.1:$TPORT" "$TMP/fwd.log"; then ok; else
    bad "https through the proxy (CONNECT): exit $status: $(err)"
fi

echo "cli-oneshot-check: ls, inspect, catalog, credentials, references, --help, --config -, XDG, progress, proxy, mTLS, SSL_CERT_* ($((passed + failed)) checks)"
[ -z "${TEST_SUMMARY:-}" ] || echo "$((failed == 0 ? 1 : 0)) $((failed > 0 ? 1 : 0))" >>"$TEST_SUMMARY"
echo "$((failed == 0 ? 1 : 0)) passed, $((failed > 0 ? 1 : 0)) failed"
[ "$failed" -eq 0 ]
