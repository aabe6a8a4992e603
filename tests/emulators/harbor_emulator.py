#!/usr/bin/env python3
"""Harbor REST API v2.0 emulator for libimgsync's tests (read-only enumeration API).

Spec: /work/shared/reference/harbor-api.md ("the reference"); section numbers
below (§1.4 etc.) point into it.  Python 3.11 standard library only.

Usage:
  harbor_emulator.py [--dataset FILE] [--generate SPEC] [--port 0] [--port-file F]
                     [--faults JSON|@FILE] [--max-seconds 600] [--api-version-404]
                     [--proxy-read-timeout-ms 60000] [--gen-cache-repos 1024]
                     [--dump-inventory FILE] [--log]

  Binds 127.0.0.1 (port 0 = a free port), prints the port alone on stdout
  (flushed), writes it to --port-file (atomically) when given, then serves
  until SIGTERM/SIGINT or --max-seconds (default 600), so it never lingers.

  --generate "projects=N,repos=M,artifacts=K[,tags=T][,index_every=E]
              [,public=alternate|all|none][,prefix=gen]"
      adds N deterministic projects (<prefix>-p0001 ...) with M repositories
      each at depths 1..3 (p/r0001, p/team1/r0002, p/org2/team2/r0003, ...)
      and K listed artifacts per repository (k % 10 == 0: untagged,
      k % 10 == 1: T tags (default 3), else 1 tag; the newest one also has
      "latest").  index_every=E makes every E-th artifact an OCI index with
      two untagged (hidden) children.  Nothing is built up front: default
      artifact pages of an unchanged generated repository are rendered
      straight from (repository, k); other queries materialise the
      repository as objects (an LRU keeps --gen-cache-repos of them), so
      150x150x150 is fine.  Adds users admin/Harbor12345 (sysadmin, when no users exist),
      gen-dev/gen-dev-pass (developer in every generated project) and the
      system robot robot$gen-sync / gen-sync-secret (all projects).
      Combined with --dataset the generated projects are appended.

Dataset (JSON object; every key optional):
  harbor_version, auth_mode ("db_auth" | "ldap_auth" | "oidc_auth"),
  external_url, registry_url, robot_name_prefix ("robot$"), api_version_404,
  users:    [{user_id, username, password, sysadmin_flag, email, realname,
              comment, creation_time, update_time, cli_secret (OIDC)}]
  robots:   [{id, name ("robot$<project>+<n>" | "robot$<n>"), secret,
              level ("project"|"system"), disabled, expires_at (epoch s, -1),
              permissions: [{kind:"project", namespace:"<project>"|"*",
                             access:[{resource, action}] | ["repository:list",..]}]}]
  members:  [{project, username, role|role_id}]   (or per project, see below)
  projects: [{project_id, name, owner_id, owner_name, registry_id (0),
              creation_time, update_time, deleted, togglable,
              public (bool) and/or metadata {public:"true"|"false", ...strings},
              cve_allowlist, members: [{username, role|role_id}],
              repositories: [{id, name (full path "proj/a/b/c"), description,
                  pull_count, creation_time, update_time,
                  artifacts: [{id, digest, type (IMAGE|CHART|CNAB|WASM|SBOM|CNAI|UNKNOWN),
                      media_type, manifest_media_type, artifact_type, size, icon,
                      push_time, pull_time, extra_attrs, annotations, labels,
                      scan_overview, sbom_overview,
                      tags: ["t" | {id, name, push_time, pull_time, immutable}],
                      references: [{child_digest, platform{architecture, os,
                                    "os.version", "os.features", variant},
                                    annotations, urls}],
                      accessory_of: "<subject digest>", accessory_type: "signature.cosign"}]}]}]
  Roles: projectAdmin=1, developer=2, guest=3, maintainer=4, limitedGuest=5.
  Times: RFC 3339 strings (or epoch milliseconds); served as
  "2006-01-02T15:04:05.000Z", never = "0001-01-01T00:00:00.000Z".

Harbor endpoints (GET only): /api/version, /api/v2.0/{ping,health,systeminfo,
  users/current,users/current/permissions,projects,projects/{p},
  projects/{p}/repositories, projects/{p}/repositories/{r},
  projects/{p}/repositories/{r}/artifacts[/{reference}[/tags]],
  projects/{p}/artifacts, repositories}.

Control endpoints (outside Harbor's namespace, never faulted or counted):
  GET    /_emulator/stats        {"total", "paths": {raw path: n}, "status": {...},
                                  "faults": [...], "pushes": n}
  POST   /_emulator/stats/reset
  GET    /_emulator/faults       active rules with counters
  POST   /_emulator/faults       body: rule | [rules] | {"rules":[...], "replace":true}
  DELETE /_emulator/faults
  POST   /_emulator/push         body: push item | [items]  -> created objects
  GET    /_emulator/config       POST /_emulator/config {api_version_404,
                                 proxy_read_timeout_ms, unhealthy:[component]}
  POST   /_emulator/reset        reload the dataset, clear faults, stats, config
  GET    /_emulator/inventory    every listed artifact: [{repository, digest, tags,
                                 type, media_type, size, push_time}] sorted
                                 (?children=1 adds hidden index children)

Fault rule: {"type": "500"|"429"|"504"|"nginx"|"slow"|"push"|"reset",
             "pattern": regex searched in the raw request target (path?query),
             "method": "GET" (optional), "after": S (let S matches pass first),
             "count": N (default 1, -1 = forever), "delay_ms": ms (slow; 504 waits
             this long before answering), "retry_after": "1" (429),
             "body": "nginx"|"json"|"text" (429 body), "status": 502|503|504 (nginx),
             "push": push item(s) (push type; fired after the after-th match, then
             every "every" matches, count times)}
  500   -> {"errors":[{"code":"UNKNOWN","message":"internal server error"}]}
  429   -> reverse-proxy page + Retry-After
  504   -> nginx "504 Gateway Time-out" HTML
  slow  -> answer late; when the delay reaches proxy_read_timeout_ms (default
           60000, like nginx in front of Harbor, §4) the answer is the nginx 504
  push  -> after the matching request is answered, apply the push item(s)
  reset -> close the connection without answering
Push item: {"repository": "p/a/b", "count": K | "artifacts": [artifact...],
            "tags": ["v1"] (count == 1) | "tag_prefix": "pushed-", "public": false}
           {"repository": "p/a/b", "digest": "sha256:..", "tag": "v9"}  (tag an
            existing artifact; the tag moves if another artifact had it)
           {"project": "p", "new_repositories": K, "artifacts_per_repo": 1}
           {"project": "p", "public": true}                      (create project)
  New items are newest (push_time/creation_time strictly after everything).
"""

import base64
import datetime
import gc
import hashlib
import json
import os
import posixpath
import re
import sys
import time
from collections import OrderedDict
from urllib.parse import quote, quote_plus, unquote_to_bytes

from emulator_http import (REASONS, Delayed, HttpProtocol, Resp, arg_parser, load_json_arg, log_requests,
                           parse_args, serve)

_js = json.encoder.encode_basestring  # C accelerated, no ASCII escaping

# --------------------------------------------------------------------------
# small helpers: time, JSON, Go-compatible URL handling

ZERO_TIME = "0001-01-01T00:00:00.000Z"
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_MS = datetime.timedelta(milliseconds=1)
_GEN_BASE_MS = 1704067200000  # 2024-01-01T00:00:00Z


def parse_time(v):
    """Dataset time (RFC 3339 string or epoch ms) -> epoch ms, None = never."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        raise ValueError("bad time %r" % (v,))
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).strip()
    if s.startswith("0001-01-01"):
        return None
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    dt = datetime.datetime.fromisoformat(s.replace(" ", "T", 1))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return (dt - _EPOCH) // _MS


_day_cache = {}
_HMS = ["%02d:%02d:%02d." % (x // 3600, x // 60 % 60, x % 60) for x in range(86400)]
_MSZ = ["%03dZ" % x for x in range(1000)]


def fmt_time(ms):
    """strfmt.DateTime style "2006-01-02T15:04:05.000Z" (UTC)."""
    if ms is None:
        return ZERO_TIME
    day, rest = divmod(ms, 86400000)
    d = _day_cache.get(day)
    if d is None:
        d = (_EPOCH + datetime.timedelta(days=day)).strftime("%Y-%m-%dT")
        _day_cache[day] = d
    sec, milli = divmod(rest, 1000)
    return d + _HMS[sec] + _MSZ[milli]


def jdump(obj):
    """go-swagger's JSON producer: encoding/json, keys sorted (models are
    generated with alphabetically ordered fields), no HTML escaping."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def go_err_json(obj):
    """encoding/json.Marshal (used for error bodies) escapes <, > and &."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_HEX = frozenset("0123456789abcdefABCDEF")


def go_unescape(s, plus):
    """Go url.QueryUnescape (plus=True) / url.PathUnescape (plus=False).
    Returns None where Go returns an error (bad % escape)."""
    if "%" not in s:
        if plus and "+" in s:
            return s.replace("+", " ")
        return s
    n = len(s)
    i = s.find("%")
    while i >= 0:
        if i + 2 >= n or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
            return None
        i = s.find("%", i + 3)
    if plus:
        s = s.replace("+", " ")
    return unquote_to_bytes(s).decode("utf-8", "surrogateescape")


def go_query_escape(s):
    return quote_plus(s.encode("utf-8", "surrogateescape"), safe="")


def go_parse_query(raw):
    """Go url.ParseQuery, ignoring errors like url.URL.Query() does: pairs
    containing ';' or bad escapes are dropped. Returns [(key, value)]."""
    out = []
    if not raw:
        return out
    for part in raw.split("&"):
        if not part or ";" in part:
            continue
        k, _, v = part.partition("=")
        k = go_unescape(k, True)
        if k is None:
            continue
        v = go_unescape(v, True)
        if v is None:
            continue
        out.append((k, v))
    return out


def go_values_encode(pairs):
    """url.Values.Encode(): keys sorted, values in order per key."""
    d = {}
    for k, v in pairs:
        d.setdefault(k, []).append(v)
    parts = []
    for k in sorted(d, key=lambda x: x.encode("utf-8", "surrogateescape")):
        ek = go_query_escape(k)
        for v in d[k]:
            parts.append(ek + "=" + go_query_escape(v))
    return "&".join(parts)


def go_path_clean(p):
    """Go path.Clean (the go-openapi router looks routes up on a cleaned path)."""
    if p == "":
        return "/"
    c = posixpath.normpath(p)
    if c.startswith("//"):
        c = "/" + c.lstrip("/")
    return c


def harbor_links(raw_path, raw_query, total, page, page_size):
    """Port of Harbor's BaseAPI.Links (§1.4): relative URL as received, only
    page/page_size replaced, query re-encoded (sorted keys) then
    QueryUnescape'd; the "next" link is computed from the (already rewritten)
    URL the "prev" link used, exactly like the Go code; joined with " , "."""
    if page_size == 0:
        return None
    links = []
    cur = raw_query
    if page > 1 and (page - 1) * page_size < total:
        pairs = [(k, v) for k, v in go_parse_query(cur) if k not in ("page", "page_size")]
        pairs += [("page", str(page - 1)), ("page_size", str(page_size))]
        enc = go_values_encode(pairs)
        un = go_unescape(enc, True)
        cur = enc if un is None else un
        links.append('<%s?%s>; rel="prev"' % (raw_path, cur))
    if page_size * page < total:
        pairs = [(k, v) for k, v in go_parse_query(cur) if k not in ("page", "page_size")]
        pairs += [("page", str(page + 1)), ("page_size", str(page_size))]
        enc = go_values_encode(pairs)
        un = go_unescape(enc, True)
        cur = enc if un is None else un
        links.append('<%s?%s>; rel="next"' % (raw_path, cur))
    if not links:
        return None
    return " , ".join(links)


def enc2(name):
    """Double path-encoding of a repository name (§1.5)."""
    return quote(quote(name, safe=""), safe="")


# --------------------------------------------------------------------------
# errors

class HarborError(Exception):
    def __init__(self, status, code, message):
        Exception.__init__(self, message)
        self.status = status
        self.code = code
        self.message = message


def err_unauthorized():
    return HarborError(401, "UNAUTHORIZED", "unauthorized")


def err_forbidden():
    return HarborError(403, "FORBIDDEN", "forbidden")


def err_not_found(msg):
    return HarborError(404, "NOT_FOUND", msg)


def err_bad_request(msg):
    return HarborError(400, "BAD_REQUEST", msg)


class ValidationErrors(Exception):
    pass


# --------------------------------------------------------------------------
# permissions (§2.1)

ENUM_PERMS = frozenset(["project:read", "repository:list", "repository:read",
                        "repository:pull", "artifact:list", "artifact:read", "tag:list"])
ALL_PERMS = ENUM_PERMS | frozenset(["repository:push", "artifact:delete", "tag:create",
                                    "tag:delete", "member:list"])
ROLE_IDS = {"projectadmin": 1, "project_admin": 1, "project-admin": 1, "admin": 1,
            "developer": 2, "guest": 3, "maintainer": 4,
            "limitedguest": 5, "limited_guest": 5, "limited-guest": 5}
ROLE_PERMS = {1: ALL_PERMS, 2: ALL_PERMS - {"member:list"}, 3: ENUM_PERMS,
              4: ALL_PERMS, 5: ENUM_PERMS}
PUBLIC_PERMS = ENUM_PERMS  # any caller, anonymous included, on a public project


def role_id_of(m):
    if "role_id" in m:
        return int(m["role_id"])
    r = str(m.get("role", "guest")).replace(" ", "").lower()
    if r not in ROLE_IDS:
        raise ValueError("unknown role %r" % m.get("role"))
    return ROLE_IDS[r]


def access_list(acc):
    out = set()
    for a in acc or []:
        if isinstance(a, str):
            out.add(a)
        else:
            out.add("%s:%s" % (a.get("resource"), a.get("action")))
    return out


class Sec:
    """Security context."""
    __slots__ = ("kind", "name", "user", "robot", "sysadmin", "cover_all", "robot_perms", "key")

    def __init__(self, kind, name="", user=None, robot=None):
        self.kind = kind  # anonymous | user | robot
        self.name = name
        self.user = user
        self.robot = robot
        self.sysadmin = bool(user and user.get("sysadmin_flag"))
        self.cover_all = False
        self.robot_perms = {}
        if robot is not None:
            for p in robot.get("permissions") or []:
                ns = p.get("namespace", "*")
                if p.get("kind", "project") != "project":
                    continue
                self.robot_perms.setdefault(ns, set()).update(access_list(p.get("access")))
                if ns == "*":
                    self.cover_all = True
        self.key = "%s:%s" % (kind, name)

    @property
    def authenticated(self):
        return self.kind != "anonymous"

    def perms(self, project):
        if self.sysadmin:
            return ALL_PERMS
        s = set(PUBLIC_PERMS) if project.public else set()
        if self.kind == "user":
            rid = project.members.get(self.name)
            if rid:
                s |= ROLE_PERMS.get(rid, ENUM_PERMS)
        elif self.kind == "robot":
            s |= self.robot_perms.get(project.name, set())
            s |= self.robot_perms.get("*", set())
        return s

    def roles(self, project):
        if self.kind != "user":
            return []
        rid = project.members.get(self.name)
        return [rid] if rid else []


ANON = Sec("anonymous")


# --------------------------------------------------------------------------
# model

class Tag:
    __slots__ = ("id", "name", "push_time", "pull_time", "immutable", "artifact")

    def fast_json(self, with_immutable):
        a = self.artifact
        return ('{"artifact_id":%d,"id":%d,"immutable":%s,"name":%s,"pull_time":"%s","push_time":"%s",'
                '"repository_id":%d}' % (a.id, self.id, "true" if (with_immutable and self.immutable) else "false",
                                         _js(self.name), fmt_time(self.pull_time), fmt_time(self.push_time),
                                         a.repo.id))

    def to_dict(self, with_immutable):
        a = self.artifact
        return {"id": self.id, "repository_id": a.repo.id, "artifact_id": a.id,
                "name": self.name, "push_time": fmt_time(self.push_time),
                "pull_time": fmt_time(self.pull_time),
                "immutable": bool(self.immutable) if with_immutable else False}


class Artifact:
    __slots__ = ("id", "repo", "digest", "media_type", "manifest_media_type", "artifact_type",
                 "type", "size", "icon", "push_time", "pull_time", "extra_attrs", "annotations",
                 "labels", "scan_overview", "sbom_overview", "refs", "tags", "parents",
                 "accessory_of", "accessory_type", "accessories", "jcache", "extra_json")

    def __init__(self):
        self.extra_json = None
        self.tags = []
        self.parents = 0
        self.accessory_of = None
        self.accessory_type = None
        self.accessories = []
        self.refs = []
        self.jcache = {}

    @property
    def listed(self):
        """Default artifact list (§1.6): accessories excluded, untagged
        children of an index hidden."""
        return self.accessory_of is None and (bool(self.tags) or self.parents == 0)

    def sort_tags(self):
        self.tags.sort(key=lambda t: (-(t.push_time or 0), -t.id))

    def to_json(self, flags):
        b = self.jcache.get(flags)
        if b is None:
            b = self.fast_json(flags).encode("utf-8", "surrogateescape")
            self.jcache[flags] = b
        return b

    def fast_json(self, flags):
        """Same bytes as jdump(self.to_dict(flags)) (the self-test checks
        this), built with string formatting because it is 4x faster."""
        with_tag, with_label, with_accessory, with_scan, with_sbom, with_immutable = flags
        repo = self.repo
        out = []
        if with_accessory and self.accessories:
            out.append('"accessories":' + jdump(self.to_dict(flags)["accessories"]))
        t = self.type
        if t == "IMAGE":
            base = repo.links_prefix() + self.digest + "/additions/"
            if not self.refs:
                out.append('"addition_links":{"build_history":{"absolute":false,"href":%s},'
                           '"vulnerabilities":{"absolute":false,"href":%s}}'
                           % (_js(base + "build_history"), _js(base + "vulnerabilities")))
            else:
                out.append('"addition_links":{"vulnerabilities":{"absolute":false,"href":%s}}'
                           % _js(base + "vulnerabilities"))
        elif t == "CHART":
            base = repo.links_prefix() + self.digest + "/additions/"
            out.append('"addition_links":{"dependencies":{"absolute":false,"href":%s},'
                       '"readme.md":{"absolute":false,"href":%s},"values.yaml":{"absolute":false,"href":%s}}'
                       % (_js(base + "dependencies"), _js(base + "readme.md"), _js(base + "values.yaml")))
        if self.annotations:
            out.append('"annotations":' + jdump(self.annotations))
        if self.artifact_type:
            out.append('"artifact_type":' + _js(self.artifact_type))
        out.append('"digest":' + _js(self.digest))
        if self.extra_json is not None:
            out.append('"extra_attrs":' + self.extra_json)
        elif self.extra_attrs:
            self.extra_json = jdump(self.extra_attrs)
            out.append('"extra_attrs":' + self.extra_json)
        if self.icon:
            out.append('"icon":' + _js(self.icon))
        out.append('"id":%d' % self.id)
        if with_label and self.labels:
            out.append('"labels":' + jdump(self.labels))
        out.append('"manifest_media_type":%s,"media_type":%s,"project_id":%d,"pull_time":"%s","push_time":"%s"'
                   % (_js(self.manifest_media_type), _js(self.media_type), repo.project.id,
                      fmt_time(self.pull_time), fmt_time(self.push_time)))
        if self.refs:
            out.append('"references":' + jdump(self.to_dict(flags)["references"]))
        out.append('"repository_id":%d,"repository_name":%s' % (repo.id, _js(repo.name)))
        if with_sbom and self.sbom_overview:
            out.append('"sbom_overview":' + jdump(self.sbom_overview))
        if with_scan and self.scan_overview:
            out.append('"scan_overview":' + jdump(self.scan_overview))
        if self.size:
            out.append('"size":%d' % self.size)
        if with_tag and self.tags:
            out.append('"tags":[' + ",".join([x.fast_json(with_immutable) for x in self.tags]) + "]")
        out.append('"type":' + _js(t))
        return "{" + ",".join(out) + "}"

    def to_dict(self, flags):
        with_tag, with_label, with_accessory, with_scan, with_sbom, with_immutable = flags
        repo = self.repo
        d = {"id": self.id, "type": self.type, "media_type": self.media_type,
             "manifest_media_type": self.manifest_media_type,
             "project_id": repo.project.id, "repository_id": repo.id,
             "repository_name": repo.name, "digest": self.digest,
             "push_time": fmt_time(self.push_time), "pull_time": fmt_time(self.pull_time)}
        if self.artifact_type:
            d["artifact_type"] = self.artifact_type
        if self.size:
            d["size"] = self.size
        if self.icon:
            d["icon"] = self.icon
        if self.extra_attrs:
            d["extra_attrs"] = self.extra_attrs
        elif self.extra_json is not None:
            d["extra_attrs"] = json.loads(self.extra_json)
        if self.annotations:
            d["annotations"] = self.annotations
        if self.refs:
            rl = []
            for r in self.refs:
                rd = {"parent_id": self.id, "child_digest": r["child_digest"]}
                if r.get("child_id"):
                    rd["child_id"] = r["child_id"]
                plat = {k: v for k, v in (r.get("platform") or {}).items() if v not in (None, "", [])}
                if plat:
                    rd["platform"] = plat
                if r.get("annotations"):
                    rd["annotations"] = r["annotations"]
                if r.get("urls"):
                    rd["urls"] = r["urls"]
                rl.append(rd)
            d["references"] = rl
        links = {}
        base = repo.links_prefix() + self.digest + "/additions/"
        if self.type == "IMAGE":
            if not self.refs:
                links["build_history"] = {"absolute": False, "href": base + "build_history"}
            links["vulnerabilities"] = {"absolute": False, "href": base + "vulnerabilities"}
        elif self.type == "CHART":
            for n in ("values.yaml", "readme.md", "dependencies"):
                links[n] = {"absolute": False, "href": base + n}
        if links:
            d["addition_links"] = links
        if with_tag and self.tags:
            d["tags"] = [t.to_dict(with_immutable) for t in self.tags]
        if with_label and self.labels:
            d["labels"] = self.labels
        if with_accessory and self.accessories:
            d["accessories"] = [{
                "id": acc.id, "artifact_id": acc.id, "subject_artifact_id": self.id,
                "subject_artifact_digest": self.digest, "subject_artifact_repo": repo.name,
                "size": acc.size or 0, "digest": acc.digest, "type": acc.accessory_type,
                "creation_time": fmt_time(acc.push_time)} for acc in self.accessories]
        if with_scan and self.scan_overview:
            d["scan_overview"] = self.scan_overview
        if with_sbom and self.sbom_overview:
            d["sbom_overview"] = self.sbom_overview
        return d


class Repo:
    __slots__ = ("id", "project", "name", "short", "description", "pull_count", "creation_time",
                 "update_time", "arts", "by_digest", "tag_index", "gen", "dirty", "cache", "jcache",
                 "_prefix", "gtmpl")

    def links_prefix(self):
        if self._prefix is None:
            self._prefix = "/api/v2.0/projects/%s/repositories/%s/artifacts/" % (
                self.project.name, enc2(self.short))
        return self._prefix

    def __init__(self):
        self._prefix = None
        self.gtmpl = None
        self.arts = None
        self.gen = None
        self.dirty = False
        self.cache = {}
        self.jcache = None

    def artifact_count(self, store):
        if self.arts is None and self.gen is not None:
            return store.gen.artifacts
        return len(store.listed_sorted(self))

    def to_json(self, store):
        b = self.jcache
        if b is None:
            d = {"id": self.id, "project_id": self.project.id, "name": self.name,
                 "artifact_count": self.artifact_count(store), "pull_count": self.pull_count,
                 "creation_time": fmt_time(self.creation_time),
                 "update_time": fmt_time(self.update_time)}
            if self.description:
                d["description"] = self.description
            b = self.jcache = jdump(d).encode("utf-8")
        return b


class Project:
    __slots__ = ("id", "name", "owner_id", "owner_name", "registry_id", "creation_time",
                 "update_time", "deleted", "togglable", "metadata", "cve_allowlist", "members",
                 "repos", "repos_sorted", "cache")

    def __init__(self):
        self.repos = {}
        self.repos_sorted = []
        self.cache = {}
        self.members = {}

    @property
    def public(self):
        return self.metadata.get("public") == "true"

    def resort(self):
        self.repos_sorted = sorted(self.repos.values(),
                                   key=lambda r: (-(r.creation_time or 0), -r.id))

    def to_dict(self, sec, with_detail):
        d = {"project_id": self.id, "name": self.name, "owner_id": self.owner_id,
             "creation_time": fmt_time(self.creation_time),
             "update_time": fmt_time(self.update_time),
             "repo_count": len(self.repos), "metadata": dict(self.metadata)}
        if self.registry_id:
            d["registry_id"] = self.registry_id
        if self.deleted:
            d["deleted"] = True
        if self.togglable:
            d["togglable"] = True
        if with_detail:
            if self.owner_name:
                d["owner_name"] = self.owner_name
            d["cve_allowlist"] = self.cve_allowlist
        roles = sec.roles(self) if sec is not None else []
        if roles:
            d["current_user_role_id"] = min(roles)
            d["current_user_role_ids"] = roles
        return d


# --------------------------------------------------------------------------
# q= and sort= (§1.3)

class QBad(Exception):
    pass


def _parse_value(v):
    if re.fullmatch(r"[+-]?\d+", v):
        try:
            n = int(v)
            if -(1 << 63) <= n < (1 << 63):
                return n
        except ValueError:
            pass
    return v


def parse_q(raw):
    """Harbor q.Build: unescape once more, split on ',', k=v / k=~v /
    k=[a~b] / k={a b} / k=(a b).  Returns {key: (op, value)}."""
    kw = {}
    if raw is None or raw == "":
        return kw
    u = go_unescape(raw, True)
    if u is not None:
        raw = u
    for param in raw.split(","):
        k, sep, v = param.partition("=")
        if not sep or not k or not v:
            raise err_bad_request('the query string must contain "=" and the key/value cannot be empty')
        if v.startswith("[") and v.endswith("]"):
            parts = v[1:-1].split("~")
            if len(parts) != 2:
                raise err_bad_request("invalid range pattern: %s" % v)
            lo = parts[0].strip()
            hi = parts[1].strip()
            kw[k] = ("range", lo, hi)
        elif v.startswith("{") and v.endswith("}"):
            kw[k] = ("or", [x for x in v[1:-1].split(" ") if x != ""])
        elif v.startswith("(") and v.endswith(")"):
            kw[k] = ("and", [x for x in v[1:-1].split(" ") if x != ""])
        elif v.startswith("~"):
            kw[k] = ("fuzzy", v[1:])
        else:
            kw[k] = ("eq", v)
    return kw


def _range_bound(s, is_time):
    if s == "":
        return None
    if is_time:
        try:
            return parse_time(s)
        except ValueError:
            return None
    try:
        return int(s)
    except ValueError:
        return s


def match_field(cond, value, is_time=False):
    op = cond[0]
    if op == "eq":
        if is_time:
            try:
                return value == parse_time(cond[1])
            except ValueError:
                return False
        return str(value) == str(_parse_value(cond[1]))
    if op == "fuzzy":
        return cond[1].lower() in str(value).lower()
    if op == "or":
        return str(value) in [str(_parse_value(x)) for x in cond[1]]
    if op == "and":
        return all(str(value) == str(_parse_value(x)) for x in cond[1])
    if op == "range":
        lo = _range_bound(cond[1], is_time)
        hi = _range_bound(cond[2], is_time)
        if value is None:
            return False
        try:
            if lo is not None and value < lo:
                return False
            if hi is not None and value > hi:
                return False
        except TypeError:
            return False
        return True
    return True


def parse_sort(raw, allowed):
    out = []
    if not raw:
        return out
    for part in raw.split(","):
        part = part.strip()
        desc = part.startswith("-")
        f = part[1:] if desc else part
        if f in allowed:
            out.append((allowed[f], desc))
    return out


def apply_sort(items, sorts, default_key, tie_key):
    if not sorts:
        return sorted(items, key=default_key)
    res = sorted(items, key=tie_key)
    for getter, desc in reversed(sorts):
        res.sort(key=lambda x: _nz(getter(x)), reverse=desc)
    return res


def _nz(v):
    if v is None:
        return 0
    return v


def _canon_q(kw):
    return tuple(sorted((k, repr(v)) for k, v in kw.items()))


ART_FIELDS = {"id": ("id", False), "digest": ("digest", False), "media_type": ("media_type", False),
              "manifest_media_type": ("manifest_media_type", False),
              "artifact_type": ("artifact_type", False), "type": ("type", False),
              "size": ("size", False), "icon": ("icon", False),
              "push_time": ("push_time", True), "pull_time": ("pull_time", True)}
ART_SORT = {"id": lambda a: a.id, "push_time": lambda a: a.push_time,
            "pull_time": lambda a: a.pull_time, "size": lambda a: a.size or 0,
            "digest": lambda a: a.digest, "type": lambda a: a.type,
            "media_type": lambda a: a.media_type or ""}
REPO_SORT = {"name": lambda r: r.name, "creation_time": lambda r: r.creation_time,
             "update_time": lambda r: r.update_time, "repository_id": lambda r: r.id,
             "id": lambda r: r.id, "pull_count": lambda r: r.pull_count,
             "project_id": lambda r: r.project.id}
PROJ_SORT = {"name": lambda p: p.name, "project_id": lambda p: p.id,
             "creation_time": lambda p: p.creation_time, "update_time": lambda p: p.update_time,
             "owner_id": lambda p: p.owner_id}
TAG_SORT = {"name": lambda t: t.name, "id": lambda t: t.id, "push_time": lambda t: t.push_time,
            "pull_time": lambda t: t.pull_time}


def art_default_key(a):
    return (-(a.push_time or 0), -a.id)


def art_matches(a, kw):
    """Artifact keywords; the base rule (untagged children of an index are
    hidden unless base=*) and the accessory exclusion are applied here."""
    if a.accessory_of is not None:
        return False
    base = kw.get("base")
    if base is None:
        if not a.tags and a.parents:
            return False
    tags = kw.get("tags")
    if tags is not None:
        op = tags[0]
        names = [t.name for t in a.tags]
        if op == "eq" and tags[1] == "*":
            if not names:
                return False
        elif op == "eq" and tags[1] == "nil":
            if names:
                return False
        elif op == "eq":
            if tags[1] not in names:
                return False
        elif op == "fuzzy":
            if not any(tags[1].lower() in n.lower() for n in names):
                return False
        elif op == "or":
            if not any(n in tags[1] for n in names):
                return False
        elif op == "and":
            if not all(x in names for x in tags[1]):
                return False
        elif op == "range":
            if not any(match_field(tags, n) for n in names):
                return False
    labels = kw.get("labels")
    if labels is not None:
        ids = set(str(l.get("id")) for l in (a.labels or []))
        ids |= set(str(l.get("name")) for l in (a.labels or []))
        op = labels[0]
        vals = labels[1] if op in ("or", "and") else [labels[1]]
        if op == "or":
            if not any(str(v) in ids for v in vals):
                return False
        elif not all(str(v) in ids for v in vals):
            return False
    for k, cond in kw.items():
        f = ART_FIELDS.get(k)
        if f is None:
            continue
        if not match_field(cond, getattr(a, f[0]) if getattr(a, f[0]) is not None else "", f[1]):
            return False
    return True


def check_art_kw(kw):
    b = kw.get("base")
    if b is not None and b != ("eq", "*"):
        raise err_bad_request('the value of "base" query can only be exact match value with "*"')


# --------------------------------------------------------------------------
# store

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"

class GenSpec:
    def __init__(self, spec):
        self.projects = 0
        self.repos = 0
        self.artifacts = 0
        self.tags = 3
        self.index_every = 0
        self.public = "alternate"
        self.prefix = "gen"
        for part in (spec or "").split(","):
            part = part.strip()
            if not part:
                continue
            k, _, v = part.partition("=")
            k = k.strip()
            v = v.strip()
            if k in ("projects", "repos", "artifacts", "tags", "index_every"):
                setattr(self, k, int(v))
            elif k == "public":
                if v not in ("alternate", "all", "none"):
                    raise ValueError("public must be alternate|all|none")
                self.public = v
            elif k == "prefix":
                self.prefix = v
            else:
                raise ValueError("unknown --generate key %r" % k)
        n_idx = (self.artifacts // self.index_every) if self.index_every > 0 else 0
        self.art_stride = self.artifacts + 2 * n_idx
        self.tag_stride = self.artifacts * max(self.tags, 1) + 1


class Store:
    def __init__(self, data, gen=None, gen_cache=4096):
        self.data = data or {}
        self.gen = gen
        self.gen_cache = gen_cache
        self.lru = OrderedDict()
        self.evict_queue = []
        self.page_cache = OrderedDict()
        self.page_cache_bytes = 0
        self.version = 0
        self.cache = {}
        d = self.data
        self.harbor_version = d.get("harbor_version", "v2.15.2-c50c7ddd")
        self.auth_mode = d.get("auth_mode", "db_auth")
        self.external_url = d.get("external_url")
        self.registry_url = d.get("registry_url")
        self.robot_prefix = d.get("robot_name_prefix", "robot$")
        self.api_version_404 = bool(d.get("api_version_404", False))
        self.users = {}
        self.users_by_id = {}
        self.robots = {}
        self.projects = {}
        self.projects_by_id = {}
        self.projects_sorted = []
        self.max_time = 0
        self.next_pid = 1
        self.next_rid = 1
        self.next_aid = 1
        self.next_tid = 1
        self.push_seq = 0
        self._load()

    # ---------------- loading
    def _t(self, v, default=None):
        t = parse_time(v) if v is not None else default
        if t is not None and t > self.max_time:
            self.max_time = t
        return t

    def _add_user(self, u):
        u = dict(u)
        if "sysadmin" in u and "sysadmin_flag" not in u:
            u["sysadmin_flag"] = bool(u.pop("sysadmin"))
        u.setdefault("sysadmin_flag", False)
        if "user_id" not in u:
            u["user_id"] = max([x["user_id"] for x in self.users.values()] + [0]) + 1
        self.users[u["username"]] = u
        self.users_by_id[u["user_id"]] = u

    def _load(self):
        d = self.data
        for u in d.get("users") or []:
            self._add_user(u)
        if self.gen is not None and self.gen.projects:
            if not self.users:
                self._add_user({"user_id": 1, "username": "admin", "password": "Harbor12345",
                                "sysadmin_flag": True, "email": "admin@example.com",
                                "realname": "system admin"})
            if "gen-dev" not in self.users:
                self._add_user({"username": "gen-dev", "password": "gen-dev-pass",
                                "email": "gen-dev@example.com", "realname": "generated developer"})
        for r in d.get("robots") or []:
            r = dict(r)
            r.setdefault("disabled", False)
            r.setdefault("expires_at", -1)
            self.robots[r["name"]] = r
        if self.gen is not None and self.gen.projects:
            n = self.robot_prefix + "gen-sync"
            if n not in self.robots:
                self.robots[n] = {"id": 9000, "name": n, "secret": "gen-sync-secret",
                                  "level": "system", "disabled": False, "expires_at": -1,
                                  "permissions": [{"kind": "project", "namespace": "*", "access": [
                                      "repository:list", "artifact:list", "artifact:read", "tag:list"]}]}
        pending_members = list(d.get("members") or [])
        max_pid = max([int(p["project_id"]) for p in d.get("projects") or [] if "project_id" in p] + [0])
        max_rid = max([int(r["id"]) for p in d.get("projects") or [] for r in p.get("repositories") or []
                       if "id" in r] + [0])
        max_aid = max([int(a["id"]) for p in d.get("projects") or [] for r in p.get("repositories") or []
                       for a in r.get("artifacts") or [] if "id" in a] + [0])
        max_tid = max([int(t["id"]) for p in d.get("projects") or [] for r in p.get("repositories") or []
                       for a in r.get("artifacts") or [] for t in a.get("tags") or []
                       if isinstance(t, dict) and "id" in t] + [0])
        self.next_pid, self.next_rid, self.next_aid, self.next_tid = max_pid + 1, max_rid + 1, max_aid + 1, max_tid + 1
        for pd in d.get("projects") or []:
            p = self._new_project(pd)
            for m in pd.get("members") or []:
                p.members[m["username"]] = role_id_of(m)
            for rd in pd.get("repositories") or []:
                self._load_repo(p, rd)
            p.resort()
        for m in pending_members:
            p = self.projects.get(m["project"])
            if p is None:
                raise ValueError("member of unknown project %r" % m["project"])
            p.members[m["username"]] = role_id_of(m)
        if self.gen is not None and self.gen.projects:
            self._generate()
        self._resort_projects()

    def _new_project(self, pd):
        p = Project()
        if "project_id" in pd:
            p.id = int(pd["project_id"])
        else:
            p.id = self.next_pid
        self.next_pid = max(self.next_pid, p.id + 1)
        p.name = pd["name"]
        if p.name in self.projects:
            raise ValueError("duplicate project %r" % p.name)
        p.owner_name = pd.get("owner_name", "admin")
        owner = self.users.get(p.owner_name)
        p.owner_id = int(pd.get("owner_id", owner["user_id"] if owner else 1))
        p.registry_id = int(pd.get("registry_id", 0) or 0)
        now = self.max_time or _GEN_BASE_MS
        p.creation_time = self._t(pd.get("creation_time"), now)
        p.update_time = self._t(pd.get("update_time"), p.creation_time)
        p.deleted = bool(pd.get("deleted", False))
        p.togglable = bool(pd.get("togglable", False))
        md = {}
        for k, v in (pd.get("metadata") or {}).items():
            md[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
        if "public" in pd:
            md["public"] = "true" if pd["public"] in (True, "true") else "false"
        md.setdefault("public", "false")
        p.metadata = md
        p.cve_allowlist = pd.get("cve_allowlist") or {
            "id": p.id, "project_id": p.id, "creation_time": ZERO_TIME, "update_time": ZERO_TIME}
        self.projects[p.name] = p
        self.projects_by_id[p.id] = p
        return p

    def _resort_projects(self):
        self.projects_sorted = sorted(self.projects.values(), key=lambda p: p.name)

    def _new_repo(self, p, name, rid=None, ctime=None):
        if not name.startswith(p.name + "/"):
            name = p.name + "/" + name
        if name in p.repos:
            raise ValueError("duplicate repository %r" % name)
        r = Repo()
        r.id = rid if rid is not None else self.next_rid
        self.next_rid = max(self.next_rid, r.id + 1)
        r.project = p
        r.name = name
        r.short = name[len(p.name) + 1:]
        r.description = ""
        r.pull_count = 0
        r.creation_time = ctime
        r.update_time = ctime
        r.arts = []
        r.by_digest = {}
        r.tag_index = {}
        p.repos[name] = r
        return r

    def _load_repo(self, p, rd):
        r = self._new_repo(p, rd["name"], int(rd["id"]) if "id" in rd else None,
                           self._t(rd.get("creation_time"), self.max_time or _GEN_BASE_MS))
        r.description = rd.get("description", "") or ""
        r.pull_count = int(rd.get("pull_count", 0) or 0)
        r.update_time = self._t(rd.get("update_time"), r.creation_time)
        for ad in rd.get("artifacts") or []:
            self._add_artifact(r, ad)
        self._link(r)
        return r

    def _add_artifact(self, r, ad, now=None):
        a = Artifact()
        a.repo = r
        if "id" in ad:
            a.id = int(ad["id"])
        else:
            a.id = self.next_aid
        self.next_aid = max(self.next_aid, a.id + 1)
        a.digest = ad.get("digest") or ("sha256:" + hashlib.sha256(
            ("%s#%d" % (r.name, a.id)).encode()).hexdigest())
        if a.digest in r.by_digest:
            raise ValueError("duplicate digest %s in %s" % (a.digest, r.name))
        a.type = ad.get("type", "IMAGE")
        a.manifest_media_type = ad.get("manifest_media_type", "application/vnd.oci.image.manifest.v1+json")
        a.media_type = ad.get("media_type", "application/vnd.oci.image.config.v1+json")
        a.artifact_type = ad.get("artifact_type", a.media_type)
        a.size = int(ad.get("size", 0) or 0)
        a.icon = ad.get("icon", "") or ""
        a.push_time = self._t(ad.get("push_time"), now if now is not None else r.creation_time)
        a.pull_time = self._t(ad.get("pull_time")) if ad.get("pull_time") else None
        a.extra_attrs = ad.get("extra_attrs")
        a.annotations = ad.get("annotations")
        a.labels = ad.get("labels")
        a.scan_overview = ad.get("scan_overview")
        a.sbom_overview = ad.get("sbom_overview")
        a.refs = [dict(x) for x in ad.get("references") or []]
        a.accessory_of = ad.get("accessory_of")
        a.accessory_type = ad.get("accessory_type", "signature.cosign") if a.accessory_of else None
        r.arts.append(a)
        r.by_digest[a.digest] = a
        for td in ad.get("tags") or []:
            if isinstance(td, str):
                td = {"name": td}
            self._add_tag(r, a, td.get("name"), int(td["id"]) if "id" in td else None,
                          self._t(td.get("push_time"), a.push_time),
                          self._t(td.get("pull_time")) if td.get("pull_time") else None,
                          bool(td.get("immutable", False)))
        a.sort_tags()
        return a

    def _add_tag(self, r, a, name, tid, push_time, pull_time=None, immutable=False):
        old = r.tag_index.get(name)
        if old is not None:
            old.artifact.tags.remove(old)
            old.artifact.jcache.clear()
        t = Tag()
        t.id = tid if tid is not None else self.next_tid
        self.next_tid = max(self.next_tid, t.id + 1)
        t.name = name
        t.push_time = push_time
        t.pull_time = pull_time
        t.immutable = immutable
        t.artifact = a
        a.tags.append(t)
        r.tag_index[name] = t
        a.jcache.clear()
        return t

    def _link(self, r):
        """Resolve index references and accessories inside one repository."""
        for a in r.arts:
            a.parents = 0
            a.accessories = []
        for a in r.arts:
            for ref in a.refs:
                c = r.by_digest.get(ref.get("child_digest"))
                if c is not None:
                    ref["child_id"] = c.id
                    c.parents += 1
        for a in r.arts:
            if a.accessory_of:
                s = r.by_digest.get(a.accessory_of)
                if s is not None:
                    s.accessories.append(a)
        for a in r.arts:
            a.jcache.clear()

    # ---------------- generator (deterministic, lazily materialised)
    def _generate(self):
        g = self.gen
        base_pid = self.next_pid
        base_rid = self.next_rid
        self.gen_art_base = self.next_aid
        self.gen_tag_base = self.next_tid
        total_repos = g.projects * g.repos
        self.gen_repo_base = base_rid
        for i in range(1, g.projects + 1):
            pub = {"alternate": i % 2 == 1, "all": True, "none": False}[g.public]
            p = self._new_project({
                "project_id": base_pid + i - 1, "name": "%s-p%04d" % (g.prefix, i),
                "owner_name": "admin", "public": pub,
                "creation_time": _GEN_BASE_MS + (i - 1) * 1000})
            p.members["gen-dev"] = 2
            for j in range(1, g.repos + 1):
                gi = (i - 1) * g.repos + (j - 1)
                depth = j % 3
                if depth == 1:
                    short = "r%04d" % j
                elif depth == 2:
                    short = "team%d/r%04d" % (j % 7, j)
                else:
                    short = "org%d/team%d/r%04d" % (j % 5, j % 7, j)
                ctime = _GEN_BASE_MS + 86400000 + (gi // 2) * 60000  # pairs tie: -repository_id decides
                r = self._new_repo(p, short, base_rid + gi, ctime)
                r.arts = None
                r.by_digest = None
                r.tag_index = None
                r.gen = gi
                r.pull_count = gi % 17
            p.resort()
        self.next_pid = base_pid + g.projects
        self.next_rid = base_rid + total_repos
        self.next_aid = self.gen_art_base + total_repos * g.art_stride
        self.next_tid = self.gen_tag_base + total_repos * g.tag_stride
        last = _GEN_BASE_MS + 86400000 + (total_repos // 2 + 1) * 60000 + (g.artifacts + 10) * 1000
        self.max_time = max(self.max_time, last)

    def gen_info(self, r, k):
        """Deterministic parameters of generated artifact k of repository r:
        (push_time, is_index, id, first tag id, tag names in push order).
        Children of an index take the two ids before the index's own id."""
        g = self.gen
        E = g.index_every
        T = max(g.tags, 1)
        ptime = r.creation_time + (k // 2 + 1) * 1000  # pairs tie: -id decides
        is_index = E > 0 and k % E == E - 1
        nidx = k // E if E > 0 else 0
        aid = self.gen_art_base + r.gen * g.art_stride + k + 2 * nidx + (2 if is_index else 0)
        n0 = (k + 9) // 10
        n1 = (k + 8) // 10
        tid = self.gen_tag_base + r.gen * g.tag_stride + n1 * T + (k - n0 - n1)
        if k % 10 == 0 and k != g.artifacts - 1:
            names = []
        elif k % 10 == 1:
            names = ["v%d" % k] + ["v%d-alias%d" % (k, x) for x in range(1, T)]
        else:
            names = ["v%d" % k]
        if k == g.artifacts - 1:
            names.append("latest")
        return ptime, is_index, aid, tid, names

    def gen_json(self, r, k, with_tag):
        """JSON of listed generated artifact k without building objects
        (equal to Artifact.fast_json of the materialised artifact; the
        self-test checks it)."""
        ptime, is_index, aid, tid, names = self.gen_info(r, k)
        name = r.name
        h = hashlib.sha256(("%s#%d" % (name, k)).encode()).hexdigest()
        pt = fmt_time(ptime)
        tm = r.gtmpl  # (image template, tag template)
        if tm is None:
            tm = r.gtmpl = self._gen_templates(r)
        if not is_index:
            if k % 3 == 0:
                mmt, mt = DOCKER_MANIFEST, DOCKER_CONFIG
            else:
                mmt, mt = OCI_MANIFEST, OCI_CONFIG
            head = tm[0] % (h, h, mt, h, fmt_time(ptime - 60000), aid, mmt, mt,
                            fmt_time(ptime + 3600000) if k % 4 == 0 else ZERO_TIME, pt, 2000 + int(h[:5], 16))
            if with_tag and names:
                tt = tm[1]
                return head + ',"tags":[' + ",".join(
                    [tt % (aid, tid + x, _js(names[x]), fmt_time(ptime + x * 1000))
                     for x in range(len(names) - 1, -1, -1)]) + '],"type":"IMAGE"}'
            return head + ',"type":"IMAGE"}'
        pre = r.links_prefix()
        if is_index:
            refs = []
            total = 300
            for i, arch in enumerate(("amd64", "arm64")):
                ch = hashlib.sha256(("%s#%d/%s" % (name, k, arch)).encode()).hexdigest()
                total += 1000 + int(ch[:4], 16)
                refs.append('{"child_digest":"sha256:%s","child_id":%d,"parent_id":%d,'
                            '"platform":{"architecture":"%s","os":"linux"}}' % (ch, aid - 2 + i, aid, arch))
            head = ('{"addition_links":{"vulnerabilities":{"absolute":false,"href":%s}},'
                    '"artifact_type":"%s","digest":"sha256:%s","id":%d,"manifest_media_type":"%s",'
                    '"media_type":"%s","project_id":%d,"pull_time":"%s","push_time":"%s",'
                    '"references":[%s],"repository_id":%d,"repository_name":%s,"size":%d'
                    % (_js(pre + "sha256:" + h + "/additions/vulnerabilities"), OCI_INDEX, h, aid,
                       OCI_INDEX, OCI_INDEX, r.project.id, ZERO_TIME, pt, ",".join(refs), r.id,
                       _js(name), total))
        else:
            if k % 3 == 0:
                mmt, mt = DOCKER_MANIFEST, DOCKER_CONFIG
            else:
                mmt, mt = OCI_MANIFEST, OCI_CONFIG
            pull = fmt_time(ptime + 3600000) if k % 4 == 0 else ZERO_TIME
            head = ('{"addition_links":{"build_history":{"absolute":false,"href":%s},'
                    '"vulnerabilities":{"absolute":false,"href":%s}},"artifact_type":"%s",'
                    '"digest":"sha256:%s","extra_attrs":{"architecture":"amd64","author":"gen",'
                    '"created":"%s","os":"linux"},"id":%d,"manifest_media_type":"%s","media_type":"%s",'
                    '"project_id":%d,"pull_time":"%s","push_time":"%s","repository_id":%d,'
                    '"repository_name":%s,"size":%d'
                    % (_js(pre + "sha256:" + h + "/additions/build_history"),
                       _js(pre + "sha256:" + h + "/additions/vulnerabilities"), mt, h,
                       fmt_time(ptime - 60000), aid, mmt, mt, r.project.id, pull, pt, r.id, _js(name),
                       2000 + int(h[:5], 16)))
        if with_tag and names:
            tl = []
            for x in range(len(names) - 1, -1, -1):  # -push_time
                tl.append('{"artifact_id":%d,"id":%d,"immutable":false,"name":%s,"pull_time":"%s",'
                          '"push_time":"%s","repository_id":%d}'
                          % (aid, tid + x, _js(names[x]), ZERO_TIME, fmt_time(ptime + x * 1000), r.id))
            return head + ',"tags":[' + ",".join(tl) + '],"type":"IMAGE"}'
        return head + ',"type":"IMAGE"}'

    @staticmethod
    def _gen_templates(r):
        pre = _js(r.links_prefix())[1:-1].replace("%", "%%")
        img = ('{"addition_links":{"build_history":{"absolute":false,"href":"' + pre +
               'sha256:%s/additions/build_history"},"vulnerabilities":{"absolute":false,"href":"' + pre +
               'sha256:%s/additions/vulnerabilities"}},"artifact_type":"%s","digest":"sha256:%s",'
               '"extra_attrs":{"architecture":"amd64","author":"gen","created":"%s","os":"linux"},"id":%d,'
               '"manifest_media_type":"%s","media_type":"%s","project_id":' + str(r.project.id) +
               ',"pull_time":"%s","push_time":"%s","repository_id":' + str(r.id) +
               ',"repository_name":' + _js(r.name).replace("%", "%%") + ',"size":%d')
        tag = ('{"artifact_id":%d,"id":%d,"immutable":false,"name":%s,"pull_time":"' + ZERO_TIME +
               '","push_time":"%s","repository_id":' + str(r.id) + '}')
        return img, tag

    def gen_page(self, r, page, size, with_tag):
        """Default-order page of a clean, not materialised generated
        repository: newest first means k = K-1, K-2, ...; cached."""
        key = (r.id, page, size, with_tag)
        body = self.page_cache.get(key)
        if body is None:
            K = self.gen.artifacts
            ks = page_slice(range(K - 1, -1, -1), page, size)
            body = ("[" + ",".join([self.gen_json(r, k, with_tag) for k in ks]) + "]\n").encode()
            pc = self.page_cache
            pc[key] = body
            self.page_cache_bytes += len(body)
            while self.page_cache_bytes > 32 << 20:
                self.page_cache_bytes -= len(pc.popitem(last=False)[1])
        return body

    def _materialize(self, r):
        """Build the generated artifacts of one repository as objects (for
        queries, pushes and lookups); parameters come from gen_info."""
        arts = r.arts = []
        by_digest = r.by_digest = {}
        tag_index = r.tag_index = {}
        name = r.name
        sha = hashlib.sha256
        new = Artifact.__new__

        def mk(aid, digest, mmt, mt, size, ptime, pull, extra_json):
            a = new(Artifact)
            a.id = aid
            a.repo = r
            a.digest = digest
            a.type = "IMAGE"
            a.manifest_media_type = mmt
            a.media_type = a.artifact_type = mt
            a.size = size
            a.icon = ""
            a.push_time = ptime
            a.pull_time = pull
            a.extra_attrs = a.annotations = a.labels = a.scan_overview = a.sbom_overview = None
            a.extra_json = extra_json
            a.refs = []
            a.tags = []
            a.parents = 0
            a.accessory_of = a.accessory_type = None
            a.accessories = []
            a.jcache = {}
            arts.append(a)
            by_digest[digest] = a
            return a

        for k in range(self.gen.artifacts):
            ptime, is_index, aid, tid, names = self.gen_info(r, k)
            h = sha(("%s#%d" % (name, k)).encode()).hexdigest()
            if is_index:
                refs = []
                total = 300
                for i, arch in enumerate(("amd64", "arm64")):
                    ch = sha(("%s#%d/%s" % (name, k, arch)).encode()).hexdigest()
                    size = 1000 + int(ch[:4], 16)
                    total += size
                    c = mk(aid - 2 + i, "sha256:" + ch, OCI_MANIFEST, OCI_CONFIG, size, ptime, None,
                           '{"architecture":"%s","os":"linux"}' % arch)
                    c.parents = 1
                    refs.append({"child_digest": c.digest, "child_id": c.id,
                                 "platform": {"architecture": arch, "os": "linux"}})
                a = mk(aid, "sha256:" + h, OCI_INDEX, OCI_INDEX, total, ptime, None, None)
                a.refs = refs
            else:
                if k % 3 == 0:
                    mmt, mt = DOCKER_MANIFEST, DOCKER_CONFIG
                else:
                    mmt, mt = OCI_MANIFEST, OCI_CONFIG
                a = mk(aid, "sha256:" + h, mmt, mt, 2000 + int(h[:5], 16), ptime,
                       ptime + 3600000 if k % 4 == 0 else None,
                       '{"architecture":"amd64","author":"gen","created":"%s","os":"linux"}'
                       % fmt_time(ptime - 60000))
            tl = a.tags
            for x in range(len(names) - 1, -1, -1):  # -push_time
                t = Tag()
                t.id = tid + x
                t.name = names[x]
                t.push_time = ptime + x * 1000
                t.pull_time = None
                t.immutable = False
                t.artifact = a
                tl.append(t)
                tag_index[t.name] = t

    def _evict(self, r):
        """Drop a clean generated repository; break the artifact<->tag and
        repo<->artifact cycles so reference counting frees everything."""
        for a in r.arts or ():
            for t in a.tags:
                t.artifact = None
            a.tags = None
            a.accessories = None
            a.repo = None
            a.jcache = None
        r.arts = None
        r.by_digest = None
        r.tag_index = None
        r.cache = {}
        r.project.cache = {}

    def ensure(self, r):
        if r.arts is None:
            self._materialize(r)
        if r.gen is not None and not r.dirty:
            lru = self.lru
            if r.id in lru:
                lru.move_to_end(r.id)
            else:
                lru[r.id] = r
                while len(lru) > self.gen_cache:
                    _, old = lru.popitem(last=False)
                    self.evict_queue.append(old)
        return r

    def flush_evictions(self):
        """Called between requests, so no object in use is ever evicted."""
        q = self.evict_queue
        self.evict_queue = []
        for r in q:
            if r.id not in self.lru and not r.dirty and r.arts is not None:
                self._evict(r)

    # ---------------- queries
    def listed_sorted(self, r, kw=None, sort=""):
        self.ensure(r)
        key = ("arts", _canon_q(kw) if kw else (), sort)
        lst = r.cache.get(key)
        if lst is None:
            if kw:
                cand = [a for a in r.arts if art_matches(a, kw)]
            else:
                cand = [a for a in r.arts if a.listed]
            lst = apply_sort(cand, parse_sort(sort, ART_SORT), art_default_key, lambda a: -a.id)
            if len(r.cache) > 64:
                r.cache.clear()
            r.cache[key] = lst
        return lst

    def find_artifact(self, r, reference):
        self.ensure(r)
        if ":" in reference:  # a tag cannot contain ':', so this is a digest
            return r.by_digest.get(reference)
        t = r.tag_index.get(reference)
        return t.artifact if t is not None else None

    # ---------------- mutations (push)
    def clock(self):
        now = int(time.time() * 1000)
        self.max_time = max(self.max_time + 1, now)
        return self.max_time

    def touched(self, r):
        r.cache = {}
        r.jcache = None
        r.project.cache = {}
        self.cache = {}
        self.version += 1
        if r.gen is not None:
            r.dirty = True
            self.lru.pop(r.id, None)

    def push(self, spec):
        items = spec if isinstance(spec, list) else (spec.get("items") if "items" in spec else [spec])
        out = [self._push_one(it) for it in items]
        self.push_seq += 1
        return out

    def _ensure_project(self, name, public=False):
        p = self.projects.get(name)
        if p is None:
            t = self.clock()
            p = self._new_project({"name": name, "public": bool(public),
                                   "creation_time": t, "update_time": t})
            self._resort_projects()
            self.version += 1
            self.cache = {}
        return p

    def _push_one(self, it):
        if "repository" in it:
            full = it["repository"]
            pname, _, short = full.partition("/")
            if not short:
                raise ValueError("repository must be the full path project/name")
            p = self._ensure_project(pname, it.get("public", False))
            r = p.repos.get(full)
            created_repo = False
            if r is None:
                t = self.clock()
                r = self._new_repo(p, full, None, t)
                p.resort()
                created_repo = True
            self.ensure(r)
            created = []
            if "tag" in it and "digest" in it:
                a = r.by_digest.get(it["digest"])
                if a is None:
                    raise ValueError("no artifact %s in %s" % (it["digest"], full))
                t = self._add_tag(r, a, it["tag"], None, self.clock())
                a.sort_tags()
                r.update_time = t.push_time
                self._link(r)
                self.touched(r)
                return {"repository": full, "tag": t.name, "digest": a.digest, "tag_id": t.id}
            arts = it.get("artifacts")
            if arts is None:
                n = int(it.get("count", 1))
                arts = []
                for i in range(n):
                    seq = self.next_aid + i  # the ids the artifacts will get, one tag each
                    tags = it.get("tags") if (n == 1 and "tags" in it) else ["%s%d" % (it.get("tag_prefix", "pushed-"), seq)]
                    arts.append({"tags": tags, "size": 4096 + seq % 1000,
                                 "extra_attrs": {"architecture": "amd64", "os": "linux"}})
            for ad in arts:
                ad = dict(ad)
                t = self.clock()
                ad.setdefault("push_time", t)
                tags = ad.get("tags") or []
                ad["tags"] = [({"name": x, "push_time": t} if isinstance(x, str) else x) for x in tags]
                a = self._add_artifact(r, ad, now=t)
                created.append({"id": a.id, "digest": a.digest, "tags": [x.name for x in a.tags],
                                "push_time": fmt_time(a.push_time)})
                r.update_time = a.push_time
            self._link(r)
            self.touched(r)
            return {"repository": full, "repository_id": r.id, "created_repository": created_repo,
                    "artifacts": created}
        if "project" in it:
            p = self._ensure_project(it["project"], it.get("public", False))
            out = {"project": p.name, "project_id": p.id, "repositories": []}
            for _ in range(int(it.get("new_repositories", 0))):
                name = "%s/%s%d" % (p.name, it.get("repo_prefix", "pushed-repo-"), self.next_rid)
                res = self._push_one({"repository": name, "count": int(it.get("artifacts_per_repo", 1))})
                out["repositories"].append(res)
            return out
        raise ValueError("push item needs 'repository' or 'project'")

    # ---------------- auth (§2.1)
    def authenticate(self, header, path):
        if not header:
            return ANON
        scheme, _, b64 = header.partition(" ")
        if scheme.lower() != "basic":
            return ANON
        try:
            raw = base64.b64decode(b64.strip(), validate=False).decode("utf-8")
        except Exception:
            return ANON
        username, sep, password = raw.partition(":")
        if not sep:
            return ANON
        if username.startswith(self.robot_prefix):
            rb = self.robots.get(username)
            if rb is not None and rb.get("secret") == password and not rb.get("disabled"):
                exp = rb.get("expires_at", -1)
                if exp in (None, -1, 0) or exp > time.time():
                    return Sec("robot", username, robot=rb)
            # fall through: basicAuth tries a user with that name
        u = self.users.get(username)
        if u is None:
            return ANON
        if self.auth_mode == "oidc_auth" and u.get("user_id") != 1:
            if u.get("cli_secret") and u["cli_secret"] == password and oidc_cli_allowed(path):
                return Sec("user", username, user=u)
            return ANON
        if u.get("password") is not None and u.get("password") == password:
            return Sec("user", username, user=u)
        return ANON


_OIDC_RES = [re.compile(r"^/api/v2\.0/projects/[^/]+/repositories$"),
             re.compile(r"^/api/v2\.0/projects/[^/]+/repositories/.+/artifacts$")]


def oidc_cli_allowed(path):
    p = path.rstrip("/")
    if p in ("/api/v2.0/projects", "/api/v2.0/systeminfo", "/api/version", "/api/v2.0/labels"):
        return True
    return any(r.match(p) for r in _OIDC_RES)


# --------------------------------------------------------------------------
# HTTP plumbing

NGINX_TITLES = {429: "429 Too Many Requests", 502: "502 Bad Gateway",
                503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out",
                500: "500 Internal Server Error"}


def nginx_page(status):
    t = NGINX_TITLES.get(status, "%d %s" % (status, REASONS.get(status, "Error")))
    return ("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n"
            "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n" % (t, t)).encode()


JSON_CT = ("Content-Type", "application/json")
ERR_CT = ("Content-Type", "application/json; charset=utf-8")


def error_resp(e):
    body = go_err_json({"errors": [{"code": e.code, "message": e.message}]}) + "\n"
    return Resp(e.status, [ERR_CT], body.encode("utf-8", "surrogateescape"))


def json_resp(obj, status=200, extra=None):
    h = [JSON_CT]
    if extra:
        h.extend(extra)
    return Resp(status, h, (jdump(obj) + "\n").encode("utf-8", "surrogateescape"))


def internal_error():
    return error_resp(HarborError(500, "UNKNOWN", "internal server error"))


def list_resp(items_bytes, total, link):
    body = b"[" + b",".join(items_bytes) + b"]\n"
    h = [JSON_CT, ("X-Total-Count", str(total))]
    if link:
        h.append(("Link", link))
    return Resp(200, h, body)


# --------------------------------------------------------------------------
# faults

class Rule:
    _ids = 0

    def __init__(self, d):
        Rule._ids += 1
        self.id = Rule._ids
        self.spec = dict(d)
        self.type = str(d.get("type", "500"))
        if self.type not in ("500", "429", "504", "nginx", "slow", "push", "reset"):
            raise ValueError("unknown fault type %r" % self.type)
        self.pattern = d.get("pattern", "") or ""
        self.rx = re.compile(self.pattern)
        self.method = d.get("method")
        self.after = int(d.get("after", 0))
        self.count = int(d.get("count", 1))
        self.every = int(d.get("every", 0) or 0)
        self.delay_ms = float(d.get("delay_ms", 0) or 0)
        self.retry_after = d.get("retry_after", "1")
        self.body = d.get("body", "nginx")
        self.status = int(d.get("status", 504 if self.type in ("504", "nginx") else 0) or 0)
        self.push = d.get("push")
        if self.type == "push" and not self.push:
            raise ValueError("push fault needs a 'push' item")
        self.seen = 0
        self.fired = 0

    @property
    def exhausted(self):
        return self.count >= 0 and self.fired >= self.count

    def to_dict(self):
        d = dict(self.spec)
        d.update({"id": self.id, "seen": self.seen, "fired": self.fired,
                  "remaining": (-1 if self.count < 0 else max(self.count - self.fired, 0))})
        return d


# --------------------------------------------------------------------------
# the application

TRUE_STRINGS = frozenset(["true", "1", "yes", "ok", "y", "on", "selected", "checked", "t", "enabled"])
INT_RE = re.compile(r"[+-]?[0-9]+\Z")
ART_FLAG_NAMES = ("with_tag", "with_label", "with_accessory", "with_scan_overview",
                  "with_sbom_overview", "with_immutable_status")


class Params:
    __slots__ = ("first", "errs")

    def __init__(self, raw_query):
        self.first = {}
        for k, v in go_parse_query(raw_query):
            if k not in self.first:
                self.first[k] = v
        self.errs = []

    def int64(self, name, default, maximum=None):
        raw = self.first.get(name)
        if raw is None or raw == "":
            return default
        if not INT_RE.match(raw) or not (-(1 << 63) <= int(raw) < (1 << 63)):
            self.errs.append('%s in query must be of type int64: %s' % (name, json.dumps(raw)))
            return default
        v = int(raw)
        if maximum is not None and v > maximum:
            self.errs.append("%s in query should be less than or equal to %d" % (name, maximum))
        return v

    def boolean(self, name, default):
        raw = self.first.get(name)
        if raw is None or raw == "":
            return default
        return raw.lower() in TRUE_STRINGS

    def opt_bool(self, name):
        raw = self.first.get(name)
        if raw is None or raw == "":
            return None
        return raw.lower() in TRUE_STRINGS

    def string(self, name):
        return self.first.get(name)

    def check(self):
        if self.errs:
            raise HarborError(422, "UNPROCESSABLE_ENTITY",
                              "validation failure list:\n" + "\n".join(self.errs))

    def paging(self):
        page = self.int64("page", 1)
        size = self.int64("page_size", 10, 100)
        return page, size


def page_slice(lst, page, size):
    """Harbor ORM: LIMIT only when page_size > 0, OFFSET only when page > 0."""
    if size <= 0:
        return lst
    off = size * (page - 1) if page > 0 else 0
    return lst[off:off + size]


class App:
    def __init__(self, dataset, gen_spec, gen_cache, faults, api_version_404, proxy_timeout_ms):
        self.dataset = dataset
        self.gen_spec = gen_spec
        self.gen_cache = gen_cache
        self.init_faults = faults
        self.init_api404 = api_version_404
        self.init_proxy_timeout = proxy_timeout_ms
        self.port = 0
        self.reset()

    def reset(self):
        self.store = Store(self.dataset, GenSpec(self.gen_spec) if self.gen_spec else None, self.gen_cache)
        self.rules = []
        self.stats_total = 0
        self.stats_paths = {}
        self.stats_status = {}
        self.api_version_404 = self.init_api404 or self.store.api_version_404
        self.proxy_timeout_ms = self.init_proxy_timeout
        self.unhealthy = []
        self.auth_cache = {}
        self.add_faults(self.init_faults)

    def add_faults(self, spec, replace=False):
        if spec is None:
            return []
        if isinstance(spec, dict) and "rules" in spec:
            replace = replace or bool(spec.get("replace"))
            if "proxy_read_timeout_ms" in spec:
                self.proxy_timeout_ms = float(spec["proxy_read_timeout_ms"])
            spec = spec["rules"]
        if isinstance(spec, dict):
            spec = [spec]
        new = [Rule(d) for d in spec]
        if replace:
            self.rules = []
        self.rules.extend(new)
        return new

    # ---------------- entry point
    def handle(self, method, target, headers, body):
        path, _, query = target.partition("?")
        if self.store.evict_queue:
            self.store.flush_evictions()
        if path.startswith("/_emulator/") or path == "/_emulator":
            return self.control(method, path, query, body)
        self.stats_total += 1
        self.stats_paths[path] = self.stats_paths.get(path, 0) + 1
        delay = 0.0
        after_push = []
        terminal = None
        if self.rules:
            for rule in self.rules:
                if rule.exhausted:
                    continue
                if rule.method and rule.method.upper() != method.upper():
                    continue
                if not rule.rx.search(target):
                    continue
                rule.seen += 1
                if rule.type == "push":
                    if rule.seen < max(rule.after, 1):
                        continue
                    step = rule.every or 0
                    due = rule.seen == max(rule.after, 1) or (
                        step > 0 and (rule.seen - max(rule.after, 1)) % step == 0)
                    if due:
                        rule.fired += 1
                        after_push.append(rule.push)
                    continue
                if rule.seen <= rule.after:
                    continue
                rule.fired += 1
                if rule.type == "slow":
                    delay += rule.delay_ms
                    continue
                terminal = rule
                break
        if terminal is not None:
            res = self.fault_response(terminal)
            d = terminal.delay_ms if terminal.type in ("504", "nginx", "500", "429") else 0
            total_delay = delay + d
            if self.proxy_timeout_ms and total_delay >= self.proxy_timeout_ms:
                res = Resp(504, [("Content-Type", "text/html"), ("Server", "nginx")], nginx_page(504))
                total_delay = self.proxy_timeout_ms
            return self._finish(res, total_delay, after_push)
        if delay and self.proxy_timeout_ms and delay >= self.proxy_timeout_ms:
            res = Resp(504, [("Content-Type", "text/html"), ("Server", "nginx")], nginx_page(504))
            return self._finish(res, self.proxy_timeout_ms, after_push)
        if delay:
            def later():
                r = self.harbor(method, path, query, headers)
                self._apply_pushes(after_push)
                self._count_status(r.status)
                return r
            return Delayed(delay / 1000.0, later)
        res = self.harbor(method, path, query, headers)
        self._count_status(res.status)
        if after_push:
            self._apply_pushes(after_push)
        return res

    def _finish(self, res, delay_ms, after_push):
        self._count_status(res.status)
        if delay_ms:
            def later():
                self._apply_pushes(after_push)
                return res
            return Delayed(delay_ms / 1000.0, later)
        self._apply_pushes(after_push)
        return res

    def _count_status(self, st):
        self.stats_status[st] = self.stats_status.get(st, 0) + 1

    def _apply_pushes(self, pushes):
        for p in pushes:
            try:
                self.store.push(p)
            except Exception as e:
                sys.stderr.write("harbor_emulator: push fault failed: %r\n" % (e,))

    def fault_response(self, rule):
        t = rule.type
        if t == "500":
            return error_resp(HarborError(500, "UNKNOWN", "internal server error"))
        if t == "429":
            h = [("Retry-After", str(rule.retry_after))] if rule.retry_after not in (None, "") else []
            if rule.body == "json":
                return Resp(429, [JSON_CT] + h, b'{"message":"Too Many Requests"}\n')
            if rule.body == "text":
                return Resp(429, [("Content-Type", "text/plain; charset=utf-8")] + h, b"Too Many Requests\n")
            return Resp(429, [("Content-Type", "text/html"), ("Server", "nginx")] + h, nginx_page(429))
        if t in ("504", "nginx"):
            st = rule.status or 504
            return Resp(st, [("Content-Type", "text/html"), ("Server", "nginx")], nginx_page(st))
        if t == "reset":
            return Resp(0, [], b"", abort=True)
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
                                  "faults": [r.to_dict() for r in self.rules],
                                  "pushes": self.store.push_seq})
            if path == "/_emulator/stats/reset" and method == "POST" or (
                    path == "/_emulator/stats" and method == "DELETE"):
                self.stats_total = 0
                self.stats_paths = {}
                self.stats_status = {}
                return json_resp({"ok": True})
            if path == "/_emulator/faults":
                if method == "GET":
                    return json_resp([r.to_dict() for r in self.rules])
                if method == "DELETE":
                    self.rules = []
                    return json_resp({"ok": True})
                if method == "POST":
                    new = self.add_faults(data if data is not None else [])
                    return json_resp([r.to_dict() for r in new])
            if path == "/_emulator/push" and method == "POST":
                return json_resp(self.store.push(data))
            if path == "/_emulator/config":
                if method == "POST" and isinstance(data, dict):
                    if "api_version_404" in data:
                        self.api_version_404 = bool(data["api_version_404"])
                    if "proxy_read_timeout_ms" in data:
                        self.proxy_timeout_ms = float(data["proxy_read_timeout_ms"] or 0)
                    if "unhealthy" in data:
                        self.unhealthy = list(data["unhealthy"] or [])
                return json_resp({"api_version_404": self.api_version_404,
                                  "proxy_read_timeout_ms": self.proxy_timeout_ms,
                                  "unhealthy": self.unhealthy, "port": self.port})
            if path == "/_emulator/reset" and method == "POST":
                self.reset()
                return json_resp({"ok": True})
            if path == "/_emulator/inventory" and method == "GET":
                return json_resp(self.inventory(Params(query).boolean("children", False)))
        except (ValueError, KeyError, TypeError, re.error) as e:
            return json_resp({"error": str(e)}, 400)
        return json_resp({"error": "unknown control endpoint %s %s" % (method, path)}, 404)

    def inventory(self, children):
        out = []
        s = self.store
        for p in s.projects_sorted:
            for r in sorted(p.repos.values(), key=lambda x: x.name):
                s.ensure(r)
                for a in r.arts:
                    if not (a.listed or (children and a.accessory_of is None)):
                        continue
                    out.append({"repository": r.name, "digest": a.digest, "id": a.id,
                                "tags": sorted(t.name for t in a.tags), "type": a.type,
                                "media_type": a.manifest_media_type, "size": a.size,
                                "push_time": fmt_time(a.push_time), "listed": a.listed})
        out.sort(key=lambda x: (x["repository"], x["digest"]))
        return out

    # ---------------- Harbor
    def auth(self, headers, dpath):
        h = headers.get("authorization")
        if not h:
            return ANON
        oidc = self.store.auth_mode == "oidc_auth"
        key = (h, oidc_cli_allowed(dpath)) if oidc else h
        sec = self.auth_cache.get(key)
        if sec is None:
            sec = self.store.authenticate(h, dpath)
            if len(self.auth_cache) > 4096:
                self.auth_cache.clear()
            self.auth_cache[key] = sec
        return sec

    def harbor(self, method, path, query, headers):
        try:
            return self._harbor(method, path, query, headers)
        except HarborError as e:
            return error_resp(e)

    def _harbor(self, method, raw_path, query, headers):
        dpath = go_unescape(raw_path, False)  # the reverse proxy / router decodes once (§1.5)
        if dpath is None:
            return Resp(400, [("Content-Type", "text/plain; charset=utf-8")], b"400 Bad Request")
        cpath = go_path_clean(dpath)
        segs = cpath.split("/")[1:]
        route = self.route(segs)
        if route is None:
            raise err_not_found("path %s was not found" % quote(cpath, safe="/:@!$&'()*+,;=-._~"))
        if method != "GET":
            raise HarborError(405, "METHOD_NOT_ALLOWED",
                              "method %s is not allowed, but [GET] are" % method)
        name, args = route
        sec = self.auth(headers, cpath)
        return getattr(self, "h_" + name)(sec, args, Params(query), raw_path, query, headers)

    @staticmethod
    def route(segs):
        def param(s):
            v = go_unescape(s, False)  # the router unescapes path params once
            return s if v is None else v
        n = len(segs)
        if n == 2 and segs[0] == "api" and segs[1] == "version":
            return ("version", ())
        if n < 3 or segs[0] != "api" or segs[1] != "v2.0":
            return None
        r = segs[2:]
        n = len(r)
        if n == 1 and r[0] in ("ping", "health", "systeminfo", "projects", "repositories"):
            return (r[0], ())
        if r[0] == "users" and n >= 2 and r[1] == "current":
            if n == 2:
                return ("current_user", ())
            if n == 3 and r[2] == "permissions":
                return ("current_permissions", ())
            return None
        if r[0] != "projects" or n < 2 or r[1] == "":
            return None
        p = param(r[1])
        if n == 2:
            return ("project", (p,))
        if n == 3 and r[2] == "artifacts":
            return ("project_artifacts", (p,))
        if r[2] != "repositories":
            return None
        if n == 3:
            return ("repositories_of", (p,))
        if r[3] == "":
            return None
        repo = param(r[3])
        repo2 = go_unescape(repo, False)  # handler: unescapePathParams (§1.5)
        if repo2 is None:
            raise err_bad_request("invalid repository name %s" % repo)
        if n == 4:
            return ("repository", (p, repo2))
        if r[4] != "artifacts":
            return None
        if n == 5:
            return ("artifacts", (p, repo2))
        ref = param(r[5])
        if n == 6 and ref:
            return ("artifact", (p, repo2, ref))
        if n == 7 and r[6] == "tags" and ref:
            return ("tags", (p, repo2, ref))
        return None

    def project_access(self, sec, name_or_id, perm, headers=None, by_id_ok=False):
        """BaseAPI.RequireProjectAccess with the reference's outcome for a
        missing project (§1.2): 404 to a system admin, 401 anonymous, 403 others."""
        s = self.store
        p = None
        if by_id_ok and INT_RE.match(name_or_id) and not (
                headers and headers.get("x-is-resource-name", "").lower() == "true"):
            p = s.projects_by_id.get(int(name_or_id))
        else:
            p = s.projects.get(name_or_id)
        if p is None:
            if not sec.authenticated:
                raise err_unauthorized()
            if sec.sysadmin:
                raise err_not_found("project %s not found" % name_or_id)
            raise err_forbidden()
        if perm not in sec.perms(p):
            if not sec.authenticated:
                raise err_unauthorized()
            raise err_forbidden()
        return p

    # -- unauthenticated endpoints
    def h_version(self, sec, args, prm, raw_path, query, headers):
        if self.api_version_404:
            raise err_not_found("path /api/version was not found")
        return json_resp({"version": "v2.0"})

    def h_ping(self, sec, args, prm, raw_path, query, headers):
        return Resp(200, [("Content-Type", "text/plain; charset=utf-8")], b"Pong")

    def h_health(self, sec, args, prm, raw_path, query, headers):
        comps = []
        for c in ("core", "database", "jobservice", "portal", "redis", "registry", "registryctl", "trivy"):
            if c in self.unhealthy:
                comps.append({"name": c, "status": "unhealthy", "error": "failed to connect to %s" % c})
            else:
                comps.append({"name": c, "status": "healthy"})
        st = "unhealthy" if self.unhealthy else "healthy"
        return json_resp({"status": st, "components": comps})

    def h_systeminfo(self, sec, args, prm, raw_path, query, headers):
        s = self.store
        d = {"auth_mode": s.auth_mode, "primary_auth_mode": False, "self_registration": False,
             "banner_message": ""}
        if s.auth_mode == "oidc_auth":
            d["oidc_provider_name"] = "emulated-oidc"
        if sec.authenticated:  # §2.3: protected info only when authenticated
            ext = s.external_url or "http://127.0.0.1:%d" % self.port
            d.update({"harbor_version": s.harbor_version, "external_url": ext,
                      "registry_url": s.registry_url or ext.split("://", 1)[-1],
                      "current_time": fmt_time(int(time.time() * 1000)), "read_only": False,
                      "has_ca_root": False, "notification_enable": True,
                      "project_creation_restriction": "everyone",
                      "registry_storage_provider_name": "filesystem"})
        return json_resp(d)

    # -- users
    def h_current_user(self, sec, args, prm, raw_path, query, headers):
        if not sec.authenticated:
            raise err_unauthorized()
        if sec.kind != "user":
            raise HarborError(412, "PRECONDITION",
                              "get current user not available for security context: %s" % sec.kind)
        u = sec.user
        d = {"user_id": u["user_id"], "username": u["username"], "sysadmin_flag": bool(u.get("sysadmin_flag")),
             "admin_role_in_auth": False,
             "creation_time": fmt_time(parse_time(u.get("creation_time")) or _GEN_BASE_MS),
             "update_time": fmt_time(parse_time(u.get("update_time")) or _GEN_BASE_MS)}
        for k in ("email", "realname", "comment"):
            if u.get(k):
                d[k] = u[k]
        return json_resp(d)

    def h_current_permissions(self, sec, args, prm, raw_path, query, headers):
        if not sec.authenticated:
            raise err_unauthorized()
        scope = prm.string("scope") or "/"
        relative = prm.boolean("relative", False)
        out = []
        m = re.fullmatch(r"/project/(\d+)", scope)
        if m:
            p = self.store.projects_by_id.get(int(m.group(1)))
            if p is not None:
                for perm in sorted(sec.perms(p)):
                    res, _, act = perm.partition(":")
                    out.append({"resource": res if relative else "%s/%s" % (scope, res), "action": act})
        elif sec.sysadmin:
            for res, act in (("project", "create"), ("project", "list"), ("repository", "list"),
                             ("artifact", "list"), ("user", "list")):
                out.append({"resource": res if relative else "/system/" + res, "action": act})
        return json_resp(out)

    # -- projects
    def h_projects(self, sec, args, prm, raw_path, query, headers):
        page, size = prm.paging()
        public = prm.opt_bool("public")
        with_detail = prm.boolean("with_detail", True)
        prm.check()
        kw = parse_q(prm.string("q"))
        name = prm.string("name")
        owner = prm.string("owner")
        sort = prm.string("sort") or ""
        s = self.store
        if not sec.authenticated and public is False:
            return list_resp([], 0, None)
        key = ("projects", sec.key, public, name, owner, _canon_q(kw), sort)
        lst = s.cache.get(key)
        if lst is None:
            cand = []
            for p in s.projects_sorted:
                if not sec.authenticated:
                    if not p.public:
                        continue
                elif sec.sysadmin or sec.cover_all:
                    pass
                elif sec.kind == "user":
                    if not (p.members.get(sec.name) or (p.public and public is not False)):
                        continue
                elif sec.kind == "robot":
                    if not (p.name in sec.robot_perms or (p.public and public is not False)):
                        continue
                if public is not None and p.public != public:
                    continue
                if name and name.lower() not in p.name.lower():
                    continue
                if owner and p.owner_name != owner:
                    continue
                ok = True
                for k, cond in kw.items():
                    if k == "name":
                        ok = match_field(cond, p.name)
                    elif k == "project_id":
                        ok = match_field(cond, p.id)
                    elif k == "owner":
                        ok = match_field(cond, p.owner_name)
                    elif k == "public":
                        ok = match_field(("eq", "true" if cond[1] in ("true", "1") else "false"),
                                         p.metadata.get("public"))
                    elif k == "registry_id":
                        ok = match_field(cond, p.registry_id)
                    if not ok:
                        break
                if ok:
                    cand.append(p)
            lst = apply_sort(cand, parse_sort(sort, PROJ_SORT), lambda p: p.name, lambda p: p.id)
            s.cache[key] = lst
        items = [self.project_json(p, sec, with_detail) for p in page_slice(lst, page, size)]
        return list_resp(items, len(lst), harbor_links(raw_path, query, len(lst), page, size))

    def project_json(self, p, sec, with_detail):
        roles = tuple(sec.roles(p))
        key = ("pj", roles, with_detail)
        b = p.cache.get(key)
        if b is None:
            b = jdump(p.to_dict(sec, with_detail)).encode("utf-8")
            p.cache[key] = b
        return b

    def h_project(self, sec, args, prm, raw_path, query, headers):
        p = self.project_access(sec, args[0], "project:read", headers, by_id_ok=True)
        return Resp(200, [JSON_CT], self.project_json(p, sec, True) + b"\n")

    # -- repositories
    def repo_filter(self, repos, kw, sort):
        if kw:
            out = []
            for r in repos:
                ok = True
                for k, cond in kw.items():
                    if k == "name":
                        ok = match_field(cond, r.name)
                    elif k in ("id", "repository_id"):
                        ok = match_field(cond, r.id)
                    elif k == "project_id":
                        ok = match_field(cond, r.project.id)
                    elif k in ("creation_time", "update_time"):
                        ok = match_field(cond, getattr(r, k), True)
                    if not ok:
                        break
                if ok:
                    out.append(r)
            repos = out
        sorts = parse_sort(sort, REPO_SORT)
        if sorts:
            return apply_sort(repos, sorts, None, lambda r: -r.id)
        if kw:
            return repos  # input already in default order
        return repos

    def h_repositories_of(self, sec, args, prm, raw_path, query, headers):
        page, size = prm.paging()
        prm.check()
        p = self.project_access(sec, args[0], "repository:list")
        kw = parse_q(prm.string("q"))
        sort = prm.string("sort") or ""
        if not kw and not sort:
            lst = p.repos_sorted
        else:
            key = ("repos", _canon_q(kw), sort)
            lst = p.cache.get(key)
            if lst is None:
                lst = self.repo_filter(p.repos_sorted, kw, sort)
                p.cache[key] = lst
        items = [r.to_json(self.store) for r in page_slice(lst, page, size)]
        return list_resp(items, len(lst), harbor_links(raw_path, query, len(lst), page, size))

    def h_repositories(self, sec, args, prm, raw_path, query, headers):
        page, size = prm.paging()
        prm.check()
        kw = parse_q(prm.string("q"))
        sort = prm.string("sort") or ""
        s = self.store
        key = ("allrepos", sec.key, _canon_q(kw), sort)
        lst = s.cache.get(key)
        if lst is None:
            repos = []
            for p in s.projects_sorted:
                if sec.sysadmin or "repository:list" in sec.perms(p):
                    repos.extend(p.repos.values())
            repos.sort(key=lambda r: (-(r.creation_time or 0), -r.id))
            lst = self.repo_filter(repos, kw, sort)
            if len(s.cache) > 256:
                s.cache.clear()
            s.cache[key] = lst
        items = [r.to_json(s) for r in page_slice(lst, page, size)]
        return list_resp(items, len(lst), harbor_links(raw_path, query, len(lst), page, size))

    def h_repository(self, sec, args, prm, raw_path, query, headers):
        p = self.project_access(sec, args[0], "repository:read")
        full = "%s/%s" % (p.name, args[1])
        r = p.repos.get(full)
        if r is None:
            raise err_not_found("repository %s not found" % full)
        return Resp(200, [JSON_CT], r.to_json(self.store) + b"\n")

    # -- artifacts
    @staticmethod
    def art_flags(prm):
        return (prm.boolean("with_tag", True), prm.boolean("with_label", False),
                prm.boolean("with_accessory", False), prm.boolean("with_scan_overview", False),
                prm.boolean("with_sbom_overview", False), prm.boolean("with_immutable_status", False))

    def h_artifacts(self, sec, args, prm, raw_path, query, headers):
        page, size = prm.paging()
        flags = self.art_flags(prm)
        prm.check()
        p = self.project_access(sec, args[0], "artifact:list")
        kw = parse_q(prm.string("q"))
        check_art_kw(kw)
        sort = prm.string("sort") or ""
        r = p.repos.get("%s/%s" % (p.name, args[1]))
        if r is None:  # §1.2: listed by name, no lookup -> 200 [] X-Total-Count 0
            return list_resp([], 0, None)
        if r.gen is not None and r.arts is None and not r.dirty and not kw and not sort:
            total = self.store.gen.artifacts
            h = [JSON_CT, ("X-Total-Count", str(total))]
            link = harbor_links(raw_path, query, total, page, size)
            if link:
                h.append(("Link", link))
            return Resp(200, h, self.store.gen_page(r, page, size, flags[0]))
        lst = self.store.listed_sorted(r, kw, sort)
        items = [a.to_json(flags) for a in page_slice(lst, page, size)]
        return list_resp(items, len(lst), harbor_links(raw_path, query, len(lst), page, size))

    def h_project_artifacts(self, sec, args, prm, raw_path, query, headers):
        page, size = prm.paging()
        flags = self.art_flags(prm)
        latest = prm.boolean("latest_in_repository", False)
        prm.check()
        if not sec.authenticated:  # §1.2: requires authentication even for public projects
            raise err_unauthorized()
        p = self.project_access(sec, args[0], "artifact:list", headers, by_id_ok=True)
        kw = parse_q(prm.string("q"))
        check_art_kw(kw)
        sort = prm.string("sort") or ""
        key = ("parts", _canon_q(kw), sort, latest)
        lst = p.cache.get(key)
        if lst is None:
            allarts = []
            for r in p.repos_sorted:
                rl = self.store.listed_sorted(r, kw)
                if latest:
                    if rl:
                        allarts.append(rl[0])
                else:
                    allarts.extend(rl)
            lst = apply_sort(allarts, parse_sort(sort, ART_SORT), art_default_key, lambda a: -a.id)
            p.cache[key] = lst
        items = [a.to_json(flags) for a in page_slice(lst, page, size)]
        return list_resp(items, len(lst), harbor_links(raw_path, query, len(lst), page, size))

    def _lookup_artifact(self, p, short, ref):
        full = "%s/%s" % (p.name, short)
        r = p.repos.get(full)
        if r is None:
            raise err_not_found("repository %s not found" % full)
        a = self.store.find_artifact(r, ref)
        if a is None:
            if ":" in ref:
                raise err_not_found("artifact %s@%s not found" % (full, ref))
            raise err_not_found("artifact %s:%s not found" % (full, ref))
        return a

    def h_artifact(self, sec, args, prm, raw_path, query, headers):
        flags = self.art_flags(prm)
        prm.check()
        p = self.project_access(sec, args[0], "artifact:read")
        a = self._lookup_artifact(p, args[1], args[2])
        return Resp(200, [JSON_CT], a.to_json(flags) + b"\n")

    def h_tags(self, sec, args, prm, raw_path, query, headers):
        page, size = prm.paging()
        with_imm = prm.boolean("with_immutable_status", False)
        prm.check()
        p = self.project_access(sec, args[0], "tag:list")
        kw = parse_q(prm.string("q"))
        sort = prm.string("sort") or ""
        a = self._lookup_artifact(p, args[1], args[2])
        tags = a.tags  # already in -push_time,-id order
        if kw:
            out = []
            for t in tags:
                ok = True
                for k, cond in kw.items():
                    if k == "name":
                        ok = match_field(cond, t.name)
                    elif k == "id":
                        ok = match_field(cond, t.id)
                    elif k in ("push_time", "pull_time"):
                        ok = match_field(cond, getattr(t, k), True)
                    if not ok:
                        break
                if ok:
                    out.append(t)
            tags = out
        sorts = parse_sort(sort, TAG_SORT)
        if sorts:
            tags = apply_sort(tags, sorts, None, lambda t: -t.id)
        items = [jdump(t.to_dict(with_imm)).encode("utf-8") for t in page_slice(tags, page, size)]
        return list_resp(items, len(tags), harbor_links(raw_path, query, len(tags), page, size))


# --------------------------------------------------------------------------
# main

def main(argv=None):
    ap = arg_parser("harbor_emulator.py", __doc__)
    ap.add_argument("--api-version-404", action="store_true",
                    help="answer GET /api/version with 404 like Harbor 1.x")
    ap.add_argument("--proxy-read-timeout-ms", type=float, default=60000,
                    help="emulated nginx proxy_read_timeout for slow faults (0 = none)")
    ap.add_argument("--gen-cache-repos", type=int, default=1024,
                    help="generated repositories kept materialised (LRU)")
    ap.add_argument("--dump-inventory", metavar="FILE",
                    help="write the inventory (as GET /_emulator/inventory?children=1) and exit")
    a, dataset = parse_args(ap, argv)
    try:
        app = App(dataset, a.generate, a.gen_cache_repos, load_json_arg(a.faults),
                  a.api_version_404, a.proxy_read_timeout_ms)
    except (ValueError, KeyError, TypeError, re.error) as e:
        ap.error("bad dataset, --generate or --faults: %s" % (e,))
    # long-lived dataset objects never need the cyclic GC; evictions break
    # their own cycles, so young-generation collections can be rare
    gc.collect()
    gc.freeze()
    gc.set_threshold(200000, 50, 1000)
    if a.dump_inventory:
        with open(a.dump_inventory, "w", encoding="utf-8") as f:
            json.dump(app.inventory(True), f, indent=1)
        return 0
    if a.log:
        log_requests(app)
    return serve(lambda: HttpProtocol(app, "harbor_emulator", internal_error, echo_request_id=True), app, a.port, a.port_file, a.max_seconds)


if __name__ == "__main__":
    sys.exit(main())
