# Echo server for tests/integration/test_engine_wire.c: answers every request with what it
# received - the method on the first line, then one "name: value" line per request header (name
# lowercased, lines sorted), then "body-bytes: N" - so a test can compare it with what the
# engine's sign hook was shown. Prints its loopback port, serves until killed.
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def _echo(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        lines = sorted("%s: %s" % (k.lower(), v) for k, v in self.headers.items())
        out = ("%s\n%s\nbody-bytes: %d\n" % (self.command, "\n".join(lines), len(body))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_DELETE = do_POST = do_PUT = do_PATCH = _echo

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
sys.stdout.close()
server.serve_forever()
