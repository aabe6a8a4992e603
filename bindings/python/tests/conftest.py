"""Fixtures: real docker-registry instances on loopback, started, seeded and stopped with the
project's harness tests/registry/registry.py (the same one the C integration tests use)."""
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))  # the imgsync package of this tree
REGISTRY_PY = os.environ.get("IMGSYNC_REGISTRY_PY", os.path.join(ROOT, "tests", "registry", "registry.py"))


class Registry:
    """One docker-registry in a temporary directory; with user set it wants htpasswd Basic auth."""

    def __init__(self, label, user=None):
        self.dir = tempfile.mkdtemp(prefix=f"imgsync-py-{label}-")
        self.user = user
        self.password = secrets.token_urlsafe(12) if user else None
        args = ["start", "--dir", self.dir] + (["--htpasswd", f"{user}:{self.password}"] if user else [])
        self.port = int(self._run(args).strip())
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"

    def _run(self, args, env=None):
        r = subprocess.run([sys.executable, REGISTRY_PY] + args, capture_output=True, text=True,
                           env=env, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"registry.py {args[0]} failed: {r.stderr.strip()}")
        return r.stdout

    def seed(self, stage="initial"):
        """Push the harness's stage content; the expected rows (list of dicts)."""
        out = os.path.join(self.dir, f"expected-{stage}.json")
        args, env = ["seed", "--url", self.url, "--out", out, "--stage", stage], dict(os.environ)
        if self.user:
            env["IMGSYNC_PY_REGISTRY_PASSWORD"] = self.password  # never on a command line
            args += ["--user", self.user, "--password-env", "IMGSYNC_PY_REGISTRY_PASSWORD"]
        self._run(args, env)
        with open(out) as f:
            return json.load(f)

    def close(self):
        try:
            self._run(["stop", "--dir", self.dir])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def registry():
    """An open registry seeded with stage "initial": (Registry, expected rows)."""
    r = Registry("open")
    try:
        yield r, r.seed("initial")
    finally:
        r.close()


@pytest.fixture(scope="session")
def auth_registry():
    r = Registry("auth", user="pyuser")
    try:
        yield r, r.seed("initial")
    finally:
        r.close()


@pytest.fixture
def fresh_registry():
    """A registry of its own (the test changes its content)."""
    r = Registry("fresh")
    try:
        yield r
    finally:
        r.close()
