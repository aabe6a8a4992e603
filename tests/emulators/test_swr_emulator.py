#!/usr/bin/env python3
"""Self-test of swr_emulator.py against the behaviours in
/work/shared/reference/swr-jfrog-oci-api.md (§1 SWR v2, §3.1 IAM, §3.2 AK/SK
signing).  Standard library unittest only.

  python3 tests/emulators/test_swr_emulator.py [-v]

Starts the emulator on the sample dataset plus a generated account (>1000
repositories, one repository with >100 tags) and on a throw-away command line
(CLI faults, throttle, port file).  Every process gets --max-seconds so none
outlives a crashed run; all are terminated in tearDownModule.  Requests are
signed by this file's own small signer (not the emulator's).
"""

import hashlib
import hmac
import http.client
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

from emulator_testing import Processes, R

HERE = os.path.dirname(os.path.abspath(__file__))
EMU = os.path.join(HERE, "swr_emulator.py")
DATASET = os.path.join(HERE, "swr_dataset.json")
GEN = "repos=1200,tags=2,big_tags=150,namespaces=3"

ACME_AK, ACME_SK = "ACMEAKEXAMPLE0000001", "acme-sk-0001-AbCdEfGhIjKlMnOpQrStUv"
ACME_PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TMP_AK, TMP_SK, TMP_TOKEN = "ACMETMPAK00000000001", "acme-tmp-sk-0001-ZyXwVuTsRq", "acme-security-token-gQpJbi1ub3J0aC00"
HOOLI_AK, HOOLI_SK = "HOOLIAK0000000000001", "hooli-sk-0001-AsDfGhJkL"
GEN_AK, GEN_SK = "GENAK0000000000000001", "gen-secret-key"
INITECH = ("initech-ops", "Initech#Ops-Pass2", "initech")
HOOLI = ("hooli-ops", "Hooli#Ops-Pass5", "hooli")
REGION = "cn-north-4"

EMUS = Processes(EMU)
start = EMUS.start  # test_swr_ee_emulator.py starts its emulator through this too (emu=...)


def load_emulator_module():
    spec = importlib.util.spec_from_file_location("swr_emulator", EMU)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def setUpModule():
    global PORT, EMUMOD
    EMUMOD = load_emulator_module()
    PORT = start("--dataset", DATASET, "--generate", GEN)


def tearDownModule():
    EMUS.stop_all()


# --------------------------------------------------------------------------
# the test's own signer (§3.2), independent of the emulator's code

def _esc(s):
    return urllib.parse.quote(s, safe="-_.~")


def t_sign(ak, sk, method, path, query, headers, body=b"", date=None):
    """Returns the headers to send (adds X-Sdk-Date and Authorization).
    path: as sent on the wire; query: list of (key, value) pairs (decoded)."""
    h = dict(headers)
    if date is None:
        date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    h["X-Sdk-Date"] = date
    names = sorted(k.lower() for k in h if not k.lower().startswith("content-type") and "_" not in k)
    low = {k.lower(): v.strip() for k, v in h.items()}
    dpath = urllib.parse.unquote(path)
    curi = "/".join(_esc(x) for x in dpath.split("/"))
    if not curi.endswith("/"):
        curi += "/"
    byk = {}
    for k, v in query:
        byk.setdefault(k, []).append(v)
    cq = "&".join("%s=%s" % (_esc(k), _esc(v)) for k in sorted(byk) for v in sorted(byk[k]))
    creq = "\n".join([method, curi, cq, "".join("%s:%s\n" % (n, low[n]) for n in names),
                      ";".join(names), hashlib.sha256(body).hexdigest()])
    sts = "SDK-HMAC-SHA256\n%s\n%s" % (date, hashlib.sha256(creq.encode()).hexdigest())
    sig = hmac.new(sk.encode(), sts.encode(), hashlib.sha256).hexdigest()
    h["Authorization"] = "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (ak, ";".join(names), sig)
    return h


def raw(method, target, headers=None, body=b"", port=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port or PORT, timeout=timeout)
    try:
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return R(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        c.close()


def target_of(path, query):
    return path + ("?" + "&".join("%s=%s" % (_esc(k), _esc(v)) for k, v in query) if query else "")


def aksk(path, query=(), ak=ACME_AK, sk=ACME_SK, extra=None, date=None, port=None, method="GET"):
    query = list(query)
    hdr = {"Content-Type": "application/json;charset=utf-8", "Host": "127.0.0.1:%d" % (port or PORT)}
    hdr.update(extra or {})
    h = t_sign(ak, sk, method, path, query, hdr, date=date)
    return raw(method, target_of(path, query), h, port=port)


def iam_login(user, password, domain, project=REGION, port=None):
    body = {"auth": {"identity": {"methods": ["password"],
                                  "password": {"user": {"name": user, "password": password,
                                                        "domain": {"name": domain}}}},
                     "scope": {"project": {"name": project}}}}
    return raw("POST", "/v3/auth/tokens", {"Content-Type": "application/json;charset=UTF-8"},
               json.dumps(body).encode(), port=port)


_tok_cache = {}


def token(cred=INITECH, port=None):
    key = (cred, port)
    if key not in _tok_cache:
        r = iam_login(*cred, port=port)
        assert r.status == 201, (r.status, r.body)
        _tok_cache[key] = r.h("X-Subject-Token")
    return _tok_cache[key]


def tok_get(target, cred=INITECH, port=None, tok=None):
    return raw("GET", target, {"X-Auth-Token": tok or token(cred, port),
                               "Content-Type": "application/json;charset=utf-8"}, port=port)


def control(path, body=None, method="POST", port=None):
    r = raw(method, "/_emulator/" + path, {"Content-Type": "application/json"},
            json.dumps(body).encode() if body is not None else b"", port=port)
    assert r.status == 200, (r.status, r.body)
    return r.json()


def walk(path, query, limit, **kw):
    """All pages of an offset/limit list; returns (rows, Content-Range values)."""
    rows, ranges, off = [], [], 0
    while True:
        r = aksk(path, list(query) + [("limit", str(limit)), ("offset", str(off))], **kw)
        assert r.status == 200, (r.status, r.body)
        page = r.json()
        rows.extend(page)
        ranges.append(r.h("Content-Range"))
        if len(page) < limit:
            return rows, ranges
        off += limit


# --------------------------------------------------------------------------

class SigningVectors(unittest.TestCase):
    """§3.2 test vectors reproduced by the emulator's own signing functions."""

    def test_v1(self):
        m = EMUMOD
        h = {"X-Sdk-Date": "20060102T150405Z", "TEST_UNDERSCORE": "TEST_VALUE"}
        signed = m.default_signed_headers(h)
        self.assertEqual(signed, ["x-sdk-date"])
        creq = m.canonical_request("GET", "/path", [("limit", "1")], {k.lower(): v for k, v in h.items()}, signed, b"")
        self.assertEqual(creq, "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n"
                               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        self.assertEqual(hashlib.sha256(creq.encode()).hexdigest(),
                         "85c3b7730f308aee452b16138a42a914397e43a8f0d732dfa521c0ef2afa98a4")
        self.assertEqual(m.sign_request("AccessKey", "SecretKey", "GET", "/path", [("limit", "1")], h),
                         "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, "
                         "Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624")

    def test_v2(self):
        h = {"X-Sdk-Date": "20060102T150405Z", "Content-Type": "application/json"}
        a = EMUMOD.sign_request("AccessKey", "SecretKey", "POST", "/path", [("key", "value")], h,
                                b'{"Name":"test","Id":1}\n')
        self.assertEqual(a, "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, "
                            "Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59")

    def test_v3(self):
        m = EMUMOD
        h = {"Host": "swr-api.cn-north-4.myhuaweicloud.com", "X-Sdk-Date": "20240101T000000Z",
             "X-Project-Id": "0123456789abcdef0123456789abcdef",
             "Content-Type": "application/json;charset=utf-8"}
        q = [("filter", "namespace::ns1|limit::100|offset::0")]
        signed = m.default_signed_headers(h)
        creq = m.canonical_request("GET", "/v2/manage/repos", q, {k.lower(): v for k, v in h.items()}, signed, b"")
        self.assertEqual(creq, "GET\n/v2/manage/repos/\nfilter=namespace%3A%3Ans1%7Climit%3A%3A100%7Coffset%3A%3A0\n"
                               "host:swr-api.cn-north-4.myhuaweicloud.com\n"
                               "x-project-id:0123456789abcdef0123456789abcdef\nx-sdk-date:20240101T000000Z\n\n"
                               "host;x-project-id;x-sdk-date\n"
                               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        self.assertEqual(hashlib.sha256(creq.encode()).hexdigest(),
                         "85417716d331f113d821e4c56cbc20ed7904cdc7ab630c9ecc25861686394e4b")
        self.assertEqual(m.sign_request("AccessKey", "SecretKey", "GET", "/v2/manage/repos", q, h),
                         "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-project-id;x-sdk-date, "
                         "Signature=6a8b5a913d618cea8d457d23ae14e6ea3e137ee5976e8771ae22e2845ed06b5b")

    def test_query_canonicalization(self):
        q = [("limit", "1"), ("enable", "true"), ("test", "一 (&=?!#%.*)"), ("path", "/tmp/123"),
             ("multi", "1"), ("multi", "2"), ("multi", "3")]
        self.assertEqual(EMUMOD.canonical_query(q),
                         "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123"
                         "&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29")

    def test_test_signer_agrees(self):
        """The self-test's signer gives the V3 signature too (so the live tests below
        exercise the emulator's verifier with an independent client)."""
        h = t_sign("AccessKey", "SecretKey", "GET", "/v2/manage/repos", [("filter", "namespace::ns1|limit::100|offset::0")],
                   {"Host": "swr-api.cn-north-4.myhuaweicloud.com", "X-Project-Id": "0123456789abcdef0123456789abcdef",
                    "Content-Type": "application/json;charset=utf-8"}, date="20240101T000000Z")
        self.assertTrue(h["Authorization"].endswith("6a8b5a913d618cea8d457d23ae14e6ea3e137ee5976e8771ae22e2845ed06b5b"))


class AkSk(unittest.TestCase):
    def assert401(self, r, code="APIGW.0301"):
        self.assertEqual(r.status, 401, r.body)
        e = r.json()
        self.assertEqual(e["error_code"], code)
        self.assertTrue(e["error_msg"])

    def test_signed_request_accepted(self):
        r = aksk("/v2/manage/repos")
        self.assertEqual(r.status, 200, r.body)
        self.assertIsInstance(r.json(), list)

    def test_project_id_and_special_query(self):
        r = aksk("/v2/manage/repos", [("filter", "namespace::acme|limit::2|offset::0")],
                 extra={"X-Project-Id": ACME_PROJECT})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(len(r.json()), 2)
        self.assert401(aksk("/v2/manage/repos", extra={"X-Project-Id": "ffffffffffffffffffffffffffffffff"}))

    def test_tampered_signature(self):
        h = t_sign(ACME_AK, ACME_SK, "GET", "/v2/manage/repos", [], {"Host": "127.0.0.1:%d" % PORT})
        a = h["Authorization"]
        h["Authorization"] = a[:-1] + ("0" if a[-1] != "0" else "1")
        self.assert401(raw("GET", "/v2/manage/repos", h))

    def test_tampered_query_after_signing(self):
        h = t_sign(ACME_AK, ACME_SK, "GET", "/v2/manage/repos", [("namespace", "acme")], {})
        self.assert401(raw("GET", "/v2/manage/repos?namespace=acme-dev", h))

    def test_tamper_fault(self):
        control("faults", {"type": "tamper", "pattern": "^/v2/manage/repos", "after": 1})
        try:
            self.assertEqual(aksk("/v2/manage/repos").status, 200)
            r = aksk("/v2/manage/repos")
            self.assert401(r)
            self.assertEqual(r.json()["error_code"], "APIGW.0301")
            self.assertEqual(aksk("/v2/manage/repos").status, 200)  # once (count 1)
        finally:
            control("faults", method="DELETE")

    def test_wrong_sk_and_unknown_ak(self):
        self.assert401(aksk("/v2/manage/repos", sk="not-the-secret"))
        r = aksk("/v2/manage/repos", ak="NOSUCHAK000000000000")
        self.assert401(r)
        self.assertIn("NOSUCHAK", r.json()["error_msg"])

    def test_sdk_date(self):
        old = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 16 * 60))
        self.assert401(aksk("/v2/manage/repos", date=old))
        future = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() + 16 * 60))
        self.assert401(aksk("/v2/manage/repos", date=future))
        ok = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 10 * 60))
        self.assertEqual(aksk("/v2/manage/repos", date=ok).status, 200)
        h = t_sign(ACME_AK, ACME_SK, "GET", "/v2/manage/repos", [], {})
        del h["X-Sdk-Date"]
        self.assert401(raw("GET", "/v2/manage/repos", h))
        self.assert401(aksk("/v2/manage/repos", date="2024-01-01T00:00:00Z"))

    def test_signed_headers_rules(self):
        # x-sdk-date must be signed
        h = t_sign(ACME_AK, ACME_SK, "GET", "/v2/manage/repos", [], {"Host": "127.0.0.1:%d" % PORT})
        date = h["X-Sdk-Date"]
        creq = "\n".join(["GET", "/v2/manage/repos/", "", "host:127.0.0.1:%d\n" % PORT, "host",
                          hashlib.sha256(b"").hexdigest()])
        sts = "SDK-HMAC-SHA256\n%s\n%s" % (date, hashlib.sha256(creq.encode()).hexdigest())
        sig = hmac.new(ACME_SK.encode(), sts.encode(), hashlib.sha256).hexdigest()
        h["Authorization"] = "SDK-HMAC-SHA256 Access=%s, SignedHeaders=host, Signature=%s" % (ACME_AK, sig)
        self.assert401(raw("GET", "/v2/manage/repos", h))
        # a declared header must be sent; a signed Host must be the one sent
        h = t_sign(ACME_AK, ACME_SK, "GET", "/v2/manage/repos", [], {"X-Extra": "1"})
        del h["X-Extra"]
        self.assert401(raw("GET", "/v2/manage/repos", h))
        h = t_sign(ACME_AK, ACME_SK, "GET", "/v2/manage/repos", [], {"Host": "swr-api.cn-north-4.myhuaweicloud.com"})
        h["Host"] = "127.0.0.1:%d" % PORT
        self.assert401(raw("GET", "/v2/manage/repos", h))
        # headers signed with an underscore are left out; unsigned extra headers are fine
        h = t_sign(ACME_AK, ACME_SK, "GET", "/v2/manage/repos", [], {"User-Agent": "imgsync", "X_Ignored": "1"})
        self.assertNotIn("x_ignored", h["Authorization"])
        h["Accept"] = "application/json"
        self.assertEqual(raw("GET", "/v2/manage/repos", h).status, 200)

    def test_security_token(self):
        self.assert401(aksk("/v2/manage/repos", ak=TMP_AK, sk=TMP_SK))
        self.assert401(aksk("/v2/manage/repos", ak=TMP_AK, sk=TMP_SK, extra={"X-Security-Token": "wrong"}))
        r = aksk("/v2/manage/repos", ak=TMP_AK, sk=TMP_SK, extra={"X-Security-Token": TMP_TOKEN})
        self.assertEqual(r.status, 200, r.body)
        self.assert401(aksk("/v2/manage/repos", extra={"X-Security-Token": TMP_TOKEN}))

    def test_dollar_path_signed(self):
        r = aksk("/v2/manage/namespaces/acme/repos/a$b$c/tags")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([t["Tag"] for t in r.json()], ["deep"])
        r = aksk("/v2/manage/namespaces/acme/repos/team%2Fapp/tags")
        self.assertEqual(r.status, 200, r.body)

    def test_no_credentials(self):
        r = raw("GET", "/v2/manage/repos")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json()["error_code"], "SVCSTG.SWR.4010000")

    def test_iam_projects_with_aksk(self):
        r = aksk("/v3/projects", [("name", REGION)])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([(p["id"], p["name"]) for p in r.json()["projects"]], [(ACME_PROJECT, REGION)])


class Iam(unittest.TestCase):
    def test_token_issue(self):
        r = iam_login(*INITECH)
        self.assertEqual(r.status, 201, r.body)
        tok = r.h("X-Subject-Token")
        self.assertTrue(tok)
        t = r.json()["token"]
        self.assertEqual(t["project"]["name"], REGION)
        self.assertEqual(t["user"]["name"], "initech-ops")
        self.assertEqual(t["user"]["domain"]["name"], "initech")
        self.assertEqual(t["methods"], ["password"])
        exp = EMUMOD.parse_rfc3339_ms(t["expires_at"]) / 1000.0
        self.assertAlmostEqual(exp - time.time(), 86400, delta=60)
        self.assertIn("issued_at", t)
        r = tok_get("/v2/manage/repos", tok=tok)
        self.assertEqual(r.status, 200)
        self.assertEqual(sorted(x["name"] for x in r.json()), ["payroll/api", "printer"])

    def test_bad_password(self):
        for cred in [("initech-ops", "wrong", "initech"), ("nobody", "x", "initech"),
                     ("initech-ops", "Initech#Ops-Pass2", "acme")]:
            r = iam_login(*cred)
            self.assertEqual(r.status, 401, r.body)
            self.assertEqual(r.json()["error_code"], "IAM.0004")
            self.assertEqual(r.json()["error"]["code"], 401)
            self.assertIsNone(r.h("X-Subject-Token"))

    def test_bad_scope_and_body(self):
        self.assertEqual(iam_login(*INITECH, project="eu-west-101").status, 400)
        r = raw("POST", "/v3/auth/tokens", {"Content-Type": "application/json"}, b"{nope")
        self.assertEqual(r.status, 400)

    def test_unknown_token(self):
        r = tok_get("/v2/manage/repos", tok="MIIbogus")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json()["error_code"], "SVCSTG.SWR.4010000")

    def test_expiry(self):
        port = start("--dataset", DATASET, "--token-ttl", "1.5")
        r = iam_login(*INITECH, port=port)
        tok = r.h("X-Subject-Token")
        self.assertEqual(tok_get("/v2/manage/repos", port=port, tok=tok).status, 200)
        time.sleep(1.7)
        r = tok_get("/v2/manage/repos", port=port, tok=tok)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json()["error_code"], "SVCSTG.SWR.4010000")
        self.assertIn("expired", r.json()["error_msg"])
        # mid-sync expiry on demand, then a fresh token works
        control("config", {"token_ttl": 3600}, port=port)
        tok = iam_login(*INITECH, port=port).h("X-Subject-Token")
        self.assertEqual(tok_get("/v2/manage/repos", port=port, tok=tok).status, 200)
        control("tokens/expire", port=port)
        self.assertEqual(tok_get("/v2/manage/repos", port=port, tok=tok).status, 401)
        tok = iam_login(*INITECH, port=port).h("X-Subject-Token")
        self.assertEqual(tok_get("/v2/manage/repos", port=port, tok=tok).status, 200)
        # the same through a fault rule: the 2nd tag list request finds its token expired
        control("faults", {"type": "expire_tokens", "pattern": "/tags", "after": 1}, port=port)
        tags = "/v2/manage/namespaces/initech/repos/printer/tags"
        self.assertEqual(tok_get(tags, port=port, tok=tok).status, 200)
        self.assertEqual(tok_get(tags, port=port, tok=tok).status, 401)
        self.assertEqual(tok_get(tags, port=port, tok=tok).status, 401)
        tok = iam_login(*INITECH, port=port).h("X-Subject-Token")
        self.assertEqual(tok_get(tags, port=port, tok=tok).status, 200)
        st = control("stats", method="GET", port=port)
        self.assertEqual(st["iam_tokens"], 4)
        self.assertEqual(st["leaks"], [])


class Paging(unittest.TestCase):
    def test_no_params_all_rows(self):
        r = aksk("/v2/manage/repos")
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.h("Content-Range"))
        rows = r.json()
        self.assertEqual(sorted((x["namespace"], x["name"]) for x in rows),
                         [("acme", "a/b/c"), ("acme", "empty"), ("acme", "nginx"), ("acme", "team/app"),
                          ("acme-dev", "db"), ("acme-dev", "tools/builder")])
        self.assertTrue(all(x["total_range"] == 6 for x in rows))

    def test_content_range_and_short_last_page(self):
        rows, ranges = walk("/v2/manage/repos", [], 4)
        self.assertEqual(len(rows), 6)
        self.assertEqual(ranges, ["0-4/6", "4-2/6"])
        r = aksk("/v2/manage/repos", [("limit", "4"), ("offset", "8")])
        self.assertEqual((r.status, r.json(), r.h("Content-Range")), (200, [], "8-0/6"))

    def test_400_rules(self):
        for q in ([("limit", "4"), ("offset", "2")], [("limit", "1001"), ("offset", "0")],
                  [("limit", "0"), ("offset", "0")], [("limit", "-1"), ("offset", "0")],
                  [("limit", "x"), ("offset", "0")], [("limit", "10")], [("offset", "0")],
                  [("filter", "limit::3|offset::1")], [("filter", "bogus::1")]):
            r = aksk("/v2/manage/repos", q)
            self.assertEqual(r.status, 400, (q, r.body))
            self.assertEqual(r.json()["error_code"], "SVCSTG.SWR.4000014", q)
            self.assertIsNone(r.h("Content-Range"))
        r = aksk("/v2/manage/namespaces/acme/repos/team$app/tags", [("limit", "2"), ("offset", "1")])
        self.assertEqual(r.status, 400)
        r = aksk("/v2/manage/repos", [("limit", "1000"), ("offset", "0")])
        self.assertEqual((r.status, r.h("Content-Range")), (200, "0-6/6"))

    def test_filter_wins(self):
        r = aksk("/v2/manage/repos", [("filter", "namespace::acme-dev|limit::1|offset::1"),
                                      ("namespace", "acme"), ("limit", "5"), ("offset", "0")])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([(x["namespace"], x["name"]) for x in r.json()], [("acme-dev", "tools/builder")])
        self.assertEqual(r.h("Content-Range"), "1-1/2")
        r = aksk("/v2/manage/repos", [("namespace", "acme"), ("name", "a")])
        self.assertEqual(sorted(x["name"] for x in r.json()), ["a/b/c", "team/app"])

    def test_generated_1200_repos(self):
        rows, ranges = walk("/v2/manage/repos", [], 1000, ak=GEN_AK, sk=GEN_SK)
        self.assertEqual(len(rows), 1200)
        self.assertEqual(ranges, ["0-1000/1200", "1000-200/1200"])
        self.assertEqual(len({(x["namespace"], x["name"]) for x in rows}), 1200)
        self.assertTrue(any(x["name"].count("/") == 2 for x in rows))
        r = aksk("/v2/manage/repos", ak=GEN_AK, sk=GEN_SK)
        self.assertEqual(len(r.json()), 1200)

    def test_generated_150_tags(self):
        path = "/v2/manage/namespaces/gen-ns1/repos/big$many-tags/tags"
        rows, ranges = walk(path, [], 100, ak=GEN_AK, sk=GEN_SK)
        self.assertEqual(len(rows), 150)
        self.assertEqual(ranges, ["0-100/150", "100-50/150"])
        self.assertEqual(len({t["Tag"] for t in rows}), 150)
        self.assertEqual(sum(1 for t in rows if t["tag_type"] == 1), 15)
        upd = [EMUMOD.parse_rfc3339_ms(t["updated"]) for t in rows]
        self.assertEqual(upd, sorted(upd, reverse=True))
        self.assertTrue(any("." in t["updated"] for t in rows) and any("." not in t["updated"] for t in rows))

    def test_content_range_end_style(self):
        port = start("--dataset", DATASET, "--content-range", "end")
        r = aksk("/v2/manage/repos", [("limit", "4"), ("offset", "4")], port=port)
        self.assertEqual(r.h("Content-Range"), "4-5/6")


class Shapes(unittest.TestCase):
    def test_repo_row(self):
        r = aksk("/v2/manage/repos", [("namespace", "acme"), ("name", "nginx")])
        self.assertTrue(r.body.startswith(b"["))
        self.assertTrue(r.h("Content-Type").startswith("application/json"))
        (x,) = r.json()
        for k in ("name", "category", "description", "size", "is_public", "num_images", "num_download",
                  "created_at", "updated_at", "logo", "url", "path", "internal_path", "domain_name",
                  "namespace", "tags", "status", "total_range"):
            self.assertIn(k, x)
        self.assertEqual(x["path"], "swr.cn-north-4.myhuaweicloud.com/acme/nginx")
        self.assertEqual(x["num_images"], 2)
        self.assertEqual(x["size"], 2 * 67108864)
        self.assertEqual(x["created_at"], "2024-01-10T08:00:00Z")
        self.assertEqual(x["updated_at"], "2024-02-01T09:30:15.123456789Z")
        self.assertEqual(x["domain_name"], "acme")

    def test_tag_rows(self):
        r = aksk("/v2/manage/namespaces/acme/repos/team$app/tags")
        self.assertEqual(r.status, 200)
        rows = r.json()
        self.assertEqual([t["Tag"] for t in rows], ["multi", "v2", "v1"])
        for t in rows:
            self.assertNotIn("tag", t)
            for k in ("id", "repo_id", "Tag", "image_id", "manifest", "digest", "schema", "path",
                      "internal_path", "size", "is_trusted", "created", "updated", "deleted",
                      "domain_id", "scanned", "tag_type"):
                self.assertIn(k, t)
            self.assertIsNone(t["deleted"])
            self.assertEqual(t["digest"], "sha256:" + hashlib.sha256(t["manifest"].encode()).hexdigest())
            self.assertEqual(t["path"], "swr.cn-north-4.myhuaweicloud.com/acme/team/app:" + t["Tag"])
        self.assertEqual(rows[0]["tag_type"], 1)
        self.assertIn("manifest.list", json.loads(rows[0]["manifest"])["mediaType"])
        self.assertEqual(rows[1]["updated"], "2024-02-11T10:00:00.5Z")
        r = aksk("/v2/manage/namespaces/acme/repos/empty/tags")
        self.assertEqual((r.status, r.json()), (200, []))

    def test_names(self):
        self.assertEqual(aksk("/v2/manage/namespaces/acme/repos/team/app/tags").status, 404)
        r = aksk("/v2/manage/namespaces/acme/repos/nope/tags")
        self.assertEqual((r.status, r.json()["error_code"]), (404, "SVCSTG.SWR.4040010"))
        self.assertEqual(aksk("/v2/manage/namespaces/nope/repos/x/tags").status, 404)
        r = aksk("/v2/manage/namespaces/acme/repos/a$b$c")
        self.assertEqual(r.status, 200, r.body)
        x = r.json()
        self.assertEqual((x["name"], x["num_images"]), ("a/b/c", 1))
        self.assertEqual(x["updated"], "2024-03-01T00:00:00.542841141Z")
        for k in ("id", "ns_id", "category", "creator_name", "size", "is_public", "path", "created"):
            self.assertIn(k, x)
        r = aksk("/v2/manage/namespaces")
        self.assertEqual([n["name"] for n in r.json()["namespaces"]], ["acme", "acme-dev"])
        # another account's private repository is not visible
        self.assertEqual(aksk("/v2/manage/namespaces/initech/repos/printer/tags").status, 404)


class Shared(unittest.TestCase):
    def test_thirdparty(self):
        r = aksk("/v2/manage/shared-repositories", [("center", "thirdparty")])
        self.assertEqual(r.status, 200, r.body)
        self.assertIsNone(r.h("Content-Range"))
        got = sorted((x["domain_name"], x["namespace"], x["name"], x["status"]) for x in r.json())
        self.assertEqual(got, [("globex", "globex-pub", "base/ubuntu", False),
                               ("globex", "globex-pub", "tools", True),
                               ("umbrella", "umbrella-lab", "vaccine/t-virus", False)])
        r = aksk("/v2/manage/shared-repositories", [("center", "thirdparty"), ("limit", "2"), ("offset", "2")])
        self.assertEqual((len(r.json()), r.h("Content-Range")), (1, "2-1/3"))
        r = tok_get("/v2/manage/shared-repositories?center=thirdparty")
        got = sorted((x["domain_name"], x["name"], x["status"]) for x in r.json())
        self.assertEqual(got, [("acme", "nginx", True), ("globex", "base/ubuntu", False)])

    def test_center_required(self):
        r = aksk("/v2/manage/shared-repositories")
        self.assertEqual((r.status, r.json()["error_code"]), (400, "SVCSTG.SWR.4000014"))
        r = aksk("/v2/manage/shared-repositories", [("filter", "center::thirdparty|limit::10|offset::0")])
        self.assertEqual(len(r.json()), 3)

    def test_center_self(self):
        r = aksk("/v2/manage/shared-repositories", [("center", "self")])
        self.assertEqual([(x["namespace"], x["name"]) for x in r.json()], [("acme", "nginx")])

    def test_tags_through_owner_namespace(self):
        r = aksk("/v2/manage/namespaces/umbrella-lab/repos/vaccine$t-virus/tags")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(sorted(t["Tag"] for t in r.json()), ["v0.1", "v0.2"])
        self.assertEqual(aksk("/v2/manage/namespaces/globex-pub/repos/tools/tags").status, 200)
        self.assertEqual(aksk("/v2/manage/namespaces/globex-pub/repos/internal$secret/tags").status, 404)

    def test_expired_share_deny(self):
        port = start("--dataset", DATASET, "--expired-share-tags", "deny")
        r = aksk("/v2/manage/namespaces/globex-pub/repos/tools/tags", port=port)
        self.assertEqual((r.status, r.json()["error_code"]), (403, "SVCSTG.SWR.4030170"))
        self.assertEqual(aksk("/v2/manage/namespaces/globex-pub/repos/base$ubuntu/tags", port=port).status, 200)


class NoPermission(unittest.TestCase):
    def test_403(self):
        r = iam_login(*HOOLI)
        self.assertEqual(r.status, 201)  # valid credentials
        for res in (tok_get("/v2/manage/repos", cred=HOOLI),
                    tok_get("/v2/manage/shared-repositories?center=thirdparty", cred=HOOLI),
                    aksk("/v2/manage/repos", ak=HOOLI_AK, sk=HOOLI_SK),
                    aksk("/v2/manage/namespaces/hooli/repos/nucleus/tags", ak=HOOLI_AK, sk=HOOLI_SK)):
            self.assertEqual(res.status, 403, res.body)
            e = res.json()
            self.assertTrue(e["error_code"].startswith("SVCSTG.SWR.4030"), e)
            self.assertTrue(e["error_msg"])
        self.assertEqual(raw("GET", "/_emulator/inventory?account=hooli").json(), [])


class Faults(unittest.TestCase):
    def setUp(self):
        self.port = start("--dataset", DATASET)

    def test_500_429_slow_reset(self):
        p = self.port
        control("faults", [{"type": "500", "pattern": "^/v2/manage/repos"},
                           {"type": "429", "pattern": "tags", "retry_after": "2"}], port=p)
        r = aksk("/v2/manage/repos", port=p)
        self.assertEqual((r.status, r.json()["error_code"]), (500, "SVCSTG.SWR.5000003"))
        self.assertEqual(aksk("/v2/manage/repos", port=p).status, 200)
        r = aksk("/v2/manage/namespaces/acme/repos/nginx/tags", port=p)
        self.assertEqual((r.status, r.h("Retry-After"), r.json()["error_code"]), (429, "2", "APIGW.0308"))
        self.assertEqual(aksk("/v2/manage/namespaces/acme/repos/nginx/tags", port=p).status, 200)
        control("faults", {"type": "slow", "pattern": "^/v2/manage/repos", "delay_ms": 300}, port=p)
        t0 = time.monotonic()
        self.assertEqual(aksk("/v2/manage/repos", port=p).status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.28)
        control("faults", [{"type": "503", "pattern": "^/v2/"}, {"type": "reset", "pattern": "^/v2/"}], port=p)
        r = aksk("/v2/manage/repos", port=p)
        self.assertEqual(r.status, 503)
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            aksk("/v2/manage/repos", port=p)
        st = control("stats", method="GET", port=p)
        self.assertEqual(st["status"].get("500"), 1)
        self.assertEqual(st["status"].get("429"), 1)
        self.assertTrue(all(f["remaining"] == 0 for f in st["faults"]))

    def test_rate(self):
        p = self.port
        control("faults", {"type": "500", "pattern": "^/v2/", "rate": 0.3, "seed": 7}, port=p)
        codes = [aksk("/v2/manage/repos", port=p).status for _ in range(60)]
        n = codes.count(500)
        self.assertTrue(5 <= n <= 35, n)
        self.assertEqual(codes.count(200), 60 - n)
        control("faults", method="DELETE", port=p)
        self.assertEqual(aksk("/v2/manage/repos", port=p).status, 200)

    def test_throttle(self):
        p = self.port
        control("config", {"throttle": {"acme": {"rate": 1, "burst": 2}}}, port=p)
        codes = [aksk("/v2/manage/repos", port=p) for _ in range(3)]
        self.assertEqual([c.status for c in codes], [200, 200, 429])
        self.assertEqual(codes[2].json()["error_code"], "APIGW.0308")
        self.assertTrue(int(codes[2].h("Retry-After")) >= 1)
        # other accounts are not throttled
        self.assertEqual(tok_get("/v2/manage/repos", port=p).status, 200)
        time.sleep(1.05)
        self.assertEqual(aksk("/v2/manage/repos", port=p).status, 200)
        self.assertEqual(control("stats", method="GET", port=p)["throttled"], 1)
        control("reset", port=p)
        self.assertEqual([aksk("/v2/manage/repos", port=p).status for _ in range(4)], [200] * 4)

    def test_leak_detection(self):
        p = self.port
        raw("GET", "/v2/manage/repos?sk=" + ACME_SK, {"X-Auth-Token": "x"}, port=p)
        raw("GET", "/v2/manage/repos", {"X-Password": "Initech#Ops-Pass2"}, port=p)
        leaks = control("stats", method="GET", port=p)["leaks"]
        self.assertEqual(sorted(x["secret"] for x in leaks), ["SK of " + ACME_AK, "password of initech-ops"])


class Cli(unittest.TestCase):
    def test_cli_options(self):
        with tempfile.TemporaryDirectory() as d:
            pf = os.path.join(d, "port")
            port = start("--dataset", DATASET, "--port-file", pf, "--throttle", "initech=1/1",
                         "--faults", json.dumps({"type": "500", "pattern": "^/v3/auth", "count": 1}))
            with open(pf) as f:
                self.assertEqual(int(f.read()), port)
            self.assertEqual(iam_login(*INITECH, port=port).status, 500)
            tok = iam_login(*INITECH, port=port).h("X-Subject-Token")
            self.assertEqual(tok_get("/v2/manage/repos", port=port, tok=tok).status, 200)
            self.assertEqual(tok_get("/v2/manage/repos", port=port, tok=tok).status, 429)
            cfg = control("config", method="GET", port=port)
            self.assertEqual(cfg["throttle"], {"initech": {"rate": 1.0, "burst": 1.0}})

    def test_inventory(self):
        inv = raw("GET", "/_emulator/inventory?account=acme").json()
        self.assertEqual(sum(1 for x in inv if x["kind"] == "private"), 9)
        shared = {(x["owner"], x["repository"], x["share_status"]) for x in inv if x["kind"] == "shared"}
        self.assertEqual(shared, {("globex", "base/ubuntu", "effective"), ("globex", "tools", "expired"),
                                  ("umbrella", "vaccine/t-virus", "effective")})
        gen = raw("GET", "/_emulator/inventory?account=gen&kind=private").json()
        self.assertEqual(len(gen), 1199 * 2 + 150)

    def test_bad_arguments(self):
        p = subprocess.run([sys.executable, EMU, "--generate", "repos=1,bogus=2"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("bogus", p.stderr)


if __name__ == "__main__":
    unittest.main()
