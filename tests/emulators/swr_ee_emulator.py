#!/usr/bin/env python3
"""Huawei Cloud SWR Enterprise Edition (API v2, §2) + IAM emulator for libimgsync's tests.

Spec: /work/shared/reference/swr-jfrog-oci-api.md ("the reference"), §2 (SWR EE) and §3
(IAM token, AK/SK signing).  Python 3 standard library only.  IAM, the AK/SK verifier, the
token store, stats, leak checks and the fault/throttle plumbing are swr_emulator.py's
(imported; this file's App is a subclass that serves SWR EE instead of SWR basic).
Points the reference does not settle are marked [INFER] below; they are our choices.

Usage:
  swr_ee_emulator.py --dataset FILE [--generate SPEC] [--port 0] [--port-file F]
                     [--faults JSON|@FILE] [--token-ttl 86400] [--max-seconds 600]
                     [--throttle ACCOUNT=RATE[/BURST]]... [--nested-names both|single|double]
                     [--untagged-tags empty|null|absent] [--log]

  Binds 127.0.0.1 (port 0 = a free port), prints the port alone on stdout, writes it to
  --port-file (atomically), serves until SIGTERM/SIGINT or --max-seconds.  One port serves
  IAM (/v3/...) and SWR EE (/v2/...): point `endpoint` and `iam_endpoint` at it.

  --generate "instances=I[,namespaces=K][,repos=R][,artifacts=A][,big=B][,account=gen]"
      adds to account "gen" (created when missing: user gen-ops / gen-pass, AK
      GENEEAK0000000000001 / gen-ee-secret-key) I instances (default 1) gen-ee-001 ...;
      the first is Running and holds K namespaces (gen-ns1 ..., default 3) with R
      repositories in total (default 30): first "gen-ns1/big/many" with B artifacts
      (default 150), then names at depths 1..3 (team2/r0002, org3/team3/r0003, r0004 ...)
      with A artifacts each (default 2).  One tag per artifact; every 10th artifact is a
      manifest list, every 7th untagged.  The others are empty, with statuses cycling Running, Unavailable,
      Creating, Initial.  Instance ids: uuid-shaped md5 of "gen-ee-NNN".

  --nested-names  how a repository_name holding "/" may appear in a path segment (§2
      "must be sent as %2F (curl: %252F)"): both (default) = "%2F" or "%252F"; single =
      only "%2F" ("%252F" then names a repository literally called "a%2Fb": 404);
      double = only "%252F" (a "%2F" is split like a raw "/": 404 APIGW.0101).  A raw "/"
      never addresses the repository (the route does not match: 404 APIGW.0101), nor does
      SWR basic's "$" form (404 repository not found).
      [INFER] the reference gives "%2F" as the rule and "%252F" as the curl form; which one a
      live server wants on the wire is not settled, so both are accepted by default.
  --untagged-tags how an untagged artifact's "tags" appears: empty ([], default), null, or
      absent [INFER: not documented; Harbor versions differ].

IAM (§3.1, swr_emulator.py): POST /v3/auth/tokens (201 + X-Subject-Token), GET /v3/projects.
Auth (§3.2, swr_emulator.py): X-Auth-Token or SDK-HMAC-SHA256 signature (X-Sdk-Date within
  15 min, X-Security-Token for temporary AKs, X-Project-Id must be the account's project).

SWR EE endpoints (§2; GET only; all JSON, Content-Type application/json;charset=utf-8):
  /v2/{project_id}/instances                 ListInstance: offset (0), limit (100, max 100),
                                             status (Initial|Creating|Running|Unavailable),
                                             enterprise_project_id -> {"instances","total"}
  /v2/{project_id}/instances/{id}            ShowInstance -> Instance
  /v2/{project_id}/instances/{id}/namespaces offset, limit (10, max 100), order_column
                                             (updated_at), order_type, name, public
                                             -> {"namespaces","total"}
  /v2/{project_id}/instances/{id}/repositories       offset, limit (10), order_column
                                             (created_at default | updated_at), order_type
                                             (desc default), namespace_id -> {"total","repositories"}
  /v2/{project_id}/instances/{id}/namespaces/{ns}/repositories   same, one namespace
  /v2/{project_id}/instances/{id}/namespaces/{ns}/repositories/{repo}/artifacts
                                             offset, limit (10), type (image|chart), tags
                                             (substring) -> {"artifacts","total"}
  /v2/instances/{id}/namespaces/{ns}/repositories/{repo}/tags   (no project_id)
                                             offset, limit (10), is_accessory -> {"tags","total"}
  /v2/{project_id}/instances/{id}/artifacts  marker (int, default 1), limit (10, max 100)
                                             -> {"artifacts","next_marker"} (absent = done)
  /v2/{project_id}/repositories              marker (string), limit (100, max 100), name
                                             -> {"page_info":{"next_marker"},"repositories"}
  Paging: offset and limit together, offset 0 or a multiple of limit, limit 1..100; a
  violation is 400 SVCSTG.SWR.4000014 [INFER: the code is SWR basic's; §2 names only the
  envelope].  [INFER] one of offset/limit without the other is a 400 too (the EE docs say
  "must be used together" although each has a default); limit > 100 is a 400, not clamped.
  `total` counts the rows after the filters.

Models (§2): Instance {id, name, description, vpc_id, subnet_id, spec, version,
  charge_mode, access_address, created_at, updated_at, expires_at, status, obs_bucket_name,
  project_id, enterprise_project_id, vpcep_service_id}; Namespace {name, metadata {public:
  "true"|"false"}, namespace_id, created_at, updated_at, repo_count, cve_allowlist};
  Repository {id, name, namespace_name, namespace_id, tag_count, pull_count,
  artifact_count, description, created_at, updated_at} (+ instance_id, instance_name,
  resource_urn in the project-wide list); Artifact {digest, id, repository_id,
  repository_name, type, namespace_id, media_type, manifest_media_type, pull_time,
  push_time, size, tags [{id, repository_id, artifact_id, name, push_time, pull_time}]};
  RepositoryTag {name, artifact_id, digest, id, repository_id, type, namespace_id,
  media_type, manifest_media_type, pull_time, push_time, size}.
  [INFER] Repository.name and Artifact.repository_name are the name inside the namespace
  ("team/app", not "library/team/app"); the namespace comes from namespace_name or, in the
  instance-wide artifact list (which has no namespace name), from namespace_id.
  [INFER] times are RFC 3339 strings served exactly as the dataset writes them (with or
  without fractional seconds); a never-pulled pull_time is Harbor's "0001-01-01T00:00:00Z".
  [INFER] type is "IMAGE"; media_type is the config media type of an image and the manifest
  media type of a manifest list / OCI index (multi-arch: manifest_media_type is a list or
  index type); the index children are not listed (Harbor hides them).
  Orders [INFER]: instances and namespaces in dataset order; repositories created_at desc
  (then id desc); artifacts push_time desc (then id desc); tags push_time desc (then name);
  the instance-wide artifact list by artifact id (ids are per instance, from 1, which is why
  the marker defaults to 1 [INFER: the marker is the id of the first artifact to return]);
  the project-wide repository list by instance then repository id, its marker an opaque
  string (here the position of the next row).

Errors {"error_code","error_msg","encoded_authorization_message" ("" [INFER]),"request_id"}:
  400 SVCSTG.SWR.4000014 paging/filter rules, bad marker, sub-resource of an instance that
      is not Running [INFER: a live instance in another state may answer differently]
  401 APIGW.0301 / SVCSTG.SWR.4010000 bad signature, unknown AK, stale X-Sdk-Date / bad or
      expired token (swr_emulator.py)
  403 SVCSTG.SWR.4030170 "Insufficient permissions": an account without SWR EE permission
      (its IAM tokens are still issued), and [INFER] a project_id in the path that is not the
      caller's project.  (The code and envelope are those of the SWR EE error-code page;
      which permission a real account lacks is not modelled.)
  404 APIGW.0101 unknown route (also a raw "/" in a repository name), SVCSTG.SWR.4040010
      unknown instance, namespace or repository [INFER: code reused from SWR basic]
  429 APIGW.0308 + Retry-After (throttle / fault), 500/502/503/504 faults.

Dataset (JSON; swr_ee_dataset.json): region; accounts: [{domain_name, domain_id,
  project_id, swr_ee (bool, default true; false = valid credentials without SWR EE
  permission), users [{name, password}], access_keys [{ak, sk, security_token}],
  instances [{id, name, status, access_address, created_at, updated_at, expires_at, spec,
  version, charge_mode, description, enterprise_project_id,
  namespaces [{name, public, created_at, updated_at,
    repositories [{name ("a/b/c"), description, pull_count, created_at, updated_at,
      artifacts [{tags ["t", ...] ([] = untagged), tag_push_times {tag: time}, digest,
        size, push_time, pull_time, multi_arch (bool), oci (bool), media_type,
        manifest_media_type}]}]}]}]}].  Missing digests are the sha256 of
  "{instance}/{ns}/{repo}#{n}" (so the same path in two instances has other digests);
  missing times are derived from push times.

Sample dataset (region cn-north-4):
  acme      AK/SK ACMEEEAK000000000001 / acme-ee-sk-0001-AbCdEfGhIjKlMnOp, temporary AK
            ACMEEETMPAK000000001 / acme-ee-tmp-sk-0001-ZyXwVu + X-Security-Token
            acme-ee-security-token-0001; users acme-admin / Acme#EE-Admin-Pass1,
            acme-reader / Acme#EE-Read-Pass2; project 3f2e1d0c9b8a79685746352413021f0e.
            Instances: acme-prod 2c9b6f2e-7d1a-4c52-9f0e-0a1b2c3d4e01 Running
              (library/{nginx: 1.25+latest, 1.24, one untagged; team/app: multi-arch v2+stable,
              v1; a/b/c: 0.1}, apps/{api: OCI 2024.12 + one untagged; empty});
            acme-staging 7e4d2a91-3b6c-4f8e-a1d0-0a1b2c3d4e02 Running (library/nginx again:
              1.25, 1.26-rc; tools/ci/runner: multi-arch OCI index latest);
            acme-legacy b0f1e2d3-c4b5-4a69-8788-0a1b2c3d4e03 Unavailable (library/old:1.0);
            acme-new c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e04 Creating;
            acme-init d4c3b2a1-0f9e-4d8c-b7a6-0a1b2c3d4e05 Initial.
  initech   user initech-ops / Initech#EE-Ops-Pass3 (password only); instance initech-ee
            e5f6a7b8-c9d0-4e1f-8a2b-0a1b2c3d4e06 Running (payroll/api/v1:3.1.4,
            printer/driver:pc-load-letter)
  hooli     no SWR EE permission: user hooli-ops / Hooli#EE-Ops-Pass4, AK
            HOOLIEEAK00000000001 / hooli-ee-sk-0001-AsDfGhJkL: every SWR EE call is a 403
  umbrella  EE permission, no instances: user umbrella-ops / Umbrella#EE-Ops-Pass5, AK
            UMBRELLAEEAK00000001 / umbrella-ee-sk-0001-ZxCvBnM

Control endpoints (never faulted, throttled or counted):
  GET    /_emulator/stats, POST /_emulator/stats/reset, GET|POST|DELETE /_emulator/faults,
  POST   /_emulator/tokens/expire, POST /_emulator/reset       (as swr_emulator.py)
  GET    /_emulator/config   POST {token_ttl, throttle: {acct: {rate, burst}|null},
                                   nested_names, untagged_tags}
  GET    /_emulator/inventory?account=A[&instance=ID]
         {"authorized": bool, "rows": [one per tag: {instance_id, instance_name, host
          (= access_address), namespace, repository, tag, digest, size, media_type,
          manifest_media_type, multi_arch, update_time (the tag's push time as served),
          updated_ms (ms since epoch UTC), untagged: false}] sorted by instance id,
          namespace, repository, tag; "untagged": [the same per untagged artifact, tag "",
          untagged: true, time = the artifact's push time]; "skipped_instances":
          [{instance_id, instance_name, status}] (not Running: no rows)}

Fault rules (emulator_faults.py): {"type": "500"|"502"|"503"|"504"|"429"|"slow"|"reset"|
  "expire_tokens", "pattern": regex on the raw target, "method", "after", "count",
  "rate", "seed", "delay_ms", "retry_after"}; 500 -> SWR envelope SVCSTG.SWR.5000003,
  502/503/504 -> gateway HTML, 429 -> APIGW.0308 + Retry-After, slow -> late answer,
  reset -> connection closed, expire_tokens -> every token issued so far expires.
"""

import hashlib
import json
import re
import sys
import uuid

import swr_emulator as swr
from emulator_faults import parse_throttle
from emulator_http import HttpProtocol, arg_parser, load_json_arg, log_requests, parse_args, serve
from swr_emulator import ApiError, json_resp, parse_rfc3339_ms, pct_decode, swr_bad, swr_not_found

STATUSES = ("Initial", "Creating", "Running", "Unavailable")
EE_MAX_LIMIT = 100
NEVER = "0001-01-01T00:00:00Z"
MT_DOCKER = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_OCI = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MULTI_ARCH = (MT_DOCKER_LIST, MT_OCI_INDEX)
_DIGITS = re.compile(r"[0-9]+\Z")
_GEN_BASE = 1735689600  # 2025-01-01T00:00:00Z


def uuid_of(seed):
    return str(uuid.UUID(hashlib.md5(seed.encode()).hexdigest()))


def no_route():
    return ApiError(404, "APIGW.0101", "The API does not exist or has not been published in the environment")


# --------------------------------------------------------------------------
# the data

class Instance:
    def __init__(self, d, account, region):
        self.account = account
        self.id = d["id"]
        self.name = d["name"]
        self.status = d.get("status", "Running")
        if self.status not in STATUSES:
            raise ValueError("instance %s: status %r is not one of %s" % (self.name, self.status, STATUSES))
        self.access_address = d.get("access_address", "%s.swr.%s.myhuaweicloud.com" % (self.name, region))
        self.d = d
        self.namespaces = []   # in namespace_id order
        self.artifacts = []    # in id order (the instance-wide listing)
        self.repo_seq = 0
        self.tag_seq = 0

    def find_ns(self, name):
        return next((n for n in self.namespaces if n.name == name), None)

    def repos(self):
        return [r for n in self.namespaces for r in n.repos]


class Namespace:
    __slots__ = ("id", "name", "public", "created_at", "updated_at", "repos")


class Repository:
    __slots__ = ("id", "ns", "name", "description", "pull_count", "created_at", "updated_at", "artifacts")


class Artifact:
    __slots__ = ("id", "repo", "digest", "size", "push_time", "pull_time", "media_type",
                 "manifest_media_type", "type", "tags")

    @property
    def multi_arch(self):
        return self.manifest_media_type in MULTI_ARCH


class ArtTag:
    __slots__ = ("id", "name", "push_time", "pull_time", "artifact")


def _media_types(ad):
    """(media_type, manifest_media_type) of a dataset artifact (see [INFER] in the docstring)."""
    oci, multi = bool(ad.get("oci")), bool(ad.get("multi_arch"))
    if multi:
        mmt = MT_OCI_INDEX if oci else MT_DOCKER_LIST
        mt = mmt
    else:
        mmt = MT_OCI if oci else MT_DOCKER
        mt = MT_OCI_CONFIG if oci else MT_DOCKER_CONFIG
    return ad.get("media_type", mt), ad.get("manifest_media_type", mmt)


class EeStore:
    """Instances, namespaces, repositories and artifacts; accounts (auth) are swr.Store's."""

    def __init__(self, data, accounts):
        self.region = data.get("region", "cn-north-4")
        self.perm = {}
        self.instances = {}
        self.by_account = {}
        for ad in data.get("accounts", []):
            acct = accounts[ad["domain_name"]]
            self.perm[acct.domain_name] = bool(ad.get("swr_ee", True))
            lst = self.by_account.setdefault(acct.domain_name, [])
            for idd in ad.get("instances", []):
                inst = self._add_instance(idd, acct)
                lst.append(inst)

    def _add_instance(self, d, acct):
        inst = Instance(d, acct, self.region)
        if inst.id in self.instances:
            raise ValueError("duplicate instance id %r" % inst.id)
        self.instances[inst.id] = inst
        for nd in d.get("namespaces", []):
            self._add_namespace(inst, nd)
        return inst

    def _add_namespace(self, inst, nd):
        if inst.find_ns(nd["name"]):
            raise ValueError("duplicate namespace %s in %s" % (nd["name"], inst.name))
        ns = Namespace()
        ns.id = len(inst.namespaces) + 1
        ns.name = nd["name"]
        ns.public = bool(nd.get("public", False))
        ns.repos = []
        for rd in nd.get("repositories", []):
            self._add_repo(inst, ns, rd)
        ns.created_at = nd.get("created_at") or inst.d.get("created_at") or swr.fmt_rfc3339(_GEN_BASE)
        ns.updated_at = nd.get("updated_at") or max([ns.created_at] + [r.updated_at for r in ns.repos],
                                                     key=parse_rfc3339_ms)
        inst.namespaces.append(ns)

    def _add_repo(self, inst, ns, rd):
        if any(r.name == rd["name"] for r in ns.repos):
            raise ValueError("duplicate repository %s/%s in %s" % (ns.name, rd["name"], inst.name))
        r = Repository()
        inst.repo_seq += 1
        r.id, r.ns, r.name = inst.repo_seq, ns, rd["name"]
        r.description = rd.get("description", "")
        r.pull_count = int(rd.get("pull_count", 0))
        r.artifacts = [self._add_artifact(inst, r, ad, k) for k, ad in enumerate(rd.get("artifacts", []))]
        pushes = [a.push_time for a in r.artifacts]
        r.created_at = rd.get("created_at") or min(pushes, key=parse_rfc3339_ms, default=swr.fmt_rfc3339(_GEN_BASE))
        r.updated_at = rd.get("updated_at") or max(pushes + [r.created_at], key=parse_rfc3339_ms)
        ns.repos.append(r)

    def _add_artifact(self, inst, r, ad, k):
        a = Artifact()
        a.id = len(inst.artifacts) + 1
        a.repo = r
        a.size = int(ad.get("size", 1000))
        a.digest = ad.get("digest") or "sha256:" + hashlib.sha256(
            ("%s/%s/%s#%d" % (inst.id, r.ns.name, r.name, k)).encode()).hexdigest()
        a.push_time = ad.get("push_time") or swr.fmt_rfc3339(_GEN_BASE)
        a.pull_time = ad.get("pull_time") or NEVER
        parse_rfc3339_ms(a.push_time)
        a.media_type, a.manifest_media_type = _media_types(ad)
        a.type = ad.get("type", "IMAGE")
        times = ad.get("tag_push_times", {})
        a.tags = []
        for name in ad.get("tags", []):
            t = ArtTag()
            inst.tag_seq += 1
            t.id, t.name, t.artifact = inst.tag_seq, name, a
            t.push_time = times.get(name, a.push_time)
            t.pull_time = a.pull_time
            parse_rfc3339_ms(t.push_time)
            a.tags.append(t)
        inst.artifacts.append(a)
        return a


# --------------------------------------------------------------------------
# --generate

class GenSpec:
    KEYS = {"instances": 1, "namespaces": 3, "repos": 30, "artifacts": 2, "big": 150}

    def __init__(self, spec):
        self.account = "gen"
        for k, v in self.KEYS.items():
            setattr(self, k, v)
        for part in (spec or "").split(","):
            k, _, v = part.strip().partition("=")
            if not k:
                continue
            if k == "account":
                self.account = v.strip()
            elif k in self.KEYS:
                setattr(self, k, int(v))
            else:
                raise ValueError("unknown --generate key %r" % k)
        if self.instances < 1 or self.namespaces < 1 or min(self.repos, self.artifacts, self.big) < 0:
            raise ValueError("bad --generate values")


def _gen_artifacts(n, base):
    """n artifacts pushed from `base` on: one tag each; every 10th multi-arch, every 7th untagged."""
    out = []
    for k in range(n):
        out.append({"tags": [] if k % 7 == 6 else ["v%d.%d" % (k // 10, k % 10)],
                    "multi_arch": k % 10 == 9, "size": 1000 + k * 17,
                    "push_time": swr.fmt_rfc3339(base + k * 7)})
    return out


def _gen_namespaces(g):
    nss = [{"name": "%s-ns%d" % (g.account, k + 1), "repositories": []} for k in range(g.namespaces)]
    if g.big or g.repos:
        nss[0]["repositories"].append({"name": "big/many", "artifacts": _gen_artifacts(g.big, _GEN_BASE)})
    for i in range(1, g.repos):
        n = i + 1
        name = ("r%04d" % n, "team%d/r%04d" % (n % 7, n), "org%d/team%d/r%04d" % (n % 5, n % 7, n))[i % 3]
        nss[i % len(nss)]["repositories"].append(
            {"name": name, "artifacts": _gen_artifacts(g.artifacts, _GEN_BASE + i * 600)})
    return nss


def expand(dataset, gen_spec):
    """The dataset with the --generate account's instances added (a new dict)."""
    data = json.loads(json.dumps(dataset))
    if not gen_spec:
        return data
    g = GenSpec(gen_spec)
    accounts = data.setdefault("accounts", [])
    acct = next((a for a in accounts if a["domain_name"] == g.account), None)
    if acct is None:
        acct = {"domain_name": g.account, "users": [{"name": g.account + "-ops", "password": g.account + "-pass"}],
                "access_keys": [{"ak": ("%sEEAK" % g.account.upper()).ljust(19, "0")[:19] + "1",
                                 "sk": g.account + "-ee-secret-key"}]}
        accounts.append(acct)
    cycle = ("Running", "Unavailable", "Creating", "Initial")
    for i in range(g.instances):
        name = "%s-ee-%03d" % (g.account, i + 1)
        inst = {"id": uuid_of(name), "name": name, "status": "Running" if i == 0 else cycle[(i - 1) % 4],
                "created_at": swr.fmt_rfc3339(_GEN_BASE + i)}
        if i == 0:
            inst["namespaces"] = _gen_namespaces(g)
        acct.setdefault("instances", []).append(inst)
    return data


# --------------------------------------------------------------------------
# JSON models (§2)

def instance_json(inst):
    d = inst.d
    return {"id": inst.id, "name": inst.name, "description": d.get("description", ""),
            "vpc_id": uuid_of("vpc:" + inst.id), "subnet_id": uuid_of("subnet:" + inst.id),
            "spec": d.get("spec", "swr_ee_pro"), "version": d.get("version", "v2.9.0"),
            "charge_mode": d.get("charge_mode", "postPaid"), "access_address": inst.access_address,
            "created_at": d.get("created_at", swr.fmt_rfc3339(_GEN_BASE)),
            "updated_at": d.get("updated_at") or d.get("created_at", swr.fmt_rfc3339(_GEN_BASE)),
            "expires_at": d.get("expires_at", ""), "status": inst.status,
            "obs_bucket_name": "swr-ee-" + inst.id[:8], "project_id": inst.account.project_id,
            "enterprise_project_id": d.get("enterprise_project_id", "0"), "vpcep_service_id": ""}


def namespace_json(ns):
    return {"name": ns.name, "metadata": {"public": "true" if ns.public else "false"},
            "namespace_id": ns.id, "created_at": ns.created_at, "updated_at": ns.updated_at,
            "repo_count": len(ns.repos),
            "cve_allowlist": {"id": ns.id, "project_id": ns.id, "items": [], "expires_at": 0}}


def repo_json(r, inst=None):
    out = {"id": r.id, "name": r.name, "namespace_name": r.ns.name, "namespace_id": r.ns.id,
           "tag_count": sum(len(a.tags) for a in r.artifacts), "pull_count": r.pull_count,
           "artifact_count": len(r.artifacts), "description": r.description,
           "created_at": r.created_at, "updated_at": r.updated_at}
    if inst is not None:  # InstanceRepository (the project-wide list)
        out.update({"instance_id": inst.id, "instance_name": inst.name,
                    "resource_urn": "swr:%s:%s:repository:%s/%s/%s" % (
                        inst.account.project_id, inst.id, inst.name, r.ns.name, r.name)})
    return out


def tag_ref_json(t):
    a = t.artifact
    return {"id": t.id, "repository_id": a.repo.id, "artifact_id": a.id, "name": t.name,
            "push_time": t.push_time, "pull_time": t.pull_time}


def artifact_json(a, untagged_tags):
    out = {"digest": a.digest, "id": a.id, "repository_id": a.repo.id, "repository_name": a.repo.name,
           "type": a.type, "namespace_id": a.repo.ns.id, "media_type": a.media_type,
           "manifest_media_type": a.manifest_media_type, "pull_time": a.pull_time,
           "push_time": a.push_time, "size": a.size}
    if a.tags or untagged_tags == "empty":
        out["tags"] = [tag_ref_json(t) for t in a.tags]
    elif untagged_tags == "null":
        out["tags"] = None
    return out


def repository_tag_json(t):
    a = t.artifact
    return {"name": t.name, "artifact_id": a.id, "digest": a.digest, "id": t.id,
            "repository_id": a.repo.id, "type": a.type, "namespace_id": a.repo.ns.id,
            "media_type": a.media_type, "manifest_media_type": a.manifest_media_type,
            "pull_time": t.pull_time, "push_time": t.push_time, "size": a.size}


# --------------------------------------------------------------------------
# query parameters

def first_params(query):
    out = {}
    for k, v in swr.parse_query(query):
        out.setdefault(k, v)
    return out


def offset_page(rows, params, default_limit):
    """§2 offset paging -> (page rows, total)."""
    pg = swr.paging(params, EE_MAX_LIMIT) or (0, default_limit)
    return rows[pg[0]:pg[0] + pg[1]], len(rows)


def ordered(rows, params, columns, default):
    """order_column/order_type (together, §2); default = (column, type) or None (as stored)."""
    col, typ = params.get("order_column"), params.get("order_type")
    if col is None and typ is None:
        if default is None:
            return rows
        col, typ = default
    if col is None:
        raise swr_bad("order_type must be used together with order_column")
    typ = typ or "desc"
    if col not in columns:
        raise swr_bad("order_column %r" % col)
    if typ not in ("desc", "asc"):
        raise swr_bad("order_type %r" % typ)
    return sorted(rows, key=columns[col], reverse=(typ == "desc"))


def bool_param(params, name):
    v = params.get(name)
    if v is not None and v not in ("true", "false"):
        raise swr_bad("%s must be true or false" % name)
    return None if v is None else v == "true"


def limit_param(params, default):
    lim = params.get("limit", str(default))
    if not _DIGITS.match(lim) or not 1 <= int(lim) <= EE_MAX_LIMIT:
        raise swr_bad("limit must be between 1 and %d" % EE_MAX_LIMIT)
    return int(lim)


def time_key(attr):
    return lambda x: (parse_rfc3339_ms(getattr(x, attr)), x.id)


# --------------------------------------------------------------------------
# the application

class App(swr.App):
    def __init__(self, dataset, gen_spec, faults, token_ttl, throttle, nested_names, untagged_tags):
        self.data = expand(dataset, gen_spec)
        self.init_ee = {"nested_names": nested_names, "untagged_tags": untagged_tags}
        swr.App.__init__(self, dataset, None, faults, token_ttl, throttle, "count", "allow")

    def load_store(self):
        # swr.Store keeps the accounts (users, keys, projects) the auth layer reads
        store = swr.Store({"region": self.data.get("region", "cn-north-4"),
                           "accounts": [{k: v for k, v in a.items() if k != "instances"}
                                        for a in self.data.get("accounts", [])]})
        self.ee = EeStore(self.data, store.accounts)
        self.nested_names = self.init_ee["nested_names"]
        self.untagged_tags = self.init_ee["untagged_tags"]
        return store

    def error(self, e):
        # §2's envelope names encoded_authorization_message beside error_code/error_msg;
        # [INFER] it is "" except where a 403 would carry the encoded denial
        return swr.error_resp(e, authz_always=True)

    # ---------------- routing
    def service(self, method, path, query, headers, body):
        segs = path.split("/")[1:]  # raw segments: a "%2F" stays inside its segment
        if method != "GET":
            raise no_route()
        route = self.route(segs)
        p = self.authenticate(method, path, query, headers, body)
        acct = p.account
        res = self.throttled(acct)
        if res is not None:
            return res
        if not self.ee.perm.get(acct.domain_name, False):
            raise swr.swr_forbidden()
        if route[0] is not None and route[0] != acct.project_id:
            raise ApiError(403, "SVCSTG.SWR.4030170",
                           "Insufficient permissions: project %s is not the caller's project" % route[0])
        params = first_params(query)
        return getattr(self, "h_" + route[1])(acct, params, *route[2:])

    def route(self, segs):
        """-> (project_id or None, handler name, path args...) or 404."""
        if segs[:2] == ["v2", "instances"] and len(segs) == 8 and segs[3] == "namespaces" \
                and segs[5] == "repositories" and segs[7] == "tags":
            return (None, "tags", segs[2], self.ns_name(segs[4]), self.repo_name(segs[6]))
        if len(segs) < 3 or segs[0] != "v2" or not segs[1]:
            raise no_route()
        pid, rest = segs[1], segs[2:]
        if rest == ["repositories"]:
            return (pid, "all_repos")
        if not rest or rest[0] != "instances":
            raise no_route()
        if len(rest) == 1:
            return (pid, "instances")
        iid, sub = rest[1], rest[2:]
        if sub == []:
            return (pid, "instance", iid)
        if sub in (["namespaces"], ["repositories"], ["artifacts"]):
            return (pid, sub[0], iid)
        if len(sub) == 3 and sub[0] == "namespaces" and sub[2] == "repositories":
            return (pid, "ns_repos", iid, self.ns_name(sub[1]))
        if len(sub) == 5 and sub[0] == "namespaces" and sub[2] == "repositories" and sub[4] == "artifacts":
            return (pid, "artifacts_of", iid, self.ns_name(sub[1]), self.repo_name(sub[3]))
        raise no_route()

    def ns_name(self, seg):
        name = pct_decode(seg)
        if not name:
            raise swr_bad("bad namespace_name in the path")
        return name

    def repo_name(self, seg):
        """The {repository_name} segment -> the name (see --nested-names)."""
        once = pct_decode(seg)
        if not once:
            raise swr_bad("bad repository_name in the path")
        if re.search("%2[Ff]", once) and self.nested_names != "single":
            return pct_decode(once) or once   # sent as %252F
        if "/" in once and self.nested_names == "double":
            raise no_route()  # a server that decodes before routing sees more segments
        return once

    def instance(self, acct, iid, running=True):
        inst = self.ee.instances.get(iid)
        if inst is None or inst.account is not acct:
            raise swr_not_found("The instance %s does not exist." % iid)
        if running and inst.status != "Running":
            raise swr_bad("the instance %s is not running (status %s)" % (inst.name, inst.status))
        return inst

    def repository(self, acct, iid, ns_name, name):
        inst = self.instance(acct, iid)
        ns = inst.find_ns(ns_name)
        if ns is None:
            raise swr_not_found("The namespace %s does not exist." % ns_name)
        r = next((x for x in ns.repos if x.name == name), None)
        if r is None:
            raise swr_not_found("The repository %s/%s does not exist." % (ns_name, name))
        return r

    # ---------------- handlers (§2)
    def h_instances(self, acct, params):
        rows = self.ee.by_account.get(acct.domain_name, [])
        st = params.get("status")
        if st is not None:
            if st not in STATUSES:
                raise swr_bad("status must be one of %s" % ", ".join(STATUSES))
            rows = [i for i in rows if i.status == st]
        eps = params.get("enterprise_project_id")
        if eps and eps != "all_granted_eps":
            rows = [i for i in rows if i.d.get("enterprise_project_id", "0") == eps]
        page, total = offset_page(rows, params, 100)
        return json_resp({"instances": [instance_json(i) for i in page], "total": total})

    def h_instance(self, acct, params, iid):
        return json_resp(instance_json(self.instance(acct, iid, running=False)))

    def h_namespaces(self, acct, params, iid):
        rows = self.instance(acct, iid).namespaces
        if params.get("name"):
            rows = [n for n in rows if params["name"] in n.name]
        public = bool_param(params, "public")
        if public is not None:
            rows = [n for n in rows if n.public == public]
        rows = ordered(rows, params, {"updated_at": time_key("updated_at")}, None)
        page, total = offset_page(rows, params, 10)
        return json_resp({"namespaces": [namespace_json(n) for n in page], "total": total})

    def repo_list(self, rows, params):
        rows = ordered(rows, params, {"created_at": time_key("created_at"), "updated_at": time_key("updated_at")},
                       ("created_at", "desc"))
        page, total = offset_page(rows, params, 10)
        return json_resp({"total": total, "repositories": [repo_json(r) for r in page]})

    def h_repositories(self, acct, params, iid):
        rows = self.instance(acct, iid).repos()
        nsid = params.get("namespace_id")
        if nsid is not None:
            if not _DIGITS.match(nsid):
                raise swr_bad("namespace_id must be an integer")
            rows = [r for r in rows if r.ns.id == int(nsid)]
        return self.repo_list(rows, params)

    def h_ns_repos(self, acct, params, iid, ns_name):
        ns = self.instance(acct, iid).find_ns(ns_name)
        if ns is None:
            raise swr_not_found("The namespace %s does not exist." % ns_name)
        return self.repo_list(ns.repos, params)

    def h_artifacts_of(self, acct, params, iid, ns_name, name):
        rows = self.repository(acct, iid, ns_name, name).artifacts
        typ = params.get("type")
        if typ is not None:
            if typ not in ("image", "chart"):
                raise swr_bad("type must be image or chart")
            rows = [a for a in rows if a.type.lower() == typ]
        if params.get("tags"):
            rows = [a for a in rows if any(params["tags"] in t.name for t in a.tags)]
        rows = sorted(rows, key=time_key("push_time"), reverse=True)
        page, total = offset_page(rows, params, 10)
        return json_resp({"artifacts": [artifact_json(a, self.untagged_tags) for a in page], "total": total})

    def h_tags(self, acct, params, iid, ns_name, name):
        r = self.repository(acct, iid, ns_name, name)
        bool_param(params, "is_accessory")  # validated; the dataset has no accessories
        rows = [t for a in r.artifacts for t in a.tags]
        rows.sort(key=lambda t: (-parse_rfc3339_ms(t.push_time), t.name))
        page, total = offset_page(rows, params, 10)
        return json_resp({"tags": [repository_tag_json(t) for t in page], "total": total})

    def h_artifacts(self, acct, params, iid):
        inst = self.instance(acct, iid)
        marker = params.get("marker", "1")
        if not _DIGITS.match(marker) or int(marker) < 1:
            raise swr_bad("marker must be a positive integer")
        lim = limit_param(params, 10)
        rows = [a for a in inst.artifacts if a.id >= int(marker)]
        out = {"artifacts": [artifact_json(a, self.untagged_tags) for a in rows[:lim]]}
        if len(rows) > lim:
            out["next_marker"] = rows[lim].id
        return json_resp(out)

    def h_all_repos(self, acct, params):
        rows = [(i, r) for i in self.ee.by_account.get(acct.domain_name, []) if i.status == "Running"
                for r in i.repos()]
        if params.get("name"):
            rows = [x for x in rows if params["name"] in x[1].name]
        marker = params.get("marker", "0")
        if not _DIGITS.match(marker) or int(marker) > len(rows):
            raise swr_bad("marker %r is not one this list returned" % marker)
        start, lim = int(marker), limit_param(params, 100)
        out = {"page_info": {}, "repositories": [repo_json(r, i) for i, r in rows[start:start + lim]]}
        if start + lim < len(rows):
            out["page_info"]["next_marker"] = str(start + lim)
        return json_resp(out)

    # ---------------- control
    def control(self, method, path, query, body):
        try:
            if path == "/_emulator/inventory" and method == "GET":
                q = first_params(query)
                if q.get("account") not in self.store.accounts:
                    return json_resp({"error": "unknown account %r" % q.get("account")}, 404)
                return json_resp(self.inventory(q["account"], q.get("instance")))
            if path == "/_emulator/config":
                data = json.loads(body.decode("utf-8")) if body.strip() else None
                return json_resp(self.configure(data if method == "POST" else None))
        except (ValueError, KeyError, TypeError) as e:
            return json_resp({"error": str(e)}, 400)
        return swr.App.control(self, method, path, query, body)

    def configure(self, data):
        if isinstance(data, dict):
            if "token_ttl" in data:
                self.token_ttl = float(data["token_ttl"])
            for acct, spec in (data.get("throttle") or {}).items():
                self.throttles.set(acct, spec)
            self.nested_names = choice(data.get("nested_names", self.nested_names), NESTED_FORMS)
            self.untagged_tags = choice(data.get("untagged_tags", self.untagged_tags), UNTAGGED_FORMS)
        return {"token_ttl": self.token_ttl, "throttle": self.throttles.conf, "nested_names": self.nested_names,
                "untagged_tags": self.untagged_tags, "region": self.ee.region, "port": self.port}

    def inventory(self, account, instance_id=None):
        out = {"authorized": self.ee.perm.get(account, False), "rows": [], "untagged": [], "skipped_instances": []}
        if not out["authorized"]:
            return out  # every listing call answers 403
        for inst in self.ee.by_account.get(account, []):
            if instance_id and inst.id != instance_id:
                continue
            if inst.status != "Running":
                out["skipped_instances"].append({"instance_id": inst.id, "instance_name": inst.name,
                                                 "status": inst.status})
                continue
            for r in inst.repos():
                for a in r.artifacts:
                    self.inventory_rows(out, inst, r, a)
        out["rows"].sort(key=lambda x: (x["instance_id"], x["namespace"], x["repository"], x["tag"]))
        out["untagged"].sort(key=lambda x: (x["instance_id"], x["namespace"], x["repository"], x["digest"]))
        return out

    def inventory_rows(self, out, inst, r, a):
        base = {"instance_id": inst.id, "instance_name": inst.name, "host": inst.access_address,
                "namespace": r.ns.name, "repository": r.name, "digest": a.digest, "size": a.size,
                "media_type": a.media_type, "manifest_media_type": a.manifest_media_type,
                "multi_arch": a.multi_arch}
        for t in a.tags:
            out["rows"].append(dict(base, tag=t.name, update_time=t.push_time,
                                    updated_ms=parse_rfc3339_ms(t.push_time), untagged=False))
        if not a.tags:
            out["untagged"].append(dict(base, tag="", update_time=a.push_time,
                                        updated_ms=parse_rfc3339_ms(a.push_time), untagged=True))


NESTED_FORMS = ("both", "single", "double")
UNTAGGED_FORMS = ("empty", "null", "absent")


def choice(v, allowed):
    if v not in allowed:
        raise ValueError("%r is not one of %s" % (v, ", ".join(allowed)))
    return v


def main(argv=None):
    ap = arg_parser("swr_ee_emulator.py", __doc__)
    swr.add_huawei_args(ap)
    ap.add_argument("--nested-names", choices=NESTED_FORMS, default="both")
    ap.add_argument("--untagged-tags", choices=UNTAGGED_FORMS, default="empty")
    a, dataset = parse_args(ap, argv)
    try:
        app = App(dataset, a.generate, load_json_arg(a.faults), a.token_ttl,
                  dict(parse_throttle(s) for s in a.throttle), a.nested_names, a.untagged_tags)
    except (ValueError, KeyError, TypeError, re.error) as e:
        ap.error("bad dataset, --generate, --throttle or --faults: %s" % (e,))
    if a.log:
        log_requests(app)
    return serve(lambda: HttpProtocol(app, "swr_ee_emulator", swr.internal_error), app, a.port, a.port_file,
                 a.max_seconds)


if __name__ == "__main__":
    sys.exit(main())
