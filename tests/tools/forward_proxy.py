#!/usr/bin/env python3
"""A tiny HTTP forward proxy for the imgsync tests (Python 3 standard library only).

Usage: forward_proxy.py --port-file F --log F [--user USER:PASSWORD] [--delay-ms N]

Listens on 127.0.0.1 (a free port, written to --port-file) and serves
  CONNECT host:port         a tunnel (https through the proxy), and
  GET http://host:port/...  absolute-URI requests (http through the proxy),
forwarding each to the origin with Connection: close. Every request is appended
to --log as one line "CONNECT host:port" or "METHOD URL" (the proxy's view, so
the test can count what went through it). With --user, requests without the
matching Proxy-Authorization Basic header get 407 (logged as "DENIED ...").
--delay-ms waits before forwarding each request (a slow path for progress tests).
Stops on SIGTERM.
"""

import argparse
import base64
import os
import select
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

LOCK = threading.Lock()
ARGS = None


def log(line):
    with LOCK:
        with open(ARGS.log, "a") as f:
            f.write(line + "\n")


def read_head(sock):
    """The request head (bytes up to the blank line) and what was read after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
        if len(data) > 65536:
            return None, b""
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def pipe(a, b):
    """Relay bytes both ways until one side closes."""
    socks = [a, b]
    while True:
        readable, _, _ = select.select(socks, [], [], 30)
        if not readable:
            return
        for s in readable:
            data = s.recv(65536)
            if not data:
                return
            (b if s is a else a).sendall(data)


def authorized(headers):
    if not ARGS.user:
        return True
    want = "Basic " + base64.b64encode(ARGS.user.encode()).decode()
    return headers.get("proxy-authorization") == want


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        head, rest = read_head(self.request)
        if head is None:
            return
        lines = head.split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if not authorized(headers):
            log(f"DENIED {method} {target}")
            self.request.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                 b"Proxy-Authenticate: Basic realm=\"proxy\"\r\n"
                                 b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            return
        log(f"{method} {target}")
        if ARGS.delay_ms:
            time.sleep(ARGS.delay_ms / 1000.0)
        if method == "CONNECT":
            self.tunnel(target)
        else:
            self.forward(method, target, version, lines[1:], rest)

    def tunnel(self, target):
        host, _, port = target.rpartition(":")
        try:
            origin = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except (OSError, ValueError):
            self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with origin:
            pipe(self.request, origin)

    def forward(self, method, target, version, header_lines, rest):
        u = urllib.parse.urlsplit(target)
        if u.scheme != "http" or not u.hostname:
            self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        kept = [line for line in header_lines
                if line.split(":", 1)[0].strip().lower() not in
                ("proxy-authorization", "proxy-connection", "connection")]
        head = f"{method} {path} {version}\r\n" + "".join(f"{h}\r\n" for h in kept)
        head += "Connection: close\r\n\r\n"
        try:
            origin = socket.create_connection((u.hostname, u.port or 80), timeout=10)
        except OSError:
            self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with origin:
            origin.sendall(head.encode("latin-1") + rest)
            pipe(self.request, origin)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--user", metavar="USER:PASSWORD")
    ap.add_argument("--delay-ms", type=int, default=0)
    ARGS = ap.parse_args()
    open(ARGS.log, "a").close()
    server = Server(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(f"{server.server_address[1]}\n")
    os.replace(ARGS.port_file + ".tmp", ARGS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
