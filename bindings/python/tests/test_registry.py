"""The Python layer against a real docker-registry: rows, errors, change feed, history, SQLite,
threads, events, memory."""
import os
import subprocess
import sys
import threading

import pytest

import imgsync
from imgsync import ChangeKind, Counter, EventType, Request, TaskState, Type


def expected_keys(rows):
    return {(r["repository"], r["tag"], r["digest"], r["size"], r["media_type"], r["multi_arch"]) for r in rows}


def image_keys(images):
    return {(i.repository, i.tag, i.digest, i.size, i.media_type, i.multi_arch) for i in images}


def oci(ctx, reg, name="local", **extra):
    return ctx.add_provider("oci", name, endpoint=reg.url, **extra)


def test_sync_gives_the_pushed_rows(registry):
    reg, rows = registry
    with imgsync.Context() as ctx:
        oci(ctx, reg)
        task = ctx.sync(timeout=120)
        assert task.state == TaskState.SUCCEEDED, task
        assert task.counters[Counter.IMAGES_FOUND] == len(rows) == task.counters[Counter.IMAGES_ADDED]
        assert [(r.name, r.type, r.state, r.error) for r in task.registries] == \
            [("local", "Oci", imgsync.RegistryState.FINISHED, 0)]
        with ctx.images() as it:
            images = list(it)
        assert image_keys(images) == expected_keys(rows)
        assert len(images) == len(rows) == ctx.inventory_count()
        im = images[0]
        assert (im.registry, im.registry_type, im.image_type, im.type, im.host) == \
            ("local", "Oci", "oci", Type.OCI, reg.host)
        assert im.reference == f"{reg.host}/{im.repository}:{im.tag}"
        assert im.sync_ms >= task.started_ms > 0
        assert isinstance(task.id, int) and task.id > 0


def test_iteration_copies_each_row(registry):
    """Rows stay valid after the iterator advanced, ended, and after the context is gone."""
    reg, rows = registry
    with imgsync.Context() as ctx:
        oci(ctx, reg)
        ctx.sync(timeout=120)
        it = ctx.images()
        first = next(it)
        second = next(it)
        rest = list(it)
        it.close()
        assert next(it, None) is None  # a closed iterator is exhausted, not a crash
        held = ctx.images()  # left open: closing the context frees it first
        next(held)
    assert first != second and len(rest) == len(rows) - 2
    assert first.digest.startswith("sha256:")
    assert (first.repository, first.tag) < (second.repository, second.tag)  # the C order, kept
    assert next(held, None) is None


def test_request_filters_the_iteration(registry):
    reg, rows = registry
    with imgsync.Context() as ctx:
        oci(ctx, reg)
        ctx.sync(timeout=120)
        repo = rows[0]["repository"]
        with Request(repositories={"local": [repo]}) as req:
            got = list(ctx.images(req))
        assert image_keys(got) == expected_keys(r for r in rows if r["repository"] == repo)
        with Request(filters=[(imgsync.FilterField.REPOSITORY, repo, imgsync.FilterMode.EXCLUDE)]) as req:
            assert len(list(ctx.images(req))) == len(rows) - len(got)


def test_bad_option_raises_with_errmsg(registry):
    with imgsync.Context() as ctx:
        p = ctx.add_provider("oci", "x")
        with pytest.raises(imgsync.InvalidArgument) as e:
            p.set("resolve", "everything")
        assert e.value.code == imgsync.Error.EINVAL and e.value.name == "IMGSYNC_EINVAL"
        assert "resolve" in e.value.message and e.value.message == ctx.errmsg
        assert e.value.strerror == imgsync.strerror(-1) and e.value.message in str(e.value)
        with pytest.raises(imgsync.InvalidArgument, match="no_such_option"):
            p.set("no_such_option", "1")
        with pytest.raises(imgsync.NotFound, match="kind"):
            ctx.add_provider("no-such-kind", "y")
        with pytest.raises(imgsync.AlreadyExists):
            ctx.add_provider("oci", "x")
        with pytest.raises(imgsync.InvalidArgument, match="max_connections"):
            ctx.set("max_connections", 0)
        # a failed keyword option leaves no half-made provider behind
        with pytest.raises(imgsync.InvalidArgument):
            ctx.add_provider("oci", "z", endpoint="ftp://nowhere")
        ctx.add_provider("oci", "z", endpoint=registry[0].url)


def test_wrong_password_is_an_auth_error(auth_registry):
    reg, rows = auth_registry
    wrong = "not-" + reg.password
    with imgsync.Context() as ctx:
        p = oci(ctx, reg, username=reg.user, password=wrong)
        with pytest.raises(imgsync.AuthError) as e:
            p.check()
        assert e.value.code == imgsync.Error.EAUTH and e.value.message
        assert wrong not in str(e.value) and reg.password not in str(e.value)
        task = ctx.sync(timeout=120)
        assert task.state == TaskState.FAILED
        assert task.registries[0].error == imgsync.Error.EAUTH
        assert wrong not in repr(task)
        assert list(ctx.images()) == []
        p.set("password", reg.password)
        p.check()
        assert p.credential_source == "options"
        task = ctx.sync(timeout=120)
        assert task.state == TaskState.SUCCEEDED
        assert image_keys(ctx.images()) == expected_keys(rows)


def test_log_lines_reach_a_python_callback(auth_registry):
    reg, rows = auth_registry
    lines = []
    with imgsync.Context() as ctx:
        oci(ctx, reg, username=reg.user, password=reg.password)
        ctx.set_log_callback(lambda level, msg: lines.append((level, msg)), imgsync.LogLevel.DEBUG)
        assert ctx.sync(timeout=120).state == TaskState.SUCCEEDED
        assert any(lv == imgsync.LogLevel.DEBUG and "GET " in m and "/v2/" in m for lv, m in lines)
        assert any(lv == imgsync.LogLevel.INFO for lv, m in lines)
        assert all(reg.password not in m for lv, m in lines)
        count = len(lines)
        ctx.set_log_callback(lambda level, msg: lines.append((level, msg)), imgsync.LogLevel.WARN)
        assert ctx.sync(timeout=120).state == TaskState.SUCCEEDED
        assert all(lv <= imgsync.LogLevel.WARN for lv, m in lines[count:])
        ctx.set_log_callback(None)
        count = len(lines)
        ctx.sync(timeout=120)
        assert len(lines) == count


def test_change_feed_and_history(fresh_registry):
    reg = fresh_registry
    initial = reg.seed("initial")
    with imgsync.Context() as ctx:
        oci(ctx, reg)
        t1 = ctx.sync(timeout=120)
        changes = list(ctx.changes(t1.id))
        assert {c.kind for c in changes} == {ChangeKind.ADDED} and len(changes) == len(initial)
        update = reg.seed("update")
        t2 = ctx.sync(timeout=120)
        before = {(r["repository"], r["tag"]): r["digest"] for r in initial}
        after = {(r["repository"], r["tag"]): r["digest"] for r in update}
        want = {ChangeKind.ADDED: set(after) - set(before), ChangeKind.REMOVED: set(before) - set(after),
                ChangeKind.UPDATED: {k for k in set(before) & set(after) if before[k] != after[k]}}
        got = {k: set() for k in want}
        for c in ctx.changes(t2.id):
            got[c.kind].add((c.image.repository, c.image.tag))
            assert c.task_id == t2.id
            if c.kind == ChangeKind.UPDATED:
                assert c.old_digest == before[(c.image.repository, c.image.tag)] != c.image.digest
        assert got == want and any(want.values())
        assert t2.counters[Counter.IMAGES_ADDED] == len(want[ChangeKind.ADDED])
        assert t2.counters[Counter.IMAGES_REMOVED] == len(want[ChangeKind.REMOVED])
        assert len(list(ctx.changes(t1.id, since=True))) == sum(map(len, want.values()))
        assert [t.id for t in ctx.tasks()] == [t2.id, t1.id]
        assert ctx.latest_task().id == t2.id
        assert ctx.tasks(limit=1)[0].id == t2.id


def test_sqlite_store_survives_the_context(registry, tmp_path):
    reg, rows = registry
    uri = f"sqlite:{tmp_path / 'inv.db'}"
    with imgsync.Context(uri) as ctx:
        oci(ctx, reg)
        tid = ctx.sync(timeout=120).id
    with imgsync.Context(uri) as ctx:  # providers are not stored: read what the store holds
        assert image_keys(ctx.images(stored=True)) == expected_keys(rows)
        assert ctx.task(tid).state == TaskState.SUCCEEDED
        with pytest.raises(imgsync.NotFound):
            list(ctx.images(Request(providers=["local"])))
    with pytest.raises(imgsync.StoreError) as e:
        imgsync.Context(f"sqlite:{tmp_path / 'no' / 'such' / 'dir.db'}")
    assert e.value.message  # the reason from imgsync_ctx_open's errbuf


def test_task_get_from_another_thread_while_the_worker_runs(registry):
    reg, rows = registry
    seen, errors = ([], []), []
    with imgsync.Context() as ctx:
        ctx.set("max_connections", 1)  # a slower sync: more snapshots of a running task
        oci(ctx, reg)
        ctx.start()
        tid = ctx.start_sync()
        done = threading.Event()

        def poll(mine):
            try:
                while not done.is_set():
                    mine.append(ctx.task(tid))
                    list(ctx.images())  # reads beside the worker too
            except Exception as e:  # reported below, in the test's thread
                errors.append(e)

        threads = [threading.Thread(target=poll, args=(mine,)) for mine in seen]
        for t in threads:
            t.start()
        final = ctx.wait(tid, timeout=120)
        done.set()
        for t in threads:
            t.join(30)
        ctx.stop()
    assert errors == [] and final.state == TaskState.SUCCEEDED
    for mine in seen:
        assert mine and all(s.id == tid for s in mine)
        found = [s.counters[Counter.IMAGES_FOUND] for s in mine]
        assert found == sorted(found)  # a thread sees the counters only grow


def test_events_reach_a_python_callback(registry):
    reg, rows = registry
    events = []
    with imgsync.Context() as ctx:
        oci(ctx, reg)
        ctx.set_event_callback(events.append)
        task = ctx.sync(timeout=120)
        states = [e.task_state for e in events if e.type == EventType.TASK_STATE]
        assert states[-1] == TaskState.SUCCEEDED and all(e.task_id == task.id for e in events)
        assert any(e.type == EventType.REGISTRY_STATE and e.registry == "local" for e in events)

        def boom(ev):
            raise RuntimeError("from the callback")
        ctx.set_event_callback(boom)
        with pytest.raises(RuntimeError, match="from the callback"):
            ctx.sync(timeout=120)
        ctx.set_event_callback(None)
        assert ctx.sync(timeout=120).state == TaskState.SUCCEEDED


def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_memory_is_stable_over_repeated_syncs(registry):
    reg, rows = registry

    def round_trip():
        with imgsync.Context() as ctx:
            oci(ctx, reg)
            assert ctx.sync(timeout=120).state == TaskState.SUCCEEDED
            assert len(list(ctx.images())) == len(rows)
            list(ctx.changes(0, since=True))
            ctx.tasks()
    for _ in range(5):
        round_trip()
    start = rss_kb()
    for _ in range(40):
        round_trip()
    grown = rss_kb() - start
    assert grown < 2048, f"RSS grew by {grown} KiB over 40 sync + iterate rounds"


def test_the_example_program_uses_the_package(auth_registry):
    reg, rows = auth_registry
    example = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "imgsync.py")
    env = dict(os.environ, IMGSYNC_PASSWORD=reg.password)
    r = subprocess.run([sys.executable, example, reg.url, reg.user], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == sorted(f"{x['repository']}:{x['tag']} {x['digest']} {x['size']}"
                                                   for x in rows)
    assert "task succeeded" in r.stderr and reg.password not in r.stderr


def test_the_readme_python_example(registry):
    """The first ```python block of README.md runs as shown against a real registry."""
    reg, rows = registry
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "README.md")) as f:
        text = f.read()
    code = text.split("```python\n", 1)[1].split("```\n", 1)[0]
    pkg = os.path.join(os.path.dirname(__file__), "..")
    env = dict(os.environ, REGISTRY_URL=reg.url, PYTHONPATH=pkg)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"succeeded {len(rows)} images"
    assert sorted(lines[1:]) == sorted(f"{reg.host}/{x['repository']}:{x['tag']} {x['digest']} {x['size']}"
                                       for x in rows)


def test_wait_timeout_then_cancel(registry):
    reg, rows = registry
    with imgsync.Context() as ctx:
        oci(ctx, reg)
        tid = ctx.start_sync()
        with pytest.raises(imgsync.Timeout) as e:  # a listing of many requests cannot end in 0 ms
            ctx.wait(tid, timeout=0)
        assert isinstance(e.value, TimeoutError) and e.value.code == imgsync.Error.ETIMEOUT
        ctx.cancel(tid)
        task = ctx.task(tid)
        assert task.state == TaskState.CANCELED and task.ended
        assert ctx.wait(tid, timeout=5).state == TaskState.CANCELED
