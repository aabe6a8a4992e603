#!/usr/bin/env python3
"""Self-test of harbor_emulator.py against the behaviours in
/work/shared/reference/harbor-api.md.  Standard library unittest only.

  python3 tests/emulators/test_harbor_emulator.py [-v]

Starts the emulator three ways: on the sample dataset, on a generated large
dataset (>100 items at every level) and on small throw-away datasets (CLI
faults, OIDC mode).  Every process gets --max-seconds so none outlives a
crashed run; all are terminated in tearDownModule.
"""

import base64
import http.client
import json
import os
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

from emulator_testing import Processes, R

HERE = os.path.dirname(os.path.abspath(__file__))
EMU = os.path.join(HERE, "harbor_emulator.py")
DATASET = os.path.join(HERE, "harbor_dataset.json")

GW = "/api/v2.0/projects/private-team/repositories/services%252Fapi%252Fgateway/artifacts"
ALPINE = "/api/v2.0/projects/library/repositories/alpine/artifacts"
NGINX = "/api/v2.0/projects/library/repositories/nginx/artifacts"
ADMIN = ("admin", "Harbor12345")
ALICE = ("alice", "alice-pass")
CAROL = ("carol", "carol-pass")
CI_ROBOT = ("robot$private-team+ci", "ci-secret")
LISTER_ROBOT = ("robot$private-team+lister", "lister-secret")
SYNC_ROBOT = ("robot$sync-all", "sync-all-secret")
GEN = "projects=120,repos=105,artifacts=130,tags=3,index_every=10"

EMUS = Processes(EMU)
start = EMUS.start


def setUpModule():
    global PORT, GPORT
    PORT = start("--dataset", DATASET, "--proxy-read-timeout-ms", "400")
    GPORT = start("--generate", GEN)


def tearDownModule():
    EMUS.stop_all()


def req(path, auth=None, port=None, method="GET", body=None, headers=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port or PORT, timeout=timeout)
    try:
        return _do(c, path, auth, method, body, headers)
    finally:
        c.close()


def _do(c, path, auth=None, method="GET", body=None, headers=None):
    h = dict(headers or {})
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        h["Content-Type"] = "application/json"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    return R(r.status, {k.lower(): v for k, v in r.getheaders()}, data)


def control(path, body=None, method="POST", port=None):
    r = req("/_emulator/" + path, port=port, method=method, body=body if body is not None else b"")
    assert r.status == 200, (r.status, r.body)
    return r.json()


def envelope(code, message):
    return {"errors": [{"code": code, "message": message}]}


def next_url(link):
    """What Harbor's own client does with rel="next" (§1.4): take the URL,
    re-encode its query."""
    for part in link.split(" , "):
        url, _, rel = part.partition(">; ")
        if rel == 'rel="next"':
            path, _, q = url[1:].partition("?")
            return path + "?" + urllib.parse.urlencode(urllib.parse.parse_qsl(q, keep_blank_values=True))
    return None


def walk(path, auth=None, port=None):
    """Follow rel="next" to the end; returns (items, totals seen, requests)."""
    items, totals, n = [], [], 0
    c = http.client.HTTPConnection("127.0.0.1", port or PORT, timeout=30)
    try:
        while path:
            r = _do(c, path, auth)
            assert r.status == 200, (path, r.status, r.body[:300])
            n += 1
            items.extend(r.json())
            totals.append(int(r.h("X-Total-Count")))
            link = r.h("Link")
            path = next_url(link) if link else None
    finally:
        c.close()
    return items, totals, n


class Base(unittest.TestCase):
    def setUp(self):
        control("reset")

    def assertError(self, r, status, code, message):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.h("Content-Type"), "application/json; charset=utf-8")
        self.assertEqual(r.json(), envelope(code, message))


class DiscoveryTests(Base):
    def test_version_and_harbor1x_switch(self):
        r = req("/api/version")
        self.assertEqual((r.status, r.json()), (200, {"version": "v2.0"}))
        control("config", {"api_version_404": True})
        self.assertEqual(req("/api/version").status, 404)
        control("config", {"api_version_404": False})
        self.assertEqual(req("/api/version").status, 200)

    def test_ping_health(self):
        r = req("/api/v2.0/ping")
        self.assertEqual((r.status, r.body), (200, b"Pong"))
        self.assertTrue(r.h("Content-Type").startswith("text/plain"))
        h = req("/api/v2.0/health").json()
        self.assertEqual(h["status"], "healthy")
        self.assertIn({"name": "core", "status": "healthy"}, h["components"])
        control("config", {"unhealthy": ["redis"]})
        self.assertEqual(req("/api/v2.0/health").json()["status"], "unhealthy")

    def test_systeminfo_only_authenticated_gets_version(self):
        anon = req("/api/v2.0/systeminfo")
        bad = req("/api/v2.0/systeminfo", auth=("admin", "wrong"))
        good = req("/api/v2.0/systeminfo", auth=ADMIN)
        robot = req("/api/v2.0/systeminfo", auth=CI_ROBOT)
        for r in (anon, bad, good, robot):
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json()["auth_mode"], "db_auth")
        self.assertNotIn("harbor_version", anon.json())
        self.assertNotIn("harbor_version", bad.json())
        self.assertEqual(good.json()["harbor_version"], "v2.15.2-c50c7ddd")
        self.assertIn("harbor_version", robot.json())
        self.assertIn("external_url", good.json())

    def test_users_current(self):
        r = req("/api/v2.0/users/current", auth=ALICE)
        self.assertEqual(r.status, 200)
        self.assertEqual((r.json()["username"], r.json()["sysadmin_flag"]), ("alice", False))
        self.assertTrue(req("/api/v2.0/users/current", auth=ADMIN).json()["sysadmin_flag"])
        self.assertError(req("/api/v2.0/users/current", auth=CI_ROBOT), 412, "PRECONDITION",
                         "get current user not available for security context: robot")
        self.assertError(req("/api/v2.0/users/current"), 401, "UNAUTHORIZED", "unauthorized")
        self.assertError(req("/api/v2.0/users/current", auth=("alice", "nope")), 401, "UNAUTHORIZED", "unauthorized")

    def test_users_current_permissions(self):
        self.assertEqual(req("/api/v2.0/users/current/permissions").status, 401)
        self.assertEqual(req("/api/v2.0/users/current/permissions", auth=CI_ROBOT).status, 200)
        r = req("/api/v2.0/users/current/permissions?scope=/project/2&relative=true", auth=ALICE)
        self.assertIn({"resource": "artifact", "action": "list"}, r.json())

    def test_request_id_echo_and_generated(self):
        r = req("/api/v2.0/projects", headers={"X-Request-Id": "abc-123"})
        self.assertEqual(r.h("X-Request-Id"), "abc-123")
        r = req("/api/v2.0/projects/nope/repositories", headers={"X-Request-Id": "err-1"})
        self.assertEqual(r.h("X-Request-Id"), "err-1")
        self.assertTrue(req("/api/v2.0/ping").h("X-Request-Id"))

    def test_unknown_path_and_method(self):
        self.assertError(req("/api/v2.0/nothing"), 404, "NOT_FOUND", "path /api/v2.0/nothing was not found")
        self.assertEqual(req("/api/v2.0/projects", method="DELETE").status, 405)

    def test_keep_alive(self):
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
        try:
            for _ in range(5):
                self.assertEqual(_do(c, "/api/v2.0/projects?page_size=1").status, 200)
                self.assertEqual(_do(c, "/api/v2.0/nothing").status, 404)
        finally:
            c.close()


class PaginationTests(Base):
    def test_page_size_over_100_exact_422(self):
        for path in ("/api/v2.0/projects?page_size=200", GW + "?page_size=101",
                     "/api/v2.0/repositories?page_size=500"):
            r = req(path, auth=ADMIN)
            self.assertEqual(r.status, 422)
            self.assertEqual(r.h("Content-Type"), "application/json; charset=utf-8")
            self.assertEqual(r.body.rstrip(b"\n"),
                             b'{"errors":[{"code":"UNPROCESSABLE_ENTITY","message":"validation failure list:'
                             b'\\npage_size in query should be less than or equal to 100"}]}')
        # validation happens before the permission check
        self.assertEqual(req(GW + "?page_size=200").status, 422)
        self.assertEqual(req("/api/v2.0/projects?page_size=100", auth=ADMIN).status, 200)

    def test_bad_int_is_422(self):
        r = req("/api/v2.0/projects?page=abc", auth=ADMIN)
        self.assertError(r, 422, "UNPROCESSABLE_ENTITY", 'validation failure list:\npage in query must be of type int64: "abc"')

    def test_default_page_size_10_and_link(self):
        r = req("/api/v2.0/projects", auth=ADMIN)
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.json()), 10)
        self.assertEqual(r.h("X-Total-Count"), "13")
        self.assertEqual(r.h("Link"), '</api/v2.0/projects?page=2&page_size=10>; rel="next"')
        r = req("/api/v2.0/projects?page=2", auth=ADMIN)
        self.assertEqual(len(r.json()), 3)
        self.assertEqual(r.h("Link"), '</api/v2.0/projects?page=1&page_size=10>; rel="prev"')
        r = req(GW, auth=ADMIN)
        self.assertEqual((len(r.json()), r.h("X-Total-Count")), (10, "12"))

    def test_link_prev_next_sorted_keys_unescaped(self):
        path = "/api/v2.0/projects?with_detail=false&page=2&q=name%3D~team&page_size=3&name=t"
        r = req(path, auth=ADMIN)
        self.assertEqual(r.h("X-Total-Count"), "9")  # team-01..08 and private-team
        self.assertEqual(r.h("Link"),
                         '</api/v2.0/projects?name=t&page=1&page_size=3&q=name=~team&with_detail=false>; rel="prev"'
                         ' , </api/v2.0/projects?name=t&page=3&page_size=3&q=name=~team&with_detail=false>; rel="next"')
        r = req(GW + "?page=2&page_size=5&with_tag=false", auth=ADMIN)
        self.assertEqual(r.h("Link"),
                         "<%s?page=1&page_size=5&with_tag=false>; rel=\"prev\" , "
                         "<%s?page=3&page_size=5&with_tag=false>; rel=\"next\"" % (GW, GW))

    def test_no_link_single_page_total_always(self):
        r = req("/api/v2.0/projects/library/repositories", auth=ADMIN)
        self.assertEqual(r.h("X-Total-Count"), "4")
        self.assertIsNone(r.h("Link"))
        r = req("/api/v2.0/projects?name=zzz", auth=ADMIN)
        self.assertEqual((r.json(), r.h("X-Total-Count"), r.h("Link")), ([], "0", None))
        r = req("/api/v2.0/projects?page=5", auth=ADMIN)  # past the end: prev only when (page-1)*size < total
        self.assertEqual((r.json(), r.h("X-Total-Count"), r.h("Link")), ([], "13", None))
        r = req(GW + "?page_size=0", auth=ADMIN)  # undocumented: no LIMIT, no Link
        self.assertEqual((len(r.json()), r.h("Link")), (12, None))

    def test_offset_paging_is_complete(self):
        items, totals, n = walk(GW + "?page_size=5", auth=ALICE)
        self.assertEqual((len(items), n, totals), (12, 3, [12, 12, 12]))
        self.assertEqual(len({a["digest"] for a in items}), 12)

    def test_default_orders(self):
        names = [p["name"] for p in walk("/api/v2.0/projects?page_size=4", auth=ADMIN)[0]]
        self.assertEqual(names, sorted(names))
        repos = req("/api/v2.0/projects/library/repositories", auth=ADMIN).json()
        # -creation_time, -repository_id (alpine and nginx share creation_time)
        self.assertEqual([r["name"] for r in repos], ["library/charts/redis", "library/alpine",
                                                      "library/nginx", "library/tools/builder/base"])
        arts = req(GW + "?page_size=12", auth=ADMIN).json()
        keys = [(a["push_time"], a["id"]) for a in arts]
        self.assertEqual(keys, sorted(keys, reverse=True))
        self.assertEqual(arts[0]["push_time"], arts[1]["push_time"])  # a tie broken by -id
        self.assertGreater(arts[0]["id"], arts[1]["id"])

    def test_bad_q_is_400(self):
        r = req(GW + "?q=tags", auth=ADMIN)
        self.assertError(r, 400, "BAD_REQUEST", 'the query string must contain "=" and the key/value cannot be empty')


class AuthTests(Base):
    def test_wrong_credentials_are_anonymous(self):
        anon = req("/api/v2.0/projects?page_size=100")
        bad = req("/api/v2.0/projects?page_size=100", auth=("admin", "wrong"))
        self.assertEqual((anon.status, bad.status), (200, 200))
        self.assertEqual(anon.json(), bad.json())
        self.assertEqual({p["name"] for p in anon.json()},
                         {"empty-public", "library", "team-01", "team-03", "team-05", "team-07"})
        for p in anon.json():
            self.assertEqual(p["metadata"]["public"], "true")
        self.assertEqual(req("/api/v2.0/projects?public=false").json(), [])
        self.assertEqual(req("/api/v2.0/projects?public=false").h("X-Total-Count"), "0")
        # public project resources are readable anonymously
        self.assertEqual(req(NGINX).status, 200)

    def test_anonymous_private_is_401(self):
        for auth in (None, ("alice", "wrong"), ("robot$private-team+ci", "bad"),
                     ("robot$private-team+disabled", "disabled-secret"),
                     ("robot$private-team+expired", "expired-secret")):
            for path in ("/api/v2.0/projects/private-team/repositories", GW, "/api/v2.0/projects/private-team"):
                self.assertError(req(path, auth=auth), 401, "UNAUTHORIZED", "unauthorized")

    def test_authenticated_without_permission_is_403(self):
        self.assertError(req(GW, auth=CAROL), 403, "FORBIDDEN", "forbidden")
        self.assertError(req("/api/v2.0/projects/private-team/repositories", auth=CAROL), 403, "FORBIDDEN", "forbidden")
        self.assertEqual(req("/api/v2.0/projects/private-team/repositories", auth=LISTER_ROBOT).status, 200)
        self.assertError(req(GW, auth=LISTER_ROBOT), 403, "FORBIDDEN", "forbidden")
        # a robot without project:read cannot GET the project itself (#14512)
        self.assertError(req("/api/v2.0/projects/private-team", auth=CI_ROBOT), 403, "FORBIDDEN", "forbidden")
        self.assertEqual(req("/api/v2.0/projects/private-team", auth=ALICE).status, 200)

    def test_missing_project(self):
        path = "/api/v2.0/projects/nope/repositories/x/artifacts"
        self.assertError(req(path, auth=ADMIN), 404, "NOT_FOUND", "project nope not found")
        self.assertError(req(path, auth=CAROL), 403, "FORBIDDEN", "forbidden")
        self.assertError(req(path, auth=SYNC_ROBOT), 403, "FORBIDDEN", "forbidden")  # #21800
        self.assertError(req(path), 401, "UNAUTHORIZED", "unauthorized")
        self.assertError(req("/api/v2.0/projects/nope", auth=ADMIN), 404, "NOT_FOUND", "project nope not found")

    def test_missing_repository_is_empty_list(self):
        r = req("/api/v2.0/projects/private-team/repositories/does%252Fnot%252Fexist/artifacts", auth=ALICE)
        self.assertEqual((r.status, r.body, r.h("X-Total-Count"), r.h("Link")), (200, b"[]\n", "0", None))

    def test_robot_project_lists(self):
        names = {p["name"] for p in req("/api/v2.0/projects?page_size=100", auth=CI_ROBOT).json()}
        self.assertEqual(names, {"private-team", "empty-public", "library", "team-01", "team-03", "team-05", "team-07"})
        self.assertEqual(req("/api/v2.0/projects", auth=SYNC_ROBOT).h("X-Total-Count"), "13")
        self.assertEqual(req(GW, auth=CI_ROBOT).status, 200)
        self.assertEqual(req("/api/v2.0/projects/ml-models/repositories", auth=SYNC_ROBOT).status, 200)
        self.assertError(req("/api/v2.0/projects/ml-models/repositories", auth=CI_ROBOT), 403, "FORBIDDEN", "forbidden")

    def test_member_sees_member_and_public(self):
        names = {p["name"] for p in req("/api/v2.0/projects?page_size=100", auth=ALICE).json()}
        self.assertEqual(names, {"private-team", "ml-models", "team-02", "empty-public", "library",
                                 "team-01", "team-03", "team-05", "team-07"})
        priv = req("/api/v2.0/projects?public=false", auth=ALICE).json()
        self.assertEqual({p["name"] for p in priv}, {"private-team", "ml-models", "team-02"})
        p = req("/api/v2.0/projects/private-team", auth=ALICE).json()
        self.assertEqual((p["current_user_role_id"], p["current_user_role_ids"]), (2, [2]))

    def test_all_repositories_filtered(self):
        anon = req("/api/v2.0/repositories?page_size=100").json()
        self.assertTrue(all(r["name"].split("/")[0] in ("library", "team-01", "team-03", "team-05", "team-07")
                            for r in anon))
        admin = req("/api/v2.0/repositories?page_size=100", auth=ADMIN)
        self.assertEqual(admin.h("X-Total-Count"), "17")

    def test_project_artifacts_requires_auth(self):
        self.assertError(req("/api/v2.0/projects/library/artifacts"), 401, "UNAUTHORIZED", "unauthorized")
        r = req("/api/v2.0/projects/library/artifacts?page_size=100", auth=CAROL)
        self.assertEqual((r.status, r.h("X-Total-Count")), (200, "9"))
        r = req("/api/v2.0/projects/1/artifacts?latest_in_repository=true", auth=ADMIN)
        self.assertEqual(r.h("X-Total-Count"), "4")

    def test_project_json_shape(self):
        p = req("/api/v2.0/projects/library", auth=ADMIN).json()
        self.assertEqual(p["metadata"]["public"], "true")
        self.assertIsInstance(p["metadata"]["public"], str)
        self.assertEqual((p["project_id"], p["repo_count"], p["owner_name"]), (1, 4, "admin"))
        self.assertNotIn("registry_id", p)  # omitempty: 0 is not sent
        proxy = req("/api/v2.0/projects/proxy-dockerhub", auth=ADMIN).json()
        self.assertEqual(proxy["registry_id"], 1)
        self.assertNotIn("owner_name", req("/api/v2.0/projects?with_detail=false", auth=ADMIN).json()[0])


class ArtifactTests(Base):
    def test_single_vs_double_encoding(self):
        r = req("/api/v2.0/projects/private-team/repositories/services%2Fapi%2Fgateway/artifacts", auth=ADMIN)
        self.assertError(r, 404, "NOT_FOUND",
                         "path /api/v2.0/projects/private-team/repositories/services/api/gateway/artifacts was not found")
        r = req(GW, auth=ADMIN)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()[0]["repository_name"], "private-team/services/api/gateway")
        r = req("/api/v2.0/projects/library/repositories/tools%252Fbuilder%252Fbase", auth=ADMIN)
        self.assertEqual(r.json()["name"], "library/tools/builder/base")

    def test_index_children_hidden_and_accessories_excluded(self):
        r = req(ALPINE, auth=ADMIN)
        tags = sorted(tuple(sorted(t["name"] for t in a.get("tags", []))) for a in r.json())
        self.assertEqual(r.h("X-Total-Count"), "3")
        self.assertEqual(tags, [("3.18",), ("3.19", "latest"), ("3.19-armv7",)])
        index = [a for a in r.json() if a["manifest_media_type"].endswith("index.v1+json")][0]
        self.assertEqual(len(index["references"]), 3)
        self.assertEqual(req(ALPINE + "?q=base%3D*", auth=ADMIN).h("X-Total-Count"), "5")
        self.assertEqual(req(ALPINE + "?q=tags%3D*", auth=ADMIN).h("X-Total-Count"), "3")
        child = index["references"][0]["child_digest"]
        self.assertEqual(req(ALPINE + "/" + child, auth=ADMIN).status, 200)  # direct access works
        n = req(NGINX, auth=ADMIN)
        self.assertEqual(n.h("X-Total-Count"), "3")  # the cosign signature is not listed
        self.assertEqual(req(NGINX + "?q=tags%3Dnil", auth=ADMIN).h("X-Total-Count"), "1")
        self.assertEqual(req(NGINX + "?q=tags%3D*", auth=ADMIN).h("X-Total-Count"), "2")
        acc = req(NGINX + "?with_accessory=true", auth=ADMIN).json()
        self.assertEqual([x["type"] for a in acc for x in a.get("accessories", [])], ["signature.cosign"])

    def test_tags_zero_one_many_and_with_tag(self):
        arts = req(NGINX, auth=ADMIN).json()
        counts = sorted(len(a.get("tags") or []) for a in arts)
        self.assertEqual(counts, [0, 1, 4])
        many = [a for a in arts if len(a.get("tags") or []) == 4][0]
        self.assertEqual({"id", "repository_id", "artifact_id", "name", "push_time", "pull_time", "immutable"},
                         set(many["tags"][0]))
        self.assertEqual(many["tags"][0]["name"], "latest")  # -push_time
        self.assertTrue(all("tags" not in a for a in req(NGINX + "?with_tag=false", auth=ADMIN).json()))
        self.assertEqual(many["labels"] if "labels" in many else None, None)
        self.assertEqual(len(req(NGINX + "?with_label=true", auth=ADMIN).json()[0]["labels"]), 1)

    def test_reference_and_tags_endpoints(self):
        a = req(NGINX + "/latest", auth=ADMIN)
        self.assertEqual(a.status, 200)
        d = a.json()["digest"]
        self.assertEqual(req(NGINX + "/" + d, auth=ADMIN).json()["id"], a.json()["id"])
        t = req(NGINX + "/latest/tags?page_size=3", auth=ADMIN)
        self.assertEqual((t.h("X-Total-Count"), len(t.json())), ("4", 3))
        self.assertIn('rel="next"', t.h("Link"))
        self.assertError(req(NGINX + "/nope", auth=ADMIN), 404, "NOT_FOUND", "artifact library/nginx:nope not found")

    def test_types_and_times(self):
        types = {a["type"] for a in walk("/api/v2.0/projects/private-team/repositories/services%252Fworker/artifacts",
                                         auth=ADMIN)[0]}
        self.assertEqual(types, {"WASM", "SBOM"})
        chart = req("/api/v2.0/projects/library/repositories/charts%252Fredis/artifacts", auth=ADMIN).json()[0]
        self.assertEqual(chart["type"], "CHART")
        a = req(GW + "?page_size=1", auth=ADMIN).json()[0]
        self.assertEqual(a["pull_time"], "0001-01-01T00:00:00.000Z")
        self.assertRegex(a["push_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class FaultTests(Base):
    def test_500_for_next_n(self):
        control("faults", {"type": "500", "pattern": "/repositories$", "count": 2})
        for _ in range(2):
            self.assertError(req("/api/v2.0/projects/library/repositories"), 500, "UNKNOWN", "internal server error")
        self.assertEqual(req("/api/v2.0/projects/library/repositories").status, 200)
        self.assertEqual(req("/api/v2.0/projects").status, 200)
        st = control("stats", method="GET")
        self.assertEqual(st["paths"]["/api/v2.0/projects/library/repositories"], 3)
        self.assertEqual(st["faults"][0]["fired"], 2)

    def test_after_skips_first_matches(self):
        control("faults", {"type": "500", "pattern": "page=2", "after": 1, "count": 1})
        self.assertEqual(req(GW + "?page=2", auth=ADMIN).status, 200)
        self.assertEqual(req(GW + "?page=2", auth=ADMIN).status, 500)
        self.assertEqual(req(GW + "?page=2", auth=ADMIN).status, 200)

    def test_429_retry_after(self):
        control("faults", [{"type": "429", "pattern": "projects", "count": 1, "retry_after": "2"}])
        r = req("/api/v2.0/projects")
        self.assertEqual((r.status, r.h("Retry-After")), (429, "2"))
        self.assertIn(b"429 Too Many Requests", r.body)
        self.assertEqual(req("/api/v2.0/projects").status, 200)

    def test_504_nginx_page(self):
        control("faults", {"type": "504", "pattern": "artifacts", "count": 1})
        r = req(GW, auth=ADMIN)
        self.assertEqual(r.status, 504)
        self.assertTrue(r.body.startswith(b"<html>\r\n<head><title>504 Gateway Time-out</title>"))
        self.assertIn(b"<center>nginx</center>", r.body)
        self.assertEqual(r.h("Content-Type"), "text/html")
        self.assertEqual(req(GW, auth=ADMIN).status, 200)

    def test_slow_and_proxy_timeout(self):
        control("faults", {"type": "slow", "pattern": "ping", "delay_ms": 250, "count": 1})
        t0 = time.monotonic()
        r = req("/api/v2.0/ping")
        self.assertGreaterEqual(time.monotonic() - t0, 0.24)
        self.assertEqual(r.status, 200)
        # other connections are served meanwhile
        control("faults", {"type": "slow", "pattern": "ping", "delay_ms": 300, "count": 1})
        out = {}
        th = threading.Thread(target=lambda: out.setdefault("r", req("/api/v2.0/ping")))
        th.start()
        time.sleep(0.05)
        t1 = time.monotonic()
        self.assertEqual(req("/api/version").status, 200)
        self.assertLess(time.monotonic() - t1, 0.2)
        th.join()
        self.assertEqual(out["r"].status, 200)
        # this emulator runs with --proxy-read-timeout-ms 400: a slower answer becomes nginx's 504
        control("faults", {"type": "slow", "pattern": "projects", "delay_ms": 5000, "count": 1})
        t0 = time.monotonic()
        r = req("/api/v2.0/projects")
        el = time.monotonic() - t0
        self.assertEqual(r.status, 504)
        self.assertIn(b"504 Gateway Time-out", r.body)
        self.assertTrue(0.35 < el < 2.0, el)

    def test_reset_connection(self):
        control("faults", {"type": "reset", "pattern": "ping", "count": 1})
        with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
            req("/api/v2.0/ping")
        self.assertEqual(req("/api/v2.0/ping").status, 200)

    def test_clear_and_list_faults(self):
        control("faults", {"type": "500", "pattern": "x", "count": -1})
        self.assertEqual(len(control("faults", method="GET")), 1)
        control("faults", method="DELETE")
        self.assertEqual(control("faults", method="GET"), [])

    def test_cli_faults(self):
        port = start("--dataset", DATASET, "--faults",
                     json.dumps([{"type": "500", "pattern": "^/api/v2.0/projects", "count": 1}]))
        self.assertEqual(req("/api/v2.0/projects", port=port).status, 500)
        self.assertEqual(req("/api/v2.0/projects", port=port).status, 200)


class PushTests(Base):
    def test_push_during_walk_shifts_pages(self):
        control("faults", {"type": "push", "pattern": "gateway/artifacts.*page=1", "after": 1,
                           "push": {"repository": "private-team/services/api/gateway", "count": 2}})
        p1 = req(GW + "?page=1&page_size=5", auth=ADMIN)
        p2 = req(GW + "?page=2&page_size=5", auth=ADMIN)
        self.assertEqual((p1.h("X-Total-Count"), p2.h("X-Total-Count")), ("12", "14"))
        d1 = [a["digest"] for a in p1.json()]
        d2 = [a["digest"] for a in p2.json()]
        self.assertEqual(d2[:2], d1[3:])  # newest-first: two rows from page 1 show up again
        items, _, _ = walk(GW + "?page_size=5", auth=ADMIN)
        self.assertEqual(len(items), 14)
        self.assertEqual(items[0]["tags"][0]["name"].startswith("pushed-"), True)
        st = control("stats", method="GET")
        self.assertEqual(st["pushes"], 1)

    def test_push_new_repositories_shift_repo_pages(self):
        before = [r["name"] for r in req("/api/v2.0/repositories?page_size=5", auth=ADMIN).json()]
        res = control("push", {"project": "private-team", "new_repositories": 2})
        new = [x["repository"] for x in res[0]["repositories"]]
        after = [r["name"] for r in req("/api/v2.0/repositories?page_size=5", auth=ADMIN).json()]
        self.assertEqual(after[:2], list(reversed(new)))
        self.assertEqual(after[2:], before[:3])
        self.assertEqual(req("/api/v2.0/projects/private-team", auth=ADMIN).json()["repo_count"], 5)

    def test_push_tag_moves(self):
        a = req(NGINX + "/1.24.0", auth=ADMIN).json()
        control("push", {"repository": "library/nginx", "digest": a["digest"], "tag": "latest"})
        self.assertEqual(req(NGINX + "/latest", auth=ADMIN).json()["digest"], a["digest"])
        tags = [t["name"] for t in req(NGINX + "/1.25.3", auth=ADMIN).json()["tags"]]
        self.assertNotIn("latest", tags)

    def test_push_explicit_artifact_new_project(self):
        control("push", {"repository": "newproj/a/b/c", "public": True,
                         "artifacts": [{"digest": "sha256:" + "ab" * 32, "tags": ["t1", "t2"], "size": 7}]})
        r = req("/api/v2.0/projects/newproj/repositories/a%252Fb%252Fc/artifacts")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()[0]["digest"], "sha256:" + "ab" * 32)
        self.assertIn("newproj", [p["name"] for p in req("/api/v2.0/projects?page_size=100").json()])


class GeneratedTests(unittest.TestCase):
    """--generate projects=120,repos=105,artifacts=130: >100 at every level."""

    def test_projects_over_100(self):
        items, totals, n = walk("/api/v2.0/projects?page_size=50", auth=ADMIN, port=GPORT)
        self.assertEqual((len(items), n), (120, 3))
        self.assertEqual(len({p["name"] for p in items}), 120)
        anon = req("/api/v2.0/projects?page_size=100", port=GPORT)
        self.assertEqual(anon.h("X-Total-Count"), "60")
        self.assertIn('rel="next"', req("/api/v2.0/projects?page_size=100", auth=ADMIN, port=GPORT).h("Link"))

    def test_repositories_over_100_three_depths(self):
        items, totals, n = walk("/api/v2.0/projects/gen-p0002/repositories?page_size=100",
                                auth=("gen-dev", "gen-dev-pass"), port=GPORT)
        self.assertEqual((len(items), n), (105, 2))
        depths = {r["name"].count("/") for r in items}
        self.assertEqual(depths, {1, 2, 3})
        keys = [(r["creation_time"], r["id"]) for r in items]
        self.assertEqual(keys, sorted(keys, reverse=True))
        self.assertTrue(all(r["artifact_count"] == 130 for r in items))
        self.assertEqual(req("/api/v2.0/repositories?page_size=1", auth=ADMIN, port=GPORT).h("X-Total-Count"),
                         str(120 * 105))

    def test_artifacts_over_100_deterministic(self):
        repos = req("/api/v2.0/projects/gen-p0003/repositories?page_size=3", auth=ADMIN, port=GPORT).json()
        for repo in repos:
            short = repo["name"].split("/", 1)[1]
            path = "/api/v2.0/projects/gen-p0003/repositories/%s/artifacts?page_size=100" % urllib.parse.quote(
                urllib.parse.quote(short, safe=""), safe="")
            items, totals, n = walk(path, auth=("robot$gen-sync", "gen-sync-secret"), port=GPORT)
            self.assertEqual((len(items), n, totals[0]), (130, 2, 130))
            self.assertEqual(len({a["digest"] for a in items}), 130)
            ntags = [len(a.get("tags") or []) for a in items]
            self.assertIn(0, ntags)
            self.assertIn(1, ntags)
            self.assertIn(3, ntags)
            again, _, _ = walk(path, auth=ADMIN, port=GPORT)
            self.assertEqual([a["digest"] for a in again], [a["digest"] for a in items])
            # the sort parameter takes the materialised-object path: same bytes
            a = req(path + "&page=2", auth=ADMIN, port=GPORT)
            b = req(path + "&page=2&sort=-push_time", auth=ADMIN, port=GPORT)
            self.assertEqual(a.body, b.body)
            base = walk(path + "&q=base%3D*", auth=ADMIN, port=GPORT)[0]
            self.assertEqual(len(base), 130 + 2 * 13)  # index_every=10: 13 indexes x 2 hidden children


class SerializerTests(unittest.TestCase):
    """The fast string-built artifact JSON must equal the reference
    serializer (json of to_dict, keys sorted like go-swagger models)."""

    def test_fast_json_matches_reference(self):
        sys.path.insert(0, HERE)
        import harbor_emulator as h
        with open(DATASET) as f:
            data = json.load(f)
        for gen in (None, "projects=2,repos=4,artifacts=25,index_every=4"):
            app = h.App(data if gen is None else {}, gen, 16, None, False, 0)
            st = app.store
            n = 0
            for p in st.projects_sorted:
                for r in p.repos_sorted:
                    st.ensure(r)
                    for a in r.arts:
                        for bits in range(64):
                            flags = tuple(bool(bits >> i & 1) for i in range(6))
                            self.assertEqual(a.fast_json(flags), h.jdump(a.to_dict(flags)), (r.name, a.digest, flags))
                        n += 1
            self.assertGreater(n, 30)

    def test_generated_direct_pages_match_objects(self):
        sys.path.insert(0, HERE)
        import harbor_emulator as h
        for gen in ("projects=2,repos=5,artifacts=31,index_every=4,tags=4", "projects=1,repos=3,artifacts=21"):
            st = h.App({}, gen, 4, None, False, 0).store
            for p in st.projects_sorted:
                for r in p.repos_sorted:
                    for with_tag in (True, False):
                        direct = st.gen_page(r, 1, 0, with_tag)
                        self.assertIsNone(r.arts)  # no objects were built
                        flags = (with_tag, False, False, False, False, False)
                        objs = b"[" + b",".join(a.to_json(flags) for a in st.listed_sorted(r)) + b"]\n"
                        self.assertEqual(direct, objs, r.name)
                        st._evict(r)
                        st.lru.pop(r.id, None)


class GeneratedMutationTests(unittest.TestCase):
    def test_push_into_generated_repo(self):
        path = "/api/v2.0/projects/gen-p0100/repositories/org0%252Fteam2%252Fr0030/artifacts"
        try:
            before = req(path + "?page_size=100", auth=ADMIN, port=GPORT)
            control("push", {"repository": "gen-p0100/org0/team2/r0030", "count": 1, "tags": ["hotfix"]}, port=GPORT)
            after = req(path + "?page_size=100", auth=ADMIN, port=GPORT)
            self.assertEqual((before.h("X-Total-Count"), after.h("X-Total-Count")), ("130", "131"))
            self.assertEqual(after.json()[0]["tags"][0]["name"], "hotfix")
            self.assertEqual(after.json()[1:], before.json()[:99])
        finally:
            control("reset", port=GPORT)

    def test_tiny_lru_stays_correct(self):
        port = start("--generate", "projects=2,repos=6,artifacts=12,index_every=5", "--gen-cache-repos", "2")
        repos = req("/api/v2.0/projects/gen-p0001/repositories", auth=ADMIN, port=port).json()
        paths = []
        for r in repos:
            short = urllib.parse.quote(urllib.parse.quote(r["name"].split("/", 1)[1], safe=""), safe="")
            paths.append("/api/v2.0/projects/gen-p0001/repositories/%s/artifacts?sort=-push_time&q=base%%3D*&page_size=100" % short)
        first = [req(p, auth=ADMIN, port=port).body for p in paths]
        proj = req("/api/v2.0/projects/gen-p0001/artifacts?page_size=100", auth=ADMIN, port=port)
        self.assertEqual((proj.status, proj.h("X-Total-Count")), (200, "72"))
        second = [req(p, auth=ADMIN, port=port).body for p in paths]
        self.assertEqual(first, second)
        self.assertEqual(len(json.loads(first[0])), 12 + 2 * 2)


class OidcTests(unittest.TestCase):
    def test_cli_secret_only_on_allow_list(self):
        with open(DATASET) as f:
            d = json.load(f)
        d["auth_mode"] = "oidc_auth"
        d["users"][1]["cli_secret"] = "alice-cli"
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(d, f)
        try:
            port = start("--dataset", f.name)
        finally:
            os.unlink(f.name)
        cli = ("alice", "alice-cli")
        self.assertEqual(req(GW, auth=cli, port=port).status, 200)
        self.assertEqual(req("/api/v2.0/projects/private-team/repositories", auth=cli, port=port).status, 200)
        self.assertEqual(req("/api/v2.0/users/current", auth=cli, port=port).status, 401)  # false 401 (§2.3)
        self.assertIn("harbor_version", req("/api/v2.0/systeminfo", auth=cli, port=port).json())
        self.assertEqual(req(GW, auth=ALICE, port=port).status, 401)  # password does not work in OIDC mode


if __name__ == "__main__":
    unittest.main()
