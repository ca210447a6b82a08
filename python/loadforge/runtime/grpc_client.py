"""`self.client` of a Python `GrpcUser`: unary calls fired, framed and timed by the engine.

    r = await self.client.unary("/helloworld.Greeter/SayHello", HelloRequest(name="y"), HelloReply)
    r.message.message  # the parsed HelloReply

Failures do not raise: `r.ok` is False and `r.error` is the error kind (`grpc_NOT_FOUND`,
`timeout`, ...), as for HTTP responses.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Mapping
from typing import Any

from .client import START_DELAY_US
from .dispatcher import Dispatcher
from .response import CompletionEvent, Response

PROTOCOL_GRPC = 2


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
    """Makes unary gRPC calls through the engine for one user (`host` is `http(s)://h:p`)."""

    __slots__ = ("_dispatcher", "_submit", "host", "metadata")

    def __init__(self, dispatcher: Dispatcher, host: str) -> None:
        self.host = host.rstrip("/")
        self.metadata: dict[str, str] = {}
        self._dispatcher = dispatcher
        self._submit = dispatcher.engine.submit

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
        path = method if method.startswith("/") else f"/{method}"
        url = self.host + path
        body = request if isinstance(request, bytes) else request.SerializeToString()
        headers = list(self.metadata.items())
        if metadata is not None:
            headers.extend(metadata.items() if isinstance(metadata, Mapping) else metadata)
        dispatcher = self._dispatcher
        token = dispatcher.next_token()
        future = dispatcher.loop.create_future()
        response_class = functools.partial(GrpcResponse, response_type=response_type)
        dispatcher.pending[token] = (future, response_class, "GRPC", url)
        try:
            self._submit(
                token,
                # As declarative `unary()` templates: stats group under `GRPC <name>`.
                "GRPC",
                url,
                headers,
                body,
                name or path,
                protocol=PROTOCOL_GRPC,
                timeout_s=float(timeout or 0.0),
                intended_start_delay_us=START_DELAY_US.get(),
            )
        except BaseException:
            dispatcher.pending.pop(token, None)
            raise
        return future


def _unframe(body: bytes) -> bytes:
    # The engine hands back the message; tolerate a still-framed one (flag + length).
    if len(body) >= 5 and body[0] in (0, 1) and int.from_bytes(body[1:5], "big") == len(body) - 5:
        return body[5:]
    return body
