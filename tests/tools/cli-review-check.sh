#!/bin/sh
# Review of the CLI conventions work (issue 11, cliconv): failing checks for the defects found.
# No registry is needed: every command is pointed at a closed loopback port, a TCP listener that
# never answers, or a name that does not resolve; what is checked is what the program says and
# how it ends. Certificates are made with the openssl CLI. Run from the repository root.
#   1. a proxy password holding '#', '/' or '?' is quoted in errors (run.c add_proxy_secret)
#   2. proxy credentials from the environment (https_proxy) are quoted in errors and status
#   3. SSL_CERT_DIR as OpenSSL and the curl tool take it (a ':'-separated list) is refused
#   4. a registry host name starting with "127." is taken for loopback (plain http, refused)
#   5. cert_file holding an encrypted key: OpenSSL prompts for the pass phrase on the terminal
#      and the command hangs past its --timeout-ms
#   6. the summary line says "synced 100%" for a sync that failed
#   7. password_file "-" reads stdin instead of the file named "-" (read_file's new "-")
#   8. imgsync schedule --help is a usage error (every command was to have its --help)
#   9. plain http to a loopback registry through a proxy on another host: the Basic credentials
#      go over the network in clear (the loopback exemption assumes the request stays local)
#  10. --username with a ':' is accepted: Basic sends 'a:b:PASSWORD', the registry reads user 'a'
#      and password 'b:PASSWORD' (RFC 7617: a user-id with a colon is invalid)
#  11. the proxy's credentials (secrets, README) can only be written in the configuration file in
#      clear: proxy_env / proxy_file are refused and a plain "proxy" with a password gets no warning
set -u
IMGSYNC=${IMGSYNC:-$(pwd)/build/imgsync}
case $IMGSYNC in /*) ;; *) IMGSYNC=$(pwd)/$IMGSYNC ;; esac
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-review.XXXXXX")
XDG_DATA_HOME=$TMP/data
XDG_CONFIG_HOME=$TMP/config
export XDG_DATA_HOME XDG_CONFIG_HOME
unset http_proxy https_proxy HTTPS_PROXY HTTP_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY \
    SSL_CERT_FILE SSL_CERT_DIR
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
    echo "cli-review-check: FAILED: $*" >&2
    failed=$((failed + 1))
}
run() {
    timeout 60 "$IMGSYNC" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    status=$?
}
err() { head -c 400 "$TMP/err" | sed 's/S3cret/<secret>/g'; }

# a closed loopback port (nothing listens on the discard port in the test environment)
DEAD=127.0.0.1:9

# ---- 1. proxy password with '#', '/' or '?' --------------------------------------------------
for pw in 'Pr0xy#S3cret' 'Pr0xy/S3cret' 'Pr0xy?S3cret'; do
    printf '{"registries":[{"name":"r","type":"oci","endpoint":"https://registry.example.invalid","proxy":"http://alice:%s@%s"}]}\n' \
        "$pw" "$DEAD" >"$TMP/proxy.json"
    run check --timeout-ms 2000 --config "$TMP/proxy.json" r
    if ! grep -q 'S3cret' "$TMP/err"; then ok; else
        bad "proxy password with '$(echo "$pw" | tr -d 'A-Za-z0-9')' is quoted by check: exit $status: $(err)"
    fi
    run sync --db :memory: --format json --config "$TMP/proxy.json"
    if ! grep -q 'S3cret' "$TMP/err"; then ok; else
        bad "proxy password with '$(echo "$pw" | tr -d 'A-Za-z0-9')' is in the task status (sync --format json)"
    fi
done

# ---- 2. proxy credentials of the environment -------------------------------------------------
printf '{"registries":[{"name":"r","type":"oci","endpoint":"https://registry.example.invalid"}]}\n' >"$TMP/plain.json"
for var in https_proxy HTTPS_PROXY ALL_PROXY; do
    env "$var=http://alice:EnvS3cret@127.0.0.1:99999" timeout 60 "$IMGSYNC" sync --db :memory: --format json \
        --config "$TMP/plain.json" >"$TMP/out" 2>"$TMP/err" </dev/null
    status=$?
    if ! grep -q 'EnvS3cret' "$TMP/err"; then ok; else
        bad "$var's proxy password is in the task status and errors (sync --format json): exit $status: $(err)"
    fi
done
env "https_proxy=http://alice:EnvS3cret@127.0.0.1:99999" timeout 60 "$IMGSYNC" ls --timeout-ms 2000 \
    registry.example.invalid/app >"$TMP/out" 2>"$TMP/err" </dev/null
status=$?
if ! grep -q 'EnvS3cret' "$TMP/err"; then ok; else
    bad "https_proxy's password is quoted by ls: exit $status: $(err)"
fi

# ---- 3. SSL_CERT_DIR as a list ----------------------------------------------------------------
mkdir -p "$TMP/ca1" "$TMP/ca2"
printf '{"registries":[{"name":"r","type":"oci","endpoint":"https://%s"}]}\n' "$DEAD" >"$TMP/dead.json"
SSL_CERT_DIR="$TMP/ca1:$TMP/ca2" timeout 60 "$IMGSYNC" check --timeout-ms 500 --config "$TMP/dead.json" r \
    >"$TMP/out" 2>"$TMP/err" </dev/null
status=$?
if [ "$status" -ne 2 ] && ! grep -q 'SSL_CERT_DIR' "$TMP/err"; then ok; else
    bad "SSL_CERT_DIR=DIR1:DIR2 (OpenSSL's and the curl tool's list form) refused: exit $status: $(err)"
fi
SSL_CERT_DIR="$TMP/ca1:$TMP/ca2" timeout 60 "$IMGSYNC" ls --timeout-ms 500 "$DEAD/app" \
    >"$TMP/out" 2>"$TMP/err" </dev/null
status=$?
if [ "$status" -ne 2 ] && ! grep -q 'SSL_CERT_DIR' "$TMP/err"; then ok; else
    bad "ls with SSL_CERT_DIR=DIR1:DIR2 refused: exit $status: $(err)"
fi

# ---- 4. a host name starting with 127. is not loopback ---------------------------------------
for ref in 127.example.invalid/app 127.0.0.1.example.invalid/app; do
    run ls --timeout-ms 2000 "$ref"
    if ! grep -q 'plain http' "$TMP/err"; then ok; else
        bad "ls $ref: taken for loopback, sent as plain http and refused: exit $status: $(err)"
    fi
    run ls --plain-http --timeout-ms 2000 "$ref"
    if ! grep -q 'plain http is accepted only' "$TMP/err"; then ok; else
        bad "ls --plain-http $ref: refused although --plain-http was given: exit $status: $(err)"
    fi
done

# ---- 5. an encrypted key in cert_file: no prompt, no hang -------------------------------------
if command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$TMP/enc.key" \
        -out "$TMP/client.pem" -days 2 -subj /CN=imgsync-review -passout pass:review >/dev/null 2>&1
    cat "$TMP/client.pem" "$TMP/enc.key" >"$TMP/both.pem"
    # a TCP listener that accepts and never answers: curl gets as far as setting up TLS
    python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$TMP/listen.port" &
    PIDS="$PIDS $!"
    i=0
    while [ ! -s "$TMP/listen.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    LPORT=$(cat "$TMP/listen.port")
    printf '{"registries":[{"name":"r","type":"oci","endpoint":"https://127.0.0.1:%s","cert_file":"%s"}]}\n' \
        "$LPORT" "$TMP/both.pem" >"$TMP/mtls.json"
    cat >"$TMP/review_pty.py" <<'PY'
import os, pty, signal, sys, time
argv = [sys.argv[1], "check", "--timeout-ms", "3000", "--config", sys.argv[2], "r"]
began = time.monotonic()
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
data = b""
deadline = began + 20
while time.monotonic() < deadline:
    import select
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        break
else:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    data += b"[killed after 20 s]"
open(sys.argv[3], "wb").write(data)
print("%.1f" % (time.monotonic() - began))
PY
    elapsed=$(python3 "$TMP/review_pty.py" "$IMGSYNC" "$TMP/mtls.json" "$TMP/pty.out")
    if ! grep -qi 'pass phrase' "$TMP/pty.out" && ! grep -q 'killed after' "$TMP/pty.out"; then ok; else
        bad "cert_file holding an encrypted key (key_file left out): $(tr '\r\n' '  ' <"$TMP/pty.out" | head -c 200) after ${elapsed}s (check --timeout-ms 3000)"
    fi
fi

# ---- 6. the summary line of a failed sync ------------------------------------------------------
run ls --timeout-ms 2000 "$DEAD/app"
if [ "$status" -ne 0 ] && ! grep -q 'synced 100%' "$TMP/err"; then ok; else
    bad "a failed ls ends with a summary claiming 'synced 100%': exit $status: $(err)"
fi
run sync --db :memory: --config "$TMP/dead.json" --timeout-ms 2000
if [ "$status" -ne 0 ] && ! grep -q 'synced 100%' "$TMP/err"; then ok; else
    bad "a failed sync ends with a summary claiming 'synced 100%': exit $status: $(err)"
fi

# ---- 7. password_file "-" is a file ------------------------------------------------------------
mkdir -p "$TMP/dash"
printf 'filepw\n' >"$TMP/dash/-"
printf '{"registries":[{"name":"r","type":"oci","endpoint":"https://%s","username":"u","password_file":"-"}]}\n' \
    "$DEAD" >"$TMP/dash/c.json"
(cd "$TMP/dash" && timeout 60 "$IMGSYNC" check --timeout-ms 500 --config c.json r >"$TMP/out" 2>"$TMP/err" </dev/null)
status=$?
if [ "$status" -ne 2 ] && ! grep -q 'password_file' "$TMP/err"; then ok; else
    bad "password_file \"-\" (a file named '-') read from stdin instead: exit $status: $(err)"
fi

# ---- 9. loopback plain http through a non-loopback proxy: no credentials in clear -----------
# A stand-in proxy on a non-loopback address of this machine records each request head; it
# answers 401 Basic without Authorization (as a registry would), else 200.
NONLOOP=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v '^127\.' | grep -v ':' | head -n 1)
if [ -n "$NONLOOP" ]; then
    cat >"$TMP/recorder.py" <<'PY'
import os, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 0)); s.listen(16)
open(sys.argv[2] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    c, _ = s.accept()
    c.settimeout(5)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            d = c.recv(65536)
            if not d:
                break
            data += d
    except OSError:
        pass
    head = data.split(b"\r\n\r\n")[0].decode("latin-1")
    with open(sys.argv[3], "a") as f:
        f.write(head + "\n--\n")
    if "\nauthorization:" in head.lower():
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    else:
        c.sendall(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"r\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    c.close()
PY
    python3 "$TMP/recorder.py" "$NONLOOP" "$TMP/recorder.port" "$TMP/recorder.log" &
    PIDS="$PIDS $!"
    i=0
    while [ ! -s "$TMP/recorder.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    printf '{"registries":[{"name":"r","type":"oci","endpoint":"http://127.0.0.1:5000","username":"u","password_env":"REVIEW_PW","proxy":"http://%s:%s"}]}\n' \
        "$NONLOOP" "$(cat "$TMP/recorder.port")" >"$TMP/remoteproxy.json"
    REVIEW_PW=Pl41nS3cret timeout 60 "$IMGSYNC" check --timeout-ms 5000 --config "$TMP/remoteproxy.json" r \
        >"$TMP/out" 2>"$TMP/err" </dev/null
    status=$?
    if ! grep -qi '^authorization: basic' "$TMP/recorder.log" 2>/dev/null; then ok; else
        bad "http://127.0.0.1 registry with proxy http://$NONLOOP: Basic credentials sent in clear to the proxy host (check exit $status)"
    fi
fi

# ---- 10. --username with a colon --------------------------------------------------------------
printf 'pw\n' | timeout 60 "$IMGSYNC" ls --timeout-ms 500 --username 'a:b' --password-stdin "$DEAD/app" \
    >"$TMP/out" 2>"$TMP/err"
status=$?
if [ "$status" -eq 2 ] && grep -q 'username' "$TMP/err"; then ok; else
    bad "ls --username a:b accepted (Basic 'a:b:pw' = user 'a', password 'b:pw'): exit $status"
fi

# ---- 11. the proxy's credentials from the environment or a file --------------------------------
printf '{"registries":[{"name":"r","type":"oci","endpoint":"https://%s","proxy_env":"REVIEW_PROXY"}]}\n' \
    "$DEAD" >"$TMP/proxyenv.json"
REVIEW_PROXY="http://alice:S3cret@$DEAD" timeout 60 "$IMGSYNC" check --timeout-ms 500 --config "$TMP/proxyenv.json" r \
    >"$TMP/out" 2>"$TMP/err" </dev/null
status=$?
if [ "$status" -ne 2 ]; then ok; else
    bad "proxy_env refused (a proxy password can only be written in the configuration in clear): exit $status: $(err)"
fi
printf '{"registries":[{"name":"r","type":"oci","endpoint":"https://%s","proxy":"http://alice:S3cret@%s"}]}\n' \
    "$DEAD" "$DEAD" >"$TMP/proxyplain.json"
run check --timeout-ms 500 --config "$TMP/proxyplain.json" r
if grep -q 'warning' "$TMP/err"; then ok; else
    bad "a proxy password written in the configuration gets no warning (a plain \"password\" does): exit $status"
fi

# ---- 8. imgsync schedule --help ----------------------------------------------------------------
run schedule --help
if [ "$status" -eq 0 ] && grep -q 'usage:' "$TMP/out"; then ok; else
    bad "imgsync schedule --help: exit $status: $(err)"
fi

echo "cli-review-check: proxy secrets, SSL_CERT_DIR, 127. names, encrypted cert_file key, summary, password_file -, schedule --help, loopback via proxy, --username a:b, proxy_env ($((passed + failed)) checks)"
[ -z "${TEST_SUMMARY:-}" ] || echo "$((failed == 0 ? 1 : 0)) $((failed > 0 ? 1 : 0))" >>"$TEST_SUMMARY"
echo "$((failed == 0 ? 1 : 0)) passed, $((failed > 0 ? 1 : 0)) failed"
[ "$failed" -eq 0 ]
