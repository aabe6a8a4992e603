"""The HTTP side the API emulators share (harbor_emulator.py, swr_emulator.py,
swr_ee_emulator.py, jfrog_emulator.py): a minimal HTTP/1.1 server protocol on asyncio
(keep-alive, pipelining, Content-Length bodies, delayed answers for slow faults), the response
types, the common command line, and the serving loop with the port announced on stdout or in a
file. What each vendor answers stays in its emulator."""

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import uuid

REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 411: "Length Required",
           412: "Precondition Failed", 422: "Unprocessable Entity", 429: "Too Many Requests",
           431: "Request Header Fields Too Large", 500: "Internal Server Error",
           501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class Resp:
    __slots__ = ("status", "headers", "body", "abort")

    def __init__(self, status, headers, body, abort=False):
        self.status = status
        self.headers = headers
        self.body = body
        self.abort = abort


class Delayed:
    """An answer given `delay` seconds later by calling fn (which may delay again)."""
    __slots__ = ("delay", "fn")

    def __init__(self, delay, fn):
        self.delay = delay
        self.fn = fn


_date_cache = [0, ""]


def date_header():
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[0] = now
        _date_cache[1] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now))
    return _date_cache[1]


class HttpProtocol(asyncio.Protocol):
    """Minimal HTTP/1.1 server side: keep-alive, pipelining, Content-Length bodies (no chunked
    request bodies). `app.handle(method, target, headers, body)` answers a Resp or a Delayed;
    `internal_error()` the Resp of an exception in it; `label` names the emulator in logs; with
    `echo_request_id` an X-Request-Id the client sent is answered back (Harbor does)."""

    def __init__(self, app, label, internal_error, echo_request_id=False):
        self.app = app
        self.label = label
        self.internal_error = internal_error
        self.echo_request_id = echo_request_id
        self.buf = b""
        self.transport = None
        self.busy = False
        self.closed = False
        self.continued = False

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.closed = True

    def data_received(self, data):
        self.buf = self.buf + data if self.buf else data
        if not self.busy:
            self.process()

    def _fail(self, status, msg):
        body = msg.encode()
        self.transport.write(("HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                              "Content-Length: %d\r\nConnection: close\r\n\r\n"
                              % (status, REASONS.get(status, ""), len(body))).encode() + body)
        self.transport.close()
        self.closed = True

    def _head(self, buf, start, end):
        """(method, target, version, headers) of a request head, or None when malformed."""
        lines = buf[start:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return None
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        return parts[0], parts[1], parts[2], headers

    def process(self):
        while not self.busy and not self.closed:
            buf = self.buf
            if not buf:
                return
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > 65536:
                    self._fail(431, "431 Request Header Fields Too Large")
                return
            start = 0
            while buf.startswith(b"\r\n", start):
                start += 2
            head = self._head(buf, start, end)
            if head is None:
                self._fail(400, "400 Bad Request")
                return
            method, target, version, headers = head
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._fail(411, "411 Length Required")
                return
            try:
                clen = int(headers.get("content-length", "0") or "0")
            except ValueError:
                self._fail(400, "400 Bad Request")
                return
            total = end + 4 + clen
            if len(buf) < total:
                if headers.get("expect", "").lower() == "100-continue" and not self.continued:
                    self.continued = True  # curl waits for this before a large POST body
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return
            self.continued = False
            body = buf[end + 4:total]
            self.buf = buf[total:]
            conn = headers.get("connection", "").lower()
            keep = ("close" not in conn) if version == "HTTP/1.1" else ("keep-alive" in conn)
            self._answer(lambda: self.app.handle(method, target, headers, body), keep, method, headers)
            if self.busy:
                return

    def _answer(self, fn, keep, method, headers):
        try:
            res = fn()
        except Exception as e:  # never kill the connection silently
            sys.stderr.write("%s: internal error: %r\n" % (self.label, e))
            res = self.internal_error()
        if isinstance(res, Delayed):
            self.busy = True
            asyncio.get_running_loop().call_later(res.delay, self._finish, res.fn, keep, method, headers)
            return
        self._send(res, keep, method, headers)

    def _finish(self, fn, keep, method, headers):
        if self.closed:
            return
        self.busy = False
        self._answer(fn, keep, method, headers)
        if not self.busy and not self.closed:
            self.process()

    def _send(self, res, keep, method, headers):
        if res.abort:
            self.transport.abort()
            self.closed = True
            return
        rid = (self.echo_request_id and headers.get("x-request-id")) or uuid.uuid4().hex
        out = ["HTTP/1.1 %d %s\r\n" % (res.status, REASONS.get(res.status, "Unknown"))]
        for k, v in res.headers:
            out.append("%s: %s\r\n" % (k, v))
        out.append("X-Request-Id: %s\r\nContent-Length: %d\r\nDate: %s\r\n"
                   % (rid, len(res.body), date_header()))
        if not keep:
            out.append("Connection: close\r\n")
        out.append("\r\n")
        data = "".join(out).encode("utf-8", "surrogateescape")
        if method != "HEAD":
            data += res.body
        self.transport.write(data)
        if not keep:
            self.transport.close()
            self.closed = True


def load_json_arg(v):
    """A JSON command-line value, or @FILE holding one; None for none."""
    if v is None:
        return None
    if v.startswith("@"):
        with open(v[1:], encoding="utf-8") as f:
            return json.load(f)
    return json.loads(v)


def arg_parser(prog, doc):
    """The command line every emulator has: --dataset, --generate, --port, --port-file,
    --faults, --max-seconds, --log (its own options are added by the caller)."""
    ap = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", metavar="FILE")
    ap.add_argument("--generate", metavar="SPEC")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", metavar="F")
    ap.add_argument("--faults", metavar="JSON|@FILE")
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--log", action="store_true", help="log requests to stderr")
    return ap


def parse_args(ap, argv):
    """-> (args, the --dataset JSON or {}); one of --dataset and --generate is required."""
    a = ap.parse_args(argv)
    if not a.dataset and not a.generate:
        ap.error("need --dataset and/or --generate")
    dataset = {}
    if a.dataset:
        with open(a.dataset, encoding="utf-8") as f:
            dataset = json.load(f)
    return a, dataset


def log_requests(app):
    """Make app.handle write "METHOD target -> status" lines to stderr."""
    orig = app.handle

    def logged(method, target, headers, body):
        res = orig(method, target, headers, body)
        st = "delayed" if isinstance(res, Delayed) else res.status
        sys.stderr.write("%s %s -> %s\n" % (method, target, st))
        return res
    app.handle = logged


def serve(protocol_factory, app, port, port_file, max_seconds):
    """Listen on 127.0.0.1:port (0 = any), announce the port (stdout, and port_file written
    atomically), and serve until SIGTERM/SIGINT or max_seconds. app.port gets the port."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        protocol_factory, "127.0.0.1", port, backlog=1024, reuse_address=True))
    app.port = server.sockets[0].getsockname()[1]
    if port_file:
        tmp = port_file + ".tmp%d" % os.getpid()
        with open(tmp, "w") as f:
            f.write("%d\n" % app.port)
        os.replace(tmp, port_file)
    sys.stdout.write("%d\n" % app.port)
    sys.stdout.flush()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    if max_seconds and max_seconds > 0:
        loop.call_later(max_seconds, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()
    return 0
