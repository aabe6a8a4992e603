#!/usr/bin/env python3
"""JFrog Artifactory emulator (Docker repositories, storage API, AQL) for libimgsync's tests.

Spec: /work/shared/reference/swr-jfrog-oci-api.md ("the reference") §4, §4.1 (Artifactory)
and §5 (OCI distribution).  Where the reference is silent the emulator does what JFrog's
public documentation or public bug reports say real Artifactory does; every such choice is
marked [INFER] below.  Python 3 standard library only.

Usage:
  jfrog_emulator.py --dataset FILE [--generate SPEC] [--port 0] [--port-file F]
                    [--faults JSON|@FILE] [--log] [--max-seconds 600] [--version 6|7]

  Binds 127.0.0.1 (port 0 = a free port), prints the port alone on stdout, writes it to
  --port-file (atomically), serves until SIGTERM/SIGINT or --max-seconds (default 600).

  --version 7 (default) behaves like Artifactory 7.77.5; --version 6 like 6.23.42:
      tags/list answers 406 when Accept names only manifest media types
      (reference §4.1, renovatebot/renovate#3078); Link headers lack the
      "/artifactory/api/docker/{key}" prefix ("</v2/{image}/tags/list?...>", [INFER] from
      RTFACT-18971 as quoted in renovatebot/renovate#35917 and #15030, fixed in later 7.x);
      no federated repositories (they exist since 7.18.3, JFrog docs).
  --generate "images=N[,tags=T][,big_tags=B][,key=gen-local][,remote=1]"
      adds local repository KEY (default gen-local) with N images at depths 1..4
      (gen/img0001, t1/gen/img0002, o2/t2/gen/img0003, a3/o3/t3/img0004, ...) with T tags
      each (default 3; every 10th image's first tag is a manifest list), plus image
      "big/many-tags" with B tags (default 150; tags v0001.. and numeric ones).  remote=1
      also adds remote "gen-remote" (content in gen-remote-cache) with N/10 images.  Adds user
      gen-admin / gen-pass (admin, AQL) when the dataset has no user of that name.

Base path: everything lives under /artifactory.  GET / and /artifactory[/] -> 302 /ui/;
any other path without the prefix -> 404 (the platform URL is not the API; [INFER]).

Artifactory endpoints:
  GET  /artifactory/api/system/ping       text/plain "OK" (anonymous always allowed)
  GET  /artifactory/api/system/version    {"version","revision","addons","license"}
  GET  /artifactory/api/repositories[?type=local|remote|virtual|federated][&packageType=docker]
       [{"key","type":"LOCAL|REMOTE|VIRTUAL|FEDERATED","description","url","packageType"}]
       (packageType served capitalised, "Docker"; a remote's url is its upstream URL [INFER];
       "-cache" storage names are never listed [INFER]; repositories the caller cannot see
       are left out; an unknown type -> 400 [INFER])
  GET  /artifactory/api/storage/{key}/{path}[?properties]
       folder: {"uri","repo","path","created","createdBy","lastModified","modifiedBy",
                "lastUpdated","children":[{"uri":"/x","folder":true}]}
       file:   {... "downloadUri","size":"<string>","mimeType","checksums":{sha1,md5,sha256},
                "originalChecksums"}; ?properties -> {"properties":{k:[v]},"uri"}
       {key} may be a remote key or its "{key}-cache" name (same content); a virtual key
       shows its members' content unified.  children "folder" is a JSON boolean (JFrog's
       sample shows strings; real servers and JFrog's schema use booleans) [INFER].
  POST /artifactory/api/search/aql        Content-Type text/plain (else 415 [INFER]);
       items.find({...})[.include(...)][.sort({"$asc"|"$desc":[...]})][.offset(n)][.limit(n)]
       criteria: field: value | {"$op": value} with $eq $ne $gt $gte $lt $lte $match $nmatch
       (reference §4.1; "*" and "?" wildcards), "$and"/"$or" lists, "@prop" property keys.
       Any other operator ($in ...) -> 400.  Default type is file.  Fields: repo, path, name,
       type, size (a JSON number [INFER]: JFrog's sample shows a string, jfrog-client-go reads
       int64), created, created_by, modified, modified_by, updated, depth, sha256,
       actual_sha1, actual_md5; include "property" / "property.*" / "properties" / "@key".
       range = {"start_pos","end_pos","total" (= results in THIS response, §4.1),"limit"?}.
       Items of virtual repositories are never found (they store nothing [INFER]); items
       the caller cannot read are silently left out [INFER]; queries > 6000 characters ->
       400 (§4).  Anonymous -> 401, a user without AQL rights -> 403 (emulator model of a
       restricted account/token [INFER]).  Only the items domain is emulated.
  REST errors: {"errors":[{"status":N,"message":"..."}]} (JFrog's documented error shape; used
  for AQL parse errors too [INFER]).
Docker v2 per key, base /artifactory/api/docker/{key}/v2/  (§4, §5):
  GET  /v2/                        200 {} or 401 + WWW-Authenticate: Bearer realm=
                                   "http://HOST/artifactory/api/docker/{key}/v2/token",
                                   service="HOST" [INFER: repository-path access method]
  GET  /v2/token[?scope&service]   Basic/Bearer/anonymous -> {"token","expires_in":3600}
                                   (jfrog.com "docker login" troubleshooting page)
  GET  /v2/_catalog?n&last         {"repositories":[...]}; default n=50 (issue 10; the reference
                                   is silent); last = image name, exclusive
  GET  /v2/{image}/tags/list?n&last {"name","tags":[...]}: all tags without n; last is a
                                   numeric position (JFrog docs; renovate#15030) when all
                                   digits, else a tag name (OCI) [INFER]; digest folders
                                   (sha256__<hex>, sha256:<hex>) are listed as tags (§4.1)
  GET|HEAD /v2/{image}/manifests/{tag|digest}  Docker-Content-Digest, Content-Type,
                                   Content-Length; the stored bytes whatever Accept says
                                   (no schema1 conversion emulated)
  GET|HEAD /v2/{image}/blobs/{digest}  config blobs; layer blobs answer HEAD only (their
                                   content is not emulated; GET -> 404 BLOB_UNKNOWN; HEAD has
                                   Content-Length 0 and the size in X-Emulator-Size)
  Basic credentials and access tokens are accepted directly (§4); with --docker-token-auth
  only docker tokens from /v2/token are (anything else -> 401 + the Bearer challenge), the
  distribution token flow a registry or proxy may enforce (§5.3) [INFER].  Link headers: relative,
  "<...?last=X&n=N>; rel=\"next\"".  Errors: {"errors":[{"code","message","detail"}]}.
  A remote key serves its cached content; a virtual key the union of its members (first
  member wins for a tag; members the caller may not read are left out [INFER]);
  "{key}-cache" is not a Docker repository (404) [INFER].

Storage layout (§4, §4.1): {image}/{tag}/manifest.json + sha256__<hex> blob files (config,
layers); a manifest list: {image}/{tag}/list.manifest.json only, its children in
{image}/sha256:<hex>/ (listed as tags); an image pushed by digest: {image}/sha256__<hex>/.
Manifest files carry properties docker.repoName, docker.manifest, docker.manifest.digest,
docker.manifest.type, sha256.  Times are served ISO-8601 with the dataset's UTC offset
(default +03:00), e.g. "2024-02-01T13:00:00.123+03:00".

Auth: Basic user:password, Basic user:identity_token, Bearer access_token or identity token,
X-JFrog-Art-Api: api_key, Bearer docker token (only under /api/docker/).  Credentials that
do not match -> 401 {"errors":[{"status":401,"message":"Bad credentials"}]} on every
endpoint, ping included [INFER].  Anonymous (no Authorization): ping always; with
"anonymous_access": true the REST endpoints answer with what repositories marked
"anonymous_read" allow (an anonymous repository list is a non-empty partial list - a client
must check that its credentials were accepted); otherwise 401.  A user with "no_read":
[keys] still sees those keys in /api/repositories (e.g. a permission on a sub-path [INFER])
but gets 403 from their Docker/storage APIs, and AQL silently drops their items.

Dataset (JSON): version, revision, license, anonymous_access, time_offset ("+03:00"),
  users: [{name, password, identity_token, access_token, api_key, admin, aql (default true),
           no_read: [keys]}]
  repositories: [{key, type: local|remote|virtual|federated, packageType ("docker"),
      description, url (remote upstream), anonymous_read, repositories: [keys] (virtual),
      images: [{name ("a/b/c/d"), tags: [{tag | by_digest: true, oci, config (bytes),
               layers: [bytes], arch, platforms: [{arch, config, layers}] (a manifest list),
               time | created/modified/updated (RFC 3339, default 2024-01-01Z)}]}]}]

Control endpoints (never faulted or counted):
  GET  /_emulator/stats  (POST /_emulator/stats/reset)   {"total","paths","status","faults"}
  GET|POST|DELETE /_emulator/faults                     rules of emulator_faults.py
  POST /_emulator/reset                                 reload, clear faults, stats, tokens
  GET  /_emulator/inventory?repo_types=local,remote[&time_field=modified|created|updated]
       the rows a correct client produces, sorted by (repository, tag): {namespace (key),
       repository ("{key}/{image}"), tag, digest, size (config + layers; a list: sum of its
       children), update_time (ms since epoch UTC of the manifest file's "modified" time by
       default [INFER]), media_type, multi_arch, host}; digest folders give no row.

Fault rules (emulator_faults.py; --faults or POST /_emulator/faults): {"type": "500"|"502"|
  "503"|"504"|"429"|"slow"|"reset", "pattern": regex on the raw target, "method", "after",
  "count" (-1 = forever), "rate", "seed", "delay_ms" (slow), "retry_after" (429)}.
  500/429: Artifactory JSON error (429 with Retry-After); 502/503/504: nginx HTML page;
  slow: answered delay_ms later; reset: connection closed without an answer.
"""

import base64
import datetime
import fnmatch
import hashlib
import json
import re
import secrets
import sys
import time
from urllib.parse import parse_qsl, quote, unquote

from emulator_faults import Faults
from emulator_http import (HttpProtocol, REASONS, Resp, arg_parser, load_json_arg, log_requests,
                           parse_args, serve)

MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
LIST_TYPES = (MT_DOCKER_LIST, MT_OCI_INDEX)

VERSIONS = {6: ("6.23.42", "62342900"), 7: ("7.77.5", "77705900")}
DEFAULT_TIME = "2024-01-01T00:00:00Z"
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
CATALOG_DEFAULT_N = 50
AQL_MAX_CHARS = 6000
TOKEN_TTL = 3600
REPO_TYPES = ("local", "remote", "virtual", "federated")

# --------------------------------------------------------------------------
# time


def parse_time(s):
    """RFC 3339 string -> ms since epoch UTC."""
    s = str(s).strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dt = datetime.datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return (dt - _EPOCH) // datetime.timedelta(milliseconds=1)


def parse_offset(s):
    m = re.fullmatch(r"([+-])(\d\d):(\d\d)", s)
    if not m:
        raise ValueError("bad time_offset %r" % s)
    mins = int(m.group(2)) * 60 + int(m.group(3))
    return datetime.timezone(datetime.timedelta(minutes=-mins if m.group(1) == "-" else mins))


def fmt_time(ms, tz):
    """Artifactory's ISO-8601 with milliseconds and offset: 2020-06-25T10:21:17.488+03:00."""
    dt = datetime.datetime.fromtimestamp(ms // 1000, tz).replace(microsecond=(ms % 1000) * 1000)
    s = dt.isoformat(timespec="milliseconds")
    return s.replace("+00:00", "Z") if s.endswith("+00:00") else s


def time_of(key, value):
    """AQL time comparison: the value is an ISO string; compare as ms."""
    try:
        return parse_time(value)
    except ValueError:
        raise AqlError("invalid time value %r for field %s" % (value, key))


# --------------------------------------------------------------------------
# content: blobs, manifests, images


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


class Blob:
    """A config blob (bytes kept, served) or a layer blob (size only; never downloaded)."""
    __slots__ = ("digest", "size", "data", "media_type")

    def __init__(self, media_type, size, data=None, label=""):
        self.media_type = media_type
        self.data = data
        self.size = len(data) if data is not None else size
        # a layer's digest is a fixed fake (no content emulated); a config's is real
        self.digest = "sha256:" + sha256_hex(data if data is not None else ("layer:" + label).encode())


def config_blob(oci, arch, size, label, layers):
    base = {"architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
            "rootfs": {"type": "layers", "diff_ids": [b.digest for b in layers]}, "label": label}
    data = json.dumps(base, separators=(",", ":"), sort_keys=True)
    room = int(size or 0) - len(data) - len(',"pad":""')
    if room > 0:  # grow to the dataset's config size so sizes stay readable
        base["pad"] = "x" * room
        data = json.dumps(base, separators=(",", ":"), sort_keys=True)
    return Blob(MT_OCI_CONFIG if oci else MT_DOCKER_CONFIG, 0, data.encode())


class Manifest:
    """Exact bytes as served; digest = sha256 of them; size = image size (config + layers,
    or the children's sum for a list)."""

    def __init__(self, media_type, data, config=None, layers=(), children=()):
        self.media_type = media_type
        self.data = data
        self.digest = "sha256:" + sha256_hex(data)
        self.config = config
        self.layers = list(layers)
        self.children = list(children)
        self.size = (config.size + sum(b.size for b in self.layers)) if config else \
            sum(c.size for c in self.children)

    @property
    def multi_arch(self):
        return self.media_type in LIST_TYPES

    def blobs(self):
        return ([self.config] if self.config else []) + self.layers


def image_manifest(spec, label, arch="amd64"):
    oci = bool(spec.get("oci"))
    lt = MT_OCI_LAYER if oci else MT_DOCKER_LAYER
    layers = [Blob(lt, int(sz), label="%s#%d" % (label, i)) for i, sz in enumerate(spec.get("layers", [1024]))]
    cfg = config_blob(oci, spec.get("arch", arch), spec.get("config", 0), label, layers)
    mt = MT_OCI_MANIFEST if oci else MT_DOCKER_MANIFEST
    doc = {"schemaVersion": 2, "mediaType": mt,
           "config": {"mediaType": cfg.media_type, "size": cfg.size, "digest": cfg.digest},
           "layers": [{"mediaType": b.media_type, "size": b.size, "digest": b.digest} for b in layers]}
    return Manifest(mt, json.dumps(doc, indent=3).encode(), cfg, layers)


def list_manifest(spec, label):
    oci = bool(spec.get("oci"))
    kids = []
    for p in spec["platforms"]:
        kid = dict(p)
        kid.setdefault("oci", oci)
        kids.append((p.get("arch", "amd64"), image_manifest(kid, "%s@%s" % (label, p.get("arch")))))
    mt = MT_OCI_INDEX if oci else MT_DOCKER_LIST
    doc = {"schemaVersion": 2, "mediaType": mt,
           "manifests": [{"mediaType": m.media_type, "size": len(m.data), "digest": m.digest,
                          "platform": {"architecture": arch, "os": "linux"}} for arch, m in kids]}
    return Manifest(mt, json.dumps(doc, indent=3).encode(), children=[m for _, m in kids])


class Folder:
    """One folder under an image: a tag, a digest-pushed image (sha256__<hex>) or a
    multi-arch child (sha256:<hex>).  Its files carry the folder's times."""
    __slots__ = ("name", "manifest", "created", "modified", "updated", "is_tag")

    def __init__(self, name, manifest, times, is_tag):
        self.name = name
        self.manifest = manifest
        self.created, self.modified, self.updated = times
        self.is_tag = is_tag

    @property
    def manifest_file(self):
        return "list.manifest.json" if self.manifest.multi_arch else "manifest.json"


def is_digest_tag(name):
    return name.startswith("sha256:") or name.startswith("sha256__")


def tag_times(spec):
    t = spec.get("time", DEFAULT_TIME)
    return tuple(parse_time(spec.get(k, t)) for k in ("created", "modified", "updated"))


class Image:
    def __init__(self, name):
        self.name = name
        self.folders = {}

    def add_tag(self, spec, label):
        times = tag_times(spec)
        m = list_manifest(spec, label) if spec.get("platforms") else image_manifest(spec, label)
        if spec.get("by_digest"):
            name, is_tag = "sha256__" + m.digest[7:], False
        else:
            name, is_tag = str(spec["tag"]), True
        self.folders[name] = Folder(name, m, times, is_tag)
        for kid in m.children:  # Artifactory keeps list children in sha256:<hex> folders
            self.folders.setdefault(kid.digest, Folder(kid.digest, kid, times, False))

    def tag_names(self):
        return sorted(self.folders)

    def find(self, ref):
        f = self.folders.get(ref)
        if f is None and ref.startswith("sha256:"):
            for g in self.folders.values():
                if g.manifest.digest == ref:
                    return g.manifest
                for kid in g.manifest.children:
                    if kid.digest == ref:
                        return kid
            return None
        return f.manifest if f else None

    def blob(self, digest):
        for f in self.folders.values():
            for b in f.manifest.blobs():
                if b.digest == digest:
                    return b
        return None


class Repo:
    def __init__(self, d):
        self.key = d["key"]
        self.rclass = str(d.get("type", "local")).lower()
        if self.rclass not in REPO_TYPES:
            raise ValueError("repository %s: unknown type %r" % (self.key, self.rclass))
        self.package_type = str(d.get("packageType", "docker"))
        self.description = d.get("description", "")
        self.upstream = d.get("url", "https://registry-1.docker.io/")
        self.anonymous_read = bool(d.get("anonymous_read"))
        self.members = list(d.get("repositories", []))
        self.images = {}

    @property
    def storage_key(self):
        """Where the content is stored (and found by AQL): {key}-cache for a remote (§4.1)."""
        return self.key + "-cache" if self.rclass == "remote" else self.key

    def add_images(self, images):
        for im in images:
            img = self.images.setdefault(im["name"], Image(im["name"]))
            for t in im.get("tags", []):
                img.add_tag(t, "%s/%s:%s" % (self.key, im["name"], t.get("tag", "@")))


# --------------------------------------------------------------------------
# dataset


def gen_image_name(i):
    """Depths 1..4 in turn, so nested names (4 levels) are common in generated sets."""
    d = i % 4
    return ["gen/img%04d", "t%d/gen/img%%04d" % (i % 7), "o%d/t%d/gen/img%%04d" % (i % 5, i % 3),
            "a%d/o%d/t%d/img%%04d" % (i % 3, i % 5, i % 7)][d] % i


def gen_tags(i, ntags):
    base = 1714521600000 + i * 60000  # 2024-05-01Z + i minutes: distinct, deterministic
    out = []
    for k in range(ntags):
        ts = datetime.datetime.fromtimestamp((base + k * 1000) / 1000, datetime.timezone.utc).isoformat()
        spec = {"tag": "v%d.%d" % (i % 10, k), "config": 600 + (i * 7 + k) % 900,
                "layers": [1000 + (i * 131 + k) % 50000, 200 + k], "time": ts}
        if k == 0 and i % 10 == 0:
            spec = {"tag": spec["tag"], "time": ts,
                    "platforms": [{"arch": "amd64", "layers": [3000 + i]}, {"arch": "arm64", "layers": [2900 + i]}]}
        out.append(spec)
    return out


def generated_repos(spec):
    opts = dict(kv.split("=", 1) for kv in spec.split(",") if kv)
    n, ntags = int(opts.get("images", 100)), int(opts.get("tags", 3))
    big = int(opts.get("big_tags", 150))
    images = [{"name": gen_image_name(i), "tags": gen_tags(i, ntags)} for i in range(1, n + 1)]
    # numeric tag names next to v-names: a client that builds "last" from a tag name
    # instead of following Link meets Artifactory's numeric "last" (§4.1)
    big_tags = [{"tag": ("v%04d" % k) if k % 5 else str(10000 + k), "layers": [500 + k],
                 "time": "2024-03-01T00:%02d:%02dZ" % (k // 60 % 60, k % 60)} for k in range(big)]
    images.append({"name": "big/many-tags", "tags": big_tags})
    repos = [{"key": opts.get("key", "gen-local"), "type": "local", "images": images}]
    if opts.get("remote") == "1":
        rem = [{"name": "mirror/" + im["name"], "tags": im["tags"][:1]} for im in images[: max(n // 10, 1)]]
        repos.append({"key": "gen-remote", "type": "remote", "images": rem})
    return repos


class Store:
    def __init__(self, data, gen_spec, version):
        self.version = version
        default_version, self.revision = VERSIONS[version]
        # the dataset names a 7.x version; --version 6 always answers as 6.x
        self.version_string = data.get("version", default_version) if version == 7 else default_version
        self.license = data.get("license", "Enterprise+")
        self.anonymous_access = bool(data.get("anonymous_access", False))
        self.tz = parse_offset(data.get("time_offset", "+03:00"))
        self.users = {u["name"]: u for u in data.get("users", [])}
        if gen_spec:  # a generated set can be read without a dataset
            self.users.setdefault("gen-admin", {"name": "gen-admin", "password": "gen-pass", "admin": True})
        self.repos = {}
        repo_specs = list(data.get("repositories", [])) + (generated_repos(gen_spec) if gen_spec else [])
        for d in repo_specs:
            if version == 6 and str(d.get("type", "")).lower() == "federated":
                continue  # federated repositories arrived in 7.18.3
            r = self.repos.setdefault(d["key"], Repo(d))
            r.add_images(d.get("images", []))
        self.by_storage = {r.storage_key: r for r in self.repos.values() if r.rclass != "virtual"}
        self.credentials = self._credential_index()
        self._files = None  # AQL/storage items, built on first use
        self.by_path = {}  # (storage key, path, name) -> item
        self.by_folder = {}  # (storage key, folder path) -> [items in it]

    @property
    def files(self):
        if self._files is None:
            self._files = build_items(self)
            for it in self._files:
                self.by_path[(it.repo, it.path, it.name)] = it
                self.by_folder.setdefault((it.repo, it.path), []).append(it)
        return self._files

    def _credential_index(self):
        """(kind, secret) -> user name; kinds: basic (name, secret), bearer, apikey."""
        idx = {}
        for u in self.users.values():
            for field in ("password", "identity_token"):
                if u.get(field):
                    idx[("basic", u["name"], u[field])] = u["name"]
            for field in ("access_token", "identity_token"):
                if u.get(field):
                    idx[("bearer", u[field])] = u["name"]
            if u.get("api_key"):
                idx[("apikey", u["api_key"])] = u["name"]
        return idx

    def members(self, repo, readable=None):
        """Physical repositories behind a key (a virtual one: its members, in order, only
        those readable(member) allows: a virtual key shows what the caller may read)."""
        if repo.rclass != "virtual":
            return [repo]
        out = []
        for k in repo.members:
            m = self.repos.get(k)
            if m is not None and m.rclass != "virtual" and (readable is None or readable(m)):
                out.append(m)
        return out

    def images_of(self, repo, readable=None):
        names = set()
        for m in self.members(repo, readable):
            names.update(m.images)
        return sorted(names)

    def image_view(self, repo, name, readable=None):
        """The folders of image `name` as seen through `repo` (first member wins)."""
        folders = {}
        for m in self.members(repo, readable):
            img = m.images.get(name)
            if img is not None:
                for k, f in img.folders.items():
                    folders.setdefault(k, f)
        if not folders:
            return None
        view = Image(name)
        view.folders = folders
        return view


# --------------------------------------------------------------------------
# storage items (what AQL and the storage API see)


class Item:
    __slots__ = ("repo", "path", "name", "type", "size", "created", "modified", "updated",
                 "sha256", "sha1", "md5", "props", "mime")

    def full(self):
        return self.name if self.path == "." else self.path + "/" + self.name


def file_item(repo_key, folder_path, name, size, times, hashes, props=None, mime="application/octet-stream"):
    it = Item()
    it.repo, it.path, it.name, it.type, it.size = repo_key, folder_path, name, "file", size
    it.created, it.modified, it.updated = times
    it.sha256, it.sha1, it.md5 = hashes
    it.props = props or {}
    it.mime = mime
    return it


def folder_item(repo_key, full, times):
    it = Item()
    path, _, name = full.rpartition("/")
    it.repo, it.path, it.name, it.type, it.size = repo_key, path or ".", name, "folder", 0
    it.created, it.modified, it.updated = times
    it.sha256 = it.sha1 = it.md5 = None
    it.props = {}
    it.mime = None
    return it


def blob_hashes(b):
    """Real hashes for bytes we hold; for layers (no content) the sha256 is the digest and
    the others are derived from it so they stay stable."""
    if b.data is not None:
        return sha256_hex(b.data), hashlib.sha1(b.data).hexdigest(), hashlib.md5(b.data).hexdigest()
    d = b.digest.encode()
    return b.digest[7:], hashlib.sha1(d).hexdigest(), hashlib.md5(d).hexdigest()


def folder_files(repo_key, image, f):
    m = f.manifest
    times = (f.created, f.modified, f.updated)
    fpath = image + "/" + f.name
    h = sha256_hex(m.data)
    props = {"docker.repoName": image, "docker.manifest": f.name, "docker.manifest.digest": m.digest,
             "docker.manifest.type": m.media_type, "sha256": h}
    out = [file_item(repo_key, fpath, f.manifest_file, len(m.data), times,
                     (h, hashlib.sha1(m.data).hexdigest(), hashlib.md5(m.data).hexdigest()),
                     props, "application/json")]
    for b in m.blobs():  # a list folder holds only list.manifest.json (§4.1)
        out.append(file_item(repo_key, fpath, "sha256__" + b.digest[7:], b.size, times, blob_hashes(b)))
    return out


def build_items(store):
    """Every file and folder of every physical repository, under its storage key."""
    items = []
    for repo in store.by_storage.values():
        folders = {}
        for image in sorted(repo.images):
            for f in repo.images[image].folders.values():
                items.extend(folder_files(repo.storage_key, image, f))
                parts = (image + "/" + f.name).split("/")
                for i in range(1, len(parts) + 1):
                    p = "/".join(parts[:i])
                    old = folders.get(p)
                    t = (f.created, f.modified, f.updated)
                    folders[p] = t if old is None else tuple(min(a, b) if j == 0 else max(a, b)
                                                             for j, (a, b) in enumerate(zip(old, t)))
        items.extend(folder_item(repo.storage_key, p, t) for p, t in folders.items())
    return items


# --------------------------------------------------------------------------
# AQL


class AqlError(Exception):
    pass


AQL_OPS = frozenset(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$match", "$nmatch"])
AQL_FIELDS = ("repo", "path", "name", "type", "size", "created", "created_by", "modified",
              "modified_by", "updated", "depth", "sha256", "actual_sha1", "actual_md5")
AQL_DEFAULT_FIELDS = ("repo", "path", "name", "type", "size", "created", "created_by",
                      "modified", "modified_by", "updated")
TIME_FIELDS = ("created", "modified", "updated")


def item_value(it, field):
    if field == "depth":  # items at the repository root have depth 1
        return it.full().count("/") + 1
    if field in ("created_by", "modified_by"):
        return "admin"
    if field in ("actual_sha1", "actual_md5"):
        return it.sha1 if field == "actual_sha1" else it.md5
    return getattr(it, field)


def compare(op, have, want):
    if op in ("$match", "$nmatch"):
        hit = have is not None and fnmatch.fnmatchcase(str(have), str(want))
        return hit if op == "$match" else not hit
    if have is None:
        return op == "$ne"
    if op == "$eq":
        return have == want
    if op == "$ne":
        return have != want
    try:
        return {"$gt": have > want, "$gte": have >= want, "$lt": have < want, "$lte": have <= want}[op]
    except TypeError:
        raise AqlError("cannot compare %r with %r" % (have, want))


def field_pred(field, cond):
    """A predicate on items for one "field": cond entry."""
    conds = cond if isinstance(cond, dict) else {"$eq": cond}
    for op in conds:
        if op not in AQL_OPS:
            raise AqlError("Unknown operator %s" % op)
    if field.startswith("@"):
        key = field[1:]
        return lambda it: all(compare(op, it.props.get(key), v) for op, v in conds.items())
    if field not in AQL_FIELDS:
        raise AqlError("Unknown field %s" % field)
    if field in TIME_FIELDS:
        conds = {op: (v if op in ("$match", "$nmatch") else time_of(field, v)) for op, v in conds.items()}
    return lambda it: all(compare(op, item_value(it, field), v) for op, v in conds.items())


def criteria_pred(crit, top=True):
    if not isinstance(crit, dict):
        raise AqlError("criteria must be a JSON object")
    preds = []
    for k, v in crit.items():
        if k in ("$and", "$or"):
            subs = v if isinstance(v, list) else [{kk: vv} for kk, vv in v.items()]
            ps = [criteria_pred(s, False) for s in subs]
            preds.append((lambda ps: lambda it: all(p(it) for p in ps))(ps) if k == "$and"
                         else (lambda ps: lambda it: any(p(it) for p in ps))(ps))
        elif k.startswith("$"):
            raise AqlError("Unknown operator %s" % k)
        else:
            preds.append(field_pred(k, v))
    if top and "type" not in crit:  # AQL finds files unless told otherwise
        preds.append(lambda it: it.type == "file")
    elif crit.get("type") == "any":
        preds = [p for k, p in zip(crit, preds) if k != "type"]
    return lambda it: all(p(it) for p in preds)


class AqlQuery:
    def __init__(self):
        self.pred = None
        self.include = None
        self.sort = None
        self.offset = 0
        self.limit = None


class AqlParser:
    """items.find(<json>) followed by .include/.sort/.offset/.limit calls."""

    def __init__(self, text):
        self.s = text
        self.i = 0
        self.dec = json.JSONDecoder()

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def expect(self, tok):
        self.ws()
        if not self.s.startswith(tok, self.i):
            raise AqlError("Failed to parse query: expected %r at position %d" % (tok, self.i))
        self.i += len(tok)

    def value(self):
        self.ws()
        try:
            v, end = self.dec.raw_decode(self.s, self.i)
        except ValueError as e:
            raise AqlError("Failed to parse query: %s" % e)
        self.i = end
        return v

    def args(self):
        self.expect("(")
        out = []
        self.ws()
        if self.s.startswith(")", self.i):
            self.i += 1
            return out
        while True:
            out.append(self.value())
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                continue
            self.expect(")")
            return out

    def parse(self):
        q = AqlQuery()
        self.ws()
        m = re.compile(r"(\w+)\.find").match(self.s, self.i)
        if not m:
            raise AqlError("Failed to parse query: expected <domain>.find(...)")
        if m.group(1) != "items":
            raise AqlError("Domain %s is not supported by this emulator" % m.group(1))
        self.i = m.end()
        a = self.args()
        q.pred = criteria_pred(a[0] if a else {})
        while True:
            self.ws()
            if self.i >= len(self.s):
                return q
            self.expect(".")
            m = re.compile(r"(include|sort|offset|limit)").match(self.s, self.i)
            if not m:
                raise AqlError("Failed to parse query: unknown call at position %d" % self.i)
            self.i = m.end()
            self.call(q, m.group(1), self.args())

    @staticmethod
    def call(q, name, a):
        if name == "include":
            q.include = [str(x) for x in a]
            for f in q.include:
                if not (f in AQL_FIELDS or f in ("property", "property.*", "properties") or f.startswith("@")):
                    raise AqlError("Unknown field %s" % f)
        elif name == "sort":
            if len(a) != 1 or not isinstance(a[0], dict) or len(a[0]) != 1 or \
                    next(iter(a[0])) not in ("$asc", "$desc"):
                raise AqlError("sort takes {\"$asc\"|\"$desc\": [fields]}")
            q.sort = next(iter(a[0].items()))
        elif len(a) != 1 or not isinstance(a[0], int) or a[0] < 0:
            raise AqlError("%s takes one non-negative integer" % name)
        elif name == "offset":
            q.offset = a[0]
        else:
            q.limit = a[0]


def aql_row(it, include, tz):
    fields = [f for f in (include or AQL_DEFAULT_FIELDS) if not f.startswith(("@", "propert"))]
    row = {}
    for f in fields:
        v = item_value(it, f)
        row[f] = fmt_time(v, tz) if f in TIME_FIELDS else v
    props = None
    if include and any(f in ("property", "property.*", "properties") for f in include):
        props = sorted(it.props.items())
    elif include:
        keys = [f[1:] for f in include if f.startswith("@")]
        if keys:
            props = [(k, it.props[k]) for k in keys if k in it.props]
    if props:  # Artifactory leaves "properties" out when an item has none
        row["properties"] = [{"key": k, "value": v} for k, v in props]
    return row


def run_aql(store, text, readable):
    q = AqlParser(text).parse()
    hits = [it for it in store.files if readable(it.repo) and q.pred(it)]
    if q.sort:
        order, keys = q.sort
        hits.sort(key=lambda it: tuple(str(item_value(it, k)) if k not in ("size", "depth")
                                       else item_value(it, k) for k in keys), reverse=order == "$desc")
    page = hits[q.offset:] if q.limit is None else hits[q.offset:q.offset + q.limit]
    rng = {"start_pos": q.offset, "end_pos": q.offset + len(page), "total": len(page)}
    if q.limit is not None:
        rng["limit"] = q.limit
    return {"results": [aql_row(it, q.include, store.tz) for it in page], "range": rng}


# --------------------------------------------------------------------------
# HTTP helpers


def jbody(obj):
    return (json.dumps(obj, indent=2) + "\n").encode()


def art_error(status, message, extra=()):
    """Artifactory REST error shape."""
    return Resp(status, [("Content-Type", "application/json")] + list(extra),
                jbody({"errors": [{"status": status, "message": message}]}))


def docker_error(status, code, message, extra=()):
    body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
    return Resp(status, [("Content-Type", "application/json"),
                         ("Docker-Distribution-Api-Version", "registry/2.0")] + list(extra), body)


def json_resp(obj, extra=()):
    return Resp(200, [("Content-Type", "application/json")] + list(extra), jbody(obj))


def internal_error():
    return art_error(500, "Internal Server Error")


FAULT_TYPES = ("500", "502", "503", "504", "429")


def fault_response(rule):
    """A faulted answer: Artifactory's own JSON error for 500 and 429 (with Retry-After, as
    JFrog's rate limiting sends [INFER]); the reverse proxy's HTML page for 502/503/504."""
    st = int(rule.type)
    if st in (500, 429):
        extra = [("Retry-After", str(rule.retry_after))] if st == 429 and rule.retry_after else []
        return art_error(st, REASONS[st], extra)
    title = "%d %s" % (st, REASONS[st])
    page = "<html><head><title>%s</title></head><body><center><h1>%s</h1></center>" \
           "<hr><center>nginx</center></body></html>\r\n" % (title, title)
    return Resp(st, [("Content-Type", "text/html"), ("Server", "nginx")], page.encode())


def accepts_json(accept):
    """Artifactory 6.x answers tag lists only to an Accept that allows JSON (§4.1)."""
    if not accept:
        return True
    types = [a.split(";")[0].strip().lower() for a in accept.split(",")]
    return any(t in ("application/json", "*/*", "application/*") for t in types)


class Caller:
    """Who is asking: user name (None = anonymous) and which keys it may read."""
    __slots__ = ("user", "docker_key")

    def __init__(self, user, docker_key=None):
        self.user = user
        self.docker_key = docker_key


class BadCredentials(Exception):
    pass


# --------------------------------------------------------------------------
# the application


class App:
    def __init__(self, dataset, gen_spec, version, faults):
        self.dataset = dataset
        self.gen_spec = gen_spec
        self.version = version
        self.docker_token_auth = False
        self.init_faults = faults
        self.port = 0
        self.reset()

    def reset(self):
        self.store = Store(self.dataset, self.gen_spec, self.version)
        self.tokens = {}
        self.stats_total = 0
        self.stats_paths = {}
        self.stats_status = {}
        self.faults = Faults(FAULT_TYPES, fault_response)
        self.faults.add(self.init_faults)

    # ---------------- entry point
    def handle(self, method, target, headers, body):
        path, _, query = target.partition("?")
        if path == "/_emulator" or path.startswith("/_emulator/"):
            return self.control(method, path, query, headers, body)
        self.stats_total += 1
        self.stats_paths[path] = self.stats_paths.get(path, 0) + 1
        return self.faults.run(method, target, lambda: self.serve(method, path, query, headers, body),
                               self.count_status)

    def count_status(self, status):
        self.stats_status[status] = self.stats_status.get(status, 0) + 1

    def serve(self, method, path, query, headers, body):
        if path in ("/", "/artifactory", "/artifactory/"):
            return Resp(302, [("Location", "/ui/"), ("Content-Type", "text/plain")], b"")
        if not path.startswith("/artifactory/"):
            return Resp(404, [("Content-Type", "text/plain")], b"404 page not found\n")
        rest = path[len("/artifactory"):]
        try:
            caller = self.authenticate(headers, rest)
        except BadCredentials as e:
            if rest.startswith("/api/docker/"):
                return docker_error(401, "UNAUTHORIZED", str(e), self.challenge(rest, headers))
            return art_error(401, str(e), [("WWW-Authenticate", 'Basic realm="Artifactory Realm"')])
        res = self.route(method, rest, query, headers, body, caller)
        res.headers.append(("X-JFrog-Version", "Artifactory/%s %s" % (self.store.version_string,
                                                                      self.store.revision)))
        return res

    # ---------------- auth
    def authenticate(self, headers, rest):
        s = self.store
        apikey = headers.get("x-jfrog-art-api")
        if apikey:
            name = s.credentials.get(("apikey", apikey))
            if name is None:
                raise BadCredentials("Bad credentials")
            return Caller(name)
        h = headers.get("authorization", "")
        if not h:
            return Caller(None)
        scheme, _, val = h.partition(" ")
        val = val.strip()
        if scheme.lower() == "basic":
            try:
                user, sep, pw = base64.b64decode(val, validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                raise BadCredentials("Bad credentials")
            name = s.credentials.get(("basic", user, pw)) if sep else None
            if name is None:
                raise BadCredentials("Bad credentials")
            return Caller(name)
        if scheme.lower() == "bearer":
            name = s.credentials.get(("bearer", val))
            if name is not None:
                return Caller(name)
            tok = self.tokens.get(val)
            if tok and tok[2] > time.time() and rest.startswith("/api/docker/"):
                return Caller(tok[0], tok[1])
            raise BadCredentials("Token failed verification")
        raise BadCredentials("Bad credentials")

    def user(self, caller):
        return self.store.users.get(caller.user) if caller.user else None

    def can_see(self, caller, repo):
        """Listed in /api/repositories (no_read keys stay visible, see docstring)."""
        if caller.user:
            return True
        return self.store.anonymous_access and repo.anonymous_read

    def can_read(self, caller, repo):
        u = self.user(caller)
        if u is not None:
            return repo.key not in u.get("no_read", []) or u.get("admin")
        return self.store.anonymous_access and repo.anonymous_read

    def anonymous_refused(self, caller):
        return caller.user is None and not self.store.anonymous_access

    # ---------------- routing
    def route(self, method, rest, query, headers, body, caller):
        if rest.startswith("/api/docker/"):
            return self.docker(method, rest[len("/api/docker/"):], query, headers, caller)
        if rest == "/api/system/ping":
            return Resp(200, [("Content-Type", "text/plain")], b"OK")
        if self.anonymous_refused(caller):
            return art_error(401, "Authentication is required",
                             [("WWW-Authenticate", 'Basic realm="Artifactory Realm"')])
        if rest == "/api/search/aql":
            if method != "POST":
                return art_error(405, "Method Not Allowed")
            return self.aql(headers, body, caller)
        if method not in ("GET", "HEAD"):
            return art_error(405, "Method Not Allowed")
        if rest == "/api/system/version":
            return json_resp({"version": self.store.version_string, "revision": self.store.revision,
                              "addons": ["build", "docker", "ldap", "properties", "rest", "search"],
                              "license": self.store.license})
        if rest == "/api/repositories":
            return self.repositories(query, headers, caller)
        if rest.startswith("/api/storage/"):
            return self.storage(rest[len("/api/storage/"):], query, headers, caller)
        return art_error(404, "Not Found")

    def base_url(self, headers):
        return "http://%s/artifactory" % (headers.get("host") or "127.0.0.1:%d" % self.port)

    # ---------------- REST: repositories
    def repositories(self, query, headers, caller):
        q = dict(parse_qsl(query))
        rtype = q.get("type", "").lower()
        if rtype and rtype not in REPO_TYPES + ("distribution",):
            return art_error(400, "Invalid repository type: %s" % q["type"])
        ptype = q.get("packageType", "").lower()
        out = []
        for r in self.store.repos.values():
            if (rtype and r.rclass != rtype) or (ptype and r.package_type.lower() != ptype):
                continue
            if not self.can_see(caller, r):
                continue
            url = r.upstream if r.rclass == "remote" else "%s/%s" % (self.base_url(headers), r.key)
            out.append({"key": r.key, "type": r.rclass.upper(), "description": r.description,
                        "url": url, "packageType": r.package_type.capitalize()})
        return json_resp(out)

    # ---------------- REST: storage
    def storage_repo(self, key):
        s = self.store
        r = s.repos.get(key)
        if r is None and key.endswith("-cache"):
            r = s.repos.get(key[:-6])
            if r is not None and r.rclass != "remote":
                r = None
        return r

    def storage(self, rest, query, headers, caller):
        key, _, rel = rest.partition("/")
        rel = unquote(rel).strip("/")
        r = self.storage_repo(key)
        if r is None:
            return art_error(404, "Unable to find item")
        if not self.can_read(caller, r):
            return art_error(403, "Forbidden")
        self.store.files  # built on first use
        keys = [m.storage_key for m in self.store.members(r, lambda m: self.can_read(caller, m))]
        uri = "%s/api/storage/%s%s" % (self.base_url(headers), key, "/" + rel if rel else "")
        node = self.find_item(keys, rel)
        if rel and node is None:
            return art_error(404, "Unable to find item")
        if "properties" in dict(parse_qsl(query, keep_blank_values=True)):
            if node is None or not node.props:
                return art_error(404, "No properties could be found.")
            return json_resp({"properties": {k: [v] for k, v in sorted(node.props.items())}, "uri": uri})
        if node is not None and node.type == "file":
            return json_resp(self.file_info(key, rel, node, uri, headers))
        return json_resp(self.folder_info(key, keys, rel, node, uri))

    def find_item(self, keys, rel):
        if not rel:
            return None
        path, _, name = rel.rpartition("/")
        for k in keys:
            it = self.store.by_path.get((k, path or ".", name))
            if it is not None:
                return it
        return None

    def file_info(self, key, rel, it, uri, headers):
        tz = self.store.tz
        sums = {"sha1": it.sha1, "md5": it.md5, "sha256": it.sha256}
        return {"repo": key, "path": "/" + rel, "created": fmt_time(it.created, tz), "createdBy": "admin",
                "lastModified": fmt_time(it.modified, tz), "modifiedBy": "admin",
                "lastUpdated": fmt_time(it.updated, tz),
                "downloadUri": "%s/%s/%s" % (self.base_url(headers), key, rel),
                "mimeType": it.mime, "size": str(it.size),  # a string, as Artifactory sends it
                "checksums": sums, "originalChecksums": {"sha256": it.sha256}, "uri": uri}

    def folder_info(self, key, keys, rel, node, uri):
        tz = self.store.tz
        parent = rel or "."
        kids = {}
        for k in keys:
            for it in self.store.by_folder.get((k, parent), ()):
                kids.setdefault(it.name, it.type == "folder")
        info = {"repo": key, "path": "/" + rel, "uri": uri,
                "children": [{"uri": "/" + n, "folder": f} for n, f in sorted(kids.items())]}
        if node is not None:
            info.update({"created": fmt_time(node.created, tz), "createdBy": "admin",
                         "lastModified": fmt_time(node.modified, tz), "modifiedBy": "admin",
                         "lastUpdated": fmt_time(node.updated, tz)})
        return info

    # ---------------- REST: AQL
    def aql(self, headers, body, caller):
        ct = headers.get("content-type", "").split(";")[0].strip().lower()
        if ct != "text/plain":
            return art_error(415, "Unsupported Media Type")
        if caller.user is None:
            return art_error(401, "Authentication is required")
        if not self.user(caller).get("aql", True):
            return art_error(403, "Forbidden: this user may not run AQL queries")
        text = body.decode("utf-8", "replace")
        if len(text) > AQL_MAX_CHARS:
            return art_error(400, "AQL query is longer than %d characters" % AQL_MAX_CHARS)
        readable = {m.storage_key for m in self.store.repos.values()
                    if m.rclass != "virtual" and self.can_read(caller, m)}
        try:
            return json_resp(run_aql(self.store, text, readable.__contains__))
        except AqlError as e:
            return art_error(400, str(e))

    # ---------------- Docker v2
    def challenge(self, rest, headers):
        key = rest[len("/api/docker/"):].partition("/")[0]
        host = headers.get("host") or "127.0.0.1:%d" % self.port
        return [("WWW-Authenticate", 'Bearer realm="http://%s/artifactory/api/docker/%s/v2/token",'
                 'service="%s"' % (host, key, host))]

    def docker(self, method, rest, query, headers, caller):
        key, _, sub = rest.partition("/")
        r = self.store.repos.get(key)
        if r is None or r.package_type.lower() != "docker":
            return docker_error(404, "NAME_UNKNOWN", "Repository %s not found" % key)
        if not (sub == "v2" or sub.startswith("v2/")):
            return docker_error(404, "NOT_FOUND", "Not found")
        sub = sub[3:]
        if sub == "token":
            return self.docker_token(key, caller, headers)
        if caller.docker_key not in (None, key):
            return docker_error(401, "UNAUTHORIZED", "token issued for another repository",
                                self.challenge("/api/docker/" + key, headers))
        if self.docker_token_auth and caller.docker_key is None:
            return docker_error(401, "UNAUTHORIZED", "a docker token is required",
                                self.challenge("/api/docker/" + key, headers))
        if not self.can_read(caller, r):
            if caller.user is None:
                return docker_error(401, "UNAUTHORIZED", "authentication required",
                                    self.challenge("/api/docker/" + key, headers))
            return docker_error(403, "DENIED", "user %s may not read %s" % (caller.user, key))
        if method not in ("GET", "HEAD"):
            return docker_error(405, "UNSUPPORTED", "method not allowed")
        return self.docker_route(r, sub, query, headers, method, lambda m: self.can_read(caller, m))

    def docker_token(self, key, caller, headers):
        if caller.user is None and not self.store.anonymous_access:
            return docker_error(401, "UNAUTHORIZED", "authentication required",
                                self.challenge("/api/docker/" + key, headers))
        tok = "jfdt-" + secrets.token_hex(20)
        self.tokens[tok] = (caller.user, key, time.time() + TOKEN_TTL)
        return json_resp({"token": tok, "expires_in": TOKEN_TTL})

    def docker_route(self, r, sub, query, headers, method, readable):
        q = dict(parse_qsl(query))
        v2h = ("Docker-Distribution-Api-Version", "registry/2.0")
        if sub == "":
            return Resp(200, [("Content-Type", "application/json"), v2h], b"{}")
        if sub == "_catalog":
            return self.catalog(r, q, v2h, readable)
        for marker in ("/tags/list", "/manifests/", "/blobs/"):
            name, found, ref = sub.rpartition(marker)
            if found and name and (marker != "/tags/list" or ref == ""):
                img = self.store.image_view(r, name, readable)
                if img is None:
                    return docker_error(404, "NAME_UNKNOWN", "repository name not known to registry")
                if marker == "/tags/list":
                    return self.tags(r, img, q, headers, v2h)
                if marker == "/manifests/":
                    return self.manifest(img, ref, v2h)
                return self.blob(img, ref, v2h, method)
        return docker_error(404, "NOT_FOUND", "Not found")

    def link(self, r, tail, last, n):
        """Relative next link.  Version 6 drops the repository part (RTFACT-18971)."""
        prefix = "" if self.version == 6 else "/artifactory/api/docker/%s" % r.key
        return ("Link", '<%s/v2/%s?last=%s&n=%d>; rel="next"' % (prefix, tail, quote(str(last), safe=""), n))

    @staticmethod
    def page_n(q, default):
        raw = q.get("n")
        if raw is None or raw == "":
            return default
        if not raw.isdigit():
            raise ValueError("n")
        return int(raw)

    def catalog(self, r, q, v2h, readable):
        try:
            n = self.page_n(q, CATALOG_DEFAULT_N)
        except ValueError:
            return docker_error(400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested")
        names = self.store.images_of(r, readable)
        last = q.get("last")
        if last:
            names = [x for x in names if x > last]
        page = names[:n]
        h = [("Content-Type", "application/json"), v2h]
        if len(names) > n and n > 0:
            h.append(self.link(r, "_catalog", page[-1], n))
        return Resp(200, h, json.dumps({"repositories": page}).encode())

    def tags(self, r, img, q, headers, v2h):
        if self.version == 6 and not accepts_json(headers.get("accept", "")):
            return docker_error(406, "UNSUPPORTED", "Not Acceptable")
        names = img.tag_names()
        try:
            n = self.page_n(q, None)
        except ValueError:
            return docker_error(400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested")
        last = q.get("last", "")
        start = int(last) if last.isdigit() else (sum(1 for x in names if x <= last) if last else 0)
        rest = names[start:]
        page = rest if n is None else rest[:n]
        h = [("Content-Type", "application/json"), v2h]
        if n and len(rest) > n:
            h.append(self.link(r, img.name + "/tags/list", start + n, n))
        return Resp(200, h, json.dumps({"name": img.name, "tags": page}).encode())

    def manifest(self, img, ref, v2h):
        m = img.find(ref)
        if m is None:
            return docker_error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        return Resp(200, [("Content-Type", m.media_type), ("Docker-Content-Digest", m.digest),
                          ("ETag", '"%s"' % m.digest), v2h], m.data)

    def blob(self, img, digest, v2h, method):
        b = img.blob(digest)
        if b is None or (b.data is None and method != "HEAD"):
            # layer content is not emulated (the reference's scope never downloads layers)
            return docker_error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        h = [("Docker-Content-Digest", b.digest), v2h]
        if b.data is None:  # HEAD of a layer: its size in X-Emulator-Size, Content-Length is 0
            return Resp(200, h + [("Content-Type", "application/octet-stream"),
                                  ("X-Emulator-Size", str(b.size))], b"")
        return Resp(200, h + [("Content-Type", "application/octet-stream")], b.data)

    # ---------------- control
    def control(self, method, path, query, headers, body):
        if path == "/_emulator/stats" and method == "GET":
            return json_resp({"total": self.stats_total, "paths": self.stats_paths,
                              "status": {str(k): v for k, v in self.stats_status.items()},
                              "faults": self.faults.to_list()})
        if path == "/_emulator/faults":
            try:
                data = json.loads(body.decode("utf-8")) if body.strip() else None
                out = self.faults.control(method, data)
            except (ValueError, KeyError, TypeError, re.error) as e:
                return Resp(400, [("Content-Type", "application/json")], jbody({"error": str(e)}))
            if out is not None:
                return json_resp(out)
        if path == "/_emulator/stats/reset" and method == "POST":
            self.stats_total, self.stats_paths, self.stats_status = 0, {}, {}
            return json_resp({"ok": True})
        if path == "/_emulator/reset" and method == "POST":
            self.reset()
            return json_resp({"ok": True})
        if path == "/_emulator/inventory" and method == "GET":
            q = dict(parse_qsl(query))
            types = [t for t in q.get("repo_types", "local,remote").split(",") if t]
            host = headers.get("host") or "127.0.0.1:%d" % self.port
            field = q.get("time_field", "modified")
            if field not in TIME_FIELDS:
                return Resp(400, [("Content-Type", "application/json")],
                            jbody({"error": "time_field: one of %s" % ", ".join(TIME_FIELDS)}))
            return json_resp(inventory(self.store, types, host, field))
        return Resp(404, [("Content-Type", "application/json")],
                    jbody({"error": "unknown control endpoint %s %s" % (method, path)}))


def inventory(store, types, host, time_field):
    """The rows a correct client must produce (see the module docstring)."""
    rows = []
    for r in store.repos.values():
        if r.rclass not in types or r.package_type.lower() != "docker":
            continue
        for name in store.images_of(r):
            img = store.image_view(r, name)
            for f in img.folders.values():
                if not f.is_tag or is_digest_tag(f.name):
                    continue
                m = f.manifest
                rows.append({"namespace": r.key, "repository": "%s/%s" % (r.key, name), "tag": f.name,
                             "digest": m.digest, "size": m.size, "update_time": getattr(f, time_field),
                             "media_type": m.media_type, "multi_arch": m.multi_arch, "host": host})
    rows.sort(key=lambda x: (x["repository"], x["tag"]))
    return rows


# --------------------------------------------------------------------------
# main


def main(argv=None):
    ap = arg_parser("jfrog_emulator.py", __doc__)
    ap.add_argument("--version", type=int, choices=(6, 7), default=7)
    ap.add_argument("--docker-token-auth", action="store_true",
                    help="the Docker API takes docker tokens only (Bearer challenge otherwise)")
    a, dataset = parse_args(ap, argv)
    try:
        app = App(dataset, a.generate, a.version, load_json_arg(a.faults))
    except (ValueError, KeyError, TypeError, re.error) as e:
        ap.error("bad dataset, --generate or --faults: %s" % (e,))
    app.docker_token_auth = a.docker_token_auth
    if a.log:
        log_requests(app)
    return serve(lambda: HttpProtocol(app, "jfrog_emulator", internal_error), app,
                 a.port, a.port_file, a.max_seconds)


if __name__ == "__main__":
    sys.exit(main())
