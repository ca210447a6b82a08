from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorCount(_message.Message):
    __slots__ = ("kind", "count", "sample", "body")
    KIND_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    kind: str
    count: int
    sample: str
    body: bytes
    def __init__(self, kind: _Optional[str] = ..., count: _Optional[int] = ..., sample: _Optional[str] = ..., body: _Optional[bytes] = ...) -> None: ...

class EndpointStats(_message.Message):
    __slots__ = ("method", "name", "requests", "failures", "bytes_received", "bytes_sent", "latency", "service_latency", "status_codes", "errors", "messages")
    class StatusCodesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: int
        def __init__(self, key: _Optional[int] = ..., value: _Optional[int] = ...) -> None: ...
    METHOD_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    BYTES_SENT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LATENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODES_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    method: str
    name: str
    requests: int
    failures: int
    bytes_received: int
    bytes_sent: int
    latency: bytes
    service_latency: bytes
    status_codes: _containers.ScalarMap[int, int]
    errors: _containers.RepeatedCompositeFieldContainer[ErrorCount]
    messages: int
    def __init__(self, method: _Optional[str] = ..., name: _Optional[str] = ..., requests: _Optional[int] = ..., failures: _Optional[int] = ..., bytes_received: _Optional[int] = ..., bytes_sent: _Optional[int] = ..., latency: _Optional[bytes] = ..., service_latency: _Optional[bytes] = ..., status_codes: _Optional[_Mapping[int, int]] = ..., errors: _Optional[_Iterable[_Union[ErrorCount, _Mapping]]] = ..., messages: _Optional[int] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("start_ms", "end_ms", "users", "dropped_iterations", "endpoints", "iterations", "exceptions")
    START_MS_FIELD_NUMBER: _ClassVar[int]
    END_MS_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    EXCEPTIONS_FIELD_NUMBER: _ClassVar[int]
    start_ms: int
    end_ms: int
    users: int
    dropped_iterations: int
    endpoints: _containers.RepeatedCompositeFieldContainer[EndpointStats]
    iterations: int
    exceptions: _containers.RepeatedCompositeFieldContainer[ErrorCount]
    def __init__(self, start_ms: _Optional[int] = ..., end_ms: _Optional[int] = ..., users: _Optional[int] = ..., dropped_iterations: _Optional[int] = ..., endpoints: _Optional[_Iterable[_Union[EndpointStats, _Mapping]]] = ..., iterations: _Optional[int] = ..., exceptions: _Optional[_Iterable[_Union[ErrorCount, _Mapping]]] = ...) -> None: ...
