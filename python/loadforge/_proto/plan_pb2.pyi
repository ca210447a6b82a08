from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Protocol(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROTOCOL_HTTP1: _ClassVar[Protocol]
    PROTOCOL_HTTP2: _ClassVar[Protocol]
    PROTOCOL_GRPC: _ClassVar[Protocol]
PROTOCOL_HTTP1: Protocol
PROTOCOL_HTTP2: Protocol
PROTOCOL_GRPC: Protocol

class Header(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class Check(_message.Message):
    __slots__ = ("status", "body_contains", "json_path", "json_equals")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BODY_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    JSON_PATH_FIELD_NUMBER: _ClassVar[int]
    JSON_EQUALS_FIELD_NUMBER: _ClassVar[int]
    status: _containers.RepeatedScalarFieldContainer[int]
    body_contains: bytes
    json_path: str
    json_equals: str
    def __init__(self, status: _Optional[_Iterable[int]] = ..., body_contains: _Optional[bytes] = ..., json_path: _Optional[str] = ..., json_equals: _Optional[str] = ...) -> None: ...

class RequestTemplate(_message.Message):
    __slots__ = ("method", "url", "headers", "body", "name", "check", "keep_body", "protocol")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHECK_FIELD_NUMBER: _ClassVar[int]
    KEEP_BODY_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    method: str
    url: str
    headers: _containers.RepeatedCompositeFieldContainer[Header]
    body: bytes
    name: str
    check: Check
    keep_body: bool
    protocol: Protocol
    def __init__(self, method: _Optional[str] = ..., url: _Optional[str] = ..., headers: _Optional[_Iterable[_Union[Header, _Mapping]]] = ..., body: _Optional[bytes] = ..., name: _Optional[str] = ..., check: _Optional[_Union[Check, _Mapping]] = ..., keep_body: _Optional[bool] = ..., protocol: _Optional[_Union[Protocol, str]] = ...) -> None: ...

class WaitTime(_message.Message):
    __slots__ = ("constant_s", "between", "pacing_s", "throughput")
    CONSTANT_S_FIELD_NUMBER: _ClassVar[int]
    BETWEEN_FIELD_NUMBER: _ClassVar[int]
    PACING_S_FIELD_NUMBER: _ClassVar[int]
    THROUGHPUT_FIELD_NUMBER: _ClassVar[int]
    constant_s: float
    between: Between
    pacing_s: float
    throughput: float
    def __init__(self, constant_s: _Optional[float] = ..., between: _Optional[_Union[Between, _Mapping]] = ..., pacing_s: _Optional[float] = ..., throughput: _Optional[float] = ...) -> None: ...

class Between(_message.Message):
    __slots__ = ("min_s", "max_s")
    MIN_S_FIELD_NUMBER: _ClassVar[int]
    MAX_S_FIELD_NUMBER: _ClassVar[int]
    min_s: float
    max_s: float
    def __init__(self, min_s: _Optional[float] = ..., max_s: _Optional[float] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("weight", "request", "python")
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    PYTHON_FIELD_NUMBER: _ClassVar[int]
    weight: int
    request: RequestTemplate
    python: str
    def __init__(self, weight: _Optional[int] = ..., request: _Optional[_Union[RequestTemplate, _Mapping]] = ..., python: _Optional[str] = ...) -> None: ...

class UserClass(_message.Message):
    __slots__ = ("name", "weight", "fixed_count", "wait_time", "tasks", "on_start", "on_stop", "python", "python_on_start", "python_on_stop")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    FIXED_COUNT_FIELD_NUMBER: _ClassVar[int]
    WAIT_TIME_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    ON_START_FIELD_NUMBER: _ClassVar[int]
    ON_STOP_FIELD_NUMBER: _ClassVar[int]
    PYTHON_FIELD_NUMBER: _ClassVar[int]
    PYTHON_ON_START_FIELD_NUMBER: _ClassVar[int]
    PYTHON_ON_STOP_FIELD_NUMBER: _ClassVar[int]
    name: str
    weight: int
    fixed_count: int
    wait_time: WaitTime
    tasks: _containers.RepeatedCompositeFieldContainer[Task]
    on_start: _containers.RepeatedCompositeFieldContainer[RequestTemplate]
    on_stop: _containers.RepeatedCompositeFieldContainer[RequestTemplate]
    python: bool
    python_on_start: bool
    python_on_stop: bool
    def __init__(self, name: _Optional[str] = ..., weight: _Optional[int] = ..., fixed_count: _Optional[int] = ..., wait_time: _Optional[_Union[WaitTime, _Mapping]] = ..., tasks: _Optional[_Iterable[_Union[Task, _Mapping]]] = ..., on_start: _Optional[_Iterable[_Union[RequestTemplate, _Mapping]]] = ..., on_stop: _Optional[_Iterable[_Union[RequestTemplate, _Mapping]]] = ..., python: _Optional[bool] = ..., python_on_start: _Optional[bool] = ..., python_on_stop: _Optional[bool] = ...) -> None: ...

class Stage(_message.Message):
    __slots__ = ("duration_s", "target")
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    duration_s: float
    target: float
    def __init__(self, duration_s: _Optional[float] = ..., target: _Optional[float] = ...) -> None: ...

class ClosedModel(_message.Message):
    __slots__ = ("users", "spawn_rate")
    USERS_FIELD_NUMBER: _ClassVar[int]
    SPAWN_RATE_FIELD_NUMBER: _ClassVar[int]
    users: int
    spawn_rate: float
    def __init__(self, users: _Optional[int] = ..., spawn_rate: _Optional[float] = ...) -> None: ...

class OpenModel(_message.Message):
    __slots__ = ("rate", "max_in_flight")
    RATE_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    rate: float
    max_in_flight: int
    def __init__(self, rate: _Optional[float] = ..., max_in_flight: _Optional[int] = ...) -> None: ...

class LoadProfile(_message.Message):
    __slots__ = ("closed", "open", "stages", "run_time_s", "iterations")
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    RUN_TIME_S_FIELD_NUMBER: _ClassVar[int]
    ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    closed: ClosedModel
    open: OpenModel
    stages: _containers.RepeatedCompositeFieldContainer[Stage]
    run_time_s: float
    iterations: int
    def __init__(self, closed: _Optional[_Union[ClosedModel, _Mapping]] = ..., open: _Optional[_Union[OpenModel, _Mapping]] = ..., stages: _Optional[_Iterable[_Union[Stage, _Mapping]]] = ..., run_time_s: _Optional[float] = ..., iterations: _Optional[int] = ...) -> None: ...

class EnginePlan(_message.Message):
    __slots__ = ("users", "profile", "connect_timeout_s", "request_timeout_s", "connection_per_request", "threads", "correct_pacing", "tls_insecure", "tls_ca_pem", "stop_timeout_s", "h2_connections")
    USERS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CONNECT_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_PER_REQUEST_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    CORRECT_PACING_FIELD_NUMBER: _ClassVar[int]
    TLS_INSECURE_FIELD_NUMBER: _ClassVar[int]
    TLS_CA_PEM_FIELD_NUMBER: _ClassVar[int]
    STOP_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    H2_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[UserClass]
    profile: LoadProfile
    connect_timeout_s: float
    request_timeout_s: float
    connection_per_request: bool
    threads: int
    correct_pacing: bool
    tls_insecure: bool
    tls_ca_pem: bytes
    stop_timeout_s: float
    h2_connections: int
    def __init__(self, users: _Optional[_Iterable[_Union[UserClass, _Mapping]]] = ..., profile: _Optional[_Union[LoadProfile, _Mapping]] = ..., connect_timeout_s: _Optional[float] = ..., request_timeout_s: _Optional[float] = ..., connection_per_request: _Optional[bool] = ..., threads: _Optional[int] = ..., correct_pacing: _Optional[bool] = ..., tls_insecure: _Optional[bool] = ..., tls_ca_pem: _Optional[bytes] = ..., stop_timeout_s: _Optional[float] = ..., h2_connections: _Optional[int] = ...) -> None: ...

class Threshold(_message.Message):
    __slots__ = ("scope", "expr", "abort_on_fail", "abort_grace_s")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    ABORT_ON_FAIL_FIELD_NUMBER: _ClassVar[int]
    ABORT_GRACE_S_FIELD_NUMBER: _ClassVar[int]
    scope: str
    expr: str
    abort_on_fail: bool
    abort_grace_s: float
    def __init__(self, scope: _Optional[str] = ..., expr: _Optional[str] = ..., abort_on_fail: _Optional[bool] = ..., abort_grace_s: _Optional[float] = ...) -> None: ...

class BundleFile(_message.Message):
    __slots__ = ("path", "content", "sha256")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    path: str
    content: bytes
    sha256: str
    def __init__(self, path: _Optional[str] = ..., content: _Optional[bytes] = ..., sha256: _Optional[str] = ...) -> None: ...

class Bundle(_message.Message):
    __slots__ = ("entry", "files")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    entry: str
    files: _containers.RepeatedCompositeFieldContainer[BundleFile]
    def __init__(self, entry: _Optional[str] = ..., files: _Optional[_Iterable[_Union[BundleFile, _Mapping]]] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("scenario", "engine", "bundle", "thresholds", "tags", "exclude_tags", "host", "options_json")
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_TAGS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_JSON_FIELD_NUMBER: _ClassVar[int]
    scenario: str
    engine: EnginePlan
    bundle: Bundle
    thresholds: _containers.RepeatedCompositeFieldContainer[Threshold]
    tags: _containers.RepeatedScalarFieldContainer[str]
    exclude_tags: _containers.RepeatedScalarFieldContainer[str]
    host: str
    options_json: str
    def __init__(self, scenario: _Optional[str] = ..., engine: _Optional[_Union[EnginePlan, _Mapping]] = ..., bundle: _Optional[_Union[Bundle, _Mapping]] = ..., thresholds: _Optional[_Iterable[_Union[Threshold, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ..., exclude_tags: _Optional[_Iterable[str]] = ..., host: _Optional[str] = ..., options_json: _Optional[str] = ...) -> None: ...
