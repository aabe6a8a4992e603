#!/usr/bin/env python3
"""Huawei Cloud SWR (basic edition, API v2) + IAM emulator for libimgsync's tests.

Spec: /work/shared/reference/swr-jfrog-oci-api.md ("the reference"); section
numbers below (§1.1, §3.2 ...) point into it.  Python 3 standard library only.

Usage:
  swr_emulator.py [--dataset FILE] [--generate SPEC] [--port 0] [--port-file F]
                  [--faults JSON|@FILE] [--max-seconds 600] [--token-ttl 86400]
                  [--throttle ACCOUNT=RATE[/BURST]]... [--content-range count|end]
                  [--expired-share-tags allow|deny] [--dump-inventory FILE] [--log]

  Binds 127.0.0.1 (port 0 = a free port), prints the port alone on stdout
  (flushed), writes it to --port-file (atomically) when given, then serves
  until SIGTERM/SIGINT or --max-seconds (default 600), so it never lingers.
  One port serves both IAM (/v3/...) and SWR (/v2/manage/...): point the
  client's `endpoint` and `iam_endpoint` at the same http://127.0.0.1:PORT.

  --generate "repos=N[,tags=T][,big_tags=B][,namespaces=K][,account=gen]"
      adds an account (default "gen", created when missing) whose K
      namespaces (gen-ns1 ...; default 3) hold N repositories in total at
      depths 1..3 (r0001, team1/r0002, org2/team2/r0003, ...) with T tags
      each (default 2; every 10th tag is a manifest list, tag_type 1), except
      the first repository, "gen-ns1/big/many-tags", which has B tags
      (default 150).  A created account has AK GENAK0000000000000001 / SK
      gen-secret-key, IAM user gen-ops / gen-pass in domain "gen".

  --token-ttl S        lifetime of IAM tokens in seconds (float; default 86400)
  --throttle A=R[/B]   per-account token bucket: R requests/s, burst B (default
                       R); over it -> 429 APIGW.0308 with Retry-After
  --content-range      "count" (default, the reference's "{offset}-{count}/{total}")
                       or "end" ("{offset}-{offset+count-1}/{total}")
  --expired-share-tags "allow" (default): tags of an expired share stay readable
                       through the owner's namespace; "deny": 403 SVCSTG.SWR.4030170

Dataset (JSON object):
  region ("cn-north-4"), registry_host ("swr.{region}.myhuaweicloud.com"),
  accounts: [{domain_name, domain_id, project_id (32 hex), swr (bool, default
              true: false = valid credentials without SWR permission),
              users: [{name, password, id}],
              access_keys: [{ak, sk, security_token (temporary AK/SK only)}],
              namespaces: [{name, repos: [{name ("a/b/c"), category, description,
                  is_public, num_download, created_at, updated_at,
                  tags: [{tag, digest, image_id, size, created, updated,
                          tag_type (0|1), manifest (string), schema}]}]}]}]
  shares:   [{owner (domain_name), namespace, repository, shared_with
              (domain_name), deadline ("forever" | RFC 3339), permit ("read")}]
  Times are RFC 3339 strings and are served exactly as written (with or
  without fractional seconds); missing ones are derived.  A missing digest
  is the sha256 of the tag's manifest string.

IAM (§3.1):   POST /v3/auth/tokens (password method, scope project name/id or
              domain) -> 201 + X-Subject-Token; GET /v3/projects?name=REGION
              (token or AK/SK).  Errors: {"error_code":"IAM.xxxx","error_msg":..,
              "error":{"code","title","message"}} (both shapes; assumption).
SWR (§1.1):   GET /v2/manage/repos, /v2/manage/shared-repositories (center
              required), /v2/manage/namespaces, /v2/manage/namespaces/{ns}/repos/
              {repo} and .../tags ("/" in {repo} written "$" or "%2F").
              Bodies are bare JSON arrays; Content-Range only with offset+limit.
Auth:         X-Auth-Token (IAM token) or Authorization: SDK-HMAC-SHA256 (§3.2,
              verified here; X-Sdk-Date within 15 minutes; X-Security-Token for
              temporary AKs; X-Project-Id, when sent, must be the account's project).

Errors:       {"error_code", "error_msg", "request_id"}: 400 SVCSTG.SWR.4000014
              (paging rules, missing center, bad filter), 401 APIGW.0301 (AK/SK:
              bad signature, unknown AK, X-Sdk-Date missing/stale, security token,
              project id), 401 SVCSTG.SWR.4010000 (missing/unknown/expired token),
              403 SVCSTG.SWR.4030170 (authenticated, no SWR permission; expired
              share with --expired-share-tags deny), 404 SVCSTG.SWR.4040010
              (unknown or invisible repository), 429 APIGW.0308 (throttle).
Order:        repositories by namespace then name; tags newest "updated" first
              (then tag name); order_column/order_type re-sort (assumption).

Sample dataset (swr_dataset.json), region cn-north-4:
  acme      AK/SK ACMEAKEXAMPLE0000001 / acme-sk-0001-AbCdEfGhIjKlMnOpQrStUv,
            temporary AK ACMETMPAK00000000001 / acme-tmp-sk-0001-ZyXwVuTsRq with
            X-Security-Token acme-security-token-gQpJbi1ub3J0aC00, also user
            acme-admin / Acme#Admin-Pass1; project 0a1b2c3d4e5f60718293a4b5c6d7e8f9;
            private acme/{nginx, team/app, a/b/c, empty}, acme-dev/{tools/builder, db};
            shared with it: globex-pub/base/ubuntu (effective), globex-pub/tools
            (expired), umbrella-lab/vaccine/t-virus (effective, deadline 2099)
  initech   user initech-ops / Initech#Ops-Pass2 (password only); private
            initech/{payroll/api, printer}; shared with it: globex-pub/base/ubuntu
            (effective), acme/nginx (expired)
  globex    user globex-ops / Globex#Ops-Pass3, AK GLOBEXAK000000000001 /
            globex-sk-0001-QwErTyUiOp (owner of shares)
  umbrella  user umbrella-ops / Umbrella#Ops-Pass4 (owner of a share)
  hooli     no SWR permission: user hooli-ops / Hooli#Ops-Pass5, AK
            HOOLIAK0000000000001 / hooli-sk-0001-AsDfGhJkL (IAM tokens are
            issued, every SWR call answers 403)

Control endpoints (outside SWR's namespace, never faulted, throttled or counted):
  GET    /_emulator/stats        {"total", "paths", "status", "auth": {token, aksk},
                                  "iam_tokens": n, "throttled": n, "leaks": [...],
                                  "faults": [...]}
  POST   /_emulator/stats/reset
  GET|POST|DELETE /_emulator/faults   (emulator_faults.py, same shape as harbor_emulator.py)
  GET    /_emulator/config       POST {token_ttl, throttle: {acct: {rate, burst}},
                                       content_range, expired_share_tags}
  POST   /_emulator/tokens/expire  every token issued so far expires now
  POST   /_emulator/reset        reload the dataset, clear faults, stats, tokens, config
  GET    /_emulator/inventory?account=A[&kind=private|shared]
                                 every tag row the account can list: [{kind, owner,
                                 namespace, repository, tag, digest, size, updated,
                                 updated_ms, tag_type, share_status}] sorted

Fault rule: {"type": "500"|"502"|"503"|"504"|"429"|"slow"|"reset"|"expire_tokens"|"tamper",
             "pattern": regex searched in the raw request target (path?query),
             "method": "GET" (optional), "after": S (let S matches pass first),
             "count": N (default 1, or -1 = forever when "rate" is given),
             "rate": F (fire on a fraction F of the matches, seeded RNG "seed"),
             "delay_ms": ms (slow), "retry_after": "1" (429)}
  500        -> SWR envelope SVCSTG.SWR.5000003
  502/503/504 -> gateway HTML page
  429        -> APIGW.0308 envelope + Retry-After
  slow       -> answer late (adds up with other matching slow rules)
  reset      -> close the connection without answering
  expire_tokens -> every IAM token issued so far expires just before the
               matching request is handled (token expiry mid-sync: that
               request and later ones with an old token get 401)
  tamper     -> a meddling proxy: the matching request reaches SWR with
               "tampered=1" added to its query after the client signed it
               (an AK/SK request then fails its signature check: 401 APIGW.0301)
"""

import datetime
import hashlib
import hmac
import json
import re
import sys
import time
import uuid
import zlib
from urllib.parse import unquote_to_bytes

from emulator_faults import Faults, Throttles, parse_throttle
from emulator_http import REASONS, HttpProtocol, Resp, arg_parser, load_json_arg, log_requests, parse_args, serve

# --------------------------------------------------------------------------
# time helpers

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_GEN_BASE = 1704067200  # 2024-01-01T00:00:00Z
_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")


def parse_rfc3339_ms(s):
    """RFC 3339 with or without fractional seconds (any precision) -> epoch ms."""
    m = _RFC3339.match(s or "")
    if not m:
        raise ValueError("bad RFC 3339 time %r" % (s,))
    y, mo, d, hh, mi, ss = (int(x) for x in m.groups()[:6])
    frac = m.group(7) or ""
    ms = int((frac[1:] + "000")[:3]) if frac else 0
    tz = m.group(8)
    off = 0
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        off = sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    dt = datetime.datetime(y, mo, d, hh, mi, ss, tzinfo=datetime.timezone.utc)
    return (int((dt - _EPOCH).total_seconds()) - off) * 1000 + ms


def fmt_rfc3339(sec, nanos=None):
    """UTC RFC 3339; with nanos: 9 fractional digits like SWR's updated_at."""
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    return s + (".%09dZ" % nanos if nanos is not None else "Z")


def fmt_iam(ts):
    """IAM's expires_at / issued_at: microseconds, 'Z'."""
    dt = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def jdump(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------
# SDK-HMAC-SHA256 (§3.2), written from the reference

SIGN_ALGORITHM = "SDK-HMAC-SHA256"
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def sdk_escape(s):
    """Percent-encode everything but A-Z a-z 0-9 - _ . ~ (uppercase hex; space -> %20)."""
    b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
    return "".join(chr(c) if c in _UNRESERVED else "%%%02X" % c for c in b)


def canonical_uri(path):
    """§3.2 step 3: each segment of the (decoded) path escaped, trailing '/'."""
    return canonical_uri_segments(path.split("/"))


def canonical_uri_segments(segs):
    uri = "/".join(sdk_escape(seg) for seg in segs)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(pairs):
    """§3.2 step 4: keys sorted, the values of a key sorted, esc(k)=esc(v) joined by '&'."""
    d = {}
    for k, v in pairs:
        d.setdefault(k, []).append(v)
    out = []
    for k in sorted(d):
        ek = sdk_escape(k)
        for v in sorted(d[k]):
            out.append(ek + "=" + sdk_escape(v))
    return "&".join(out)


def default_signed_headers(header_names):
    """§3.2 step 2: every header sent, lower-cased, sorted, minus content-type* and names with '_'."""
    return sorted({h.lower() for h in header_names
                   if not h.lower().startswith("content-type") and "_" not in h})


def canonical_request(method, path, query_pairs, headers, signed, body, body_hash=None, uri_done=False):
    """§3.2 step 6.  headers: {lower-case name: value}; signed: [lower-case names];
    path: the decoded URL path (uri_done: already the canonical URI)."""
    ch = "".join("%s:%s\n" % (h, headers.get(h, "").strip()) for h in signed)
    if body_hash is None:
        body_hash = hashlib.sha256(body or b"").hexdigest()
    return "\n".join([method.upper(), path if uri_done else canonical_uri(path), canonical_query(query_pairs),
                      ch, ";".join(signed), body_hash])


def string_to_sign(sdk_date, creq):
    return "%s\n%s\n%s" % (SIGN_ALGORITHM, sdk_date, hashlib.sha256(creq.encode("utf-8")).hexdigest())


def signature(sk, sts):
    return hmac.new(sk.encode("utf-8"), sts.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_request(ak, sk, method, path, query_pairs, headers, body=b"", signed=None):
    """Client side (used by the self-test and handy for manual curl tests):
    returns the Authorization header value.  headers: {name: value}, must
    include X-Sdk-Date."""
    low = {k.lower(): v for k, v in headers.items()}
    if signed is None:
        signed = default_signed_headers(headers.keys())
    bh = "UNSIGNED-PAYLOAD" if low.get("x-sdk-content-sha256") == "UNSIGNED-PAYLOAD" else None
    creq = canonical_request(method, path, query_pairs, low, signed, body, bh)
    sig = signature(sk, string_to_sign(low["x-sdk-date"], creq))
    return "%s Access=%s, SignedHeaders=%s, Signature=%s" % (SIGN_ALGORITHM, ak, ";".join(signed), sig)


_AUTH_RE = re.compile(r"SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*\Z")


def parse_authorization(value):
    """-> (ak, [signed headers], signature) or None."""
    m = _AUTH_RE.match(value.strip())
    if not m:
        return None
    return m.group(1), m.group(2).split(";"), m.group(3).lower()


def pct_decode(s, plus=False):
    """Percent-decoding (Go's QueryUnescape with plus=True); None on a bad escape."""
    if plus:
        s = s.replace("+", " ")
    if "%" not in s:
        return s
    if re.search(r"%(?![0-9A-Fa-f]{2})", s):
        return None
    return unquote_to_bytes(s).decode("utf-8", "surrogateescape")


def parse_query(raw):
    """Go url.ParseQuery: [(key, value)], pairs with bad escapes dropped."""
    out = []
    for part in (raw or "").split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        k = pct_decode(k, True)
        v = pct_decode(v, True)
        if k is None or v is None:
            continue
        out.append((k, v))
    return out


# --------------------------------------------------------------------------
# errors

class ApiError(Exception):
    def __init__(self, status, code, msg, extra=None, keystone=False):
        Exception.__init__(self, msg)
        self.status = status
        self.code = code
        self.msg = msg
        self.extra = extra or []
        self.keystone = keystone


def swr_bad(msg):
    return ApiError(400, "SVCSTG.SWR.4000014", "Invalid parameter: " + msg)


def swr_not_found(msg="The image does not exist."):
    return ApiError(404, "SVCSTG.SWR.4040010", msg)


def swr_forbidden():
    return ApiError(403, "SVCSTG.SWR.4030170", "Insufficient permissions")


def swr_token_error(msg):
    return ApiError(401, "SVCSTG.SWR.4010000", "Authentication failed: " + msg)


def apig_auth_error(msg):
    return ApiError(401, "APIGW.0301", "Incorrect IAM authentication information: " + msg)


KEYSTONE_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


def iam_error(status, code, msg):
    """IAM errors carry Huawei's error_code/error_msg and, for Keystone-style
    clients, the OpenStack {"error": {code, title, message}} object too (the
    reference is silent on IAM's error body)."""
    return ApiError(status, code, msg, keystone=True)


# --------------------------------------------------------------------------
# the data

class Tag:
    __slots__ = ("id", "name", "digest", "image_id", "size", "created", "updated",
                 "updated_ms", "tag_type", "manifest", "schema")


class Repo:
    __slots__ = ("id", "ns", "name", "category", "description", "is_public", "num_download",
                 "created_at", "updated_at", "tags", "owner", "ns_id")


class Account:
    def __init__(self, d, idx):
        self.domain_name = d["domain_name"]
        self.domain_id = d.get("domain_id") or hashlib.md5(("d:" + self.domain_name).encode()).hexdigest()
        self.project_id = d.get("project_id") or hashlib.md5(("p:" + self.domain_name).encode()).hexdigest()
        self.swr = bool(d.get("swr", True))
        self.users = {}
        for u in d.get("users", []):
            self.users[u["name"]] = {"name": u["name"], "password": u["password"],
                                     "id": u.get("id") or hashlib.md5(("u:" + u["name"]).encode()).hexdigest()}
        self.keys = {}
        for k in d.get("access_keys", []):
            self.keys[k["ak"]] = {"ak": k["ak"], "sk": k["sk"], "security_token": k.get("security_token")}
        self.namespaces = {}  # name -> {repo name -> Repo}
        self.idx = idx


def _manifest(digest_seed, size, tag_type):
    if tag_type == 1:
        return jdump({"schemaVersion": 2,
                      "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
                      "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                     "size": 528, "digest": "sha256:" + hashlib.sha256((digest_seed + a).encode()).hexdigest(),
                                     "platform": {"architecture": a, "os": "linux"}} for a in ("amd64", "arm64")]})
    cfg = "sha256:" + hashlib.sha256(("cfg:" + digest_seed).encode()).hexdigest()
    return jdump({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                  "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1500, "digest": cfg},
                  "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": size,
                              "digest": "sha256:" + hashlib.sha256(("layer:" + digest_seed).encode()).hexdigest()}]})


class GenSpec:
    def __init__(self, spec):
        self.repos = 0
        self.tags = 2
        self.big_tags = 150
        self.namespaces = 3
        self.account = "gen"
        for part in (spec or "").split(","):
            part = part.strip()
            if not part:
                continue
            k, _, v = part.partition("=")
            k = k.strip()
            if k in ("repos", "tags", "big_tags", "namespaces"):
                setattr(self, k, int(v))
            elif k == "account":
                self.account = v.strip()
            else:
                raise ValueError("unknown --generate key %r" % k)
        if self.namespaces < 1 or self.repos < 0 or self.tags < 0 or self.big_tags < 0:
            raise ValueError("bad --generate values")


class Store:
    def __init__(self, data, gen=None):
        self.region = data.get("region", "cn-north-4")
        self.registry_host = data.get("registry_host") or "swr.%s.myhuaweicloud.com" % self.region
        self.accounts = {}
        self.by_ak = {}
        self.repo_seq = 0
        self.tag_seq = 0
        for i, ad in enumerate(data.get("accounts", [])):
            self._add_account(ad, i)
        if gen is not None and gen.repos > 0:
            self._generate(gen)
        self.shares = []
        for sd in data.get("shares", []):
            owner = self.accounts.get(sd["owner"])
            to = self.accounts.get(sd["shared_with"])
            if owner is None or to is None:
                raise ValueError("share names an unknown account: %r" % (sd,))
            repo = owner.namespaces.get(sd["namespace"], {}).get(sd["repository"])
            if repo is None:
                raise ValueError("share names an unknown repository: %r" % (sd,))
            dl = sd.get("deadline", "forever")
            dl_ms = None if dl in (None, "", "forever") else parse_rfc3339_ms(dl)
            self.shares.append({"repo": repo, "owner": owner, "to": to, "deadline": dl,
                                "deadline_ms": dl_ms, "permit": sd.get("permit", "read")})
        self.ns_owner = {}
        for a in self.accounts.values():
            for ns in a.namespaces:
                if ns in self.ns_owner:
                    raise ValueError("namespace %r belongs to two accounts" % ns)
                self.ns_owner[ns] = a

    def _add_account(self, ad, idx):
        a = Account(ad, idx)
        if a.domain_name in self.accounts:
            raise ValueError("duplicate account %r" % a.domain_name)
        self.accounts[a.domain_name] = a
        for ak in a.keys:
            if ak in self.by_ak:
                raise ValueError("duplicate AK %r" % ak)
            self.by_ak[ak] = a
        for nd in ad.get("namespaces", []):
            repos = a.namespaces.setdefault(nd["name"], {})
            for rd in nd.get("repos", []):
                self._add_repo(a, nd["name"], rd, repos)
        return a

    def _add_repo(self, a, ns, rd, repos):
        r = Repo()
        self.repo_seq += 1
        r.id = self.repo_seq
        r.ns = ns
        r.owner = a
        r.name = rd["name"]
        if r.name in repos:
            raise ValueError("duplicate repository %s/%s" % (ns, r.name))
        r.category = rd.get("category", "other")
        r.description = rd.get("description", "")
        r.is_public = bool(rd.get("is_public", False))
        r.num_download = int(rd.get("num_download", 0))
        r.tags = []
        for td in rd.get("tags", []):
            r.tags.append(self._make_tag(r, td))
        for t in r.tags:
            parse_rfc3339_ms(t.created)
        newest = max(r.tags, key=lambda t: t.updated_ms, default=None)
        r.created_at = rd.get("created_at") or (min(r.tags, key=lambda t: parse_rfc3339_ms(t.created)).created
                                                if r.tags else fmt_rfc3339(_GEN_BASE))
        r.updated_at = rd.get("updated_at") or (newest.updated if newest else r.created_at)
        parse_rfc3339_ms(r.created_at)
        parse_rfc3339_ms(r.updated_at)
        # default order of the tag list: newest update first, then tag name (assumption)
        r.tags.sort(key=lambda t: (-t.updated_ms, t.name))
        repos[r.name] = r
        return r

    def _make_tag(self, r, td):
        t = Tag()
        self.tag_seq += 1
        t.id = self.tag_seq
        t.name = td["tag"]
        t.size = int(td.get("size", 1000))
        t.tag_type = int(td.get("tag_type", 0))
        t.schema = int(td.get("schema", 2))
        t.manifest = td.get("manifest") or _manifest("%s/%s:%s" % (r.ns, r.name, t.name), t.size, t.tag_type)
        t.digest = td.get("digest") or "sha256:" + hashlib.sha256(t.manifest.encode()).hexdigest()
        t.image_id = td.get("image_id") or hashlib.sha256(("img:" + t.digest).encode()).hexdigest()
        t.created = td.get("created") or td.get("updated") or fmt_rfc3339(_GEN_BASE)
        t.updated = td.get("updated") or t.created
        t.updated_ms = parse_rfc3339_ms(t.updated)
        return t

    def _generate(self, g):
        a = self.accounts.get(g.account)
        if a is None:
            a = self._add_account({"domain_name": g.account,
                                   "users": [{"name": g.account + "-ops", "password": g.account + "-pass"}],
                                   "access_keys": [{"ak": "GENAK0000000000000001" if g.account == "gen"
                                                    else (g.account.upper() + "GENAK")[:20],
                                                    "sk": g.account + "-secret-key"}]},
                                  len(self.accounts))
        nss = ["%s-ns%d" % (g.account, k + 1) for k in range(g.namespaces)]
        for ns in nss:
            a.namespaces.setdefault(ns, {})
        for i in range(g.repos):
            ns = nss[i % len(nss)]
            n = i + 1
            depth = i % 3
            if i == 0:
                name = "big/many-tags"
            elif depth == 0:
                name = "r%04d" % n
            elif depth == 1:
                name = "team%d/r%04d" % (n % 7, n)
            else:
                name = "org%d/team%d/r%04d" % (n % 5, n % 7, n)
            ntags = g.big_tags if i == 0 else g.tags
            base = _GEN_BASE + i * 600
            tags = []
            for k in range(ntags):
                sec = base + k * 7
                tags.append({"tag": "v%d.%d" % (k // 10, k % 10) if ntags > 1 else "latest",
                             "size": 1000 + (i * 131 + k * 17) % 100000,
                             "tag_type": 1 if k % 10 == 9 else 0,
                             "created": fmt_rfc3339(sec),
                             # fractional seconds on every other tag: both forms occur
                             "updated": fmt_rfc3339(sec + 3, (i * 7919 + k) % 1000000000 if k % 2 else None)})
            rd = {"name": name, "category": "other", "tags": tags,
                  "created_at": fmt_rfc3339(base),
                  "updated_at": fmt_rfc3339(base + 5, (i * 104729) % 1000000000) if i % 2 else None}
            self._add_repo(a, ns, rd, a.namespaces[ns])

    # ---- queries
    def share_expired(self, s, now_ms):
        return s["deadline_ms"] is not None and s["deadline_ms"] <= now_ms

    def private_repos(self, a):
        out = []
        for ns in sorted(a.namespaces):
            repos = a.namespaces[ns]
            for name in sorted(repos):
                out.append(repos[name])
        return out

    def shares_to(self, a):
        return sorted((s for s in self.shares if s["to"] is a),
                      key=lambda s: (s["repo"].ns, s["repo"].name))

    def shares_by(self, a):
        return sorted((s for s in self.shares if s["owner"] is a),
                      key=lambda s: (s["repo"].ns, s["repo"].name, s["to"].domain_name))

    def find_repo(self, ns, name):
        a = self.ns_owner.get(ns)
        if a is None:
            return None
        return a.namespaces[ns].get(name)

    def repo_json(self, r, total, status=False, domain_name=None):
        return {"name": r.name, "category": r.category, "description": r.description,
                "size": sum(t.size for t in r.tags), "is_public": r.is_public,
                "num_images": len(r.tags), "num_download": r.num_download,
                "created_at": r.created_at, "updated_at": r.updated_at,
                "logo": "", "url": "",
                "path": "%s/%s/%s" % (self.registry_host, r.ns, r.name),
                "internal_path": "10.125.0.198:20202/%s/%s" % (r.ns, r.name),
                "domain_name": domain_name or r.owner.domain_name, "namespace": r.ns,
                "tags": [t.name for t in r.tags], "status": status, "total_range": total}

    def tag_json(self, r, t):
        return {"id": t.id, "repo_id": r.id, "Tag": t.name, "image_id": t.image_id,
                "manifest": t.manifest, "digest": t.digest, "schema": t.schema,
                "path": "%s/%s/%s:%s" % (self.registry_host, r.ns, r.name, t.name),
                "internal_path": "10.125.0.198:20202/%s/%s:%s" % (r.ns, r.name, t.name),
                "size": t.size, "is_trusted": False, "created": t.created, "updated": t.updated,
                "deleted": None, "domain_id": r.owner.domain_id, "scanned": False,
                "tag_type": t.tag_type}

    def show_repo_json(self, r):
        """ShowRepository: a single object with the SDK's ShowRepositoryResponse
        fields (id, ns_id, ..., created, updated; not the list's created_at)."""
        return {"id": r.id, "ns_id": zlib.crc32(r.ns.encode()) % 100000, "name": r.name,
                "category": r.category, "description": r.description,
                "creator_id": r.owner.domain_id, "creator_name": r.owner.domain_name,
                "size": sum(t.size for t in r.tags), "is_public": r.is_public,
                "num_images": len(r.tags), "num_download": r.num_download, "url": "",
                "path": "%s/%s/%s" % (self.registry_host, r.ns, r.name),
                "internal_path": "10.125.0.198:20202/%s/%s" % (r.ns, r.name),
                "created": r.created_at, "updated": r.updated_at}


# --------------------------------------------------------------------------
# HTTP plumbing

def gateway_page(status):
    t = "%d %s" % (status, REASONS.get(status, "Error"))
    return ("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n"
            "<hr><center>api-gateway</center>\r\n</body>\r\n</html>\r\n" % (t, t)).encode()


JSON_CT = ("Content-Type", "application/json;charset=utf-8")


def json_resp(obj, status=200, extra=None):
    h = [JSON_CT]
    if extra:
        h.extend(extra)
    return Resp(status, h, jdump(obj).encode("utf-8", "surrogateescape"))


def internal_error():
    return error_resp(ApiError(500, "SVCSTG.SWR.5000007", "Internal server error"))


def error_resp(e, request_id=None, authz_always=False):
    """authz_always: encoded_authorization_message on every SWR error, not only on a 403
    (SWR EE's envelope, reference §2)."""
    body = {"error_code": e.code, "error_msg": e.msg,
            "request_id": request_id or uuid.uuid4().hex}
    if (e.status == 403 or authz_always) and e.code.startswith("SVCSTG.SWR."):
        body["encoded_authorization_message"] = ""
    if e.keystone:
        body["error"] = {"code": e.status, "title": KEYSTONE_TITLES.get(e.status, "Error"), "message": e.msg}
    return Resp(e.status, [JSON_CT] + list(e.extra), jdump(body).encode("utf-8"))


# --------------------------------------------------------------------------
# faults

FAULT_TYPES = ("500", "502", "503", "504", "429")  # plus slow, reset, expire_tokens, tamper


def throttle_resp(limit, retry_after="1"):
    e = ApiError(429, "APIGW.0308",
                 "The throttling threshold has been reached: policy user over ratelimit,limit:%s,time:1 second" % limit,
                 [("Retry-After", str(retry_after))])
    return error_resp(e)


# --------------------------------------------------------------------------
# paging (§1.1 param rules)

MAX_LIMIT = 1000
_DIGITS = re.compile(r"[0-9]+\Z")


def effective_params(raw_query, filter_keys):
    """Plain query params, or those of `filter=k::v|k::v` (filter wins, §1.1)."""
    pairs = parse_query(raw_query)
    first = {}
    for k, v in pairs:
        first.setdefault(k, v)
    if "filter" in first:
        out = {}
        for part in first["filter"].split("|"):
            if not part:
                continue
            k, sep, v = part.partition("::")
            if not sep or k not in filter_keys:
                raise swr_bad("filter %r" % part)
            out[k] = v
        return out, pairs
    return first, pairs


def paging(params, max_limit=MAX_LIMIT):
    """-> None (all rows) or (offset, limit); ApiError(400) on a rule violation.
    max_limit: 1000 for SWR (§1.1), 100 for SWR EE (§2)."""
    lim, off = params.get("limit"), params.get("offset")
    if lim is None and off is None:
        return None
    if lim is None or off is None:
        raise swr_bad("offset and limit must be used together")
    if not _DIGITS.match(lim) or not _DIGITS.match(off):
        raise swr_bad("offset and limit must be non-negative integers")
    lim, off = int(lim), int(off)
    if lim < 1 or lim > max_limit:
        raise swr_bad("limit must be between 1 and %d" % max_limit)
    if off % lim != 0:
        raise swr_bad("offset must be 0 or a multiple of limit")
    return off, lim


# --------------------------------------------------------------------------
# the application

class Principal:
    __slots__ = ("account", "kind", "user")

    def __init__(self, account, kind, user=None):
        self.account = account
        self.kind = kind
        self.user = user


SKEW_MS = 15 * 60 * 1000


class App:
    def __init__(self, dataset, gen_spec, faults, token_ttl, throttle, content_range, expired_share_tags):
        self.dataset = dataset
        self.gen_spec = gen_spec
        self.init = {"faults": faults, "token_ttl": token_ttl, "throttle": dict(throttle or {}),
                     "content_range": content_range, "expired_share_tags": expired_share_tags}
        self.port = 0
        self.reset()

    def reset(self):
        self.store = self.load_store()
        self.faults = Faults(FAULT_TYPES, self.fault_response,
                             {"expire_tokens": self.expire_tokens, "tamper": self.tamper})
        self.tampering = False
        self.tokens = {}
        self.token_ttl = float(self.init["token_ttl"])
        self.throttles = Throttles(self.init["throttle"])
        self.content_range = self.init["content_range"]
        self.expired_share_tags = self.init["expired_share_tags"]
        self.reset_stats()
        self.faults.add(self.init["faults"])
        self._secrets = []
        for a in self.store.accounts.values():
            for u in a.users.values():
                self._secrets.append(("password of " + u["name"], u["password"]))
            for k in a.keys.values():
                self._secrets.append(("SK of " + k["ak"], k["sk"]))

    def load_store(self):
        """The data (re)loaded by reset; swr_ee_emulator.py loads its own around the accounts."""
        return Store(self.dataset, GenSpec(self.gen_spec) if self.gen_spec else None)

    def reset_stats(self):
        self.stats_total = 0
        self.stats_paths = {}
        self.stats_status = {}
        self.stats_auth = {"token": 0, "aksk": 0}
        self.stats_iam_tokens = 0
        self.stats_throttled = 0
        self.leaks = []

    # ---------------- entry point
    def handle(self, method, target, headers, body):
        path, _, query = target.partition("?")
        if path == "/_emulator" or path.startswith("/_emulator/"):
            return self.control(method, path, query, body)
        self.stats_total += 1
        self.stats_paths[path] = self.stats_paths.get(path, 0) + 1
        self.check_leaks(method, target, headers, body)
        return self.faults.run(method, target, lambda: self.api(method, path, self.tampered(query), headers, body),
                               self.count_status)

    def count_status(self, status):
        self.stats_status[status] = self.stats_status.get(status, 0) + 1

    def tamper(self):
        self.tampering = True

    def tampered(self, query):
        """The query as a tamper rule left it (the rule fired for this request just before)."""
        if not self.tampering:
            return query
        self.tampering = False
        return query + ("&" if query else "") + "tampered=1"

    def expire_tokens(self):
        now = time.time()
        for t in self.tokens.values():
            t["expires"] = min(t["expires"], now)
        return len(self.tokens)

    def check_leaks(self, method, target, headers, body):
        """Secrets may appear only where they belong: a password in the body of
        POST /v3/auth/tokens; an SK nowhere."""
        iam_login = method == "POST" and target.partition("?")[0] == "/v3/auth/tokens"
        hv = " ".join(headers.values())
        b = body.decode("utf-8", "replace")
        for what, secret in self._secrets:
            if not secret:
                continue
            where = []
            if secret in target:
                where.append("target")
            if secret in hv:
                where.append("headers")
            if secret in b and not (iam_login and what.startswith("password")):
                where.append("body")
            if where:
                self.leaks.append({"secret": what, "where": where, "request": "%s %s" % (method, target)})

    def fault_response(self, rule):
        t = rule.type
        if t == "500":
            return self.error(ApiError(500, "SVCSTG.SWR.5000003", "Internal server error: Failed to obtain the image list."))
        if t == "429":
            return throttle_resp("fault", rule.retry_after)
        if t in ("502", "503", "504"):
            return Resp(int(t), [("Content-Type", "text/html")], gateway_page(int(t)))
        raise ValueError(t)

    # ---------------- control
    def control(self, method, path, query, body):
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else None
        except ValueError as e:
            return json_resp({"error": "bad JSON: %s" % e}, 400)
        try:
            if path == "/_emulator/stats" and method == "GET":
                return json_resp({"total": self.stats_total, "paths": self.stats_paths,
                                  "status": {str(k): v for k, v in self.stats_status.items()},
                                  "auth": self.stats_auth, "iam_tokens": self.stats_iam_tokens,
                                  "throttled": self.stats_throttled, "leaks": self.leaks,
                                  "faults": self.faults.to_list()})
            if path == "/_emulator/stats/reset" and method == "POST":
                self.reset_stats()
                return json_resp({"ok": True})
            if path == "/_emulator/faults":
                out = self.faults.control(method, data)
                if out is not None:
                    return json_resp(out)
            if path == "/_emulator/config":
                if method == "POST" and isinstance(data, dict):
                    if "token_ttl" in data:
                        self.token_ttl = float(data["token_ttl"])
                    if "throttle" in data:
                        for acct, spec in (data["throttle"] or {}).items():
                            self.throttles.set(acct, spec)
                    if "content_range" in data:
                        if data["content_range"] not in ("count", "end"):
                            raise ValueError("content_range must be count or end")
                        self.content_range = data["content_range"]
                    if "expired_share_tags" in data:
                        if data["expired_share_tags"] not in ("allow", "deny"):
                            raise ValueError("expired_share_tags must be allow or deny")
                        self.expired_share_tags = data["expired_share_tags"]
                return json_resp({"token_ttl": self.token_ttl, "throttle": self.throttles.conf,
                                  "content_range": self.content_range,
                                  "expired_share_tags": self.expired_share_tags,
                                  "region": self.store.region, "registry_host": self.store.registry_host,
                                  "port": self.port})
            if path == "/_emulator/tokens/expire" and method == "POST":
                return json_resp({"expired": self.expire_tokens()})
            if path == "/_emulator/reset" and method == "POST":
                self.reset()
                return json_resp({"ok": True})
            if path == "/_emulator/inventory" and method == "GET":
                q = dict(parse_query(query))
                a = self.store.accounts.get(q.get("account", ""))
                if a is None:
                    return json_resp({"error": "unknown account %r" % q.get("account")}, 404)
                return json_resp(self.inventory(a, q.get("kind")))
        except (ValueError, KeyError, TypeError, re.error) as e:
            return json_resp({"error": str(e)}, 400)
        return json_resp({"error": "unknown control endpoint %s %s" % (method, path)}, 404)

    def inventory(self, a, kind=None):
        out = []
        now_ms = int(time.time() * 1000)
        if not a.swr:
            return out  # the account cannot list anything (403)

        def rows(r, k, owner, status):
            for t in r.tags:
                out.append({"kind": k, "owner": owner, "namespace": r.ns, "repository": r.name,
                            "tag": t.name, "digest": t.digest, "size": t.size, "updated": t.updated,
                            "updated_ms": t.updated_ms, "tag_type": t.tag_type, "share_status": status})
        if kind in (None, "", "private"):
            for r in self.store.private_repos(a):
                rows(r, "private", a.domain_name, None)
        if kind in (None, "", "shared"):
            for s in self.store.shares_to(a):
                rows(s["repo"], "shared", s["owner"].domain_name,
                     "expired" if self.store.share_expired(s, now_ms) else "effective")
        out.sort(key=lambda x: (x["kind"], x["owner"], x["namespace"], x["repository"], x["tag"]))
        return out

    # ---------------- authentication
    def authenticate(self, method, path, query, headers, body):
        auth = headers.get("authorization")
        if auth is not None and auth.strip().startswith(SIGN_ALGORITHM):
            p = self.verify_aksk(method, path, query, headers, body, auth)
            self.stats_auth["aksk"] += 1
            return p
        tok = headers.get("x-auth-token")
        if tok:
            t = self.tokens.get(tok)
            if t is None:
                raise swr_token_error("the token is invalid")
            if time.time() >= t["expires"]:
                raise swr_token_error("the token has expired")
            self.stats_auth["token"] += 1
            return Principal(t["account"], "token", t["user"])
        if auth is not None:
            raise apig_auth_error("unsupported Authorization scheme")
        raise swr_token_error("no X-Auth-Token or signature in the request")

    def verify_aksk(self, method, path, query, headers, body, auth):
        parsed = parse_authorization(auth)
        if parsed is None:
            raise apig_auth_error("malformed Authorization header")
        ak, signed, sig = parsed
        a = self.store.by_ak.get(ak)
        if a is None:
            raise apig_auth_error("the access key %s does not exist" % ak)
        key = a.keys[ak]
        date = headers.get("x-sdk-date")
        if not date:
            raise apig_auth_error("X-Sdk-Date is missing")
        try:
            ts = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise apig_auth_error("X-Sdk-Date is not in the YYYYMMDDTHHMMSSZ format")
        if abs(time.time() - ts.timestamp()) * 1000 > SKEW_MS:
            raise apig_auth_error("signature expired: X-Sdk-Date %s is more than 15 minutes off" % date)
        # the declared list is used in its own order (the SDK sorts it; a
        # server checks what the client declares, §3.2 step 2)
        signed = [h.lower() for h in signed]
        if any(not h for h in signed):
            raise apig_auth_error("empty name in SignedHeaders")
        if "x-sdk-date" not in signed:
            raise apig_auth_error("x-sdk-date is not a signed header")
        for h in signed:
            if h not in headers:
                raise apig_auth_error("signed header %s is missing from the request" % h)
        dpath = pct_decode(path)
        if dpath is None:
            raise apig_auth_error("bad percent-escape in the path")
        pairs = parse_query(query)
        bh = "UNSIGNED-PAYLOAD" if headers.get("x-sdk-content-sha256") == "UNSIGNED-PAYLOAD" else None
        # the SDK canonicalizes its decoded URL path (split on every '/');
        # a client that escapes the raw path segment by segment keeps a "%2F"
        # inside its segment: both forms are accepted (the reference is silent)
        forms = [canonical_uri(dpath)]
        seg_form = canonical_uri_segments([pct_decode(x) for x in path.split("/")])
        if seg_form != forms[0]:
            forms.append(seg_form)
        ok = False
        for uri in forms:
            creq = canonical_request(method, uri, pairs, headers, signed, body, bh, uri_done=True)
            if hmac.compare_digest(signature(key["sk"], string_to_sign(date, creq)), sig):
                ok = True
                break
        if not ok:
            raise apig_auth_error("verify aksk signature fail")
        st = headers.get("x-security-token")
        if key["security_token"]:
            if not st:
                raise apig_auth_error("X-Security-Token is required for a temporary access key")
            if st != key["security_token"]:
                raise apig_auth_error("X-Security-Token does not match the temporary access key")
        elif st:
            raise apig_auth_error("X-Security-Token sent with a permanent access key")
        pid = headers.get("x-project-id")
        if pid is not None and pid != a.project_id:
            raise apig_auth_error("X-Project-Id %s is not a project of the access key's account" % pid)
        return Principal(a, "aksk")

    # ---------------- dispatch
    def api(self, method, path, query, headers, body):
        try:
            if path.startswith("/v3/"):
                return self.iam(method, path, query, headers, body)
            if path.startswith("/v2/"):
                return self.service(method, path, query, headers, body)
            raise ApiError(404, "APIGW.0101", "The API does not exist or has not been published in the environment")
        except ApiError as e:
            return self.error(e)

    def error(self, e):
        """The answer for an ApiError (swr_ee_emulator.py words its envelope differently)."""
        return error_resp(e)

    def service(self, method, path, query, headers, body):
        """The /v2/ API behind the IAM and auth layer (swr_ee_emulator.py serves SWR EE here)."""
        return self.swr(method, path, query, headers, body)

    # ---------------- IAM (§3.1)
    def iam(self, method, path, query, headers, body):
        if path == "/v3/auth/tokens" and method == "POST":
            return self.iam_token(query, body)
        if path == "/v3/projects" and method == "GET":
            p = self.authenticate(method, path, query, headers, body)
            name = dict(parse_query(query)).get("name")
            a = p.account
            projects = []
            if name in (None, self.store.region):
                projects.append({"id": a.project_id, "name": self.store.region, "domain_id": a.domain_id,
                                 "enabled": True, "is_domain": False, "parent_id": a.domain_id,
                                 "description": "", "links": {"self": "/v3/projects/" + a.project_id}})
            return json_resp({"projects": projects, "links": {"self": "/v3/projects", "next": None, "previous": None}})
        raise ApiError(404, "APIGW.0101", "The API does not exist or has not been published in the environment")

    def iam_token(self, query, body):
        try:
            d = json.loads(body.decode("utf-8"))
            ident = d["auth"]["identity"]
            methods = ident["methods"]
        except (ValueError, KeyError, TypeError):
            raise iam_error(400, "IAM.0007", "Request parameter auth is invalid.")
        if not isinstance(methods, list) or "password" not in methods:
            raise iam_error(400, "IAM.0007", "Request parameter methods is invalid: only the password method is emulated.")
        try:
            u = ident["password"]["user"]
            uname, pw, dom = u["name"], u["password"], u["domain"]
        except (KeyError, TypeError):
            raise iam_error(400, "IAM.0007", "Request parameter user is invalid: name, password and domain are required.")
        a = None
        if isinstance(dom, dict):
            if "name" in dom:
                a = self.store.accounts.get(dom["name"])
            elif "id" in dom:
                a = next((x for x in self.store.accounts.values() if x.domain_id == dom["id"]), None)
        user = a.users.get(uname) if a is not None else None
        if user is None or not hmac.compare_digest(user["password"].encode(), str(pw).encode()):
            raise iam_error(401, "IAM.0004", "The username or password is wrong.")
        scope = d["auth"].get("scope") or {}
        project = None
        if "project" in scope:
            sp = scope["project"] or {}
            if sp.get("name") == self.store.region or sp.get("id") == a.project_id:
                project = {"id": a.project_id, "name": self.store.region,
                           "domain": {"id": a.domain_id, "name": a.domain_name}}
            else:
                raise iam_error(400, "IAM.0007", "Request parameter project is invalid: no such project in the domain.")
        elif "domain" not in scope and scope:
            raise iam_error(400, "IAM.0007", "Request parameter scope is invalid.")
        now = time.time()
        expires = now + self.token_ttl
        tok = "MIIemu" + uuid.uuid4().hex + uuid.uuid4().hex
        self.tokens[tok] = {"account": a, "user": user["name"], "expires": expires}
        self.stats_iam_tokens += 1
        t = {"expires_at": fmt_iam(expires), "issued_at": fmt_iam(now), "methods": ["password"],
             "user": {"id": user["id"], "name": user["name"],
                      "domain": {"id": a.domain_id, "name": a.domain_name},
                      "password_expires_at": ""},
             "roles": [{"id": "0", "name": "op_fine_grained"}] + ([{"id": "1", "name": "swr_adm"}] if a.swr else [])}
        if project:
            t["project"] = project
        else:
            t["domain"] = {"id": a.domain_id, "name": a.domain_name}
        if dict(parse_query(query)).get("nocatalog") != "true":
            t["catalog"] = [{"type": "swr", "id": "swr", "name": "swr",
                             "endpoints": [{"id": "swr-1", "interface": "public", "region": self.store.region,
                                            "region_id": self.store.region,
                                            "url": "https://swr-api.%s.myhuaweicloud.com" % self.store.region}]}]
        return json_resp({"token": t}, 201, [("X-Subject-Token", tok)])

    # ---------------- SWR (§1)
    def swr(self, method, path, query, headers, body):
        segs = path.split("/")[1:]  # raw segments; '%2F' stays inside its segment
        if method != "GET" or len(segs) < 3 or segs[0] != "v2" or segs[1] != "manage":
            raise ApiError(404, "APIGW.0101", "The API does not exist or has not been published in the environment")
        route = None
        rest = segs[2:]
        if rest == ["repos"]:
            route = ("repos",)
        elif rest == ["shared-repositories"]:
            route = ("shared",)
        elif rest == ["namespaces"]:
            route = ("namespaces",)
        elif len(rest) in (4, 5) and rest[0] == "namespaces" and rest[2] == "repos" and (len(rest) == 4 or rest[4] == "tags"):
            ns = pct_decode(rest[1])
            repo = pct_decode(rest[3])
            if ns is None or repo is None or not ns or not repo:
                raise swr_bad("bad path")
            repo = repo.replace("$", "/")
            route = ("tags" if len(rest) == 5 else "repo", ns, repo)
        if route is None:
            raise ApiError(404, "APIGW.0101", "The API does not exist or has not been published in the environment")
        p = self.authenticate(method, path, query, headers, body)
        acct = p.account
        res = self.throttled(acct)
        if res is not None:
            return res
        if not acct.swr:
            raise swr_forbidden()
        if route[0] == "repos":
            return self.h_repos(acct, query)
        if route[0] == "shared":
            return self.h_shared(acct, query)
        if route[0] == "namespaces":
            return self.h_namespaces(acct, query)
        r, _ = self.visible_repo(acct, route[1], route[2])
        if route[0] == "repo":
            return json_resp(self.store.show_repo_json(r))
        return self.h_tags(r, query)

    def throttled(self, acct):
        """The 429 answer when acct is over its --throttle rate, else None."""
        wait = self.throttles.take(acct.domain_name)
        if not wait:
            return None
        self.stats_throttled += 1
        return throttle_resp(int(self.throttles.conf[acct.domain_name]["rate"]), wait)

    def page(self, rows, params, render):
        pg = paging(params)
        total = len(rows)
        extra = []
        if pg is not None:
            off, lim = pg
            rows = rows[off:off + lim]
            n = len(rows)
            if self.content_range == "end":
                extra.append(("Content-Range", "%d-%d/%d" % (off, off + n - 1 if n else off, total)))
            else:
                extra.append(("Content-Range", "%d-%d/%d" % (off, n, total)))
        items = [render(x, total) for x in rows]
        return json_resp(items, 200, extra)

    def h_repos(self, acct, query):
        params, _ = effective_params(query, ("namespace", "name", "category", "limit", "offset",
                                             "order_column", "order_type"))
        rows = self.store.private_repos(acct)
        rows = self.filter_repos(rows, params)
        return self.page(rows, params, lambda r, total: self.store.repo_json(r, total))

    def filter_repos(self, rows, params):
        ns = params.get("namespace")
        if ns:
            rows = [r for r in rows if r.ns == ns]
        name = params.get("name")
        if name:
            rows = [r for r in rows if name in r.name]
        cat = params.get("category")
        if cat:
            rows = [r for r in rows if r.category == cat]
        col = params.get("order_column")
        if col:
            keys = {"name": lambda r: (r.ns, r.name),
                    "updated_time": lambda r: parse_rfc3339_ms(r.updated_at),
                    "updated_at": lambda r: parse_rfc3339_ms(r.updated_at),
                    "tag_count": lambda r: len(r.tags)}
            if col not in keys:
                raise swr_bad("order_column %r" % col)
            ot = params.get("order_type", "desc")
            if ot not in ("desc", "asc"):
                raise swr_bad("order_type %r" % ot)
            rows = sorted(rows, key=keys[col], reverse=(ot == "desc"))
        return rows

    def h_shared(self, acct, query):
        params, _ = effective_params(query, ("center", "namespace", "name", "limit", "offset",
                                             "order_column", "order_type"))
        center = params.get("center")
        if center not in ("self", "thirdparty"):
            raise swr_bad("center is required: self or thirdparty")
        now_ms = int(time.time() * 1000)
        shares = self.store.shares_to(acct) if center == "thirdparty" else self.store.shares_by(acct)
        status = {}
        rows = []
        seen = set()
        for s in shares:
            r = s["repo"]
            if id(r) in seen:
                continue
            seen.add(id(r))
            status[id(r)] = self.store.share_expired(s, now_ms)
            rows.append(r)
        rows = self.filter_repos(rows, params)
        return self.page(rows, params,
                         lambda r, total: self.store.repo_json(r, total, status=status[id(r)]))

    def h_namespaces(self, acct, query):
        params, _ = effective_params(query, ("namespace", "mode"))
        out = []
        for i, ns in enumerate(sorted(acct.namespaces)):
            if params.get("namespace") and params["namespace"] != ns:
                continue
            out.append({"id": i + 1, "name": ns, "creator_name": acct.domain_name, "auth": 7})
        return json_resp({"namespaces": out})

    def visible_repo(self, acct, ns, name):
        r = self.store.find_repo(ns, name)
        if r is None:
            raise swr_not_found()
        if r.owner is acct:
            return r, None
        now_ms = int(time.time() * 1000)
        shares = [s for s in self.store.shares if s["repo"] is r and s["to"] is acct]
        if not shares:
            raise swr_not_found()
        expired = all(self.store.share_expired(s, now_ms) for s in shares)
        if expired and self.expired_share_tags == "deny":
            raise swr_forbidden()
        return r, ("expired" if expired else "effective")

    def h_tags(self, r, query):
        params, _ = effective_params(query, ("limit", "offset", "order_column", "order_type", "tag"))
        rows = r.tags
        tag = params.get("tag")
        if tag:
            rows = [t for t in rows if tag in t.name]
        col = params.get("order_column")
        if col:
            keys = {"updated_at": lambda t: (t.updated_ms, t.name), "tag": lambda t: t.name,
                    "created_at": lambda t: (parse_rfc3339_ms(t.created), t.name)}
            if col not in keys:
                raise swr_bad("order_column %r" % col)
            ot = params.get("order_type", "desc")
            if ot not in ("desc", "asc"):
                raise swr_bad("order_type %r" % ot)
            rows = sorted(rows, key=keys[col], reverse=(ot == "desc"))
        return self.page(rows, params, lambda t, total: self.store.tag_json(r, t))


# --------------------------------------------------------------------------
# main

def add_huawei_args(ap):
    """Options of the IAM side, shared with swr_ee_emulator.py."""
    ap.add_argument("--token-ttl", type=float, default=86400.0, help="IAM token lifetime in seconds")
    ap.add_argument("--throttle", action="append", default=[], metavar="ACCOUNT=RATE[/BURST]")


def main(argv=None):
    ap = arg_parser("swr_emulator.py", __doc__)
    add_huawei_args(ap)
    ap.add_argument("--content-range", choices=("count", "end"), default="count")
    ap.add_argument("--expired-share-tags", choices=("allow", "deny"), default="allow")
    ap.add_argument("--dump-inventory", metavar="FILE",
                    help="write every account's inventory (as GET /_emulator/inventory) and exit")
    a, dataset = parse_args(ap, argv)
    try:
        throttle = dict(parse_throttle(s) for s in a.throttle)
        app = App(dataset, a.generate, load_json_arg(a.faults), a.token_ttl, throttle,
                  a.content_range, a.expired_share_tags)
    except (ValueError, KeyError, TypeError, re.error) as e:
        ap.error("bad dataset, --generate, --throttle or --faults: %s" % (e,))
    if a.dump_inventory:
        with open(a.dump_inventory, "w", encoding="utf-8") as f:
            json.dump({n: app.inventory(acct) for n, acct in sorted(app.store.accounts.items())}, f, indent=1)
        return 0
    if a.log:
        log_requests(app)
    return serve(lambda: HttpProtocol(app, "swr_emulator", internal_error), app, a.port, a.port_file, a.max_seconds)


if __name__ == "__main__":
    sys.exit(main())
