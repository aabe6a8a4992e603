"""Plain Python copies of what the C API lends: image rows, changes, task snapshots, schedules,
events. Each from_c() reads every getter while the C object is still valid (before the
iterator advances, before the snapshot or list is freed, inside the event callback), so no
borrowed pointer ever escapes into Python objects.
"""
from dataclasses import dataclass, field
from typing import Dict, List

from ._lib import lib
from .constants import ChangeKind, Counter, EventType, FieldKind, RegistryState, ScheduleKind, TaskState, Trigger
from .strings import dec


def _enum(cls, value):
    """An IntEnum member, or the plain int for a value this binding does not know yet."""
    try:
        return cls(value)
    except ValueError:
        return value


@dataclass(frozen=True)
class Image:
    """One inventory row (see imgsync/inventory.h for each field). Times are ms since the epoch
    (UTC), 0 when unknown; size is in bytes, -1 when not resolved."""
    registry: str
    registry_type: str
    image_type: str
    type: int
    host: str
    partition: str
    namespace: str
    repository: str
    tag: str
    digest: str
    size: int
    update_ms: int
    sync_ms: int
    first_seen_ms: int
    media_type: str
    artifact_type: str
    multi_arch: bool
    owner: str
    share_status: str
    instance_id: str
    instance_name: str
    platforms: str
    created_ms: int

    @property
    def reference(self):
        """Pull reference host/repository:tag (or @digest for an untagged row)."""
        return f"{self.host}/{self.repository}" + (f":{self.tag}" if self.tag else f"@{self.digest}")

    @classmethod
    def from_c(cls, im):
        s = lambda fn: dec(fn(im))  # noqa: E731
        return cls(
            registry=s(lib.imgsync_image_registry), registry_type=s(lib.imgsync_image_registry_type),
            image_type=s(lib.imgsync_image_image_type), type=lib.imgsync_image_type(im),
            host=s(lib.imgsync_image_host), partition=s(lib.imgsync_image_partition),
            namespace=s(lib.imgsync_image_namespace), repository=s(lib.imgsync_image_repository),
            tag=s(lib.imgsync_image_tag), digest=s(lib.imgsync_image_digest),
            size=lib.imgsync_image_size(im), update_ms=lib.imgsync_image_update_ms(im),
            sync_ms=lib.imgsync_image_sync_ms(im), first_seen_ms=lib.imgsync_image_first_seen_ms(im),
            media_type=s(lib.imgsync_image_media_type), artifact_type=s(lib.imgsync_image_artifact_type),
            multi_arch=bool(lib.imgsync_image_multi_arch(im)), owner=s(lib.imgsync_image_owner),
            share_status=s(lib.imgsync_image_share_status), instance_id=s(lib.imgsync_image_instance_id),
            instance_name=s(lib.imgsync_image_instance_name), platforms=s(lib.imgsync_image_platforms),
            created_ms=lib.imgsync_image_created_ms(im))


def image_fields(im):
    """{json key: value} of every field of the C field table (the CLI's JSON keys), copied."""
    out = {}
    for i in range(lib.imgsync_image_field_count()):
        kind = lib.imgsync_image_field_kind(i)
        name = dec(lib.imgsync_image_field_name(i))
        if kind == FieldKind.STRING:
            out[name] = dec(lib.imgsync_image_field_string(im, i))
        else:
            v = lib.imgsync_image_field_int(im, i)
            out[name] = bool(v) if kind == FieldKind.BOOL else v
    return out


@dataclass(frozen=True)
class Change:
    """One row of the change feed: the row as stored (ADDED, UPDATED) or as it was (REMOVED);
    old_digest/old_size for UPDATED ("" / -1 otherwise)."""
    kind: ChangeKind
    task_id: int
    image: Image
    old_digest: str
    old_size: int

    @classmethod
    def from_c(cls, c):
        return cls(kind=_enum(ChangeKind, lib.imgsync_change_kind_of(c)), task_id=lib.imgsync_change_task_id(c),
                   image=Image.from_c(lib.imgsync_change_image(c)),
                   old_digest=dec(lib.imgsync_change_old_digest(c)), old_size=lib.imgsync_change_old_size(c))


@dataclass(frozen=True)
class RegistryStatus:
    name: str
    type: str
    state: RegistryState
    reason: str
    error: int


@dataclass(frozen=True)
class TaskError:
    registry: str
    repository: str
    code: int
    message: str


@dataclass(frozen=True)
class Task:
    """A task's status, copied from an imgsync_task snapshot. ids are uint64, times int64 ms."""
    id: int
    state: TaskState
    state_name: str
    trigger: Trigger
    created_ms: int
    started_ms: int
    finished_ms: int
    reason: str
    schedule_id: int
    counters: Dict[Counter, int] = field(default_factory=dict)
    registries: List[RegistryStatus] = field(default_factory=list)
    errors: List[TaskError] = field(default_factory=list)

    @property
    def ended(self):
        return self.state not in (TaskState.QUEUED, TaskState.RUNNING)

    @classmethod
    def from_c(cls, t):
        state = lib.imgsync_task_state_of(t)
        regs = [RegistryStatus(name=dec(lib.imgsync_task_registry_name(t, i)),
                               type=dec(lib.imgsync_task_registry_type(t, i)),
                               state=_enum(RegistryState, lib.imgsync_task_registry_state(t, i)),
                               reason=dec(lib.imgsync_task_registry_reason(t, i)),
                               error=lib.imgsync_task_registry_error(t, i))
                for i in range(lib.imgsync_task_registry_count(t))]
        errs = [TaskError(registry=dec(lib.imgsync_task_error_registry(t, i)),
                          repository=dec(lib.imgsync_task_error_repository(t, i)),
                          code=lib.imgsync_task_error_code(t, i), message=dec(lib.imgsync_task_error_message(t, i)))
                for i in range(lib.imgsync_task_error_count(t))]
        return cls(id=lib.imgsync_task_id(t), state=_enum(TaskState, state),
                   state_name=dec(lib.imgsync_task_state_name(state)),
                   trigger=_enum(Trigger, lib.imgsync_task_trigger(t)),
                   created_ms=lib.imgsync_task_created_ms(t), started_ms=lib.imgsync_task_started_ms(t),
                   finished_ms=lib.imgsync_task_finished_ms(t), reason=dec(lib.imgsync_task_reason(t)),
                   schedule_id=lib.imgsync_task_schedule_id(t),
                   counters={c: lib.imgsync_task_counter(t, c) for c in Counter},
                   registries=regs, errors=errs)


@dataclass(frozen=True)
class Schedule:
    id: int
    kind: ScheduleKind
    hour: int
    minute: int
    every_minutes: int
    next_ms: int
    last_task: int
    request_json: str

    @classmethod
    def from_c(cls, lst, i):
        return cls(id=lib.imgsync_schedule_id(lst, i), kind=_enum(ScheduleKind, lib.imgsync_schedule_kind_of(lst, i)),
                   hour=lib.imgsync_schedule_hour(lst, i), minute=lib.imgsync_schedule_minute(lst, i),
                   every_minutes=lib.imgsync_schedule_every_minutes(lst, i),
                   next_ms=lib.imgsync_schedule_next_ms(lst, i), last_task=lib.imgsync_schedule_last_task(lst, i),
                   request_json=dec(lib.imgsync_schedule_request_json(lst, i)))


@dataclass(frozen=True)
class Event:
    """An event, copied inside the callback (the C event is borrowed for the callback only)."""
    type: EventType
    task_id: int
    task_state: TaskState
    registry: str
    registry_state: int
    counters: Dict[Counter, int]

    @classmethod
    def from_c(cls, ev):
        return cls(type=_enum(EventType, lib.imgsync_event_type_of(ev)), task_id=lib.imgsync_event_task_id(ev),
                   task_state=_enum(TaskState, lib.imgsync_event_task_state(ev)),
                   registry=dec(lib.imgsync_event_registry(ev)),
                   registry_state=lib.imgsync_event_registry_state(ev),
                   counters={c: lib.imgsync_event_counter(ev, c) for c in Counter})
