#!/usr/bin/env python3
"""Self-test of swr_ee_emulator.py against /work/shared/reference/swr-jfrog-oci-api.md §2
(SWR Enterprise Edition) and §3 (IAM token, AK/SK signing).  Standard library unittest only.

  python3 tests/emulators/test_swr_ee_emulator.py [-v]

Starts the emulator on the sample dataset plus a generated account (105 instances, so the
instance list needs two pages; one repository with 150 artifacts) and, for the CLI checks,
a throw-away one.  Every process gets --max-seconds so none outlives a crashed run.  Requests
are signed by test_swr_emulator.py's own small signer (independent of the emulators' code).
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_swr_emulator as base  # noqa: E402  (its signer and HTTP helpers, not its tests)

EMU = os.path.join(HERE, "swr_ee_emulator.py")
DATASET = os.path.join(HERE, "swr_ee_dataset.json")
GEN = "instances=105,namespaces=3,repos=12,artifacts=2,big=150"

ACME_AK, ACME_SK = "ACMEEEAK000000000001", "acme-ee-sk-0001-AbCdEfGhIjKlMnOp"
TMP_AK, TMP_SK, TMP_TOKEN = "ACMEEETMPAK000000001", "acme-ee-tmp-sk-0001-ZyXwVu", "acme-ee-security-token-0001"
HOOLI_AK, HOOLI_SK = "HOOLIEEAK00000000001", "hooli-ee-sk-0001-AsDfGhJkL"
ACME = ("acme-admin", "Acme#EE-Admin-Pass1", "acme")
INITECH = ("initech-ops", "Initech#EE-Ops-Pass3", "initech")
HOOLI = ("hooli-ops", "Hooli#EE-Ops-Pass4", "hooli")
UMBRELLA = ("umbrella-ops", "Umbrella#EE-Ops-Pass5", "umbrella")
GEN_USER = ("gen-ops", "gen-pass", "gen")
ACME_PID = "3f2e1d0c9b8a79685746352413021f0e"
PROD = "2c9b6f2e-7d1a-4c52-9f0e-0a1b2c3d4e01"
STAGING = "7e4d2a91-3b6c-4f8e-a1d0-0a1b2c3d4e02"
LEGACY = "b0f1e2d3-c4b5-4a69-8788-0a1b2c3d4e03"
CREATING = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e04"
INITECH_EE = "e5f6a7b8-c9d0-4e1f-8a2b-0a1b2c3d4e06"

INSTANCE_KEYS = {"id", "name", "description", "vpc_id", "subnet_id", "spec", "version", "charge_mode",
                 "access_address", "created_at", "updated_at", "expires_at", "status", "obs_bucket_name",
                 "project_id", "enterprise_project_id", "vpcep_service_id"}
NAMESPACE_KEYS = {"name", "metadata", "namespace_id", "created_at", "updated_at", "repo_count", "cve_allowlist"}
REPO_KEYS = {"id", "name", "namespace_name", "namespace_id", "tag_count", "pull_count", "artifact_count",
             "description", "created_at", "updated_at"}
ARTIFACT_KEYS = {"digest", "id", "repository_id", "repository_name", "type", "namespace_id", "media_type",
                 "manifest_media_type", "pull_time", "push_time", "size", "tags"}
TAG_REF_KEYS = {"id", "repository_id", "artifact_id", "name", "push_time", "pull_time"}
REPO_TAG_KEYS = {"name", "artifact_id", "digest", "id", "repository_id", "type", "namespace_id", "media_type",
                 "manifest_media_type", "pull_time", "push_time", "size"}

def start(*args):
    return base.start(*args, emu=EMU)


def setUpModule():
    global PORT, GEN_PID
    PORT = start("--dataset", DATASET, "--generate", GEN)
    GEN_PID = login_json(GEN_USER)["token"]["project"]["id"]


tearDownModule = base.tearDownModule  # ends the processes start() began


# --------------------------------------------------------------------------
# helpers (the signer, raw HTTP and IAM login are test_swr_emulator.py's)

_tokens = {}


def login_json(cred, port=None):
    r = base.iam_login(*cred, port=port or PORT)
    assert r.status == 201, (r.status, r.body)
    _tokens[(cred, port or PORT)] = r.h("X-Subject-Token")
    return r.json()


def token(cred, port=None):
    if (cred, port or PORT) not in _tokens:
        login_json(cred, port)
    return _tokens[(cred, port or PORT)]


def get(target, cred=ACME, port=None):
    return base.raw("GET", target, {"X-Auth-Token": token(cred, port),
                                    "Content-Type": "application/json;charset=utf-8"}, port=port or PORT)


def ok(target, cred=ACME, port=None):
    r = get(target, cred, port)
    assert r.status == 200, (target, r.status, r.body)
    return r.json()


def signed(path, query=(), ak=ACME_AK, sk=ACME_SK, extra=None, date=None):
    return base.aksk(path, query, ak=ak, sk=sk, extra=extra, date=date, port=PORT)


def control(path, body=None, method="POST", port=None):
    return base.control(path, body, method, port=port or PORT)


def inst_path(iid, pid=ACME_PID):
    return "/v2/%s/instances/%s" % (pid, iid)


def walk_offset(target, key, limit, cred=ACME):
    """Every page of an offset/limit list: (rows, totals seen)."""
    rows, totals, off = [], set(), 0
    sep = "&" if "?" in target else "?"
    while True:
        page = ok("%s%soffset=%d&limit=%d" % (target, sep, off, limit), cred)
        rows.extend(page[key])
        totals.add(page["total"])
        off += limit
        if off >= page["total"]:
            return rows, totals


def walk_marker(target, cred=ACME, limit=100):
    """Every page of the instance-wide artifact list (next_marker)."""
    rows, marker = [], None
    while True:
        page = ok("%s?limit=%d%s" % (target, limit, "&marker=%d" % marker if marker else ""), cred)
        rows.extend(page["artifacts"])
        if "next_marker" not in page:
            return rows
        marker = page["next_marker"]


def enc(name):
    return name.replace("/", "%2F")


def ms(s):
    import swr_emulator
    return swr_emulator.parse_rfc3339_ms(s)


def walk_account(cred, pid):
    """What a correct client produces by walking instances -> namespaces -> repositories ->
    artifacts: (tag rows, untagged rows, skipped), as GET /_emulator/inventory words them."""
    rows, untagged, skipped = [], [], []
    for inst in walk_offset("/v2/%s/instances" % pid, "instances", 100, cred)[0]:
        if inst["status"] != "Running":
            skipped.append({"instance_id": inst["id"], "instance_name": inst["name"], "status": inst["status"]})
            continue
        for ns in walk_offset(inst_path(inst["id"], pid) + "/namespaces", "namespaces", 100, cred)[0]:
            repos = walk_offset("%s/namespaces/%s/repositories" % (inst_path(inst["id"], pid), ns["name"]),
                                "repositories", 100, cred)[0]
            for r in repos:
                arts = walk_offset("%s/namespaces/%s/repositories/%s/artifacts" % (
                    inst_path(inst["id"], pid), ns["name"], enc(r["name"])), "artifacts", 100, cred)[0]
                for a in arts:
                    row = {"instance_id": inst["id"], "instance_name": inst["name"], "host": inst["access_address"],
                           "namespace": ns["name"], "repository": r["name"], "digest": a["digest"],
                           "size": a["size"], "media_type": a["media_type"],
                           "manifest_media_type": a["manifest_media_type"],
                           "multi_arch": a["manifest_media_type"] in (
                               "application/vnd.docker.distribution.manifest.list.v2+json",
                               "application/vnd.oci.image.index.v1+json")}
                    for t in a["tags"]:
                        rows.append(dict(row, tag=t["name"], update_time=t["push_time"],
                                         updated_ms=ms(t["push_time"]), untagged=False))
                    if not a["tags"]:
                        untagged.append(dict(row, tag="", update_time=a["push_time"],
                                             updated_ms=ms(a["push_time"]), untagged=True))
    key = (lambda x: (x["instance_id"], x["namespace"], x["repository"], x["tag"], x["digest"]))
    return sorted(rows, key=key), sorted(untagged, key=key), skipped


# --------------------------------------------------------------------------

class Auth(unittest.TestCase):
    def assert401(self, r, code="APIGW.0301"):
        self.assertEqual(r.status, 401, r.body)
        self.assertEqual(r.json()["error_code"], code)

    def test_signed_request_accepted(self):
        r = signed("/v2/%s/instances" % ACME_PID, [("offset", "0"), ("limit", "10")],
                   extra={"X-Project-Id": ACME_PID})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["total"], 5)

    def test_tampered_signature(self):
        h = base.t_sign(ACME_AK, ACME_SK, "GET", "/v2/%s/instances" % ACME_PID, [],
                        {"Host": "127.0.0.1:%d" % PORT})
        h["Authorization"] = h["Authorization"][:-1] + ("0" if h["Authorization"][-1] != "0" else "1")
        self.assert401(base.raw("GET", "/v2/%s/instances" % ACME_PID, h, port=PORT))

    def test_wrong_sk_and_unknown_ak(self):
        self.assert401(signed("/v2/%s/instances" % ACME_PID, sk=ACME_SK + "x"))
        self.assert401(signed("/v2/%s/instances" % ACME_PID, ak="NOSUCHAK000000000001"))

    def test_sdk_date_window(self):
        off = lambda m: time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() + m * 60))  # noqa: E731
        self.assert401(signed("/v2/%s/instances" % ACME_PID, date=off(-20)))
        self.assert401(signed("/v2/%s/instances" % ACME_PID, date=off(20)))
        self.assertEqual(signed("/v2/%s/instances" % ACME_PID, date=off(-10)).status, 200)

    def test_temporary_key_needs_security_token(self):
        path = "/v2/%s/instances" % ACME_PID
        self.assertEqual(signed(path, ak=TMP_AK, sk=TMP_SK, extra={"X-Security-Token": TMP_TOKEN}).status, 200)
        self.assert401(signed(path, ak=TMP_AK, sk=TMP_SK))

    def test_signed_nested_name(self):
        for form in ("a%2Fb%2Fc", "a%252Fb%252Fc"):
            r = signed(inst_path(PROD) + "/namespaces/library/repositories/%s/artifacts" % form)
            self.assertEqual(r.status, 200, (form, r.body))
            self.assertEqual(r.json()["artifacts"][0]["repository_name"], "a/b/c")

    def test_no_credentials(self):
        r = base.raw("GET", "/v2/%s/instances" % ACME_PID, port=PORT)
        self.assert401(r, "SVCSTG.SWR.4010000")

    def test_project_in_path_must_be_callers(self):
        r = get("/v2/%s/instances" % ACME_PID, INITECH)
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(r.json()["error_code"], "SVCSTG.SWR.4030170")


class Iam(unittest.TestCase):
    def test_token_issue_and_use(self):
        d = login_json(INITECH)
        pid = d["token"]["project"]["id"]
        self.assertEqual(len(pid), 32)
        body = ok("/v2/%s/instances" % pid, INITECH)
        self.assertEqual([i["id"] for i in body["instances"]], [INITECH_EE])

    def test_bad_password(self):
        r = base.iam_login("acme-admin", "wrong", "acme", port=PORT)
        self.assertEqual(r.status, 401)
        self.assertIsNone(r.h("X-Subject-Token"))

    def test_expiry_by_ttl_and_control(self):
        port = start("--dataset", DATASET, "--token-ttl", "1")
        tok = token(UMBRELLA, port)
        self.assertEqual(get("/v2/%s/instances" % login_pid(UMBRELLA, port), UMBRELLA, port).status, 200)
        time.sleep(1.2)
        r = base.raw("GET", "/v2/x/instances", {"X-Auth-Token": tok}, port=port)
        self.assertEqual((r.status, r.json()["error_code"]), (401, "SVCSTG.SWR.4010000"))
        control("config", {"token_ttl": 3600}, port=port)
        _tokens.pop((UMBRELLA, port), None)
        pid = login_pid(UMBRELLA, port)
        self.assertEqual(get("/v2/%s/instances" % pid, UMBRELLA, port).status, 200)
        self.assertGreaterEqual(control("tokens/expire", port=port)["expired"], 1)
        self.assertEqual(get("/v2/%s/instances" % pid, UMBRELLA, port).status, 401)


def login_pid(cred, port):
    return login_json(cred, port)["token"]["project"]["id"]


class Paging(unittest.TestCase):
    def assert400(self, target, cred=ACME):
        r = get(target, cred)
        self.assertEqual(r.status, 400, (target, r.body))
        e = r.json()
        self.assertEqual(e["error_code"], "SVCSTG.SWR.4000014")
        self.assertTrue(e["error_msg"])
        self.assertIn("encoded_authorization_message", e)  # §2's envelope

    def test_offset_rules(self):
        t = "/v2/%s/instances" % ACME_PID
        self.assert400(t + "?offset=1&limit=2")
        self.assert400(t + "?offset=5&limit=10")
        self.assert400(t + "?offset=0&limit=101")
        self.assert400(t + "?offset=0&limit=0")
        self.assert400(t + "?offset=-2&limit=2")
        self.assert400(t + "?offset=0&limit=x")
        self.assert400(t + "?offset=2")
        self.assert400(t + "?limit=2")
        self.assert400(inst_path(PROD) + "/namespaces/library/repositories?offset=3&limit=2")
        self.assert400(inst_path(PROD) + "/artifacts?limit=101")
        self.assert400(inst_path(PROD) + "/artifacts?marker=0")
        self.assert400("/v2/%s/repositories?marker=zzz" % ACME_PID)

    def test_totals_and_pages(self):
        rows, totals = walk_offset("/v2/%s/instances" % ACME_PID, "instances", 2)
        self.assertEqual(totals, {5})
        self.assertEqual(len({i["id"] for i in rows}), 5)
        page = ok("/v2/%s/instances?offset=4&limit=2" % ACME_PID)
        self.assertEqual((len(page["instances"]), page["total"]), (1, 5))
        self.assertEqual(ok("/v2/%s/instances?offset=10&limit=5" % ACME_PID)["instances"], [])

    def test_105_instances_two_pages(self):
        first = ok("/v2/%s/instances" % GEN_PID, GEN_USER)
        self.assertEqual((len(first["instances"]), first["total"]), (100, 105))
        rows, _ = walk_offset("/v2/%s/instances" % GEN_PID, "instances", 100, GEN_USER)
        self.assertEqual(len({i["id"] for i in rows}), 105)

    def test_default_limit_10(self):
        gen1 = ok("/v2/%s/instances?status=Running&offset=0&limit=1" % GEN_PID, GEN_USER)["instances"][0]
        page = ok(inst_path(gen1["id"], GEN_PID) + "/repositories", GEN_USER)
        self.assertEqual((len(page["repositories"]), page["total"]), (10, 12))

    def test_150_artifacts(self):
        gen1 = ok("/v2/%s/instances?status=Running&offset=0&limit=1" % GEN_PID, GEN_USER)["instances"][0]
        t = inst_path(gen1["id"], GEN_PID) + "/namespaces/gen-ns1/repositories/big%2Fmany/artifacts"
        rows, totals = walk_offset(t, "artifacts", 100, GEN_USER)
        self.assertEqual((len({a["id"] for a in rows}), totals), (150, {150}))
        times = [ms(a["push_time"]) for a in rows]
        self.assertEqual(times, sorted(times, reverse=True))

    def test_instance_wide_artifacts_marker(self):
        allrows = walk_marker(inst_path(PROD) + "/artifacts", limit=3)
        per_repo = sum(ok("%s/namespaces/%s/repositories/%s/artifacts?offset=0&limit=100" % (
            inst_path(PROD), r["namespace_name"], enc(r["name"])))["total"]
            for r in ok(inst_path(PROD) + "/repositories?offset=0&limit=100")["repositories"])
        self.assertEqual(len(allrows), per_repo)
        self.assertEqual(len({a["id"] for a in allrows}), per_repo)
        last = ok(inst_path(PROD) + "/artifacts?limit=100")
        self.assertNotIn("next_marker", last)

    def test_project_wide_repositories(self):
        rows, marker = [], None
        while True:
            page = ok("/v2/%s/repositories?limit=2%s" % (ACME_PID, "&marker=" + marker if marker else ""))
            rows.extend(page["repositories"])
            marker = page["page_info"].get("next_marker")
            if not marker:
                break
        self.assertEqual(sorted((r["instance_name"], r["namespace_name"], r["name"]) for r in rows),
                         [("acme-prod", "apps", "api"), ("acme-prod", "apps", "empty"),
                          ("acme-prod", "library", "a/b/c"), ("acme-prod", "library", "nginx"),
                          ("acme-prod", "library", "team/app"), ("acme-staging", "library", "nginx"),
                          ("acme-staging", "tools", "ci/runner")])
        self.assertTrue(REPO_KEYS | {"instance_id", "instance_name", "resource_urn"} <= set(rows[0]))

    def test_order_params(self):
        t = inst_path(PROD) + "/repositories?offset=0&limit=10"
        asc = [r["name"] for r in ok(t + "&order_column=created_at&order_type=asc")["repositories"]]
        self.assertEqual(asc, ["nginx", "team/app", "a/b/c", "api", "empty"])
        self.assertEqual([r["name"] for r in ok(t)["repositories"]], asc[::-1])
        self.assert400(t + "&order_column=name")
        self.assert400(t + "&order_type=asc")


class Shapes(unittest.TestCase):
    def test_instance(self):
        body = ok("/v2/%s/instances" % ACME_PID)
        self.assertEqual(set(body), {"instances", "total"})
        for i in body["instances"]:
            self.assertEqual(set(i), INSTANCE_KEYS)
        one = ok(inst_path(PROD))
        self.assertEqual((one["id"], one["status"], one["access_address"]),
                         (PROD, "Running", "acme-prod-2c9b6f2e.swr.cn-north-4.myhuaweicloud.com"))

    def test_namespaces(self):
        body = ok(inst_path(PROD) + "/namespaces")
        self.assertEqual(set(body), {"namespaces", "total"})
        self.assertEqual([(n["name"], n["metadata"]["public"], n["repo_count"]) for n in body["namespaces"]],
                         [("library", "true", 3), ("apps", "false", 2)])
        self.assertEqual(set(body["namespaces"][0]), NAMESPACE_KEYS)
        self.assertEqual(ok(inst_path(PROD) + "/namespaces?public=false")["total"], 1)

    def test_repositories(self):
        body = ok(inst_path(PROD) + "/namespaces/library/repositories")
        self.assertEqual(set(body), {"total", "repositories"})
        r = {x["name"]: x for x in body["repositories"]}["nginx"]
        self.assertEqual(set(r), REPO_KEYS)
        self.assertEqual((r["namespace_name"], r["artifact_count"], r["tag_count"]), ("library", 3, 3))
        apps = ok(inst_path(PROD) + "/repositories?namespace_id=2")
        self.assertEqual(sorted(x["name"] for x in apps["repositories"]), ["api", "empty"])

    def test_artifacts(self):
        body = ok(inst_path(PROD) + "/namespaces/library/repositories/nginx/artifacts")
        self.assertEqual(set(body), {"artifacts", "total"})
        a = body["artifacts"][0]
        self.assertEqual(set(a), ARTIFACT_KEYS)
        self.assertEqual(set(a["tags"][0]), TAG_REF_KEYS)
        self.assertEqual(sorted(t["name"] for t in a["tags"]), ["1.25", "latest"])
        self.assertTrue(a["digest"].startswith("sha256:") and len(a["digest"]) == 71)
        self.assertEqual((a["size"], a["type"]), (67108864, "IMAGE"))
        tagged = ok(inst_path(PROD) + "/namespaces/library/repositories/nginx/artifacts?tags=1.2")
        self.assertEqual(tagged["total"], 2)

    def test_tags_endpoint_without_project(self):
        body = ok("/v2/instances/%s/namespaces/library/repositories/nginx/tags" % PROD)
        self.assertEqual(set(body), {"tags", "total"})
        self.assertEqual([t["name"] for t in body["tags"]], ["latest", "1.25", "1.24"])
        self.assertEqual(set(body["tags"][0]), REPO_TAG_KEYS)
        self.assertEqual(body["tags"][0]["push_time"], "2025-05-03T09:30:00.250Z")
        nested = ok("/v2/instances/%s/namespaces/library/repositories/team%%2Fapp/tags?offset=0&limit=1" % PROD)
        self.assertEqual((nested["total"], nested["tags"][0]["name"]), (3, "stable"))  # same time: by name

    def test_multi_arch(self):
        arts = ok(inst_path(PROD) + "/namespaces/library/repositories/team%2Fapp/artifacts")["artifacts"]
        v2 = next(a for a in arts if any(t["name"] == "v2" for t in a["tags"]))
        self.assertEqual(v2["manifest_media_type"], "application/vnd.docker.distribution.manifest.list.v2+json")
        runner = ok(inst_path(STAGING) + "/namespaces/tools/repositories/ci%2Frunner/artifacts")["artifacts"][0]
        self.assertEqual(runner["manifest_media_type"], "application/vnd.oci.image.index.v1+json")


class NestedNames(unittest.TestCase):
    T = inst_path(PROD) + "/namespaces/library/repositories/%s/artifacts"

    def status_code(self, form):
        r = get(self.T % form)
        return r.status, r.json().get("error_code")

    def tearDown(self):
        control("config", {"nested_names": "both"})

    def test_forms(self):
        self.assertEqual(self.status_code("a%2Fb%2Fc")[0], 200)
        self.assertEqual(self.status_code("a%252Fb%252Fc")[0], 200)
        self.assertEqual(self.status_code("a/b/c"), (404, "APIGW.0101"))
        self.assertEqual(self.status_code("a$b$c"), (404, "SVCSTG.SWR.4040010"))

    def test_single_and_double_only(self):
        control("config", {"nested_names": "single"})
        self.assertEqual(self.status_code("a%2Fb%2Fc")[0], 200)
        self.assertEqual(self.status_code("a%252Fb%252Fc")[0], 404)
        control("config", {"nested_names": "double"})
        self.assertEqual(self.status_code("a%2Fb%2Fc"), (404, "APIGW.0101"))
        self.assertEqual(self.status_code("a%252Fb%252Fc")[0], 200)


class Instances(unittest.TestCase):
    def test_status_filter(self):
        t = "/v2/%s/instances?status=" % ACME_PID
        self.assertEqual(sorted(i["name"] for i in ok(t + "Running")["instances"]), ["acme-prod", "acme-staging"])
        for st, name in (("Unavailable", "acme-legacy"), ("Creating", "acme-new"), ("Initial", "acme-init")):
            self.assertEqual([i["name"] for i in ok(t + st)["instances"]], [name])
        self.assertEqual(get(t + "Deleting").status, 400)

    def test_not_running_and_unknown(self):
        self.assertEqual(ok(inst_path(CREATING))["status"], "Creating")
        r = get(inst_path(LEGACY) + "/namespaces")
        self.assertEqual((r.status, r.json()["error_code"]), (400, "SVCSTG.SWR.4000014"))
        self.assertEqual(get(inst_path("no-such-instance")).status, 404)
        other = get(inst_path(INITECH_EE) + "/namespaces")  # initech's instance, acme's project
        self.assertEqual(other.status, 404)

    def test_same_path_in_two_instances(self):
        t = "%s/namespaces/library/repositories/nginx/artifacts"
        prod = {a["digest"] for a in ok(t % inst_path(PROD))["artifacts"]}
        staging = {a["digest"] for a in ok(t % inst_path(STAGING))["artifacts"]}
        self.assertEqual((len(prod), len(staging)), (3, 2))
        self.assertFalse(prod & staging)
        inv = control("inventory?account=acme", method="GET")["rows"]
        hosts = {(r["instance_name"], r["host"]) for r in inv if (r["namespace"], r["repository"]) == ("library", "nginx")}
        self.assertEqual(hosts, {("acme-prod", "acme-prod-2c9b6f2e.swr.cn-north-4.myhuaweicloud.com"),
                                 ("acme-staging", "acme-staging-7e4d2a91.swr.cn-north-4.myhuaweicloud.com")})


class Untagged(unittest.TestCase):
    T = inst_path(PROD) + "/namespaces/library/repositories/nginx/artifacts"

    def tearDown(self):
        control("config", {"untagged_tags": "empty"})

    def test_listed_with_empty_tags(self):
        arts = ok(self.T)["artifacts"]
        self.assertEqual(sum(1 for a in arts if a["tags"] == []), 1)
        inv = control("inventory?account=acme&instance=" + PROD, method="GET")
        self.assertEqual(sorted((u["namespace"], u["repository"]) for u in inv["untagged"]),
                         [("apps", "api"), ("library", "nginx")])
        self.assertTrue(all(u["untagged"] and u["tag"] == "" for u in inv["untagged"]))

    def test_null_and_absent_forms(self):
        control("config", {"untagged_tags": "null"})
        self.assertIn(None, [a["tags"] for a in ok(self.T)["artifacts"]])
        control("config", {"untagged_tags": "absent"})
        self.assertEqual(sum(1 for a in ok(self.T)["artifacts"] if "tags" not in a), 1)


class Permission(unittest.TestCase):
    def test_no_ee_permission(self):
        pid = login_json(HOOLI)["token"]["project"]["id"]  # IAM still issues the token
        for r in (get("/v2/%s/instances" % pid, HOOLI), signed("/v2/%s/instances" % pid, ak=HOOLI_AK, sk=HOOLI_SK)):
            self.assertEqual(r.status, 403, r.body)
            e = r.json()
            self.assertEqual((e["error_code"], e["error_msg"]), ("SVCSTG.SWR.4030170", "Insufficient permissions"))
            self.assertIn("encoded_authorization_message", e)
        self.assertEqual(control("inventory?account=hooli", method="GET"),
                         {"authorized": False, "rows": [], "untagged": [], "skipped_instances": []})

    def test_no_instances(self):
        pid = login_json(UMBRELLA)["token"]["project"]["id"]
        self.assertEqual(ok("/v2/%s/instances" % pid, UMBRELLA), {"instances": [], "total": 0})


class Faults(unittest.TestCase):
    def setUp(self):
        control("faults", method="DELETE")

    tearDown = setUp

    def test_500_503_429_counted(self):
        t = "/v2/%s/instances" % ACME_PID
        control("faults", [{"type": "500", "pattern": "/instances$", "count": 1},
                           {"type": "429", "pattern": "/instances$", "retry_after": "2"},
                           {"type": "503", "pattern": "/instances$"}])
        r = get(t)
        self.assertEqual((r.status, r.json()["error_code"]), (500, "SVCSTG.SWR.5000003"))
        r = get(t)
        self.assertEqual((r.status, r.h("Retry-After"), r.json()["error_code"]), (429, "2", "APIGW.0308"))
        r = get(t)
        self.assertEqual(r.status, 503)
        self.assertIn(b"<html>", r.body)
        self.assertEqual(get(t).status, 200)
        self.assertTrue(all(f["remaining"] == 0 for f in control("faults", method="GET")))

    def test_path_filter_slow_reset(self):
        control("faults", [{"type": "slow", "pattern": "/artifacts", "delay_ms": 300},
                           {"type": "reset", "pattern": "/namespaces$"}])
        t0 = time.time()
        self.assertEqual(get(inst_path(PROD) + "/artifacts").status, 200)
        self.assertGreaterEqual(time.time() - t0, 0.29)
        t0 = time.time()
        self.assertEqual(get("/v2/%s/instances" % ACME_PID).status, 200)
        self.assertLess(time.time() - t0, 0.25)
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            get(inst_path(PROD) + "/namespaces")

    def test_rate_and_504_502(self):
        control("faults", {"type": "502", "pattern": "/instances$", "rate": 0.5, "seed": 3})
        codes = [get("/v2/%s/instances" % ACME_PID).status for _ in range(20)]
        self.assertTrue(0 < codes.count(502) < 20, codes)
        control("faults", {"rules": [{"type": "504", "pattern": "/instances$"}], "replace": True})
        self.assertEqual([get("/v2/%s/instances" % ACME_PID).status for _ in range(2)], [504, 200])
        r = base.raw("POST", "/_emulator/faults", {}, json.dumps({"type": "bogus"}).encode(), port=PORT)
        self.assertEqual(r.status, 400)

    def test_expire_tokens_fault(self):
        pid = login_pid(INITECH, PORT)
        control("faults", {"type": "expire_tokens", "pattern": "/namespaces$"})
        try:
            self.assertEqual(get("/v2/%s/instances" % pid, INITECH).status, 200)
            r = get(inst_path(INITECH_EE, pid) + "/namespaces", INITECH)
            self.assertEqual((r.status, r.json()["error_code"]), (401, "SVCSTG.SWR.4010000"))
        finally:
            _tokens.clear()  # every token of this emulator has expired
        self.assertEqual(get(inst_path(INITECH_EE, pid) + "/namespaces", INITECH).status, 200)

    def test_throttle(self):
        pid = login_pid(UMBRELLA, PORT)
        control("config", {"throttle": {"umbrella": {"rate": 0.5, "burst": 1}}})
        try:
            self.assertEqual(get("/v2/%s/instances" % pid, UMBRELLA).status, 200)
            r = get("/v2/%s/instances" % pid, UMBRELLA)
            self.assertEqual((r.status, r.json()["error_code"]), (429, "APIGW.0308"))
            self.assertTrue(r.h("Retry-After"))
        finally:
            control("config", {"throttle": {"umbrella": None}})


class Inventory(unittest.TestCase):
    def check(self, account, cred, pid):
        rows, untagged, skipped = walk_account(cred, pid)
        inv = control("inventory?account=" + account, method="GET")
        self.assertTrue(inv["authorized"])
        self.assertEqual(inv["rows"], rows)
        self.assertEqual(inv["untagged"], untagged)
        self.assertEqual(inv["skipped_instances"], skipped)
        return inv

    def test_acme_matches_api_walk(self):
        inv = self.check("acme", ACME, ACME_PID)
        self.assertEqual(len(inv["rows"]), 11)
        self.assertEqual({r["instance_name"] for r in inv["rows"]}, {"acme-prod", "acme-staging"})
        self.assertEqual([s["status"] for s in inv["skipped_instances"]], ["Unavailable", "Creating", "Initial"])
        latest = next(r for r in inv["rows"] if r["tag"] == "latest" and r["repository"] == "nginx")
        self.assertEqual(latest["updated_ms"], 1746264600250)
        self.assertEqual(sum(r["multi_arch"] for r in inv["rows"]), 3)

    def test_initech_and_gen_match_api_walk(self):
        self.check("initech", INITECH, login_pid(INITECH, PORT))
        inv = self.check("gen", GEN_USER, GEN_PID)
        self.assertEqual(len(inv["rows"]) + len(inv["untagged"]), 150 + 11 * 2)
        self.assertEqual(len(inv["skipped_instances"]), 78)

    def test_unknown_account(self):
        r = base.raw("GET", "/_emulator/inventory?account=nobody", port=PORT)
        self.assertEqual(r.status, 404)


class Cli(unittest.TestCase):
    def test_port_file_and_cli_faults(self):
        with tempfile.TemporaryDirectory() as d:
            pf = os.path.join(d, "port")
            port = start("--dataset", DATASET, "--port-file", pf, "--log",
                         "--faults", json.dumps({"type": "500", "pattern": "^/v3/auth", "count": 1}))
            with open(pf) as f:
                self.assertEqual(int(f.read()), port)
        self.assertEqual(base.iam_login(*ACME, port=port).status, 500)
        self.assertEqual(base.iam_login(*ACME, port=port).status, 201)
        control("reset", port=port)
        self.assertEqual(control("stats", method="GET", port=port)["total"], 0)

    def test_bad_arguments(self):
        for args in (["--generate", "instances=0"], ["--generate", "nope=1"], [],
                     ["--dataset", DATASET, "--faults", '{"type":"bogus"}']):
            p = subprocess.run([sys.executable, EMU, "--max-seconds", "5"] + args,
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(p.returncode, 2, (args, p.stderr))

    def test_stats_and_no_leaks(self):
        self.assertEqual(signed("/v2/%s/instances" % ACME_PID).status, 200)
        st = control("stats", method="GET")
        self.assertGreater(st["total"], 0)
        self.assertGreater(st["auth"]["aksk"], 0)
        self.assertEqual(st["leaks"], [])


if __name__ == "__main__":
    unittest.main()
