"""Context, Provider and the copying iterators over the inventory and the change feed."""
import ctypes
import time
import weakref

from . import _lib
from ._lib import lib
from .constants import IMGSYNC_CLOCK_VERSION, Error, LogLevel
from .errors import check, error
from .owned import Owned
from .records import Change, Event, Image, Schedule, Task
from .request import handle
from .strings import dec, enc

_U64_MAX = 2 ** 64 - 1
_WAIT_SLICE_MS = 200  # task waits are cut in slices so that Ctrl-C (KeyboardInterrupt) gets through


def _u64(v, what):
    if not 0 <= v <= _U64_MAX:
        raise ValueError(f"{what} must be 0..2**64-1")  # c_uint64 would wrap a negative value
    return v


class Context:
    """An imgsync_ctx: providers, tasks, the HTTP engine and the inventory store.

        with Context("sqlite:/var/lib/x/inventory.db") as ctx:   # None: in memory
            ctx.add_provider("oci", "local", endpoint="http://127.0.0.1:5000")
            task = ctx.sync()
            for image in ctx.images(): ...

    Thread rules are the C API's: one thread at a time uses a context, except the calls the
    header allows from any thread (start_sync, cancel, task, tasks, images, changes, schedules)
    while another thread drives it (perform, wait, or the worker of start()). Errors raise
    ImgsyncError subclasses whose message is imgsync_ctx_errmsg() of the failing call.
    """

    def __init__(self, store=None):
        self._ptr = ctypes.POINTER(_lib.Ctx)()
        errbuf = ctypes.create_string_buffer(512)
        rc = lib.imgsync_ctx_open(ctypes.byref(self._ptr), enc(store), errbuf, len(errbuf))
        if rc < 0:
            raise error(rc, dec(errbuf.value))
        self._providers = {}
        self._open = weakref.WeakSet()  # iterators to free before the context
        self._keep = []  # ctypes callbacks: alive as long as C may call them (until free)
        self._callback_error = None

    # ---- lifetime ---------------------------------------------------------------------------
    def close(self):
        """Free the context (stops the worker, cancels running tasks). Idempotent."""
        ptr = getattr(self, "_ptr", None)
        if not ptr:
            return
        for it in list(self._open):
            it.close()
        for p in self._providers.values():
            p._ptr = None  # freed with the context
        self._providers.clear()
        self._ptr = None
        lib.imgsync_ctx_free(ptr)
        self._keep.clear()  # only now: freeing may still emit events

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handle(self):
        if not self._ptr:
            raise ValueError("the context is closed")
        return self._ptr

    def _check(self, rc):
        return check(rc, self._ptr)

    @property
    def errmsg(self):
        """imgsync_ctx_errmsg() of this thread's last call on the context."""
        return dec(lib.imgsync_ctx_errmsg(self._handle()))

    # ---- configuration ----------------------------------------------------------------------
    def set(self, key, value):
        """A context option (imgsync/ctx.h), e.g. ctx.set("max_connections", 4)."""
        self._check(lib.imgsync_ctx_set(self._handle(), enc(key), enc(None if value is None else str(value))))

    def add_provider(self, kind, name, **options):
        """Create a provider; keyword options are set in order (values str() of non-None)."""
        ptr = ctypes.POINTER(_lib.Provider)()
        self._check(lib.imgsync_provider_new(ctypes.byref(ptr), self._handle(), enc(kind), enc(name)))
        p = Provider(self, ptr)
        self._providers[p.name] = p
        try:
            for k, v in options.items():
                p.set(k, v)
        except Exception:
            p.close()
            raise
        return p

    def provider(self, name):
        return self._providers[name]

    # ---- tasks ------------------------------------------------------------------------------
    def start_sync(self, request=None):
        """Queue a manual sync of request (None = everything); the task id (uint64)."""
        tid = ctypes.c_uint64()
        self._check(lib.imgsync_sync_start(self._handle(), handle(request), ctypes.byref(tid)))
        return tid.value

    def wait(self, task_id, timeout=None):
        """Drive the context until the task ends; its Task. timeout in seconds (None: no
        limit), Timeout when it elapses."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = _WAIT_SLICE_MS if deadline is None else min(_WAIT_SLICE_MS, max(0, int((deadline - time.monotonic()) * 1000)))
            rc = lib.imgsync_task_wait(self._handle(), _u64(task_id, "task_id"), left)
            self._raise_callback_error()
            if rc == Error.ETIMEOUT and (deadline is None or time.monotonic() < deadline):
                continue
            self._check(rc)
            return self.task(task_id)

    def sync(self, request=None, timeout=None):
        """start_sync + wait: the ended Task (whatever its state: look at task.state)."""
        return self.wait(self.start_sync(request), timeout)

    def perform(self, timeout_ms=0):
        """One step of imgsync_ctx_perform: the number of tasks still queued or running."""
        rc = lib.imgsync_ctx_perform(self._handle(), timeout_ms)
        self._raise_callback_error()
        return self._check(rc)

    def start(self):
        """Run tasks and schedules on a background worker thread (imgsync_ctx_start)."""
        self._check(lib.imgsync_ctx_start(self._handle()))

    def stop(self):
        self._check(lib.imgsync_ctx_stop(self._handle()))

    def cancel(self, task_id):
        self._check(lib.imgsync_task_cancel(self._handle(), _u64(task_id, "task_id")))

    def task(self, task_id):
        """Status of a task (a copied Task). NotFound for an unknown id."""
        ptr = ctypes.POINTER(_lib.Task)()
        self._check(lib.imgsync_task_get(ctypes.byref(ptr), self._handle(), _u64(task_id, "task_id")))
        return self._copy_task(ptr)

    def latest_task(self):
        ptr = ctypes.POINTER(_lib.Task)()
        self._check(lib.imgsync_task_get_latest(ctypes.byref(ptr), self._handle()))
        return self._copy_task(ptr)

    @staticmethod
    def _copy_task(ptr):
        try:
            return Task.from_c(ptr)
        finally:
            lib.imgsync_task_free(ptr)

    def tasks(self, state=None, trigger=None, limit=0):
        """The task history, newest first, as a list of Task."""
        ptr = ctypes.POINTER(_lib.TaskList)()
        self._check(lib.imgsync_task_list_new(ctypes.byref(ptr), self._handle(), -1 if state is None else int(state),
                                              -1 if trigger is None else int(trigger), limit))
        try:
            return [Task.from_c(lib.imgsync_task_list_at(ptr, i)) for i in range(lib.imgsync_task_list_count(ptr))]
        finally:
            lib.imgsync_task_list_free(ptr)

    # ---- inventory --------------------------------------------------------------------------
    def images(self, request=None, stored=False):
        """Iterator of Image copies (stored=True: imgsync_iter_new_stored). Use it in a with
        block, or exhaust it, so that its snapshot is released early."""
        ptr = ctypes.POINTER(_lib.Iter)()
        new = lib.imgsync_iter_new_stored if stored else lib.imgsync_iter_new
        self._check(new(ctypes.byref(ptr), self._handle(), handle(request)))
        return self._track(_Cursor(ptr, lib.imgsync_iter_next, lib.imgsync_iter_free, Image.from_c))

    def changes(self, task_id, since=False):
        """Iterator of Change copies: of task task_id, or (since=True) of every later task."""
        ptr = ctypes.POINTER(_lib.Changes)()
        self._check(lib.imgsync_changes_new(ctypes.byref(ptr), self._handle(), _u64(task_id, "task_id"),
                                            1 if since else 0))
        return self._track(_Cursor(ptr, lib.imgsync_changes_next, lib.imgsync_changes_free, Change.from_c))

    def _track(self, cursor):
        self._open.add(cursor)
        return cursor

    def inventory_count(self):
        return lib.imgsync_inventory_count(self._handle())

    # ---- schedules --------------------------------------------------------------------------
    def schedule_daily(self, request=None, hour=1, minute=0):
        sid = ctypes.c_uint64()
        self._check(lib.imgsync_schedule_daily(self._handle(), handle(request), hour, minute, ctypes.byref(sid)))
        return sid.value

    def schedule_every(self, minutes, request=None):
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        sid = ctypes.c_uint64()
        self._check(lib.imgsync_schedule_every(self._handle(), handle(request), minutes, ctypes.byref(sid)))
        return sid.value

    def schedule_remove(self, schedule_id):
        self._check(lib.imgsync_schedule_remove(self._handle(), _u64(schedule_id, "schedule_id")))

    def schedules(self):
        ptr = ctypes.POINTER(_lib.ScheduleList)()
        self._check(lib.imgsync_schedule_list_new(ctypes.byref(ptr), self._handle()))
        try:
            return [Schedule.from_c(ptr, i) for i in range(lib.imgsync_schedule_list_count(ptr))]
        finally:
            lib.imgsync_schedule_list_free(ptr)

    # ---- callbacks --------------------------------------------------------------------------
    def set_event_callback(self, fn):
        """Call fn(Event) on every event, on the driving thread (None: stop). An exception fn
        raises is re-raised by the next perform()/wait() on this object (C cannot unwind)."""
        if fn is None:
            self._check(lib.imgsync_ctx_set_event_callback(self._handle(), _lib.EVENT_FN(), None))
            return

        def thunk(ev, payload):
            try:
                fn(Event.from_c(ev))
            except BaseException as e:  # noqa: B036 - nothing may unwind into C
                if self._callback_error is None:
                    self._callback_error = e

        cb = _lib.EVENT_FN(thunk)
        self._keep.append(cb)  # a replaced callback may still run on the worker: keep every one
        self._check(lib.imgsync_ctx_set_event_callback(self._handle(), cb, None))

    def set_log_callback(self, fn, max_level=4):
        """Call fn(level, message) for each log line up to max_level (imgsync.LogLevel; DEBUG is
        one line per HTTP attempt), on the thread driving the context; None stops. Lines hold no
        secret and no control character. An exception fn raises is re-raised like an event
        callback's."""
        if fn is None:
            self._check(lib.imgsync_ctx_set_log_callback(self._handle(), 0, _lib.LOG_FN(), None))
            return

        def thunk(ctx, level, message, payload):
            try:
                fn(LogLevel(level), dec(message))
            except BaseException as e:  # noqa: B036 - nothing may unwind into C
                if self._callback_error is None:
                    self._callback_error = e

        cb = _lib.LOG_FN(thunk)
        self._keep.append(cb)  # as for events: a replaced callback may still run on the worker
        self._check(lib.imgsync_ctx_set_log_callback(self._handle(), int(max_level), cb, None))

    def _raise_callback_error(self):
        e, self._callback_error = self._callback_error, None
        if e is not None:
            raise e

    def set_clock(self, now_ms=None, mono_ms=None):
        """Replace the context's clocks (imgsync/sys/clock.h) with Python callables returning
        ms; no arguments restores the system clocks. Not while a task runs (Busy)."""
        if now_ms is None and mono_ms is None:
            self._check(lib.imgsync_ctx_set_clock(self._handle(), None))
            return
        now_fn = _lib.CLOCK_FN(lambda payload: int(now_ms()))
        mono_fn = _lib.CLOCK_FN(lambda payload: int(mono_ms()))
        clock = _lib.Clock(IMGSYNC_CLOCK_VERSION, now_fn, mono_fn, None)
        self._keep += [now_fn, mono_fn]  # the struct is copied, the function pointers are not
        self._check(lib.imgsync_ctx_set_clock(self._handle(), ctypes.byref(clock)))


class Provider:
    """A registry configured in a context (borrowed from it: invalid after the context closes)."""

    def __init__(self, ctx, ptr):
        self._ctx, self._ptr = ctx, ptr

    def _handle(self):
        if not self._ptr:
            raise ValueError("the provider is closed")
        return self._ptr

    def set(self, key, value):
        """A string option (None resets it); secrets never appear in any error message."""
        rc = lib.imgsync_provider_set(self._handle(), enc(key), enc(None if value is None else str(value)))
        check(rc, self._ctx._ptr)

    @property
    def name(self):
        return dec(lib.imgsync_provider_name(self._handle()))

    @property
    def kind(self):
        return dec(lib.imgsync_provider_kind(self._handle()))

    @property
    def type(self):
        return lib.imgsync_provider_type(self._handle())

    def check(self):
        """Test connection and credentials (blocking): AuthError, NetworkError ... on failure."""
        check(lib.imgsync_provider_check(self._handle()), self._ctx._ptr)

    @property
    def credential_source(self):
        """Where the last check's credentials came from ("options", "auth file PATH", ...), never
        the secret; "" before a check."""
        return dec(lib.imgsync_provider_credential_source(self._handle()))

    def close(self):
        """Remove the provider from its context (Busy while a running task uses it)."""
        if not self._ptr:
            return
        name = self.name
        check(lib.imgsync_provider_free(self._ptr), self._ctx._ptr)
        self._ptr = None
        self._ctx._providers.pop(name, None)


class _Cursor(Owned):
    """An iterator over a C cursor that copies each borrowed row before asking for the next."""
    _what = "iterator"

    def __init__(self, ptr, next_fn, free_fn, copy):
        self._ptr, self._next, self._free, self._copy = ptr, next_fn, free_fn, copy

    def __iter__(self):
        return self

    def __next__(self):
        if not self._ptr:
            raise StopIteration
        row = self._next(self._ptr)
        if not row:
            self.close()
            raise StopIteration
        return self._copy(row)  # the C row is valid only until the next call
