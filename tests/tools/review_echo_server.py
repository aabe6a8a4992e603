# Review helper: answers one request with the request headers it received (JSON), then exits.
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def _echo(self):
        n = int(self.headers.get('Content-Length') or 0)
        if n: self.rfile.read(n)
        body = json.dumps([[k, v] for k, v in self.headers.items()]).encode()
        self.send_response(200); self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    do_GET = do_DELETE = do_POST = do_PUT = _echo
    def log_message(self, *a): pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.timeout = 30
s.handle_request()  # one request, then exit (the test reaps it)
