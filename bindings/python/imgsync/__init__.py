"""libimgsync for Python: a ctypes binding (no compiler needed) of the C library libimgsync.so.1.

    import imgsync
    with imgsync.Context() as ctx:                       # or Context("sqlite:inventory.db")
        ctx.add_provider("oci", "local", endpoint="http://127.0.0.1:5000")
        task = ctx.sync()                                # start + wait: a Task copy
        print(task.state.name, task.counters[imgsync.Counter.IMAGES_FOUND])
        with ctx.images() as rows:                       # Image dataclasses, copied row by row
            for im in rows:
                print(im.reference, im.digest, im.size)

The library is loaded from $IMGSYNC_LIBRARY, else the source tree's build/libimgsync.so.1, else
the system's (ctypes.util.find_library("imgsync"), "libimgsync.so.1"). The raw C functions,
with restype/argtypes declared, are imgsync.lib.imgsync_* (imgsync._lib.FUNCTIONS lists them).
Strings: UTF-8 both ways (see imgsync.strings). Errors: ImgsyncError subclasses.
"""
import ctypes

from ._lib import lib, path as library_path
from .constants import (ChangeKind, Counter, Error, EventType, FieldKind, FilterField, FilterMode,
                        LogLevel, RegistryState, ScheduleKind, TaskState, Trigger, Type)
from .context import Context, Provider
from .errors import check as _check
from .errors import (AlreadyExists, AuthError, Busy, Canceled, ImgsyncError, InsecureError, InternalError,
                     InvalidArgument, NetworkError, NotFound, OutOfMemory, PartialError, ProtocolError, HttpError,
                     StoreError, Timeout, TooBig, Unsupported, VersionError)
from .records import Change, Event, Image, RegistryStatus, Schedule, Task, TaskError, image_fields
from .request import Request
from .strings import dec as _dec
from .strings import enc as _enc

__version__ = "0.1.0"
__all__ = [
    "lib", "library_path", "version", "version_num", "strerror", "type_from_string", "type_names",
    "Context", "Provider", "Request", "Image", "Change", "Task", "RegistryStatus", "TaskError", "Schedule",
    "Event", "image_fields",
    "ChangeKind", "Counter", "Error", "EventType", "FieldKind", "FilterField", "FilterMode", "LogLevel", "RegistryState",
    "ScheduleKind", "TaskState", "Trigger", "Type",
    "ImgsyncError", "InvalidArgument", "OutOfMemory", "NotFound", "AlreadyExists", "AuthError", "NetworkError",
    "Timeout", "ProtocolError", "HttpError", "TooBig", "Canceled", "Unsupported", "VersionError", "Busy",
    "StoreError", "InsecureError", "PartialError", "InternalError",
]


def version():
    """Product version of the loaded library, e.g. "0.1.0"."""
    return _dec(lib.imgsync_version())


def version_num():
    return lib.imgsync_version_num()


def strerror(code):
    return _dec(lib.imgsync_strerror(int(code)))


def type_from_string(s):
    """Type for "Oci", "harbor", "shared_image" ... (NotFound for an unknown name)."""
    out = ctypes.c_int()
    _check(lib.imgsync_type_from_string(ctypes.byref(out), _enc(s)))
    return Type(out.value)


def type_names(t):
    """(registry_type, image_type) of a Type, e.g. ("Oci", "oci"); (None, None) if unknown."""
    return _dec(lib.imgsync_type_registry_name(int(t))), _dec(lib.imgsync_type_image_name(int(t)))
