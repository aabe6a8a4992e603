"""The Python layer without a registry: strings at the boundary, handle types, requests,
schedules, the clock seam, closed objects."""
import ctypes
import json

import pytest

import imgsync
from imgsync import Request, ScheduleKind, Type, _lib


def test_version_and_types():
    assert imgsync.version() == imgsync.constants.IMGSYNC_VERSION_STRING
    assert imgsync.version_num() == imgsync.constants.IMGSYNC_VERSION_NUM
    assert imgsync.type_from_string("SwrShared") == Type.SWR_SHARED
    assert imgsync.type_names(Type.OCI) == ("Oci", "oci")
    assert imgsync.type_names(99) == (None, None)
    with pytest.raises(imgsync.NotFound):
        imgsync.type_from_string("docker-hub")


def test_strings_are_utf8_and_nul_is_refused():
    with imgsync.Context() as ctx:
        p = ctx.add_provider("oci", "u")
        # a NUL would silently cut the value in C: refused before the call
        with pytest.raises(ValueError, match="NUL"):
            p.set("password", "secret\0tail")
        with pytest.raises(imgsync.InvalidArgument) as e:
            ctx.add_provider("oci", "nämé")  # valid UTF-8, but names are [A-Za-z0-9._-]
        assert e.value.message == "provider name must be 1-64 of [A-Za-z0-9._-]"
        p.set("endpoint", "https://registry.example.com/prefix")
        p.set("username", "ünïcødé")
        with pytest.raises(TypeError):
            p.set(5, "x")  # a key is str, bytes or None
        with pytest.raises(UnicodeEncodeError):
            p.set("username", "\udcff")  # a lone surrogate is not UTF-8
        assert imgsync.strings.dec(b"ok \xff") == "ok \udcff"  # invalid bytes round-trip
        assert imgsync.strings.dec(b"ok \xff").encode("utf-8", "surrogateescape") == b"ok \xff"


def test_handles_are_typed():
    with imgsync.Context() as ctx:
        with pytest.raises(ctypes.ArgumentError):
            _lib.lib.imgsync_task_free(ctx._ptr)  # a context is not a task
        with pytest.raises(ctypes.ArgumentError):
            _lib.lib.imgsync_ctx_perform(None, "0")


def test_request_errors_carry_the_code():
    with Request() as req:
        with pytest.raises(imgsync.InvalidArgument) as e:
            req.add_type(42)
        assert e.value.message == "" and e.value.code == -1
        with pytest.raises(imgsync.InvalidArgument):
            req.add_filter(imgsync.FilterField.TAG, "[unclosed")
        with pytest.raises(ValueError):
            req.set_max_tags(-1)
        with pytest.raises(imgsync.InvalidArgument):
            req.set_updated_since(-5)
        req.add_filter(imgsync.FilterField.TAG, "v*", imgsync.FilterMode.EXCLUDE).set_max_tags(3)
    with pytest.raises(ValueError, match="closed"):
        req.add_provider("x")


def test_unknown_provider_and_task():
    with imgsync.Context() as ctx:
        with pytest.raises(imgsync.NotFound) as e:
            ctx.start_sync(Request(providers=["nobody"]))
        assert "nobody" in e.value.message
        with pytest.raises(imgsync.NotFound):
            ctx.task(12345)
        with pytest.raises(imgsync.NotFound):
            ctx.latest_task()
        with pytest.raises(ValueError):
            ctx.task(-1)
        big = 2 ** 64 - 1
        with pytest.raises(imgsync.NotFound):
            ctx.task(big)  # uint64 task ids pass unchanged
        assert list(ctx.changes(big)) == []


def test_schedules():
    with imgsync.Context() as ctx:
        with Request(types=[Type.HARBOR]) as req:
            daily = ctx.schedule_daily(req, 1, 30)
        every = ctx.schedule_every(15)
        s = {x.id: x for x in ctx.schedules()}
        assert (s[daily].kind, s[daily].hour, s[daily].minute) == (ScheduleKind.DAILY, 1, 30)
        assert (s[every].kind, s[every].every_minutes) == (ScheduleKind.EVERY, 15)
        assert json.loads(s[daily].request_json)["types"] == ["Harbor"]
        assert s[every].next_ms > 0 and s[every].last_task == 0
        with pytest.raises(imgsync.InvalidArgument):
            ctx.schedule_daily(None, 24, 0)
        ctx.schedule_remove(daily)
        assert [x.id for x in ctx.schedules()] == [every]
        with pytest.raises(imgsync.NotFound):
            ctx.schedule_remove(daily)


def test_clock_seam():
    now = [1_700_000_000_000]
    with imgsync.Context() as ctx:
        ctx.set_clock(lambda: now[0], lambda: now[0])
        t = ctx.sync()
        assert t.created_ms == 1_700_000_000_000 == t.finished_ms
        now[0] += 60_000
        assert ctx.sync().created_ms == 1_700_000_060_000
        ctx.set_clock()
        assert ctx.sync().created_ms > 1_700_000_060_000


def test_closed_objects_raise_instead_of_crashing():
    ctx = imgsync.Context()
    p = ctx.add_provider("oci", "a")
    ctx.close()
    ctx.close()
    with pytest.raises(ValueError, match="closed"):
        ctx.sync()
    with pytest.raises(ValueError, match="closed"):
        p.set("endpoint", "https://x.example")
    with pytest.raises(imgsync.StoreError):
        imgsync.Context("sqlite:/proc/no/such.db")
    with pytest.raises(imgsync.Unsupported):
        imgsync.Context("postgres://db")


def test_provider_attributes_and_removal():
    with imgsync.Context() as ctx:
        p = ctx.add_provider("harbor", "prod", endpoint="https://harbor.example.com")
        assert (p.name, p.kind, p.type) == ("prod", "harbor", Type.HARBOR)
        assert ctx.provider("prod") is p
        p.close()
        p.close()  # idempotent
        with pytest.raises(KeyError):
            ctx.provider("prod")
        with pytest.raises(imgsync.NotFound):
            ctx.start_sync(Request(providers=["prod"]))
        ctx.add_provider("harbor", "prod")  # the name is free again
