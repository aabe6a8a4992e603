"""The enums and #define constants of the C headers, as IntEnums and as module-level names.

Every C enumerator is also available here under its C name (IMGSYNC_EAUTH, IMGSYNC_TASK_FAILED
...). C_ENUMS maps each C enum type to its IntEnum and the prefix its C names share, which is
what tests/header_check.py compares with the values the C compiler gives.
"""
from enum import IntEnum

IMGSYNC_VERSION_MAJOR = 0
IMGSYNC_VERSION_MINOR = 1
IMGSYNC_VERSION_PATCH = 0
IMGSYNC_VERSION_STRING = "0.1.0"
IMGSYNC_VERSION_NUM = IMGSYNC_VERSION_MAJOR * 10000 + IMGSYNC_VERSION_MINOR * 100 + IMGSYNC_VERSION_PATCH
IMGSYNC_CLOCK_VERSION = 1  # imgsync/sys/clock.h
IMGSYNC_SOCKET_TIMEOUT = -1  # imgsync_ctx_socket_action: the timer fired


class Error(IntEnum):
    OK = 0
    EINVAL = -1
    ENOMEM = -2
    ENOTFOUND = -3
    EEXISTS = -4
    EAUTH = -5
    ENETWORK = -6
    ETIMEOUT = -7
    EPROTOCOL = -8
    EHTTP = -9
    ETOOBIG = -10
    ECANCELED = -11
    EUNSUPPORTED = -12
    EVERSION = -13
    EBUSY = -14
    ESTORE = -15
    EINSECURE = -16
    EPARTIAL = -17
    EINTERNAL = -18


class Type(IntEnum):
    SWR_PRIVATE = 1
    SWR_SHARED = 2
    SWR_ENTERPRISE = 3
    HARBOR = 4
    JFROG = 5
    OCI = 6


class FilterField(IntEnum):
    NAMESPACE = 1
    REPOSITORY = 2
    TAG = 3


class FilterMode(IntEnum):
    INCLUDE = 1
    EXCLUDE = 2


class TaskState(IntEnum):
    QUEUED = 0
    RUNNING = 1
    SUCCEEDED = 2
    PARTIAL = 3
    FAILED = 4
    CANCELED = 5
    SKIPPED = 6


class Trigger(IntEnum):
    MANUAL = 0
    SCHEDULED = 1


class RegistryState(IntEnum):
    RUNNING = 0
    FINISHED = 1
    FAILED = 2


class Counter(IntEnum):
    REPOSITORIES_TOTAL = 0
    REPOSITORIES_DONE = 1
    REPOSITORIES_FAILED = 2
    IMAGES_FOUND = 3
    IMAGES_ADDED = 4
    IMAGES_UPDATED = 5
    IMAGES_REMOVED = 6
    REQUESTS = 7
    RETRIES = 8


class FieldKind(IntEnum):
    STRING = 1
    INT = 2
    BOOL = 3


class ChangeKind(IntEnum):
    ADDED = 1
    UPDATED = 2
    REMOVED = 3


class ScheduleKind(IntEnum):
    DAILY = 1
    EVERY = 2


class EventType(IntEnum):
    TASK_STATE = 1
    REGISTRY_STATE = 2
    PROGRESS = 3


class LogLevel(IntEnum):
    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4


class Poll(IntEnum):
    IN = 1
    OUT = 2
    INOUT = 3
    REMOVE = 4


# C enum type -> (IntEnum, prefix of its enumerators' C names)
C_ENUMS = {
    "imgsync_error": (Error, "IMGSYNC_"),
    "imgsync_type": (Type, "IMGSYNC_TYPE_"),
    "imgsync_filter_field": (FilterField, "IMGSYNC_FILTER_"),
    "imgsync_filter_mode": (FilterMode, "IMGSYNC_"),
    "imgsync_task_state": (TaskState, "IMGSYNC_TASK_"),
    "imgsync_trigger": (Trigger, "IMGSYNC_TRIGGER_"),
    "imgsync_registry_state": (RegistryState, "IMGSYNC_REGISTRY_"),
    "imgsync_counter": (Counter, "IMGSYNC_COUNT_"),
    "imgsync_field_kind": (FieldKind, "IMGSYNC_FIELD_"),
    "imgsync_change_kind": (ChangeKind, "IMGSYNC_CHANGE_"),
    "imgsync_schedule_kind": (ScheduleKind, "IMGSYNC_SCHEDULE_"),
    "imgsync_event_type": (EventType, "IMGSYNC_EVENT_"),
    "imgsync_log_level": (LogLevel, "IMGSYNC_LOG_"),
    "imgsync_poll": (Poll, "IMGSYNC_POLL_"),
}

for _enum, _prefix in C_ENUMS.values():
    for _m in _enum:
        globals()[_prefix + _m.name] = int(_m)
del _enum, _prefix, _m
