"""An open streaming gRPC call of a Python task (server-, client-streaming or bidirectional).

The engine sends the messages, reads the replies and hands them over in batches (one
event per batch, however many messages it holds); this object queues them for the task:

    async for reply in self.client.server_stream(METHOD, request, Reply):
        ...
    call = self.client.bidi(METHOD, None, Reply)
    call.send(Request(text="a")); call.done_writing()
    async for reply in call: ...
    done = await call            # waits for the end; done.ok, done.grpc_status, done.messages

Failures do not raise: iteration just ends, and `ok` / `error` tell what happened.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Generator
from types import TracebackType
from typing import Any

# (5, token, status, headers, elapsed_us, first_message_us, messages, error_kind, error_message)
StreamEndEvent = tuple[int, int, int, list[tuple[str, str]], int, int, int, str, str]


class GrpcStream:
    """One streaming call: an async iterator of replies, awaitable for its end."""

    __slots__ = (
        "_done",
        "_end",
        "_engine",
        "_first",
        "_loop",
        "_pump",
        "_replies",
        "_response_type",
        "_waiter",
        "method",
        "name",
        "token",
    )

    def __init__(
        self,
        engine: Any,
        loop: asyncio.AbstractEventLoop,
        token: int,
        method: str,
        name: str,
        response_type: Any,
    ) -> None:
        self._engine = engine
        self._loop = loop
        self.token = token
        self.method = method
        self.name = name
        self._response_type = response_type
        self._replies: collections.deque[bytes] = collections.deque()
        self._first: bytes | None = None
        self._end: StreamEndEvent | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._done: asyncio.Future[None] | None = None
        self._pump: asyncio.Task[None] | None = None

    # --- called by the Dispatcher -------------------------------------------------

    def feed(self, messages: list[bytes]) -> None:
        """Replies that arrived (one batch)."""
        if self._first is None and messages:
            self._first = messages[0]
        self._replies.extend(messages)
        self._wake()

    def finish(self, event: StreamEndEvent) -> None:
        """The call ended."""
        self._end = event
        self._wake()
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    def abort(self) -> None:
        """The runtime is going away: wake everyone waiting."""
        if self._end is None:
            self.finish((5, self.token, 0, [], 0, 0, 0, "exception", "runtime stopped"))

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # --- the task's side ----------------------------------------------------------

    def __aiter__(self) -> GrpcStream:
        return self

    async def __anext__(self) -> Any:
        while not self._replies:
            if self._end is not None:
                raise StopAsyncIteration
            self._waiter = self._loop.create_future()
            await self._waiter
        return self._decode(self._replies.popleft())

    def __await__(self) -> Generator[Any, None, GrpcStream]:
        return self.wait().__await__()

    async def wait(self) -> GrpcStream:
        """Wait until the call has ended (replies not iterated stay queued)."""
        if self._end is None:
            if self._done is None:
                self._done = self._loop.create_future()
            await self._done
        return self

    async def __aenter__(self) -> GrpcStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Leaving the block early (break, exception) cancels a call still running.
        if self._end is None:
            self.cancel()

    def send(self, *messages: Any) -> bool:
        """Send request messages (protobuf messages or bytes); False once the call ended."""
        raw = [m if isinstance(m, bytes) else m.SerializeToString() for m in messages]
        return bool(self._engine.stream_send(self.token, raw, False))

    def done_writing(self) -> bool:
        """Close the sending side (the server sees the end of the request stream)."""
        return bool(self._engine.stream_send(self.token, [], True))

    def cancel(self) -> bool:
        """Reset the call; it is recorded as `grpc_CANCELLED`."""
        if self._pump is not None:
            self._pump.cancel()
        return self.reset()

    def reset(self) -> bool:
        """Reset the stream in the engine (`cancel()` without stopping a request pump)."""
        return bool(self._engine.stream_cancel(self.token))

    def _decode(self, raw: bytes) -> Any:
        return raw if self._response_type is None else self._response_type.FromString(raw)

    # --- the outcome (once ended) -------------------------------------------------

    @property
    def done(self) -> bool:
        return self._end is not None

    @property
    def error(self) -> str | None:
        """The error kind (`grpc_NOT_FOUND`, ...), None for OK or while running."""
        return self._end[7] or None if self._end is not None else None

    @property
    def error_message(self) -> str:
        return self._end[8] if self._end is not None else ""

    @property
    def ok(self) -> bool:
        """True when the call ended with status OK."""
        return self._end is not None and not self._end[7]

    @property
    def grpc_status(self) -> str:
        """ "OK", a status name such as "NOT_FOUND", or "" while the call runs."""
        if self._end is None:
            return ""
        kind = self._end[7]
        if not kind:
            return "OK"
        return kind.removeprefix("grpc_") if kind.startswith("grpc_") else "UNKNOWN"

    @property
    def messages(self) -> int:
        """Replies received by the end of the call."""
        return self._end[6] if self._end is not None else 0

    @property
    def elapsed_ms(self) -> float:
        """The whole call, start to trailers (as recorded)."""
        return self._end[4] / 1000.0 if self._end is not None else 0.0

    @property
    def first_message_ms(self) -> float | None:
        """Time to the first reply (as recorded under `GRPC-FIRST <name>`), None if none came."""
        if self._end is None or not self._end[5]:
            return None
        return self._end[5] / 1000.0

    @property
    def headers(self) -> dict[str, str]:
        """Response headers and trailers."""
        return dict(self._end[3]) if self._end is not None else {}

    @property
    def message(self) -> Any:
        """The first reply (a client-streaming call's answer), None if none came."""
        return None if self._first is None else self._decode(self._first)

    def __repr__(self) -> str:
        state = self.grpc_status or "running"
        return f"<GrpcStream {self.name} {state} messages={self.messages}>"
