"""`self.client` of a Python `GrpcUser`: calls fired, framed and timed by the engine.

    r = await self.client.unary("/helloworld.Greeter/SayHello", HelloRequest(name="y"), HelloReply)
    r.message.message  # the parsed HelloReply
    async for reply in self.client.server_stream(METHOD, request, Reply): ...
    r = await self.client.client_stream(METHOD, [req1, req2], Reply)   # r.message
    call = self.client.bidi(METHOD, None, Reply); call.send(req); call.done_writing()

Metadata: `self.client.metadata` (every call) plus `metadata=`; `timeout=` (seconds) is
the call's deadline, sent as `grpc-timeout`. Failures do not raise: `r.ok` is False and
`r.error` is the error kind (`grpc_NOT_FOUND`, `grpc_DEADLINE_EXCEEDED`, ...), as for HTTP.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any

from .client import START_DELAY_US
from .dispatcher import Dispatcher
from .grpc_stream import GrpcStream
from .response import CompletionEvent, Response

log = logging.getLogger(__name__)

PROTOCOL_GRPC = 2
_NO_HEADERS: list[tuple[str, str]] = []


class GrpcResponse(Response):
    """The outcome of one unary call; `message` is the reply parsed with the response type."""

    __slots__ = ("_message", "_response_type")

    def __init__(
        self, event: CompletionEvent, method: str, url: str, *, response_type: Any = None
    ) -> None:
        super().__init__(event, method, url)
        self._response_type = response_type
        self._message: Any = None

    @property
    def message(self) -> Any:
        """The reply message (None without a response type or when the call failed)."""
        if self._message is None and self._response_type is not None and self.error is None:
            self._message = self._response_type.FromString(_unframe(self.content))
        return self._message

    @property
    def grpc_status(self) -> str:
        """The gRPC status name: "OK", or e.g. "NOT_FOUND" (from `error`)."""
        if self.error is None:
            return "OK"
        return self.error.removeprefix("grpc_") if self.error.startswith("grpc_") else "UNKNOWN"

    @property
    def ok(self) -> bool:
        """True when the call returned status OK."""
        return self.error is None


class GrpcClient:
    """Makes gRPC calls (unary and streaming) through the engine for one user (`host` is `http(s)://h:p`)."""

    __slots__ = (
        "_calls",
        "_create_future",
        "_dispatcher",
        "_next_token",
        "_submit_later",
        "host",
        "metadata",
    )

    def __init__(self, dispatcher: Dispatcher, host: str) -> None:
        self.host = host.rstrip("/")
        self.metadata: dict[str, str] = {}
        self._dispatcher = dispatcher
        self._submit_later = dispatcher.submit_later
        self._next_token = dispatcher.next_token
        self._create_future = dispatcher.loop.create_future
        # (method, response type) -> (path, URL, response factory): worked out once.
        self._calls: dict[tuple[str, Any], tuple[str, str, Any]] = {}

    def unary(
        self,
        method: str,
        request: Any,
        response_type: Any = None,
        *,
        name: str | None = None,
        metadata: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        timeout: float | None = None,
    ) -> asyncio.Future[GrpcResponse]:
        """Call `method` ("/package.Service/Method") with a request message; await it.

        `request` is a protobuf message (or its serialized bytes); `response_type`, when
        given, parses the reply into `response.message`.
        """
        call = self._calls.get((method, response_type))
        if call is None:
            call = self._calls[(method, response_type)] = self._call(method, response_type)
        path, url, response_class = call
        body = request if isinstance(request, bytes) else request.SerializeToString()
        headers = self._headers(metadata) if metadata or self.metadata else _NO_HEADERS
        token = self._next_token()
        future = self._create_future()
        self._dispatcher.pending[token] = (future, response_class, "GRPC", url)
        # As declarative `unary()` templates: stats group under `GRPC <name>`. Queued, so
        # the calls of every task that runs in this loop iteration go to the engine at once.
        self._submit_later(
            (
                token,
                "GRPC",
                url,
                headers,
                body,
                name or path,
                PROTOCOL_GRPC,
                float(timeout or 0.0),
                START_DELAY_US.get(),
                0,
            )
        )
        return future

    def server_stream(
        self,
        method: str,
        request: Any,
        response_type: Any = None,
        *,
        name: str | None = None,
        metadata: Metadata | None = None,
        timeout: float | None = None,
    ) -> GrpcStream:
        """A server-streaming call: iterate the result for the replies.

        >>> async for reply in self.client.server_stream(M, Req(count=5), Reply):  # doctest: +SKIP
        ...     print(reply)
        """
        first = [_serialize(request)]
        return self._open(method, first, True, response_type, name, metadata, timeout)

    def client_stream(
        self,
        method: str,
        requests: Iterable[Any] | AsyncIterable[Any],
        response_type: Any = None,
        *,
        name: str | None = None,
        metadata: Metadata | None = None,
        timeout: float | None = None,
    ) -> GrpcStream:
        """A client-streaming call sending `requests` (iterable or async iterable); await
        the result for its end, then `.message` is the reply."""
        return self._with_requests(method, requests, response_type, name, metadata, timeout)

    def bidi(
        self,
        method: str,
        requests: Iterable[Any] | AsyncIterable[Any] | None = None,
        response_type: Any = None,
        *,
        name: str | None = None,
        metadata: Metadata | None = None,
        timeout: float | None = None,
    ) -> GrpcStream:
        """A bidirectional call: replies by iterating the result; requests from `requests`,
        or, when None, sent with `.send(msg)` and closed with `.done_writing()`."""
        if requests is None:
            return self._open(method, [], False, response_type, name, metadata, timeout)
        return self._with_requests(method, requests, response_type, name, metadata, timeout)

    def _with_requests(
        self,
        method: str,
        requests: Iterable[Any] | AsyncIterable[Any],
        response_type: Any,
        name: str | None,
        metadata: Metadata | None,
        timeout: float | None,
    ) -> GrpcStream:
        if isinstance(requests, AsyncIterable):
            call = self._open(method, [], False, response_type, name, metadata, timeout)
            call._pump = self._dispatcher.loop.create_task(_pump(call, requests))
            return call
        messages = [_serialize(r) for r in requests]
        return self._open(method, messages, True, response_type, name, metadata, timeout)

    def _open(
        self,
        method: str,
        messages: list[bytes],
        end: bool,
        response_type: Any,
        name: str | None,
        metadata: Metadata | None,
        timeout: float | None,
    ) -> GrpcStream:
        path = method if method.startswith("/") else f"/{method}"
        dispatcher = self._dispatcher
        token = dispatcher.next_token()
        call = GrpcStream(
            dispatcher.engine, dispatcher.loop, token, path, name or path, response_type
        )
        dispatcher.streams[token] = call
        try:
            dispatcher.engine.open_stream(
                token,
                self.host + path,
                self._headers(metadata),
                name or path,
                messages,
                end,
                timeout_s=float(timeout or 0.0),
                intended_start_delay_us=START_DELAY_US.get(),
            )
        except BaseException:
            dispatcher.streams.pop(token, None)
            raise
        return call

    def _call(self, method: str, response_type: Any) -> tuple[str, str, Any]:
        path = method if method.startswith("/") else f"/{method}"
        response_class = functools.partial(GrpcResponse, response_type=response_type)
        return path, self.host + path, response_class

    def _headers(self, metadata: Metadata | None) -> list[tuple[str, str]]:
        headers = list(self.metadata.items())
        if metadata is not None:
            headers.extend(metadata.items() if isinstance(metadata, Mapping) else metadata)
        return headers


Metadata = Mapping[str, str] | Iterable[tuple[str, str]]


def _serialize(message: Any) -> bytes:
    return message if isinstance(message, bytes) else message.SerializeToString()


async def _pump(call: GrpcStream, requests: AsyncIterable[Any]) -> None:
    try:
        async for request in requests:
            if not call.send(request):
                return
    except Exception:
        # The task's request source broke: the call cannot go on as meant (it is recorded
        # as grpc_CANCELLED); the traceback goes to the log, not to an unawaited task.
        log.exception("request stream of gRPC call %s failed; call cancelled", call.name)
        call.reset()
        return
    call.done_writing()


def _unframe(body: bytes) -> bytes:
    # The engine hands back the message; tolerate a still-framed one (flag + length).
    if len(body) >= 5 and body[0] in (0, 1) and int.from_bytes(body[1:5], "big") == len(body) - 5:
        return body[5:]
    return body
