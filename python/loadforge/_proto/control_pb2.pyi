from loadforge._proto import plan_pb2 as _plan_pb2
from loadforge._proto import snapshot_pb2 as _snapshot_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProtocolVersion(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROTOCOL_VERSION_UNSPECIFIED: _ClassVar[ProtocolVersion]
    PROTOCOL_VERSION_CURRENT: _ClassVar[ProtocolVersion]
PROTOCOL_VERSION_UNSPECIFIED: ProtocolVersion
PROTOCOL_VERSION_CURRENT: ProtocolVersion

class Hello(_message.Message):
    __slots__ = ("worker_id", "host", "cores", "processes", "version", "protocol_version", "token")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    CORES_FIELD_NUMBER: _ClassVar[int]
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    host: str
    cores: int
    processes: int
    version: str
    protocol_version: int
    token: str
    def __init__(self, worker_id: _Optional[str] = ..., host: _Optional[str] = ..., cores: _Optional[int] = ..., processes: _Optional[int] = ..., version: _Optional[str] = ..., protocol_version: _Optional[int] = ..., token: _Optional[str] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("controller_id",)
    CONTROLLER_ID_FIELD_NUMBER: _ClassVar[int]
    controller_id: str
    def __init__(self, controller_id: _Optional[str] = ...) -> None: ...

class Reject(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class Share(_message.Message):
    __slots__ = ("users", "rate", "fixed_counts", "fraction", "iterations", "spawn_rate", "max_in_flight", "class_offset")
    class FixedCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    USERS_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    FIXED_COUNTS_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    SPAWN_RATE_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    CLASS_OFFSET_FIELD_NUMBER: _ClassVar[int]
    users: int
    rate: float
    fixed_counts: _containers.ScalarMap[str, int]
    fraction: float
    iterations: int
    spawn_rate: float
    max_in_flight: int
    class_offset: int
    def __init__(self, users: _Optional[int] = ..., rate: _Optional[float] = ..., fixed_counts: _Optional[_Mapping[str, int]] = ..., fraction: _Optional[float] = ..., iterations: _Optional[int] = ..., spawn_rate: _Optional[float] = ..., max_in_flight: _Optional[int] = ..., class_offset: _Optional[int] = ...) -> None: ...

class RunPlan(_message.Message):
    __slots__ = ("plan", "share", "run_id")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    plan: _plan_pb2.Plan
    share: Share
    run_id: str
    def __init__(self, plan: _Optional[_Union[_plan_pb2.Plan, _Mapping]] = ..., share: _Optional[_Union[Share, _Mapping]] = ..., run_id: _Optional[str] = ...) -> None: ...

class Scale(_message.Message):
    __slots__ = ("share",)
    SHARE_FIELD_NUMBER: _ClassVar[int]
    share: Share
    def __init__(self, share: _Optional[_Union[Share, _Mapping]] = ...) -> None: ...

class Stop(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("cpu_percent", "rss_bytes", "unix_ms")
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    cpu_percent: float
    rss_bytes: int
    unix_ms: int
    def __init__(self, cpu_percent: _Optional[float] = ..., rss_bytes: _Optional[int] = ..., unix_ms: _Optional[int] = ...) -> None: ...

class WorkerError(_message.Message):
    __slots__ = ("message", "fatal")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FATAL_FIELD_NUMBER: _ClassVar[int]
    message: str
    fatal: bool
    def __init__(self, message: _Optional[str] = ..., fatal: _Optional[bool] = ...) -> None: ...

class Done(_message.Message):
    __slots__ = ("last",)
    LAST_FIELD_NUMBER: _ClassVar[int]
    last: _snapshot_pb2.Snapshot
    def __init__(self, last: _Optional[_Union[_snapshot_pb2.Snapshot, _Mapping]] = ...) -> None: ...

class WorkerMessage(_message.Message):
    __slots__ = ("hello", "snapshot", "heartbeat", "error", "done", "stop_request")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    STOP_REQUEST_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    snapshot: _snapshot_pb2.Snapshot
    heartbeat: Heartbeat
    error: WorkerError
    done: Done
    stop_request: StopRequest
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., snapshot: _Optional[_Union[_snapshot_pb2.Snapshot, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., error: _Optional[_Union[WorkerError, _Mapping]] = ..., done: _Optional[_Union[Done, _Mapping]] = ..., stop_request: _Optional[_Union[StopRequest, _Mapping]] = ...) -> None: ...

class StopRequest(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class ControllerMessage(_message.Message):
    __slots__ = ("welcome", "reject", "plan", "scale", "stop", "heartbeat")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    REJECT_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    welcome: Welcome
    reject: Reject
    plan: RunPlan
    scale: Scale
    stop: Stop
    heartbeat: Heartbeat
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., reject: _Optional[_Union[Reject, _Mapping]] = ..., plan: _Optional[_Union[RunPlan, _Mapping]] = ..., scale: _Optional[_Union[Scale, _Mapping]] = ..., stop: _Optional[_Union[Stop, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...
