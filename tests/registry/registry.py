#!/usr/bin/env python3
"""Run a real docker registry (CNCF distribution 2.8, Debian package
`docker-registry`) for libimgsync's integration tests, and seed it with
deterministic content through the registry HTTP API (no Docker engine).

Usage:
  registry.py start --dir DIR [--htpasswd USER:PASSWORD] [--port-file F]
                    [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]
        Write DIR/config.yml (storage DIR/data, delete enabled, 127.0.0.1 on
        a free port, optional htpasswd auth with realm "imgsync-test" and
        DIR/htpasswd), start `docker-registry serve DIR/config.yml` detached,
        write DIR/registry.pid and DIR/port (and F), wait until GET /v2/
        answers 200/401 and print the port alone on stdout. With --tls-cert
        and --tls-key it serves https (http.tls), and with --tls-client-ca
        it requires client certificates signed by that CA (http.tls.clientcas);
        a TLS registry counts as up once it completes or refuses a handshake.
        Starting a registry on the DIR of a stopped one keeps its content.
  registry.py stop --dir DIR
        SIGTERM the registry in DIR/registry.pid, SIGKILL after 5 s.
        Idempotent.
  registry.py seed --url URL [--user U --password-env VAR] --out FILE
                   [--stage initial|update]
        Make the registry hold exactly the content of the stage (pushing
        blobs and manifests, deleting manifests of managed tags that the
        stage does not have) and write the expected inventory to FILE.
  registry.py seed-bulk --url URL --repos R --tags T [--user U --password-env VAR]
                        --out FILE [--workers N]
        Benchmark content, pushed fast: R repositories at three depths
        (bench/r0001, bench/team1/r0002, bench/org/team2/r0003, ...) with T
        tags each (v001, v002, ...). Per repository one small config blob is
        uploaded and one shared layer blob is cross-repository mounted; the T
        Docker schema2 manifests differ by an annotation, so their digests
        differ. N worker threads (default 16), each with its own keep-alive
        connection. Writes the expected inventory like `seed`. Meant for a
        fresh registry (fails when a repository holds tags it did not push).
  registry.py verify --url URL [--user U --password-env VAR] --expected FILE
        Check a registry against an expected inventory: catalog (paginated),
        tags/list, HEAD digest + Content-Type, GET manifest bytes hash and
        the size recomputed from the fetched manifests.

Expected inventory: JSON array sorted by (repository, tag) of
  {"repository", "tag", "digest", "size", "media_type", "multi_arch"}
digest = "sha256:" + sha256 of the exact manifest bytes pushed;
size = config.size + sum(layers[].size) for an image manifest, and for a
manifest list / OCI index the sum of that over its child manifests.

Environment: REGISTRY_BIN overrides the registry binary (default
docker-registry from PATH, else /usr/bin/docker-registry).  Passwords are
never printed; `seed`/`verify` read them from the environment variable named
by --password-env.  Python 3 standard library only.
"""

import argparse
import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

ALL_MANIFEST_TYPES = (MT_DOCKER_MANIFEST, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_OCI_INDEX)
LIST_TYPES = (MT_DOCKER_LIST, MT_OCI_INDEX)
ACCEPT_ALL = ", ".join(ALL_MANIFEST_TYPES)

REALM = "imgsync-test"
PROG = "registry.py"


def die(msg, code=1):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(code)


def warn(msg):
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# start / stop
# --------------------------------------------------------------------------

def registry_binary():
    env = os.environ.get("REGISTRY_BIN")
    if env:
        return env
    return shutil.which("docker-registry") or "/usr/bin/docker-registry"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def yaml_str(s):
    # JSON strings are valid YAML double-quoted scalars.
    return json.dumps(str(s))


def write_config(d, port, with_auth, tls=None):
    data = os.path.join(d, "data")
    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  formatter: text",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {yaml_str(data)}",
        "  delete:",
        "    enabled: true",
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
        "http:",
        f"  addr: {yaml_str(f'127.0.0.1:{port}')}",
        # a fixed secret avoids the "No HTTP secret provided" warning
        f"  secret: {yaml_str(secrets.token_hex(16))}",
        "  headers:",
        "    X-Content-Type-Options: [nosniff]",
    ]
    if tls:
        lines += ["  tls:",
                  f"    certificate: {yaml_str(tls[0])}",
                  f"    key: {yaml_str(tls[1])}"]
        if tls[2]:
            lines += ["    clientcas:", f"      - {yaml_str(tls[2])}"]
    if with_auth:
        lines += [
            "auth:",
            "  htpasswd:",
            f"    realm: {yaml_str(REALM)}",
            f"    path: {yaml_str(os.path.join(d, 'htpasswd'))}",
        ]
    path = os.path.join(d, "config.yml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def make_htpasswd(d, spec):
    user, sep, password = spec.partition(":")
    if not sep or not user or not password:
        die("--htpasswd expects USER:PASSWORD")
    if not shutil.which("htpasswd"):
        die("htpasswd not found (Debian package apache2-utils)")
    # -i reads the password from stdin: it never appears in a process list.
    r = subprocess.run(["htpasswd", "-niB", user], input=password + "\n",
                       capture_output=True, text=True)
    line = r.stdout.strip()
    if r.returncode != 0 or not line.startswith(user + ":$2"):
        die(f"htpasswd failed (exit {r.returncode}): {r.stderr.strip()}")
    path = os.path.join(d, "htpasswd")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(line + "\n")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) counts as dead
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def pid_is_our_registry(pid, d):
    """True when pid runs `... serve DIR/config.yml` (guards against pid reuse)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return pid_alive(pid)  # no /proc: trust the pid file
    cfg = os.path.realpath(os.path.join(d, "config.yml"))
    return "serve" in argv and any(os.path.realpath(a) == cfg for a in argv if a.endswith("config.yml"))


def read_pid(d):
    try:
        with open(os.path.join(d, "registry.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def log_tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)\n"


def probe(port, timeout=1.0, tls=False):
    """Status of GET /v2/, or None when nothing answers. Over TLS a refused handshake (no
    client certificate) counts as 401: the registry is up."""
    try:
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=ctx)
        else:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", "/v2/")
        st = c.getresponse().status
        c.close()
        return st
    except ssl.SSLError:
        return 401
    except ConnectionResetError:
        return 401 if tls else None
    except (OSError, http.client.HTTPException):
        return None


def kill_pid(pid, grace):
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + grace
    while time.monotonic() < end:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    end = time.monotonic() + 2
    while time.monotonic() < end and pid_alive(pid):
        time.sleep(0.05)


def cmd_start(a):
    d = os.path.abspath(a.dir)
    os.makedirs(os.path.join(d, "data"), exist_ok=True)
    old = read_pid(d)
    if old and pid_alive(old) and pid_is_our_registry(old, d):
        die(f"a registry is already running for {d} (pid {old}); run `stop --dir {a.dir}` first")
    binary = registry_binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        die(f"registry binary not found: {binary} (Debian package docker-registry)")
    if a.htpasswd:
        make_htpasswd(d, a.htpasswd)
    if bool(a.tls_cert) != bool(a.tls_key) or (a.tls_client_ca and not a.tls_cert):
        die("--tls-cert and --tls-key go together (and --tls-client-ca needs them)")
    tls = ((os.path.abspath(a.tls_cert), os.path.abspath(a.tls_key),
            os.path.abspath(a.tls_client_ca) if a.tls_client_ca else None) if a.tls_cert else None)
    logpath = os.path.join(d, "registry.log")
    # REGISTRY_* variables override the config file in distribution; drop them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}

    for attempt in range(1, 6):
        port = free_port()
        cfg = write_config(d, port, bool(a.htpasswd), tls)
        with open(logpath, "ab") as log:
            log_start = log.tell()
            log.write(f"--- {PROG} start attempt {attempt}: 127.0.0.1:{port}\n".encode())
            log.flush()
            proc = subprocess.Popen([binary, "serve", cfg], stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, cwd=d, env=env,
                                    start_new_session=True)
        with open(os.path.join(d, "registry.pid"), "w") as f:
            f.write(f"{proc.pid}\n")
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            status = probe(port, tls=bool(tls))
            if status in (200, 401):
                break
            time.sleep(0.1)
        if status in (200, 401) and proc.poll() is None:
            for p in [os.path.join(d, "port")] + ([a.port_file] if a.port_file else []):
                with open(p, "w") as f:
                    f.write(f"{port}\n")
            print(port)
            return 0
        # failure: make sure it is gone
        why = (f"exited with status {proc.returncode}" if proc.poll() is not None
               else f"did not answer GET /v2/ with 200/401 within 20 s (last status {status})")
        if proc.poll() is None:
            kill_pid(proc.pid, 2)
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        tail = log_tail(logpath)
        try:
            with open(logpath, errors="replace") as f:
                f.seek(log_start)
                this_attempt = f.read()
        except OSError:
            this_attempt = ""
        if "address already in use" in this_attempt.lower() and attempt < 5:
            continue  # port race: try another port
        try:
            os.unlink(os.path.join(d, "registry.pid"))
        except OSError:
            pass
        sys.stderr.write(f"{PROG}: registry {why}; tail of {logpath}:\n{tail}")
        return 1
    return 1


def cmd_stop(a):
    d = os.path.abspath(a.dir)
    pidfile = os.path.join(d, "registry.pid")
    pid = read_pid(d)
    if pid is None:
        return 0
    if pid_alive(pid) and pid_is_our_registry(pid, d):
        kill_pid(pid, 5)
        if pid_alive(pid):
            die(f"registry pid {pid} survived SIGKILL")
        # It is not our child, so its zombie is reaped by init, which may be lazy;
        # give it a moment so that `pgrep docker-registry` right after stop is empty.
        end = time.monotonic() + 3
        while time.monotonic() < end and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.05)
    try:
        os.unlink(pidfile)
    except OSError:
        pass
    return 0


# --------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------

class RegistryError(Exception):
    pass


class Client:
    def __init__(self, url, user=None, password=None):
        u = urllib.parse.urlsplit(url.rstrip("/"))
        if u.scheme not in ("http", "https") or not u.netloc:
            die(f"bad --url {url!r} (want http://HOST:PORT)")
        self.base = f"{u.scheme}://{u.netloc}"
        self.netloc = u.netloc
        self.auth = None
        if user is not None:
            tok = base64.b64encode(f"{user}:{password}".encode()).decode()
            self.auth = "Basic " + tok

    def request(self, method, url, body=None, headers=None, ok=None):
        """url: absolute, or a path relative to the registry base."""
        full = urllib.parse.urljoin(self.base + "/", url)
        u = urllib.parse.urlsplit(full)
        cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        h = dict(headers or {})
        if self.auth and u.netloc == self.netloc:  # never send credentials elsewhere
            h["Authorization"] = self.auth
        if body is not None:
            h.setdefault("Content-Type", "application/octet-stream")
        target = u.path + (("?" + u.query) if u.query else "")
        for attempt in range(3):
            conn = cls(u.netloc, timeout=30)
            try:
                conn.request(method, target, body=body, headers=h)
                r = conn.getresponse()
                data = r.read()
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                status = r.status
                break
            except (ConnectionError, http.client.RemoteDisconnected) as e:
                if attempt == 2:
                    raise RegistryError(f"{method} {target}: {e}")
                time.sleep(0.2)
            except OSError as e:
                raise RegistryError(f"{method} {target}: {e}")
            finally:
                conn.close()
        if ok is not None and status not in ok:
            msg = data.decode(errors="replace").strip()[:500]
            hint = " (check --user/--password-env)" if status == 401 else ""
            raise RegistryError(f"{method} {target}: HTTP {status}, expected {'/'.join(map(str, ok))}"
                                f"{hint}: {msg}")
        return status, hdrs, data


class KeepAliveClient(Client):
    """Client that keeps one persistent connection to the registry (one per thread: an
    http.client connection must not be shared between threads). Requests to another host
    (e.g. an absolute upload Location elsewhere) fall back to a fresh connection."""

    def __init__(self, url, user=None, password=None):
        super().__init__(url, user, password)
        self.scheme = urllib.parse.urlsplit(self.base).scheme
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, url, body=None, headers=None, ok=None):
        full = urllib.parse.urljoin(self.base + "/", url)
        u = urllib.parse.urlsplit(full)
        if u.scheme != self.scheme or u.netloc != self.netloc:
            return super().request(method, url, body, headers, ok)
        h = dict(headers or {})
        if self.auth:
            h["Authorization"] = self.auth
        if body is not None:
            h.setdefault("Content-Type", "application/octet-stream")
        target = u.path + (("?" + u.query) if u.query else "")
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        for attempt in range(3):
            if self.conn is None:
                self.conn = cls(self.netloc, timeout=30)
            try:
                self.conn.request(method, target, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                status = r.status
                if r.will_close:
                    self.close()
                break
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine) as e:
                # typically the server closed an idle keep-alive connection: reconnect
                self.close()
                if attempt == 2:
                    raise RegistryError(f"{method} {target}: {e}")
                time.sleep(0.05 * (attempt + 1))
            except (OSError, http.client.HTTPException) as e:
                self.close()
                raise RegistryError(f"{method} {target}: {e}")
        if ok is not None and status not in ok:
            msg = data.decode(errors="replace").strip()[:500]
            hint = " (check --user/--password-env)" if status == 401 else ""
            raise RegistryError(f"{method} {target}: HTTP {status}, expected {'/'.join(map(str, ok))}"
                                f"{hint}: {msg}")
        return status, hdrs, data


# --------------------------------------------------------------------------
# deterministic content
# --------------------------------------------------------------------------

def det_bytes(label, size):
    """size bytes derived from label (sha256 in counter mode)."""
    out = bytearray()
    i = 0
    seed = label.encode()
    while len(out) < size:
        out += hashlib.sha256(seed + b"\0" + str(i).encode()).digest()
        i += 1
    return bytes(out[:size])


def det_size(label, lo=300, hi=4096):
    h = int.from_bytes(hashlib.sha256(b"size:" + label.encode()).digest()[:4], "big")
    return lo + h % (hi - lo + 1)


def det_time(label):
    h = int.from_bytes(hashlib.sha256(b"time:" + label.encode()).digest()[:4], "big")
    t = 1704067200 + h % (365 * 86400)  # some second of 2024, UTC
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Blob:
    def __init__(self, media_type, data):
        self.media_type = media_type
        self.data = data
        self.digest = sha256_digest(data)
        self.size = len(data)

    def descriptor(self):
        return {"mediaType": self.media_type, "size": self.size, "digest": self.digest}


class Image:
    """An image manifest (Docker schema2 or OCI) with its config and layers."""

    def __init__(self, label, oci=False, arch="amd64", variant=None, layers=()):
        self.oci = oci
        self.arch = arch
        self.variant = variant
        lmt = MT_OCI_LAYER if oci else MT_DOCKER_LAYER
        self.layers = [Blob(lmt, det_bytes("layer:" + l, det_size("layer:" + l))) for l in layers]
        created = det_time(label)
        cfg = {
            "architecture": arch,
            "os": "linux",
            "created": created,
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["/bin/sh"],
                "Labels": {"org.imgsync.test.label": label},
            },
            "rootfs": {
                "type": "layers",
                # the layers are opaque bytes, so their "uncompressed" digest is their own
                "diff_ids": [b.digest for b in self.layers],
            },
            "history": [{"created": created, "created_by": f"/bin/sh -c #(nop) ADD {l} /"}
                        for l in layers],
        }
        if variant:
            cfg["variant"] = variant
        self.config = Blob(MT_OCI_CONFIG if oci else MT_DOCKER_CONFIG,
                           json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode())
        self.media_type = MT_OCI_MANIFEST if oci else MT_DOCKER_MANIFEST
        m = {"schemaVersion": 2, "mediaType": self.media_type,
             "config": self.config.descriptor(),
             "layers": [b.descriptor() for b in self.layers]}
        # docker pushes indented JSON; the digest is over these exact bytes
        self.data = json.dumps(m, indent=3).encode() if not oci else \
            json.dumps(m, separators=(",", ":")).encode()
        self.digest = sha256_digest(self.data)
        self.size = self.config.size + sum(b.size for b in self.layers)
        self.multi_arch = False
        self.children = []

    def blobs(self):
        return [self.config] + self.layers

    def platform(self):
        p = {"architecture": self.arch, "os": "linux"}
        if self.variant:
            p["variant"] = self.variant
        return p


class Index:
    """A Docker manifest list or an OCI image index over Image children."""

    def __init__(self, children, oci=False):
        self.children = children
        self.media_type = MT_OCI_INDEX if oci else MT_DOCKER_LIST
        m = {"schemaVersion": 2, "mediaType": self.media_type,
             "manifests": [{"mediaType": c.media_type, "size": len(c.data),
                            "digest": c.digest, "platform": c.platform()} for c in children]}
        self.data = json.dumps(m, indent=3).encode()
        self.digest = sha256_digest(self.data)
        self.size = sum(c.size for c in children)
        self.multi_arch = True

    def blobs(self):
        return []


def stage_content(stage):
    """{repository: {tag: Image|Index}} for the stage."""
    alpine_318 = Image("alpine:3.18", layers=["alpine-3.18-rootfs"])
    alpine_319 = Image("alpine:3.19", layers=["alpine-3.19-rootfs"])
    app = lambda tag, extra: Image(f"team/app:{tag}", layers=["debian-base", "app-deps"] + extra)
    c = {
        "alpine": {"3.18": alpine_318, "3.19": alpine_319, "latest": alpine_319},
        "team/app": {
            "v1": app("v1", ["app-v1"]),
            "v1.1": app("v1.1", ["app-v1.1"]),
            "v2": app("v2", ["app-v2", "app-v2-assets"]),
        },
        "org/team/app": {"1.0": Image("org/team/app:1.0", oci=True,
                                      layers=["debian-base", "org-app-1.0"])},
        "multi/arch": {
            "latest": Index([
                Image("multi/arch:latest/amd64", arch="amd64",
                      layers=["multi-amd64-base", "multi-amd64-app"]),
                Image("multi/arch:latest/arm64", arch="arm64", variant="v8",
                      layers=["multi-arm64-base", "multi-arm64-app"]),
            ]),
            "oci-index": Index([
                Image("multi/arch:oci-index/amd64", oci=True, arch="amd64", layers=["multi-oci-amd64"]),
                Image("multi/arch:oci-index/arm64", oci=True, arch="arm64", variant="v8",
                      layers=["multi-oci-arm64"]),
            ], oci=True),
        },
        "deep/a/b/c/d": {"x": Image("deep/a/b/c/d:x", layers=["deep-x"])},
    }
    for i in range(1, 26):
        t = f"build-{i:03d}"
        c["team/app"][t] = app(t, [f"app-{t}"])
    if stage == "update":
        del c["alpine"]["3.18"]
        c["team/app"]["v2"] = app("v2-rebuild", ["app-v2-rebuild", "app-v2-assets"])
        c["team/app"]["v3"] = app("v3", ["app-v3"])
        c["newrepo"] = {"1": Image("newrepo:1", layers=["newrepo-1"])}
    return c


def managed_repos():
    return sorted(set(stage_content("initial")) | set(stage_content("update")))


def expected_rows(content):
    rows = []
    for repo, tags in content.items():
        for tag, m in tags.items():
            rows.append({"repository": repo, "tag": tag, "digest": m.digest, "size": m.size,
                         "media_type": m.media_type, "multi_arch": m.multi_arch})
    rows.sort(key=lambda r: (r["repository"], r["tag"]))
    return rows


# --------------------------------------------------------------------------
# push
# --------------------------------------------------------------------------

class Pusher:
    def __init__(self, client):
        self.c = client
        self.known = {}  # blob digest -> a repository known to hold it
        self.stats = {"blobs_uploaded": 0, "blobs_present": 0, "blobs_mounted": 0,
                      "manifests_put": 0, "manifests_deleted": 0}

    def push_blob(self, repo, blob):
        st, _, _ = self.c.request("HEAD", f"/v2/{repo}/blobs/{blob.digest}", ok=(200, 404))
        if st == 200:
            self.stats["blobs_present"] += 1
            self.known.setdefault(blob.digest, repo)
            return
        q = ""
        src = self.known.get(blob.digest)
        if src and src != repo:  # cross-repository mount
            q = "?" + urllib.parse.urlencode({"mount": blob.digest, "from": src})
        post = f"/v2/{repo}/blobs/uploads/{q}"
        st, h, _ = self.c.request("POST", post, body=b"", ok=(201, 202))
        if st == 201:
            self.stats["blobs_mounted"] += 1
            self.check_digest(h, blob.digest, f"mount of {blob.digest} into {repo}")
            return
        loc = h.get("location")
        if not loc:
            raise RegistryError(f"POST /v2/{repo}/blobs/uploads/: 202 without Location")
        # Location may be absolute or relative (to the POST URL); it may carry a query
        loc = urllib.parse.urljoin(self.c.base + post, loc)
        sep = "&" if urllib.parse.urlsplit(loc).query else "?"
        loc = loc + sep + urllib.parse.urlencode({"digest": blob.digest}, safe=":")
        _, h, _ = self.c.request("PUT", loc, body=blob.data,
                                 headers={"Content-Type": "application/octet-stream"}, ok=(201,))
        self.check_digest(h, blob.digest, f"blob upload to {repo}")
        self.stats["blobs_uploaded"] += 1
        self.known[blob.digest] = repo

    @staticmethod
    def check_digest(h, want, what):
        got = h.get("docker-content-digest")
        if got != want:
            raise RegistryError(f"{what}: Docker-Content-Digest {got!r}, expected {want}")

    def put_manifest(self, repo, ref, m):
        _, h, _ = self.c.request("PUT", f"/v2/{repo}/manifests/{ref}", body=m.data,
                                 headers={"Content-Type": m.media_type}, ok=(201,))
        self.check_digest(h, m.digest, f"PUT /v2/{repo}/manifests/{ref}")
        self.stats["manifests_put"] += 1

    def push(self, repo, tag, m):
        for child in m.children:
            for b in child.blobs():
                self.push_blob(repo, b)
            self.put_manifest(repo, child.digest, child)  # by digest, untagged
        for b in m.blobs():
            self.push_blob(repo, b)
        self.put_manifest(repo, tag, m)

    def tags(self, repo):
        st, _, data = self.c.request("GET", f"/v2/{repo}/tags/list", ok=(200, 404))
        if st == 404:
            return []
        return json.loads(data).get("tags") or []

    def head_digest(self, repo, ref):
        st, h, _ = self.c.request("HEAD", f"/v2/{repo}/manifests/{ref}",
                                  headers={"Accept": ACCEPT_ALL}, ok=(200, 404))
        return h.get("docker-content-digest") if st == 200 else None

    def prune(self, repo, desired):
        """Delete manifests of tags in repo that the stage does not have."""
        keep = {m.digest for m in desired.values()}
        for tag in sorted(set(self.tags(repo)) - set(desired)):
            dg = self.head_digest(repo, tag)
            if dg is None:
                continue
            if dg in keep:
                raise RegistryError(f"{repo}:{tag} shares manifest {dg} with a tag the stage keeps; "
                                    f"the registry API cannot untag it alone")
            self.c.request("DELETE", f"/v2/{repo}/manifests/{dg}", ok=(202,))
            self.stats["manifests_deleted"] += 1
            if self.head_digest(repo, tag) is not None:
                raise RegistryError(f"{repo}:{tag} still resolves after DELETE of {dg}")


def client_from_args(a):
    password = None
    if a.user is not None:
        if not a.password_env:
            die("--user needs --password-env VAR (the password is read from $VAR)")
        password = os.environ.get(a.password_env)
        if password is None:
            die(f"environment variable {a.password_env} is not set")
    elif a.password_env:
        die("--password-env needs --user")
    return Client(a.url, a.user, password)


def cmd_seed(a):
    c = client_from_args(a)
    content = stage_content(a.stage)
    p = Pusher(c)
    try:
        st, _, _ = c.request("GET", "/v2/")
        if st != 200:
            raise RegistryError(f"GET /v2/: HTTP {st}" + (" (credentials rejected or missing)"
                                                          if st == 401 else ""))
        for repo in sorted(content):
            for tag in sorted(content[repo]):
                p.push(repo, tag, content[repo][tag])
        for repo in managed_repos():
            p.prune(repo, content.get(repo, {}))
        # tags resolve to the expected digests
        for repo in sorted(content):
            for tag, m in sorted(content[repo].items()):
                dg = p.head_digest(repo, tag)
                if dg != m.digest:
                    raise RegistryError(f"{repo}:{tag} resolves to {dg}, expected {m.digest}")
        for repo in sorted(set(catalog(c)) - set(content)):
            if p.tags(repo):
                warn(f"repository {repo} is not managed by this script and has tags; "
                     f"the expected inventory does not list them")
    except RegistryError as e:
        die(f"seed {a.stage} failed: {e}")
    rows = expected_rows(content)
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(rows, f, indent=2)
        f.write("\n")
    os.replace(tmp, a.out)
    s = p.stats
    print(f"seeded stage {a.stage}: {len(rows)} tags in {len(content)} repositories "
          f"({s['blobs_uploaded']} blobs uploaded, {s['blobs_mounted']} mounted, "
          f"{s['blobs_present']} already present, {s['manifests_put']} manifests put, "
          f"{s['manifests_deleted']} deleted) -> {a.out}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------
# seed-bulk (benchmark content)
# --------------------------------------------------------------------------

BULK_LAYER_LABEL = "bulk-shared-layer"


def bulk_repo_name(i):
    """Repository i (1-based) at one of three depths."""
    if i % 3 == 1:
        return f"bench/r{i:04d}"
    if i % 3 == 2:
        return f"bench/team{i % 7}/r{i:04d}"
    return f"bench/org/team{i % 5}/r{i:04d}"


def bulk_tag_name(k):
    return f"v{k:03d}"


class BulkImage:
    """A Docker schema2 manifest over a per-repository config and the shared layer; the tag is
    recorded in an annotation so that every tag has its own digest."""

    def __init__(self, repo, tag, config, layer):
        m = {"schemaVersion": 2, "mediaType": MT_DOCKER_MANIFEST,
             "config": config.descriptor(), "layers": [layer.descriptor()],
             "annotations": {"org.imgsync.bench.ref": f"{repo}:{tag}"}}
        self.data = json.dumps(m, indent=3).encode()
        self.digest = sha256_digest(self.data)
        self.media_type = MT_DOCKER_MANIFEST
        self.size = config.size + layer.size
        self.multi_arch = False
        self.children = []


def bulk_config(repo, layer):
    created = det_time("bulk:" + repo)
    cfg = {"architecture": "amd64", "os": "linux", "created": created,
           "config": {"Cmd": ["/bin/sh"], "Labels": {"org.imgsync.bench.repository": repo}},
           "rootfs": {"type": "layers", "diff_ids": [layer.digest]},
           "history": [{"created": created, "created_by": "/bin/sh -c #(nop) ADD bench /"}]}
    return Blob(MT_DOCKER_CONFIG, json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode())


def bulk_content(nrepos, ntags):
    """{repository: (config Blob, {tag: BulkImage})} and the shared layer Blob."""
    layer = Blob(MT_DOCKER_LAYER, det_bytes("layer:" + BULK_LAYER_LABEL, 2048))
    content = {}
    for i in range(1, nrepos + 1):
        repo = bulk_repo_name(i)
        config = bulk_config(repo, layer)
        content[repo] = (config, {bulk_tag_name(k): BulkImage(repo, bulk_tag_name(k), config, layer)
                                  for k in range(1, ntags + 1)})
    return layer, content


def cmd_seed_bulk(a):
    if a.repos < 1 or a.tags < 1 or a.workers < 1:
        die("--repos, --tags and --workers must be positive")
    base = client_from_args(a)  # validates the URL and reads the password once
    password = os.environ.get(a.password_env) if a.user is not None else None
    t0 = time.monotonic()
    layer, content = bulk_content(a.repos, a.tags)
    repos = list(content)  # push order: r0001 first (it receives the shared layer)

    local = threading.local()
    clients, clients_lock = [], threading.Lock()

    def pusher():
        p = getattr(local, "pusher", None)
        if p is None:
            c = KeepAliveClient(a.url, a.user, password)
            p = local.pusher = Pusher(c)
            with clients_lock:
                clients.append(p)
        return p

    def push_repo(repo, layer_source):
        p = pusher()
        config, tags = content[repo]
        if layer_source:
            p.known[layer.digest] = layer_source  # mount from there instead of uploading
        p.push_blob(repo, layer)
        p.push_blob(repo, config)
        for tag in sorted(tags):
            p.put_manifest(repo, tag, tags[tag])
        return repo

    def check_repo(repo):
        got = sorted(pusher().tags(repo))
        want = sorted(content[repo][1])
        if got != want:
            extra = sorted(set(got) - set(want))
            missing = sorted(set(want) - set(got))
            raise RegistryError(f"{repo}: tags/list differs from what was pushed (extra {extra[:5]}, "
                                f"missing {missing[:5]}); seed-bulk needs a fresh registry")
        return repo

    def run_pool(fn, items):
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.workers) as ex:
            futures = [ex.submit(fn, *it) for it in items]
            try:
                for f in concurrent.futures.as_completed(futures):
                    f.result()
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    try:
        st, _, _ = base.request("GET", "/v2/")
        if st != 200:
            raise RegistryError(f"GET /v2/: HTTP {st}" + (" (credentials rejected or missing)"
                                                          if st == 401 else ""))
        push_repo(repos[0], None)  # first: the shared layer is uploaded once, here
        run_pool(push_repo, [(r, repos[0]) for r in repos[1:]])
        t_push = time.monotonic() - t0
        run_pool(check_repo, [(r,) for r in repos])
        listed = set(catalog(base, page=1000))
        missing = [r for r in repos if r not in listed]
        if missing:
            raise RegistryError(f"the catalog lacks {len(missing)} pushed repositories, e.g. {missing[0]}")
        extra = len(listed - set(repos))
        if extra:
            warn(f"the registry holds {extra} repositories not managed by seed-bulk; "
                 f"the expected inventory does not list them")
    except RegistryError as e:
        die(f"seed-bulk failed: {e}")
    finally:
        for p in clients:
            p.c.close()

    rows = expected_rows({repo: tags for repo, (_, tags) in content.items()})
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(rows, f, indent=2)
        f.write("\n")
    os.replace(tmp, a.out)
    s = {}
    for p in clients:
        for k, v in p.stats.items():
            s[k] = s.get(k, 0) + v
    elapsed = time.monotonic() - t0
    print(f"seeded bulk: {len(rows)} tags in {len(repos)} repositories in {elapsed:.1f} s "
          f"(push {t_push:.1f} s, {a.workers} workers; {s.get('blobs_uploaded', 0)} blobs uploaded, "
          f"{s.get('blobs_mounted', 0)} mounted, {s.get('blobs_present', 0)} already present, "
          f"{s.get('manifests_put', 0)} manifests put) -> {a.out}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------

def catalog(c, page=10):
    repos, url = [], f"/v2/_catalog?n={page}"
    for _ in range(10000):
        _, h, data = c.request("GET", url, ok=(200,))
        repos += json.loads(data).get("repositories") or []
        link = h.get("link")
        if not link:
            break
        url = link.split(";")[0].strip().strip("<>")
    return repos


def cmd_verify(a):
    c = client_from_args(a)
    with open(a.expected) as f:
        rows = json.load(f)
    errors = []
    try:
        want = {}
        for r in rows:
            want.setdefault(r["repository"], {})[r["tag"]] = r
        repos = catalog(c)
        if len(repos) != len(set(repos)):
            errors.append(f"catalog lists a repository twice: {repos}")
        p = Pusher(c)
        for repo in sorted(set(repos) - set(want)):
            if p.tags(repo):
                errors.append(f"unexpected repository with tags: {repo}")
        for repo in sorted(want):
            if repo not in repos:
                errors.append(f"catalog lacks {repo}")
            got = sorted(p.tags(repo))
            if got != sorted(want[repo]):
                errors.append(f"{repo}: tags/list {got} != expected {sorted(want[repo])}")
            for tag, r in sorted(want[repo].items()):
                st, h, _ = c.request("HEAD", f"/v2/{repo}/manifests/{tag}",
                                     headers={"Accept": ACCEPT_ALL})
                if st != 200:
                    errors.append(f"{repo}:{tag}: HEAD HTTP {st}")
                    continue
                if h.get("docker-content-digest") != r["digest"]:
                    errors.append(f"{repo}:{tag}: HEAD digest {h.get('docker-content-digest')} "
                                  f"!= {r['digest']}")
                if h.get("content-type") != r["media_type"]:
                    errors.append(f"{repo}:{tag}: HEAD Content-Type {h.get('content-type')} "
                                  f"!= {r['media_type']}")
                # independent recomputation from the served bytes
                _, _, data = c.request("GET", f"/v2/{repo}/manifests/{r['digest']}",
                                       headers={"Accept": ACCEPT_ALL}, ok=(200,))
                if sha256_digest(data) != r["digest"]:
                    errors.append(f"{repo}:{tag}: served bytes hash to {sha256_digest(data)}")
                m = json.loads(data)
                if "manifests" in m:
                    size = 0
                    for d in m["manifests"]:
                        _, _, cd = c.request("GET", f"/v2/{repo}/manifests/{d['digest']}",
                                             headers={"Accept": ACCEPT_ALL}, ok=(200,))
                        cm = json.loads(cd)
                        size += cm["config"]["size"] + sum(l["size"] for l in cm["layers"])
                    multi = True
                else:
                    size = m["config"]["size"] + sum(l["size"] for l in m["layers"])
                    multi = False
                if size != r["size"] or multi != r["multi_arch"]:
                    errors.append(f"{repo}:{tag}: size/multi_arch {size}/{multi} "
                                  f"!= {r['size']}/{r['multi_arch']}")
    except RegistryError as e:
        errors.append(str(e))
    for e in errors:
        print(f"{PROG}: verify: {e}", file=sys.stderr)
    if errors:
        return 1
    print(f"verified {len(rows)} tags in {len(want)} repositories "
          f"(catalog: {len(repos)} repositories)", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("start", help="start a registry")
    s.add_argument("--dir", required=True)
    s.add_argument("--htpasswd", metavar="USER:PASSWORD")
    s.add_argument("--port-file", metavar="F")
    s.add_argument("--tls-cert", metavar="PEM")
    s.add_argument("--tls-key", metavar="PEM")
    s.add_argument("--tls-client-ca", metavar="PEM")

    s = sub.add_parser("stop", help="stop a registry started by `start`")
    s.add_argument("--dir", required=True)

    for name in ("seed", "verify"):
        s = sub.add_parser(name, help={"seed": "push a stage's content, write the expected inventory",
                                       "verify": "check a registry against an expected inventory"}[name])
        s.add_argument("--url", required=True)
        s.add_argument("--user")
        s.add_argument("--password-env", metavar="VAR")
        if name == "seed":
            s.add_argument("--out", required=True, metavar="EXPECTED.json")
            s.add_argument("--stage", choices=("initial", "update"), default="initial")
        else:
            s.add_argument("--expected", required=True, metavar="EXPECTED.json")

    s = sub.add_parser("seed-bulk", help="push many repositories and tags fast (benchmark), "
                                         "write the expected inventory")
    s.add_argument("--url", required=True)
    s.add_argument("--repos", type=int, required=True, metavar="R")
    s.add_argument("--tags", type=int, required=True, metavar="T")
    s.add_argument("--user")
    s.add_argument("--password-env", metavar="VAR")
    s.add_argument("--out", required=True, metavar="EXPECTED.json")
    s.add_argument("--workers", type=int, default=16, metavar="N")

    a = ap.parse_args(argv)
    return {"start": cmd_start, "stop": cmd_stop, "seed": cmd_seed, "verify": cmd_verify,
            "seed-bulk": cmd_seed_bulk}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
