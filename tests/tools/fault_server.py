#!/usr/bin/env python3
"""A deterministic misbehaving HTTP server for libimgsync's engine tests.

Usage:
  fault_server.py [--max-seconds N] [--user U] [--password P]
                  [--big-bytes N] [--slow-seconds S] [--verbose]

Listens on 127.0.0.1 on a free port, prints the port alone on the first line
of stdout (flushed), then serves (HTTP/1.1, keep-alive, one thread per
connection) until killed or until --max-seconds (default 120) have passed, so
it never outlives a crashed test run.  Python 3 standard library only.

Behaviour is chosen by path, so one server covers every scenario.  Tests use
a distinct path (e.g. a per-test id segment) for each case, because counters
are never reset.  "Path" below means the request target without its query.

  GET /v2/                      200 {}
  /flaky/<n>/<status>/...       <status> (429, 500, 502, 503, 504, ...) for the
                                first <n> requests of that exact path, then 200
                                {"repositories":["a"]}.  A 429 carries
                                "Retry-After: 1" when the path contains
                                "retry-after".
  /bearer/[<id>/]...            401 + WWW-Authenticate: Bearer realm="http://HOST
                                /token[/<id>]",service="test",scope="repository:x:pull"
                                (HOST: the Host header received; an <id>
                                containing "insecure-realm" names
                                http://example.invalid/token/<id> instead)
                                unless "Authorization: Bearer good-token" is
                                sent; then 200 {"repositories":["b"]} (or, when
                                the path contains "redirect-other-host", a 302
                                to http://localhost:PORT/echo-auth/...).
  /redirect-to-bearer/...       302 to http://localhost:PORT/bearer/...
  /token[/<id>]                 200 {"token":"good-token","expires_in":300} for
                                Basic credentials --user/--password (default
                                "user"/"pass"), else 401.  Counted in
                                "token_requests" (and per path in "counts").
                                An <id> containing "flaky" answers 503 to its
                                first request, "access" answers with
                                "access_token" instead of "token", "slow"
                                sleeps 1 s first.
  /link/<id>/p1                 Link: <p2?n=1&last=a>; rel="next"   (relative)
  /link/<id>/p2                 Link: <http://127.0.0.1:PORT/link/<id>/p3>;
                                rel="next"                          (absolute)
  /link/<id>/p3                 Link: </link/<id>/p1>; rel="prev" ,
                                </link/<id>/p4>; rel="next"   (several entries)
  /link/<id>/p4                 no Link header (last page)
  /link/<id>/evil               Link: <http://evil.invalid/x>; rel="next"
  /link/<id>/split              two Link fields: </link/<id>/p4>; rel="next"
                                then </link/<id>/p1>; rel="prev"
  /big                          a body of --big-bytes (default 2 MiB) bytes with
                                Content-Length
  /big/<n>                      a body of exactly <n> bytes with Content-Length
  /big-chunked[/<n>]            the same, chunked transfer encoding
  /slow[/...]                   sleeps --slow-seconds (default 3) then 200
  /redirect-other-host[/...]    302 to http://localhost:PORT/echo-auth/...
                                (same server, different host name)
  /echo-auth[/...]              200 {"authorization": bool, "host": "..."}
  /concurrency/<id>/...         sleeps 200 ms; the largest number of requests
                                of /concurrency/<id> in flight at once is kept
                                in "max_inflight"[<id>]
  /redirect-same-host[/...]     302 to http://127.0.0.1:PORT/echo-auth/...
                                (same origin)
  /redirect-insecure[/...]      302 to http://example.invalid/echo-auth/...
                                (plain http, not loopback)
  /redirect-chain/<n>/...       <n> > 0: 302 to /redirect-chain/<n-1>/... (relative);
                                <n> = 0: 200 {"repositories":["chain"]}
  /many-headers/<n>/...         200 whose header section holds exactly <n> fields
                                (<n> >= 5; Server, Date, Content-Type and
                                Content-Length included), a Link rel="next" among
                                the last of them
  /token/<id> with "inject"     the token "good<CR><LF>X-Injected: yes" (a header
                                injection attempt), Basic credentials as above
  /token/<id> with "forever"    "expires_in": 9223372036854775807 (INT64_MAX)
  /trickle/<id>/...             200 with "Content-Length: 104857600" and then one
                                body byte every 0.5 s (a trickling body, slowloris
                                style) until the client goes away or the server's
                                --max-seconds are up; then the connection is closed
  /silent/<id>/...              reads the request and never answers: the
                                connection is held until the client closes it or
                                the server's --max-seconds are up
  /stall-headers/<id>[/...]     sends "HTTP/1.1 2" (part of a status line) and
                                then nothing, held like /silent/
  /retry-after/<id>/<value>     503 {"errors":[...]} with "Retry-After: <value>",
                                <value> percent-decoded (so an HTTP-date such as
                                "Thu%2C%2001%20Jan%202099%2000:00:00%20GMT" can be
                                given); every request of the path alike
                                (These four are counted per path like the others,
                                when the request arrives.)
  GET /_stats                   JSON (never counted itself):
                                {"pid", "port", "token_requests",
                                 "counts": {path: n},
                                 "times": {path: [monotonic ms of each arrival]},
                                 "auth": {path: [true/false per request:
                                          an Authorization header arrived]},
                                 "hosts": {path: [Host header per request]},
                                 "headers": {path: [{lower-case name: value}
                                             per request]},
                                 "max_inflight": {id: n}}
  anything else                 404
"""

import argparse
import base64
import json
import os
import select
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JSON = "application/json"


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.port = 0
        self.counts = {}
        self.times = {}
        self.auth = {}
        self.hosts = {}
        self.headers = {}
        self.token_requests = 0
        self.started = time.monotonic()
        self.inflight = {}
        self.max_inflight = {}

    def record(self, path, has_auth, host, headers=None):
        """Count one request of `path`; return its 1-based number."""
        now = time.monotonic() * 1000.0
        with self.lock:
            n = self.counts.get(path, 0) + 1
            self.counts[path] = n
            self.times.setdefault(path, []).append(round(now, 3))
            self.auth.setdefault(path, []).append(has_auth)
            self.hosts.setdefault(path, []).append(host)
            self.headers.setdefault(path, []).append(headers or {})
            return n

    def seconds_left(self):
        """Seconds until --max-seconds are up (never negative)."""
        return max(0.0, self.started + self.args.max_seconds - time.monotonic())

    def enter(self, key):
        with self.lock:
            n = self.inflight.get(key, 0) + 1
            self.inflight[key] = n
            if n > self.max_inflight.get(key, 0):
                self.max_inflight[key] = n

    def leave(self, key):
        with self.lock:
            self.inflight[key] = self.inflight.get(key, 1) - 1

    def snapshot(self):
        with self.lock:
            return {
                "pid": os.getpid(),
                "port": self.port,
                "token_requests": self.token_requests,
                "counts": dict(self.counts),
                "times": {k: list(v) for k, v in self.times.items()},
                "auth": {k: list(v) for k, v in self.auth.items()},
                "hosts": {k: list(v) for k, v in self.hosts.items()},
                "headers": {k: list(v) for k, v in self.headers.items()},
                "max_inflight": dict(self.max_inflight),
            }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-server/1"
    state = None  # set in main()

    # ---- plumbing ------------------------------------------------------------------------

    def log_message(self, fmt, *args):  # noqa: A003 - BaseHTTPRequestHandler API
        if self.state.args.verbose:
            sys.stderr.write("fault_server: " + (fmt % args) + "\n")

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            # the client gave up (timeout tests, size caps): nothing to answer
            self.close_connection = True

    def send(self, status, body=b"", ctype=JSON, headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status, obj, headers=()):
        self.send(status, json.dumps(obj, separators=(",", ":")), JSON, headers)

    def send_chunked(self, total):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command != "HEAD":
            left = total
            piece = b"x" * 65536
            while left > 0:
                n = min(left, len(piece))
                self.wfile.write(b"%x\r\n" % n + piece[:n] + b"\r\n")
                left -= n
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def origin(self, host="127.0.0.1"):
        return "http://%s:%d" % (host, self.state.port)

    # ---- dispatch ------------------------------------------------------------------------

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        st = self.state
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        if path == "/_stats":
            self.send_json(200, st.snapshot())
            return
        auth = self.headers.get("Authorization")
        received = {k.lower(): v for k, v in self.headers.items()}
        n = st.record(path, auth is not None, self.headers.get("Host", ""), received)
        parts = [p for p in path.split("/") if p]

        if path in ("/v2", "/v2/"):
            self.send_json(200, {})
        elif parts[:1] == ["flaky"]:
            self.flaky(path, parts, n)
        elif parts[:1] == ["bearer"]:
            self.bearer(path, parts, auth)
        elif parts[:1] == ["token"]:
            self.token(parts, auth, n)
        elif parts[:1] == ["link"] and len(parts) == 3:
            self.link(parts[1], parts[2])
        elif parts[:1] == ["big"] and len(parts) <= 2:
            size = int(parts[1]) if len(parts) == 2 else st.args.big_bytes
            self.send(200, b"x" * size, "application/octet-stream")
        elif parts[:1] == ["big-chunked"] and len(parts) <= 2:
            self.send_chunked(int(parts[1]) if len(parts) == 2 else st.args.big_bytes)
        elif parts[:1] == ["slow"]:
            time.sleep(st.args.slow_seconds)
            self.send_json(200, {"repositories": ["slow"]})
        elif parts[:1] == ["redirect-other-host"]:
            rest = "/".join(parts[1:])
            self.send(302, "", None, [("Location", self.origin("localhost") + "/echo-auth/" + rest)])
        elif parts[:1] == ["redirect-same-host"]:
            rest = "/".join(parts[1:])
            self.send(302, "", None, [("Location", self.origin() + "/echo-auth/" + rest)])
        elif parts[:1] == ["redirect-insecure"]:
            rest = "/".join(parts[1:])
            self.send(302, "", None, [("Location", "http://example.invalid/echo-auth/" + rest)])
        elif parts[:1] == ["redirect-chain"] and len(parts) >= 2 and parts[1].isdigit():
            left = int(parts[1])
            if left > 0:
                rest = "/".join(parts[2:])
                self.send(302, "", None, [("Location", "/redirect-chain/%d/%s" % (left - 1, rest))])
            else:
                self.send_json(200, {"repositories": ["chain"]})
        elif parts[:1] == ["many-headers"] and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) >= 5:
            self.many_headers(int(parts[1]))
        elif parts[:1] == ["redirect-to-bearer"]:
            rest = "/".join(parts[1:])
            self.send(302, "", None, [("Location", self.origin("localhost") + "/bearer/" + rest)])
        elif parts[:1] == ["echo-auth"]:
            self.send_json(200, {"authorization": auth is not None, "host": self.headers.get("Host", "")})
        elif parts[:1] == ["trickle"] and len(parts) >= 2:
            self.trickle()
        elif parts[:1] == ["silent"] and len(parts) >= 2:
            self.hold()
        elif parts[:1] == ["stall-headers"] and len(parts) >= 2:
            self.wfile.write(b"HTTP/1.1 2")
            self.wfile.flush()
            self.hold()
        elif parts[:1] == ["retry-after"] and len(parts) == 3:
            value = urllib.parse.unquote(parts[2])
            self.send_json(503, {"errors": [{"code": "UNAVAILABLE", "message": "try again later"}]},
                           [("Retry-After", value)])
        elif parts[:1] == ["concurrency"] and len(parts) >= 2:
            key = parts[1]
            st.enter(key)
            try:
                time.sleep(0.2)
            finally:
                st.leave(key)
            self.send_json(200, {"repositories": ["c"]})
        else:
            self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "no such scenario"}]})

    # ---- scenarios -----------------------------------------------------------------------

    def flaky(self, path, parts, n):
        try:
            fails, status = int(parts[1]), int(parts[2])
        except (IndexError, ValueError):
            self.send_json(400, {"errors": [{"code": "BAD_SCENARIO", "message": "/flaky/<n>/<status>/..."}]})
            return
        if n <= fails:
            headers = [("Retry-After", "1")] if status == 429 and "retry-after" in path else []
            self.send_json(status, {"errors": [{"code": "UNAVAILABLE", "message": "try again"}]}, headers)
        else:
            self.send_json(200, {"repositories": ["a"]})

    def bearer(self, path, parts, auth):
        if auth == "Bearer good-token":
            if "redirect-other-host" in path:
                self.send(302, "", None,
                          [("Location", self.origin("localhost") + "/echo-auth/" + "/".join(parts[1:]))])
            else:
                self.send_json(200, {"repositories": ["b"]})
            return
        # the realm is on the host the client asked for (so a redirect target names its own realm)
        realm = "http://%s/token" % self.headers.get("Host", "127.0.0.1:%d" % self.state.port)
        if len(parts) >= 3:
            realm += "/" + parts[1]  # per-test token endpoint, so token requests can be counted per test
            if "insecure-realm" in parts[1]:
                realm = "http://example.invalid/token/" + parts[1]
        challenge = 'Bearer realm="%s",service="test",scope="repository:x:pull"' % realm
        self.send_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                       [("WWW-Authenticate", challenge)])

    def token(self, parts, auth, n):
        st = self.state
        with st.lock:
            st.token_requests += 1
        ident = parts[1] if len(parts) > 1 else ""
        if "slow" in ident:
            time.sleep(1.0)
        if "flaky" in ident and n == 1:
            self.send_json(503, {"errors": [{"code": "UNAVAILABLE", "message": "try again"}]})
            return
        want = "Basic " + base64.b64encode(("%s:%s" % (st.args.user, st.args.password)).encode()).decode()
        if auth == want:
            if "inject" in ident:
                self.send_json(200, {"token": "good\r\nX-Injected: yes", "expires_in": 300})
            elif "forever" in ident:
                self.send_json(200, {"token": "good-token", "expires_in": 9223372036854775807})
            elif "access" in ident:
                self.send_json(200, {"access_token": "good-token", "expires_in": 300})
            else:
                self.send_json(200, {"token": "good-token", "expires_in": 300})
        else:
            self.send_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                           [("WWW-Authenticate", 'Basic realm="token"')])

    def client_gone(self, wait):
        """Wait up to `wait` seconds for the client to close the connection; True when it did."""
        sock = self.connection
        try:
            ready, _, _ = select.select([sock], [], [], wait)
            if not ready:
                return False
            data = sock.recv(4096)  # anything the client sends more is read and dropped
        except (OSError, ValueError):
            return True
        if not data:
            return True
        time.sleep(wait)  # the client wrote more than its request: do not spin on it
        return False

    def hold(self):
        """Answer nothing: keep the connection until the client closes it or time is up."""
        self.close_connection = True
        while self.state.seconds_left() > 0:
            if self.client_gone(min(0.5, self.state.seconds_left())):
                return

    def trickle(self):
        """A 200 announcing 100 MiB, then one byte every 0.5 s, bounded by --max-seconds."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(100 * 1024 * 1024))
        self.end_headers()
        self.wfile.flush()
        if self.command == "HEAD":
            return
        while self.state.seconds_left() > 0:
            if self.client_gone(min(0.5, self.state.seconds_left())):
                return
            self.wfile.write(b"x")  # BrokenPipe / ConnectionReset end it in handle_one_request
            self.wfile.flush()

    def many_headers(self, total):
        # send_response adds Server and Date, send() Content-Type and Content-Length: total - 4
        # fields of our own, the Link third from the end
        body = json.dumps({"repositories": ["many"]}, separators=(",", ":"))
        own = total - 4
        headers = [("X-Filler-%d" % i, "v%d" % i) for i in range(own - 1)]
        headers.insert(max(0, own - 3), ("Link", '</many-headers/%d/next>; rel="next"' % total))
        self.send(200, body, JSON, headers)

    def link(self, ident, page):
        base = "/link/" + ident
        links = {
            "p1": '<p2?n=1&last=a>; rel="next"',
            "p2": '<%s%s/p3>; rel="next"' % (self.origin(), base),
            "p3": '<%s/p1>; rel="prev" , <%s/p4>; rel="next"' % (base, base),
            "p4": None,
            "evil": '<http://evil.invalid/x>; rel="next"',
            # two Link fields (RFC 7230 3.2.2: the same as one comma-joined field), next first
            "split": ['<%s/p4>; rel="next"' % base, '<%s/p1>; rel="prev"' % base],
        }
        if page not in links:
            self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "no such page"}]})
            return
        value = links[page]
        headers = [("Link", v) for v in (value if isinstance(value, list) else [value] if value else [])]
        self.send_json(200, {"repositories": [page]}, headers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--user", default="user")
    ap.add_argument("--password", default="pass")
    ap.add_argument("--big-bytes", type=int, default=2 * 1024 * 1024 + 1)
    ap.add_argument("--slow-seconds", type=float, default=3.0)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    state = State(args)
    Handler.state = state
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]

    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()

    sys.stdout.write("%d\n" % state.port)
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    ThreadingHTTPServer.request_queue_size = 128
    main()
