"""Declarative request templates: `get("/health")`, `post("/predict", json=...)`, `unary(...)`.

A template is encoded once, when the plan is built, and then fired by the Rust engine
with no Python per request. Checks (`status=`, `contains=`, `json_path=`, `json_equals=`)
decide what counts as a success.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from loadforge._proto import plan_pb2

from .body import encode_body, with_params
from .errors import ScenarioError

_UNSET: Any = object()


@dataclass(frozen=True)
class RequestCheck:
    """What a response must satisfy; the default (empty) means "status < 400"."""

    status: tuple[int, ...] = ()
    contains: bytes = b""
    json_path: str = ""
    json_equals: str | None = None  # JSON text, compared after parsing

    def to_proto(self) -> plan_pb2.Check:
        return plan_pb2.Check(
            status=list(self.status),
            body_contains=self.contains,
            json_path=self.json_path,
            json_equals=self.json_equals or "",
        )

    @property
    def needs_body(self) -> bool:
        return bool(self.contains or self.json_path)


@dataclass(frozen=True)
class RequestSpec:
    """One declarative request. Build it with `get`, `post`, ..., `request` or `unary`."""

    method: str
    path: str  # relative to the user's host, or an absolute http(s) URL
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    name: str = ""
    check: RequestCheck = field(default_factory=RequestCheck)
    protocol: int = plan_pb2.PROTOCOL_HTTP1
    tags: frozenset[str] = frozenset()
    # gRPC only: the response message class (for the Python runtime and reports).
    response_type: Any = None

    @property
    def endpoint(self) -> str:
        """The statistics key, e.g. `"GET /health"`."""
        return f"{self.method} {self.name or self.path}"

    def url(self, host: str) -> str:
        """The absolute URL against `host` (an absolute path wins)."""
        if self.path.startswith(("http://", "https://")):
            return self.path
        path = self.path if self.path.startswith("/") else f"/{self.path}"
        return host.rstrip("/") + path

    def to_proto(self, host: str) -> plan_pb2.RequestTemplate:
        """The engine's `RequestTemplate`, resolved against `host`."""
        # gRPC calls are POSTs on the wire; the engine files them under "GRPC <name>".
        grpc = self.protocol == plan_pb2.PROTOCOL_GRPC
        return plan_pb2.RequestTemplate(
            method="POST" if grpc else self.method,
            url=self.url(host),
            headers=[plan_pb2.Header(name=k, value=v) for k, v in self.headers],
            body=self.body,
            name=self.name or self.path,
            check=self.check.to_proto(),
            keep_body=self.check.needs_body,
            protocol=self.protocol,  # type: ignore[arg-type]
        )


def _headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None,
) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: list[tuple[str, str]] = []
    for key, value in items:
        if not isinstance(key, str) or not isinstance(value, str | int | float):
            raise ScenarioError(f"header {key!r}: name and value must be strings")
        out.append((key, str(value)))
    return out


def _check(status: Any, contains: Any, json_path: str, json_equals: Any) -> RequestCheck:
    if status is None:
        codes: tuple[int, ...] = ()
    elif isinstance(status, int) and not isinstance(status, bool):
        codes = (status,)
    elif isinstance(status, Iterable) and all(isinstance(s, int) for s in status):
        codes = tuple(status)
    else:
        raise ScenarioError(f"status= must be an int or a list of ints, got {status!r}")
    if any(not 100 <= c <= 599 for c in codes):
        raise ScenarioError(f"status= codes must be within 100..599, got {status!r}")
    if isinstance(contains, str):
        contains = contains.encode()
    if not isinstance(contains, bytes):
        raise ScenarioError(f"contains= must be bytes or str, got {contains!r}")
    equals = None
    if json_equals is not _UNSET:
        if not json_path:
            raise ScenarioError("json_equals= needs json_path=")
        equals = orjson.dumps(json_equals).decode()
    return RequestCheck(codes, contains, json_path or "", equals)


def request(
    method: str,
    path: str,
    *,
    params: Any = None,
    json: Any = None,
    data: Any = None,
    files: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    name: str | None = None,
    status: int | Iterable[int] | None = None,
    contains: bytes | str = b"",
    json_path: str = "",
    json_equals: Any = _UNSET,
    http2: bool = False,
    tags: Iterable[str] = (),
) -> RequestSpec:
    """A declarative request, e.g. `request("POST", "/predict", json={...}, status=200)`.

    `json` is encoded once with orjson, `data` as a form (dict) or as is (bytes/str),
    `files` as multipart/form-data like requests (`{"image": ("a.png", b"...", "image/png")}`).
    """
    if not isinstance(method, str) or not method.isalpha():
        raise ScenarioError(f"request method must be a word like 'GET', got {method!r}")
    if not isinstance(path, str) or not path:
        raise ScenarioError(f"request path must be a non-empty string, got {path!r}")
    body, content_type = encode_body(json=json, data=data, files=files)
    hdrs = _headers(headers)
    if content_type and not any(k.lower() == "content-type" for k, _ in hdrs):
        hdrs.append(("content-type", content_type))
    return RequestSpec(
        method=method.upper(),
        path=with_params(path, params),
        headers=tuple(hdrs),
        body=body,
        name=name or path,
        check=_check(status, contains, json_path, json_equals),
        protocol=plan_pb2.PROTOCOL_HTTP2 if http2 else plan_pb2.PROTOCOL_HTTP1,
        tags=frozenset(tags),
    )


def get(path: str, **kwargs: Any) -> RequestSpec:
    """A declarative GET: `get("/health", status=200)`."""
    return request("GET", path, **kwargs)


def post(path: str, **kwargs: Any) -> RequestSpec:
    """A declarative POST: `post("/predict", json={"data": [0.0] * 784})`."""
    return request("POST", path, **kwargs)


def put(path: str, **kwargs: Any) -> RequestSpec:
    """A declarative PUT."""
    return request("PUT", path, **kwargs)


def patch(path: str, **kwargs: Any) -> RequestSpec:
    """A declarative PATCH."""
    return request("PATCH", path, **kwargs)


def delete(path: str, **kwargs: Any) -> RequestSpec:
    """A declarative DELETE."""
    return request("DELETE", path, **kwargs)


def head(path: str, **kwargs: Any) -> RequestSpec:
    """A declarative HEAD."""
    return request("HEAD", path, **kwargs)


def unary(
    method: str,
    request_msg: Any,
    response_type: Any = None,
    *,
    metadata: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    name: str | None = None,
    tags: Iterable[str] = (),
) -> RequestSpec:
    """A declarative gRPC unary call for a `GrpcUser`.

    `method` is the full path (`"/helloworld.Greeter/SayHello"`); `request_msg` is a protobuf
    message, serialized once. Endpoint statistics are grouped under `GRPC <name>`.
    """
    if not isinstance(method, str) or not method.startswith("/") or method.count("/") != 2:
        raise ScenarioError(f"unary(): method must look like '/pkg.Service/Method', got {method!r}")
    serialize = getattr(request_msg, "SerializeToString", None)
    if serialize is None:
        raise ScenarioError(f"unary({method}): request must be a protobuf message")
    hdrs = _headers(metadata)
    if any(not k.islower() for k, _ in hdrs if k.isalpha()):
        raise ScenarioError(f"unary({method}): metadata keys must be lowercase")
    return RequestSpec(
        method="GRPC",
        path=method,
        headers=tuple(hdrs),
        body=serialize(),
        name=name or method,
        protocol=plan_pb2.PROTOCOL_GRPC,
        tags=frozenset(tags),
        response_type=response_type,
    )


def server_stream(
    method: str,
    request_msg: Any,
    response_type: Any = None,
    *,
    metadata: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    name: str | None = None,
    tags: Iterable[str] = (),
) -> RequestSpec:
    """A declarative server-streaming gRPC call for a `GrpcUser`, fired entirely in Rust.

    Recorded like `unary()`: the whole call (start to trailers) under `GRPC <name>`, with
    the number of messages received counted (`messages` in the endpoint's statistics).

    >>> server_stream("/pkg.Feed/Follow", FollowRequest(topic="x"))  # doctest: +SKIP
    """
    # On the wire a server-streaming call is a unary call with more reply messages.
    return unary(method, request_msg, response_type, metadata=metadata, name=name, tags=tags)
