#!/usr/bin/env python3
"""Self-test of jfrog_emulator.py against the Artifactory behaviours of
/work/shared/reference/swr-jfrog-oci-api.md §4, §4.1 and §5.  Standard library unittest only.

  python3 tests/emulators/test_jfrog_emulator.py [-v]

Starts the emulator on the sample dataset (version 7 and version 6) and on a generated set
(1200 images, an image with 150 tags, a remote repository).  Every process gets
--max-seconds so none outlives a crashed run; all are terminated in tearDownModule.
The walker here is the "correct client" the inventory endpoint is checked against.
"""

import base64
import datetime
import hashlib
import http.client
import json
import os
import time
import unittest
import urllib.parse

from emulator_testing import Processes, R

HERE = os.path.dirname(os.path.abspath(__file__))
EMU = os.path.join(HERE, "jfrog_emulator.py")
DATASET = os.path.join(HERE, "jfrog_dataset.json")
GEN = "images=1200,tags=2,big_tags=150,remote=1"

ADMIN = ("basic", "admin", "admin-pass")
ADMIN_IDT = ("basic", "admin", "idt-admin-7c1e0d5a9b")
ADMIN_TOKEN = ("bearer", "atk-admin-3f8a2b6c4d")
READER = ("basic", "reader", "reader-pass")
NOAQL = ("basic", "noaql", "noaql-pass")
NOAQL_TOKEN = ("bearer", "atk-noaql-9e8d7c6b5a")
LIMITED = ("basic", "limited", "limited-pass")
WRONG = ("basic", "admin", "not-the-password")
ACCEPT_MANIFESTS = ", ".join([
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json"])
LISTS = ("application/vnd.docker.distribution.manifest.list.v2+json",
         "application/vnd.oci.image.index.v1+json")
MANIFEST_FILES = '{"$or":[{"name":{"$eq":"manifest.json"}},{"name":{"$eq":"list.manifest.json"}}]}'

EMUS = Processes(EMU)
start = EMUS.start


def setUpModule():
    global PORT, PORT6, GPORT, TPORT
    PORT = start("--dataset", DATASET)
    TPORT = start("--dataset", DATASET, "--docker-token-auth")
    PORT6 = start("--dataset", DATASET, "--version", "6")
    GPORT = start("--dataset", DATASET, "--generate", GEN)


def tearDownModule():
    EMUS.stop_all()


def auth_header(auth):
    if auth is None:
        return {}
    if auth[0] == "basic":
        return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % auth[1:]).encode()).decode()}
    return {"Authorization": "Bearer " + auth[1]}


class Client:
    """One keep-alive connection to an emulator."""

    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)

    def req(self, path, auth=None, method="GET", body=None, headers=None):
        h = dict(auth_header(auth))
        h.update(headers or {})
        self.c.request(method, path, body=body, headers=h)
        r = self.c.getresponse()
        data = r.read()
        return R(r.status, {k.lower(): v for k, v in r.getheaders()}, data)

    def close(self):
        self.c.close()


def req(path, auth=None, port=None, **kw):
    c = Client(port or PORT)
    try:
        return c.req(path, auth, **kw)
    finally:
        c.close()


def aql(query, auth=ADMIN, port=None, ctype="text/plain"):
    return req("/artifactory/api/search/aql", auth, port, method="POST", body=query.encode(),
               headers={"Content-Type": ctype})


def control(path, port=None, method="POST", body=b""):
    r = req("/_emulator/" + path, port=port, method=method, body=body)
    assert r.status == 200, (r.status, r.body)
    return r.json()


def v2(key, tail=""):
    return "/artifactory/api/docker/%s/v2/%s" % (key, tail)


def next_link(r, current):
    link = r.h("Link")
    if not link:
        return None
    target = link.split(";")[0].strip().strip("<>")
    return urllib.parse.urljoin(current, target)


def ms(iso):
    dt = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return (dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // datetime.timedelta(milliseconds=1)


class Walker:
    """The correct client: catalog and tags/list by Link, HEAD + GET manifests, times from
    the storage API; a Bearer challenge is answered at its realm with Basic credentials."""

    def __init__(self, port, auth, n=7):
        self.port = port
        self.c = Client(port)
        self.auth = auth
        self.n = n
        self.bearer = {}

    def get(self, path, method="GET", headers=None):
        key = path.split("/")[4] if path.startswith("/artifactory/api/docker/") else None
        auth = self.bearer.get(key, self.auth)
        r = self.retrying(path, auth, method, headers)
        if r.status == 401 and key and (r.h("WWW-Authenticate") or "").startswith("Bearer "):
            self.bearer[key] = ("bearer", self.token(r.h("WWW-Authenticate")))
            r = self.retrying(path, self.bearer[key], method, headers)
        return r

    def retrying(self, path, auth, method, headers):
        """Transient answers (429, 5xx) are retried, as the provider must."""
        for _ in range(8):
            r = self.c.req(path, auth, method=method, headers=headers)
            if r.status != 429 and r.status < 500:
                return r
        return r

    def token(self, challenge):
        params = dict(p.split("=", 1) for p in challenge[len("Bearer "):].split(","))
        realm = urllib.parse.urlsplit(params["realm"].strip('"'))
        r = self.c.req(realm.path + "?service=" + params["service"].strip('"'), self.auth)
        assert r.status == 200, r.body
        return r.json()["token"]

    def paged(self, path, field):
        out = []
        while path:
            r = self.get(path, headers={"Accept": "application/json"})
            assert r.status == 200, (path, r.status, r.body)
            out.extend(r.json()[field])
            path = next_link(r, path)
        return out

    def image_size(self, key, name, digest):
        r = self.get(v2(key, "%s/manifests/%s" % (name, digest)), headers={"Accept": ACCEPT_MANIFESTS})
        m = r.json()
        if "manifests" in m:
            return sum(self.image_size(key, name, d["digest"]) for d in m["manifests"])
        return m["config"]["size"] + sum(x["size"] for x in m["layers"])

    def row(self, key, name, tag, host):
        h = self.get(v2(key, "%s/manifests/%s" % (name, tag)), "HEAD", {"Accept": ACCEPT_MANIFESTS})
        digest, mt = h.h("Docker-Content-Digest"), h.h("Content-Type")
        fname = "list.manifest.json" if mt in LISTS else "manifest.json"
        st = self.retrying("/artifactory/api/storage/%s/%s/%s/%s" % (key, name, tag, fname), self.auth,
                           "GET", None).json()
        return {"namespace": key, "repository": "%s/%s" % (key, name), "tag": tag, "digest": digest,
                "size": self.image_size(key, name, digest), "update_time": ms(st["lastModified"]),
                "media_type": mt, "multi_arch": mt in LISTS, "host": host}

    def inventory(self, keys, every=1):
        rows = []
        host = "127.0.0.1:%d" % self.port
        for key in keys:
            names = self.paged(v2(key, "_catalog?n=%d" % self.n), "repositories")
            for name in names[::every]:
                for tag in self.paged(v2(key, "%s/tags/list?n=%d" % (name, self.n)), "tags"):
                    if not tag.startswith(("sha256:", "sha256__")):
                        rows.append(self.row(key, name, tag, host))
        self.c.close()
        return sorted(rows, key=lambda x: (x["repository"], x["tag"]))


def docker_keys(port, types, auth=ADMIN):
    repos = req("/artifactory/api/repositories?packageType=docker", auth, port).json()
    return [r["key"] for r in repos if r["type"].lower() in types]


# --------------------------------------------------------------------------


class BaseTests(unittest.TestCase):
    def test_ping_anonymous_text_ok(self):
        r = req("/artifactory/api/system/ping")
        self.assertEqual((r.status, r.body), (200, b"OK"))
        self.assertTrue(r.h("Content-Type").startswith("text/plain"))

    def test_platform_url_is_not_the_api(self):
        self.assertEqual(req("/").status, 302)
        self.assertEqual(req("/artifactory/").h("Location"), "/ui/")
        self.assertEqual(req("/api/system/ping").status, 404)
        self.assertEqual(req("/api/repositories", ADMIN).status, 404)

    def test_version(self):
        r = req("/artifactory/api/system/version", ADMIN)
        self.assertEqual(r.json()["version"], "7.77.5")
        self.assertIn("revision", r.json())
        self.assertTrue(r.h("X-JFrog-Version").startswith("Artifactory/7."))
        self.assertEqual(req("/artifactory/api/system/version", ADMIN, PORT6).json()["version"][:2], "6.")


class AuthTests(unittest.TestCase):
    def test_each_credential_kind(self):
        for auth in (ADMIN, ADMIN_IDT, ADMIN_TOKEN, ("bearer", "idt-admin-7c1e0d5a9b")):
            self.assertEqual(req("/artifactory/api/system/version", auth).status, 200, auth[0])
        r = req("/artifactory/api/system/version", headers={"X-JFrog-Art-Api": "akey-admin-55aa"})
        self.assertEqual(r.status, 200)

    def test_wrong_credentials_401_everywhere(self):
        for path in ("/artifactory/api/system/ping", "/artifactory/api/repositories",
                     "/artifactory/api/storage/docker-local/alpine", v2("docker-local", "_catalog")):
            self.assertEqual(req(path, WRONG).status, 401, path)
        r = req("/artifactory/api/repositories", ("bearer", "forged"))
        self.assertEqual(r.json()["errors"][0]["status"], 401)
        self.assertEqual(aql('items.find({})', WRONG).status, 401)

    def test_anonymous_sees_a_partial_list(self):
        anon = [r["key"] for r in req("/artifactory/api/repositories").json()]
        full = [r["key"] for r in req("/artifactory/api/repositories", READER).json()]
        self.assertEqual(anon, ["docker-local"])
        self.assertGreater(len(full), len(anon))
        self.assertEqual(req(v2("docker-local", "_catalog")).status, 200)
        self.assertEqual(aql('items.find({})', None).status, 401)

    def test_anonymous_challenged_on_private_key(self):
        r = req(v2("team-local"))
        self.assertEqual(r.status, 401)
        ch = r.h("WWW-Authenticate")
        self.assertIn('realm="http://127.0.0.1:%d/artifactory/api/docker/team-local/v2/token"' % PORT, ch)
        self.assertTrue(ch.startswith("Bearer "))
        self.assertEqual(r.json()["errors"][0]["code"], "UNAUTHORIZED")

    def test_bearer_token_flow(self):
        tok = req(v2("team-local", "token?service=x&scope=repository:team/tools/builder:pull"), READER).json()
        self.assertEqual(tok["expires_in"], 3600)
        bearer = ("bearer", tok["token"])
        self.assertEqual(req(v2("team-local", "_catalog"), bearer).status, 200)
        # a docker token is for the Docker API of its key only
        self.assertEqual(req(v2("docker-local", "_catalog"), bearer).status, 401)
        self.assertEqual(req("/artifactory/api/repositories", bearer).status, 401)
        self.assertEqual(req(v2("team-local", "token"), WRONG).status, 401)

    def test_docker_token_auth_challenges_other_credentials(self):
        for auth in (READER, ADMIN_TOKEN):
            r = req(v2("team-local"), auth, port=TPORT)
            self.assertEqual(r.status, 401, auth[0])
            self.assertTrue(r.h("WWW-Authenticate").startswith("Bearer realm="))
        tok = req(v2("team-local", "token?service=x"), ADMIN_TOKEN, port=TPORT).json()["token"]
        self.assertEqual(req(v2("team-local", "_catalog"), ("bearer", tok), port=TPORT).status, 200)
        # the REST API is unchanged
        self.assertEqual(req("/artifactory/api/repositories", READER, port=TPORT).status, 200)

    def test_basic_accepted_directly_on_v2(self):
        self.assertEqual(req(v2("team-local"), READER).status, 200)

    def test_no_read_key_is_listed_but_403(self):
        keys = [r["key"] for r in req("/artifactory/api/repositories", LIMITED).json()]
        self.assertIn("team-local", keys)
        r = req(v2("team-local", "_catalog"), LIMITED)
        self.assertEqual((r.status, r.json()["errors"][0]["code"]), (403, "DENIED"))
        self.assertEqual(req("/artifactory/api/storage/team-local/team", LIMITED).status, 403)
        self.assertEqual(req(v2("docker-local", "_catalog"), LIMITED).status, 200)


class RepositoryTests(unittest.TestCase):
    def keys(self, query, port=None):
        r = req("/artifactory/api/repositories" + query, ADMIN, port)
        self.assertEqual(r.status, 200)
        return [x["key"] for x in r.json()]

    def test_by_type_and_package_type(self):
        self.assertEqual(self.keys("?packageType=docker"),
                         ["docker-local", "team-local", "dockerhub-remote", "docker-fed", "docker-virtual"])
        self.assertEqual(self.keys("?type=remote&packageType=docker"), ["dockerhub-remote"])
        self.assertEqual(self.keys("?type=virtual"), ["docker-virtual"])
        self.assertEqual(self.keys("?type=federated&packageType=docker"), ["docker-fed"])
        self.assertIn("generic-local", self.keys("?type=local"))
        self.assertEqual(req("/artifactory/api/repositories?type=bogus", ADMIN).status, 400)

    def test_shape_and_no_cache_names(self):
        rows = req("/artifactory/api/repositories", ADMIN).json()
        for r in rows:
            self.assertEqual(set(r), {"key", "type", "description", "url", "packageType"})
            self.assertFalse(r["key"].endswith("-cache"))
        byk = {r["key"]: r for r in rows}
        self.assertEqual((byk["docker-local"]["type"], byk["docker-local"]["packageType"]), ("LOCAL", "Docker"))
        self.assertEqual(byk["dockerhub-remote"]["type"], "REMOTE")

    def test_version6_has_no_federated(self):
        self.assertNotIn("docker-fed", self.keys("", PORT6))


class V2Tests(unittest.TestCase):
    def test_ping_and_catalog_default_page(self):
        r = req(v2("gen-local"), ADMIN, GPORT)
        self.assertEqual((r.status, r.h("Docker-Distribution-Api-Version")), (200, "registry/2.0"))
        r = req(v2("gen-local", "_catalog"), ADMIN, GPORT)
        self.assertEqual(len(r.json()["repositories"]), 50)
        self.assertEqual(r.h("Link"), '</artifactory/api/docker/gen-local/v2/_catalog?last=%s&n=50>; rel="next"'
                         % urllib.parse.quote(r.json()["repositories"][-1], safe=""))

    def test_generated_user(self):
        self.assertEqual(req(v2("gen-local", "_catalog?n=1"), ("basic", "gen-admin", "gen-pass"), GPORT).status, 200)

    def test_catalog_walk_by_link_is_complete(self):
        w = Walker(GPORT, ADMIN, n=97)
        names = w.paged(v2("gen-local", "_catalog?n=97"), "repositories")
        self.assertEqual(len(names), 1201)
        self.assertEqual(names, sorted(set(names)))
        w.c.close()
        self.assertIn("a0/o3/t3/img0003", names)  # 4 levels

    def test_tags_paging_numeric_last(self):
        w = Walker(GPORT, ADMIN, n=40)
        tags = w.paged(v2("gen-local", "big/many-tags/tags/list?n=40"), "tags")
        w.c.close()
        self.assertEqual(len(tags), 150)
        self.assertEqual(len(set(tags)), 150)
        r = req(v2("gen-local", "big/many-tags/tags/list?n=40"), ADMIN, GPORT)
        self.assertIn("last=40&n=40", r.h("Link"))
        # a client that sends the last tag *name* meets a numeric one here: "10005" is a position
        r = req(v2("gen-local", "big/many-tags/tags/list?n=40&last=10005"), ADMIN, GPORT)
        self.assertEqual(r.json()["tags"], [])
        # all tags without n
        self.assertEqual(len(req(v2("gen-local", "big/many-tags/tags/list"), ADMIN, GPORT).json()["tags"]), 150)

    def test_digest_tags_listed(self):
        tags = req(v2("docker-local", "team/app/api/server/tags/list"), ADMIN).json()["tags"]
        self.assertEqual([t for t in tags if not t.startswith("sha256")], ["1.0.0", "1.1.0"])
        self.assertTrue(any(t.startswith("sha256__") for t in tags))
        kids = [t for t in req(v2("docker-local", "busybox/tags/list"), ADMIN).json()["tags"]
                if t.startswith("sha256:")]
        self.assertEqual(len(kids), 5)  # 2 + 3 platform children

    def test_manifest_digest_is_sha256_of_bytes(self):
        for name, tag in (("alpine", "3.19"), ("alpine", "latest"), ("busybox", "1.36"),
                          ("team/app/api/server", "1.0.0")):
            g = req(v2("docker-local", "%s/manifests/%s" % (name, tag)), ADMIN, headers={"Accept": ACCEPT_MANIFESTS})
            h = req(v2("docker-local", "%s/manifests/%s" % (name, tag)), ADMIN, method="HEAD",
                    headers={"Accept": ACCEPT_MANIFESTS})
            self.assertEqual(g.h("Docker-Content-Digest"), "sha256:" + hashlib.sha256(g.body).hexdigest())
            self.assertEqual(h.h("Docker-Content-Digest"), g.h("Docker-Content-Digest"))
            self.assertEqual(h.h("Content-Type"), json.loads(g.body)["mediaType"])
            self.assertEqual(int(h.h("Content-Length")), len(g.body))
            by_digest = req(v2("docker-local", "%s/manifests/%s" % (name, g.h("Docker-Content-Digest"))), ADMIN)
            self.assertEqual(by_digest.body, g.body)
        self.assertEqual(req(v2("docker-local", "alpine/manifests/nope"), ADMIN).status, 404)

    def test_config_blob(self):
        m = req(v2("docker-local", "alpine/manifests/3.19"), ADMIN).json()
        b = req(v2("docker-local", "alpine/blobs/" + m["config"]["digest"]), ADMIN)
        self.assertEqual(len(b.body), m["config"]["size"])
        self.assertEqual("sha256:" + hashlib.sha256(b.body).hexdigest(), m["config"]["digest"])
        layer = m["layers"][0]["digest"]
        h = req(v2("docker-local", "alpine/blobs/" + layer), ADMIN, method="HEAD")
        self.assertEqual((h.status, int(h.h("X-Emulator-Size"))), (200, m["layers"][0]["size"]))
        self.assertEqual(req(v2("docker-local", "alpine/blobs/" + layer), ADMIN).status, 404)

    def test_manifest_list_children(self):
        lst = req(v2("docker-local", "busybox/manifests/latest"), ADMIN).json()
        self.assertEqual(lst["mediaType"], "application/vnd.oci.image.index.v1+json")
        for d in lst["manifests"]:
            c = req(v2("docker-local", "busybox/manifests/" + d["digest"]), ADMIN)
            self.assertEqual((c.status, len(c.body)), (200, d["size"]))

    def test_remote_serves_cache_and_cache_name_is_not_docker(self):
        names = req(v2("dockerhub-remote", "_catalog"), ADMIN).json()["repositories"]
        self.assertEqual(names, ["library/postgres", "library/redis"])
        self.assertEqual(req(v2("dockerhub-remote-cache", "_catalog"), ADMIN).status, 404)

    def test_virtual_aggregates(self):
        local = req(v2("docker-local", "_catalog"), ADMIN).json()["repositories"]
        remote = req(v2("dockerhub-remote", "_catalog"), ADMIN).json()["repositories"]
        team = req(v2("team-local", "_catalog"), ADMIN).json()["repositories"]
        virt = req(v2("docker-virtual", "_catalog"), ADMIN).json()["repositories"]
        self.assertEqual(virt, sorted(local + remote + team))
        limited = req(v2("docker-virtual", "_catalog"), LIMITED).json()["repositories"]
        self.assertEqual(limited, sorted(local + remote))
        self.assertEqual(req(v2("docker-virtual", team[0] + "/tags/list"), LIMITED).status, 404)
        a = req(v2("docker-virtual", "library/redis/manifests/7.2"), ADMIN)
        b = req(v2("dockerhub-remote", "library/redis/manifests/7.2"), ADMIN)
        self.assertEqual(a.body, b.body)

    def test_version6_406_and_link_without_prefix(self):
        path = v2("docker-local", "alpine/tags/list?n=1")
        self.assertEqual(req(path, ADMIN, PORT6, headers={"Accept": ACCEPT_MANIFESTS}).status, 406)
        r = req(path, ADMIN, PORT6, headers={"Accept": "application/json"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.h("Link"), '</v2/alpine/tags/list?last=1&n=1>; rel="next"')
        self.assertEqual(req(path, ADMIN, PORT, headers={"Accept": ACCEPT_MANIFESTS}).status, 200)


class StorageTests(unittest.TestCase):
    def test_file_info_size_string_and_checksums(self):
        g = req(v2("docker-local", "alpine/manifests/3.19"), ADMIN)
        st = req("/artifactory/api/storage/docker-local/alpine/3.19/manifest.json", ADMIN).json()
        self.assertIsInstance(st["size"], str)
        self.assertEqual(int(st["size"]), len(g.body))
        self.assertEqual(st["checksums"]["sha256"], hashlib.sha256(g.body).hexdigest())
        self.assertEqual(ms(st["lastModified"]), ms("2024-02-01T10:00:00.123Z"))
        self.assertTrue(st["lastModified"].endswith("+03:00"))
        for k in ("created", "lastUpdated", "createdBy", "downloadUri", "repo", "path"):
            self.assertIn(k, st)

    def test_folder_children_and_blob_sum(self):
        st = req("/artifactory/api/storage/docker-local/alpine/3.19", ADMIN).json()
        kids = [c["uri"] for c in st["children"]]
        self.assertIn("/manifest.json", kids)
        m = req(v2("docker-local", "alpine/manifests/3.19"), ADMIN).json()
        total = 0
        for k in kids:
            if k.startswith("/sha256__"):
                total += int(req("/artifactory/api/storage/docker-local/alpine/3.19" + k, ADMIN).json()["size"])
        self.assertEqual(total, m["config"]["size"] + sum(x["size"] for x in m["layers"]))
        lst = req("/artifactory/api/storage/docker-local/busybox/1.36", ADMIN).json()
        self.assertEqual([c["uri"] for c in lst["children"]], ["/list.manifest.json"])

    def test_remote_key_and_cache_name_agree(self):
        a = req("/artifactory/api/storage/dockerhub-remote/library/redis/7.2/manifest.json", ADMIN).json()
        b = req("/artifactory/api/storage/dockerhub-remote-cache/library/redis/7.2/manifest.json", ADMIN).json()
        self.assertEqual((a["size"], a["lastModified"]), (b["size"], b["lastModified"]))

    def test_properties(self):
        r = req("/artifactory/api/storage/docker-local/alpine/3.19/manifest.json?properties", ADMIN).json()
        g = req(v2("docker-local", "alpine/manifests/3.19"), ADMIN)
        self.assertEqual(r["properties"]["docker.manifest.digest"], [g.h("Docker-Content-Digest")])
        self.assertEqual(req("/artifactory/api/storage/docker-local/nope", ADMIN).status, 404)


class AqlTests(unittest.TestCase):
    def names(self, crit, auth=ADMIN, port=None):
        r = aql('items.find(%s).include("repo","path","name")' % crit, auth, port)
        self.assertEqual(r.status, 200, r.body)
        return r.json()["results"]

    def test_or_eq_and_match_agree(self):
        a = self.names('{"repo":"docker-local","$and":[%s]}' % MANIFEST_FILES)
        b = self.names('{"repo":{"$eq":"docker-local"},"name":{"$match":"*manifest.json"}}')
        self.assertEqual(sorted(map(str, a)), sorted(map(str, b)))
        self.assertTrue(any(x["name"] == "list.manifest.json" for x in a))
        self.assertEqual({x["repo"] for x in a}, {"docker-local"})

    def test_in_and_unknown_things_are_400(self):
        r = aql('items.find({"name":{"$in":["manifest.json","list.manifest.json"]}})')
        self.assertEqual(r.status, 400)
        self.assertIn("$in", r.json()["errors"][0]["message"])
        for q in ('items.find({"nosuchfield":"x"})', 'items.find({"repo":"x"}).include("bogus")',
                  'items.find({"repo":"x"', 'items.find({}).frobnicate(1)', 'items.find({}).limit(-1)',
                  'items.find({"name":{"$match":"%s"}})' % ("x" * 6001)):
            self.assertEqual(aql(q).status, 400, q[:60])

    def test_content_type_and_rights(self):
        self.assertEqual(aql('items.find({})', ctype="application/json").status, 415)
        self.assertEqual(aql('items.find({})', NOAQL).status, 403)
        self.assertEqual(aql('items.find({})', NOAQL_TOKEN).status, 403)
        self.assertEqual(aql('items.find({"repo":"docker-local"}).limit(1)', READER).status, 200)

    def test_paging_range_total_counts_the_page(self):
        q = 'items.find({"repo":"gen-local",%s}).include("path","name").sort({"$asc":["path"]})' \
            % MANIFEST_FILES[1:-1]
        everything = aql(q, port=GPORT).json()
        self.assertEqual(everything["range"]["total"], len(everything["results"]))
        got, off = [], 0
        while True:
            r = aql(q + ".offset(%d).limit(500)" % off, port=GPORT).json()
            self.assertEqual(r["range"]["total"], len(r["results"]))
            self.assertEqual((r["range"]["start_pos"], r["range"]["limit"]), (off, 500))
            got.extend(r["results"])
            if len(r["results"]) < 500:
                break
            off += 500
        self.assertEqual(got, everything["results"])
        self.assertGreater(len(got), 2400)

    def test_include_sort_properties(self):
        r = aql('items.find({"repo":"docker-local","name":"manifest.json","path":{"$match":"alpine/*"}})'
                '.include("name","path","size","modified","sha256","property.*").sort({"$desc":["path"]})').json()
        paths = [x["path"] for x in r["results"]]
        self.assertEqual(paths, ["alpine/latest", "alpine/3.19", "alpine/3.18"])
        row = r["results"][1]
        self.assertEqual(set(row), {"name", "path", "size", "modified", "sha256", "properties"})
        self.assertIsInstance(row["size"], int)
        props = {p["key"]: p["value"] for p in row["properties"]}
        self.assertEqual(props["docker.manifest.digest"], "sha256:" + row["sha256"])
        self.assertEqual(props["docker.manifest"], "3.19")

    def test_cache_storage_virtual_empty_and_unreadable_dropped(self):
        self.assertEqual(self.names('{"repo":"dockerhub-remote"}'), [])
        self.assertGreater(len(self.names('{"repo":"dockerhub-remote-cache"}')), 0)
        self.assertEqual(self.names('{"repo":"docker-virtual"}'), [])
        self.assertEqual(self.names('{"repo":"team-local"}', LIMITED), [])
        self.assertGreater(len(self.names('{"repo":"team-local"}', READER)), 0)

    def test_folders_with_or(self):
        r = aql('items.find({"type":"folder","repo":"docker-local","$or":[{"name":"3.19"},{"name":"1.36"}]})'
                '.include("path","name","type")').json()["results"]
        self.assertEqual(sorted((x["path"], x["name"], x["type"]) for x in r),
                         [("alpine", "3.19", "folder"), ("busybox", "1.36", "folder")])

    def test_time_comparison(self):
        r = self.names('{"repo":"docker-local","name":"manifest.json","modified":{"$gt":"2024-04-30T00:00:00Z"}}')
        self.assertEqual(sorted(x["path"] for x in r), ["nginx/stable"])


def aql_inventory(port, keys, host):
    """What an AQL client builds: manifest files by AQL, image size from the blob files of
    the folder (a list: the sum of its children's folders), times from "modified"."""
    storage = {k: k + "-cache" for k in docker_keys(port, ("remote",))}
    repos = ",".join('{"repo":"%s"}' % storage.get(k, k) for k in keys)
    r = aql('items.find({"$or":[%s]}).include("repo","path","name","size","modified","property.*")'
            '.sort({"$asc":["repo","path","name"]})' % repos, port=port).json()
    blobs, rows, back = {}, [], {v: k for k, v in storage.items()}
    for it in r["results"]:
        if it["name"].startswith("sha256__"):
            blobs[(it["repo"], it["path"])] = blobs.get((it["repo"], it["path"]), 0) + it["size"]
    for it in r["results"]:
        if it["name"] not in ("manifest.json", "list.manifest.json"):
            continue
        image, _, tag = it["path"].rpartition("/")
        if tag.startswith(("sha256:", "sha256__")):
            continue
        p = {x["key"]: x["value"] for x in it["properties"]}
        if it["name"] == "list.manifest.json":
            lst = json.loads(req(v2(back.get(it["repo"], it["repo"]), "%s/manifests/%s" % (image, tag)),
                                 ADMIN, port).body)
            size = sum(blobs[(it["repo"], image + "/" + d["digest"])] for d in lst["manifests"])
        else:
            size = blobs[(it["repo"], it["path"])]
        key = back.get(it["repo"], it["repo"])
        rows.append({"namespace": key, "repository": "%s/%s" % (key, image), "tag": tag,
                     "digest": p["docker.manifest.digest"], "size": size, "update_time": ms(it["modified"]),
                     "media_type": p["docker.manifest.type"], "multi_arch": it["name"] == "list.manifest.json",
                     "host": host})
    return sorted(rows, key=lambda x: (x["repository"], x["tag"]))


class InventoryTests(unittest.TestCase):
    def test_inventory_equals_v2_walk(self):
        inv = control("inventory?repo_types=local,remote", method="GET")
        keys = docker_keys(PORT, ("local", "remote"))
        self.assertEqual(Walker(PORT, ADMIN, n=2).inventory(keys), inv)
        self.assertEqual({r["namespace"] for r in inv}, {"docker-local", "team-local", "dockerhub-remote"})
        self.assertFalse(any(r["tag"].startswith("sha256") for r in inv))
        self.assertIn("docker-local/team/app/api/server", {r["repository"] for r in inv})

    def test_inventory_equals_aql(self):
        keys = docker_keys(PORT, ("local", "remote", "federated"))
        inv = control("inventory?repo_types=local,remote,federated", method="GET")
        self.assertEqual(aql_inventory(PORT, keys, "127.0.0.1:%d" % PORT), inv)

    def test_time_field_choice(self):
        rows = {(r["repository"], r["tag"]): r for r in
                control("inventory?time_field=created", method="GET")}
        self.assertEqual(rows[("dockerhub-remote/library/redis", "7.2")]["update_time"], ms("2024-07-01T10:00:00Z"))
        self.assertEqual(req("/_emulator/inventory?time_field=name").status, 400)

    def test_virtual_only_on_request_and_duplicates(self):
        base = control("inventory", method="GET")
        withv = control("inventory?repo_types=local,remote,virtual", method="GET")
        self.assertNotIn("docker-virtual", {r["namespace"] for r in base})
        virt = [r for r in withv if r["namespace"] == "docker-virtual"]
        self.assertEqual(len(virt), len([r for r in base if r["namespace"] in
                                         ("docker-local", "dockerhub-remote", "team-local")]))

    def test_generated_inventory_sampled_walk_and_aql(self):
        inv = control("inventory", port=GPORT, method="GET")
        self.assertEqual(len([r for r in inv if r["namespace"] == "gen-local"]), 1200 * 2 + 150)
        self.assertEqual(aql_inventory(GPORT, ["gen-local", "gen-remote"], "127.0.0.1:%d" % GPORT),
                         [r for r in inv if r["namespace"] in ("gen-local", "gen-remote")])
        walked = Walker(GPORT, ADMIN, n=50).inventory(["gen-remote"])
        self.assertEqual(walked, [r for r in inv if r["namespace"] == "gen-remote"])


class FaultTests(unittest.TestCase):
    def setUp(self):
        control("reset")

    tearDown = setUp

    def test_5xx_count_and_stats(self):
        control("faults", body=json.dumps({"type": "503", "pattern": "/_catalog", "count": 2}).encode())
        got = [req(v2("docker-local", "_catalog"), ADMIN) for _ in range(3)]
        self.assertEqual([r.status for r in got], [503, 503, 200])
        self.assertIn(b"nginx", got[0].body)
        st = control("stats", method="GET")
        self.assertEqual(st["faults"][0]["fired"], 2)
        self.assertEqual(st["status"]["503"], 2)

    def test_429_retry_after_and_500_json(self):
        control("faults", body=json.dumps([{"type": "429", "pattern": "repositories", "retry_after": "2"},
                                           {"type": "500", "pattern": "aql"}]).encode())
        r = req("/artifactory/api/repositories", ADMIN)
        self.assertEqual((r.status, r.h("Retry-After")), (429, "2"))
        r = aql('items.find({})')
        self.assertEqual((r.status, r.json()["errors"][0]["status"]), (500, 500))
        self.assertEqual(req("/artifactory/api/repositories", ADMIN).status, 200)

    def test_slow_and_reset(self):
        control("faults", body=json.dumps([{"type": "slow", "pattern": "ping", "delay_ms": 300},
                                           {"type": "reset", "pattern": "version"}]).encode())
        t = time.monotonic()
        self.assertEqual(req("/artifactory/api/system/ping").status, 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.29)
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            req("/artifactory/api/system/version", ADMIN)
        self.assertEqual(control("faults", method="DELETE"), {"ok": True})
        self.assertEqual(control("faults", method="GET"), [])

    def test_walk_under_random_faults_is_complete(self):
        control("faults", body=json.dumps({"type": "503", "pattern": "/api/", "rate": 0.2, "seed": 7}).encode())
        keys = ["docker-local", "team-local", "dockerhub-remote"]  # listing by hand: faults are on
        walked = Walker(PORT, ADMIN, n=3).inventory(keys)
        control("faults", method="DELETE")
        self.assertEqual(walked, control("inventory", method="GET"))
        self.assertGreater(control("stats", method="GET")["status"].get("503", 0), 0)

    def test_cli_faults(self):
        port = start("--dataset", DATASET, "--faults", '{"type": "500", "pattern": "ping", "count": 1}')
        self.assertEqual(req("/artifactory/api/system/ping", port=port).status, 500)
        self.assertEqual(req("/artifactory/api/system/ping", port=port).status, 200)


if __name__ == "__main__":
    unittest.main()
