"""Loading libimgsync.so.1 and the ctypes declaration of every public function.

FUNCTIONS is the single table of (name, restype, argtypes). tests/header_check.py compares it
with the IMGSYNC_EXTERN declarations of include/imgsync/*.h and include/imgsync/sys/clock.h:
a function added to a header and not here fails `make check`.

Handles are distinct opaque structure types (POINTER(Ctx), POINTER(Task) ...) rather than
c_void_p, so that passing a task where a context is expected is a ctypes.ArgumentError instead
of a crash.
"""
import ctypes
import ctypes.util
import os

from ctypes import POINTER, c_char, c_char_p, c_int, c_int64, c_size_t, c_uint, c_uint64, c_void_p


class _Opaque(ctypes.Structure):
    """An incomplete C type: only pointers to it are used."""


# one class per opaque C handle; the C typedef name is kept in _c_name for the header check
def _opaque(c_name):
    return type(c_name, (_Opaque,), {"_c_name": c_name})


Ctx = _opaque("imgsync_ctx")
Provider = _opaque("imgsync_provider")
Request = _opaque("imgsync_request")
Task = _opaque("imgsync_task")
TaskList = _opaque("imgsync_task_list")
Image = _opaque("imgsync_image")
Iter = _opaque("imgsync_iter")
Change = _opaque("imgsync_change")
Changes = _opaque("imgsync_changes")
ScheduleList = _opaque("imgsync_schedule_list")
Event = _opaque("imgsync_event")

# typedef void (*imgsync_event_fn)(const imgsync_event *ev, void *payload);
EVENT_FN = ctypes.CFUNCTYPE(None, POINTER(Event), c_void_p)
# typedef void (*imgsync_log_callback)(imgsync_ctx *ctx, int level, const char *message, void *payload);
LOG_FN = ctypes.CFUNCTYPE(None, POINTER(Ctx), c_int, c_char_p, c_void_p)
# typedef int (*imgsync_socket_callback)(imgsync_ctx *ctx, int fd, int what, void *payload);
SOCKET_FN = ctypes.CFUNCTYPE(c_int, POINTER(Ctx), c_int, c_int, c_void_p)
# typedef int (*imgsync_timer_callback)(imgsync_ctx *ctx, int timeout_ms, void *payload);
TIMER_FN = ctypes.CFUNCTYPE(c_int, POINTER(Ctx), c_int, c_void_p)
# imgsync/sys/clock.h: int64_t (*now_ms)(void *payload), int64_t (*mono_ms)(void *payload)
CLOCK_FN = ctypes.CFUNCTYPE(c_int64, c_void_p)


class Clock(ctypes.Structure):
    """struct imgsync_clock (imgsync/sys/clock.h), version IMGSYNC_CLOCK_VERSION."""
    _c_name = "imgsync_clock"
    _fields_ = [("version", c_uint), ("now_ms", CLOCK_FN), ("mono_ms", CLOCK_FN), ("payload", c_void_p)]


def _p(t):
    return POINTER(t)


def _pp(t):
    return POINTER(POINTER(t))


S, I, U, SZ, U64, I64 = c_char_p, c_int, c_uint, c_size_t, c_uint64, c_int64

FUNCTIONS = [
    # version.h
    ("imgsync_version", S, []),
    ("imgsync_version_num", I, []),
    # errors.h
    ("imgsync_strerror", S, [I]),
    # ctx.h
    ("imgsync_ctx_new", I, [_pp(Ctx), S]),
    ("imgsync_ctx_open", I, [_pp(Ctx), S, POINTER(c_char), SZ]),
    ("imgsync_ctx_free", None, [_p(Ctx)]),
    ("imgsync_ctx_errmsg", S, [_p(Ctx)]),
    ("imgsync_ctx_set", I, [_p(Ctx), S, S]),
    ("imgsync_ctx_perform", I, [_p(Ctx), I]),
    ("imgsync_ctx_start", I, [_p(Ctx)]),
    ("imgsync_ctx_stop", I, [_p(Ctx)]),
    # provider.h
    ("imgsync_provider_new", I, [_pp(Provider), _p(Ctx), S, S]),
    ("imgsync_provider_set", I, [_p(Provider), S, S]),
    ("imgsync_provider_name", S, [_p(Provider)]),
    ("imgsync_provider_kind", S, [_p(Provider)]),
    ("imgsync_provider_type", I, [_p(Provider)]),
    ("imgsync_provider_check", I, [_p(Provider)]),
    ("imgsync_provider_credential_source", S, [_p(Provider)]),
    ("imgsync_provider_free", I, [_p(Provider)]),
    # request.h
    ("imgsync_type_registry_name", S, [I]),
    ("imgsync_type_image_name", S, [I]),
    ("imgsync_type_from_string", I, [_p(c_int), S]),
    ("imgsync_request_new", I, [_pp(Request)]),
    ("imgsync_request_free", None, [_p(Request)]),
    ("imgsync_request_add_type", I, [_p(Request), I]),
    ("imgsync_request_add_provider", I, [_p(Request), S]),
    ("imgsync_request_add_repository", I, [_p(Request), S, S]),
    ("imgsync_request_add_filter", I, [_p(Request), I, S, I]),
    ("imgsync_request_set_include_non_images", I, [_p(Request), I]),
    ("imgsync_request_set_max_tags", I, [_p(Request), U]),
    ("imgsync_request_set_updated_since", I, [_p(Request), I64]),
    # task.h
    ("imgsync_sync_start", I, [_p(Ctx), _p(Request), _p(c_uint64)]),
    ("imgsync_task_wait", I, [_p(Ctx), U64, I]),
    ("imgsync_task_cancel", I, [_p(Ctx), U64]),
    ("imgsync_task_get", I, [_pp(Task), _p(Ctx), U64]),
    ("imgsync_task_get_latest", I, [_pp(Task), _p(Ctx)]),
    ("imgsync_task_free", None, [_p(Task)]),
    ("imgsync_task_id", U64, [_p(Task)]),
    ("imgsync_task_state_of", I, [_p(Task)]),
    ("imgsync_task_state_name", S, [I]),
    ("imgsync_task_trigger", I, [_p(Task)]),
    ("imgsync_task_created_ms", I64, [_p(Task)]),
    ("imgsync_task_started_ms", I64, [_p(Task)]),
    ("imgsync_task_finished_ms", I64, [_p(Task)]),
    ("imgsync_task_reason", S, [_p(Task)]),
    ("imgsync_task_schedule_id", U64, [_p(Task)]),
    ("imgsync_task_counter", U64, [_p(Task), I]),
    ("imgsync_task_registry_count", SZ, [_p(Task)]),
    ("imgsync_task_registry_name", S, [_p(Task), SZ]),
    ("imgsync_task_registry_type", S, [_p(Task), SZ]),
    ("imgsync_task_registry_state", I, [_p(Task), SZ]),
    ("imgsync_task_registry_reason", S, [_p(Task), SZ]),
    ("imgsync_task_registry_error", I, [_p(Task), SZ]),
    ("imgsync_task_error_count", SZ, [_p(Task)]),
    ("imgsync_task_error_registry", S, [_p(Task), SZ]),
    ("imgsync_task_error_repository", S, [_p(Task), SZ]),
    ("imgsync_task_error_code", I, [_p(Task), SZ]),
    ("imgsync_task_error_message", S, [_p(Task), SZ]),
    ("imgsync_task_list_new", I, [_pp(TaskList), _p(Ctx), I, I, SZ]),
    ("imgsync_task_list_count", SZ, [_p(TaskList)]),
    ("imgsync_task_list_at", _p(Task), [_p(TaskList), SZ]),
    ("imgsync_task_list_free", None, [_p(TaskList)]),
    # inventory.h
    ("imgsync_iter_new", I, [_pp(Iter), _p(Ctx), _p(Request)]),
    ("imgsync_iter_new_stored", I, [_pp(Iter), _p(Ctx), _p(Request)]),
    ("imgsync_iter_next", _p(Image), [_p(Iter)]),
    ("imgsync_iter_free", None, [_p(Iter)]),
    ("imgsync_inventory_count", SZ, [_p(Ctx)]),
    ("imgsync_image_registry", S, [_p(Image)]),
    ("imgsync_image_registry_type", S, [_p(Image)]),
    ("imgsync_image_image_type", S, [_p(Image)]),
    ("imgsync_image_type", I, [_p(Image)]),
    ("imgsync_image_host", S, [_p(Image)]),
    ("imgsync_image_partition", S, [_p(Image)]),
    ("imgsync_image_namespace", S, [_p(Image)]),
    ("imgsync_image_repository", S, [_p(Image)]),
    ("imgsync_image_tag", S, [_p(Image)]),
    ("imgsync_image_digest", S, [_p(Image)]),
    ("imgsync_image_size", I64, [_p(Image)]),
    ("imgsync_image_update_ms", I64, [_p(Image)]),
    ("imgsync_image_sync_ms", I64, [_p(Image)]),
    ("imgsync_image_first_seen_ms", I64, [_p(Image)]),
    ("imgsync_image_media_type", S, [_p(Image)]),
    ("imgsync_image_artifact_type", S, [_p(Image)]),
    ("imgsync_image_multi_arch", I, [_p(Image)]),
    ("imgsync_image_owner", S, [_p(Image)]),
    ("imgsync_image_share_status", S, [_p(Image)]),
    ("imgsync_image_instance_id", S, [_p(Image)]),
    ("imgsync_image_instance_name", S, [_p(Image)]),
    ("imgsync_image_platforms", S, [_p(Image)]),
    ("imgsync_image_created_ms", I64, [_p(Image)]),
    ("imgsync_image_field_count", SZ, []),
    ("imgsync_image_field_name", S, [SZ]),
    ("imgsync_image_field_kind", I, [SZ]),
    ("imgsync_image_field_string", S, [_p(Image), SZ]),
    ("imgsync_image_field_int", I64, [_p(Image), SZ]),
    ("imgsync_changes_new", I, [_pp(Changes), _p(Ctx), U64, I]),
    ("imgsync_changes_next", _p(Change), [_p(Changes)]),
    ("imgsync_changes_free", None, [_p(Changes)]),
    ("imgsync_change_kind_of", I, [_p(Change)]),
    ("imgsync_change_task_id", U64, [_p(Change)]),
    ("imgsync_change_image", _p(Image), [_p(Change)]),
    ("imgsync_change_old_digest", S, [_p(Change)]),
    ("imgsync_change_old_size", I64, [_p(Change)]),
    # schedule.h
    ("imgsync_schedule_daily", I, [_p(Ctx), _p(Request), I, I, _p(c_uint64)]),
    ("imgsync_schedule_every", I, [_p(Ctx), _p(Request), U, _p(c_uint64)]),
    ("imgsync_schedule_remove", I, [_p(Ctx), U64]),
    ("imgsync_schedule_list_new", I, [_pp(ScheduleList), _p(Ctx)]),
    ("imgsync_schedule_list_count", SZ, [_p(ScheduleList)]),
    ("imgsync_schedule_id", U64, [_p(ScheduleList), SZ]),
    ("imgsync_schedule_kind_of", I, [_p(ScheduleList), SZ]),
    ("imgsync_schedule_hour", I, [_p(ScheduleList), SZ]),
    ("imgsync_schedule_minute", I, [_p(ScheduleList), SZ]),
    ("imgsync_schedule_every_minutes", U, [_p(ScheduleList), SZ]),
    ("imgsync_schedule_next_ms", I64, [_p(ScheduleList), SZ]),
    ("imgsync_schedule_last_task", U64, [_p(ScheduleList), SZ]),
    ("imgsync_schedule_request_json", S, [_p(ScheduleList), SZ]),
    ("imgsync_schedule_list_free", None, [_p(ScheduleList)]),
    # event.h
    ("imgsync_event_type_of", I, [_p(Event)]),
    ("imgsync_event_task_id", U64, [_p(Event)]),
    ("imgsync_event_task_state", I, [_p(Event)]),
    ("imgsync_event_registry", S, [_p(Event)]),
    ("imgsync_event_registry_state", I, [_p(Event)]),
    ("imgsync_event_counter", U64, [_p(Event), I]),
    ("imgsync_ctx_set_event_callback", I, [_p(Ctx), EVENT_FN, c_void_p]),
    ("imgsync_ctx_set_log_callback", I, [_p(Ctx), I, LOG_FN, c_void_p]),
    # ctx.h: driving from an event loop (declared for completeness; Context does not wrap them)
    ("imgsync_ctx_set_socket_callback", I, [_p(Ctx), SOCKET_FN, c_void_p]),
    ("imgsync_ctx_set_timer_callback", I, [_p(Ctx), TIMER_FN, c_void_p]),
    ("imgsync_ctx_socket_action", I, [_p(Ctx), I, I]),
    ("imgsync_ctx_timeout", I, [_p(Ctx)]),
    ("imgsync_ctx_wakeup", None, [_p(Ctx)]),
    # sys/clock.h (the provider SPI of sys/provider.h is not bound: write providers in C)
    ("imgsync_ctx_set_clock", I, [_p(Ctx), _p(Clock)]),
]


def _candidates():
    env = os.environ.get("IMGSYNC_LIBRARY")
    if env:
        return [env]  # an explicit choice is not second-guessed
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.path.normpath(os.path.join(here, "..", "..", "..", "build", "libimgsync.so.1"))
    return [p for p in (build if os.path.exists(build) else None,
                        ctypes.util.find_library("imgsync"), "libimgsync.so.1") if p]


def load():
    """The shared library: $IMGSYNC_LIBRARY, else the source tree's build/, else the system's."""
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise OSError("libimgsync.so.1 not found (set IMGSYNC_LIBRARY to its path): " + "; ".join(errors))


def declare(cdll):
    """Set restype/argtypes of every function in FUNCTIONS; return the names the library lacks."""
    missing = []
    for name, restype, argtypes in FUNCTIONS:
        try:
            fn = getattr(cdll, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype, fn.argtypes = restype, argtypes
    return missing


lib, path = load()
missing = declare(lib)
