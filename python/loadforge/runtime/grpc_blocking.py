"""`self.client` of a synchronous `GrpcUser`: the engine's gRPC client, blocking per call.

    @task
    def say(self):
        reply = self.client.unary("/helloworld.Greeter/SayHello", HelloRequest(name="x"),
                                  HelloReply)
        for message in self.client.server_stream(M, request, Reply):
            ...

Each call waits in the user's greenlet (other users run meanwhile); from `async def`
code the same calls return what `GrpcClient` returns, to be awaited.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .greenlets import await_only, in_user
from .grpc_client import GrpcClient
from .grpc_stream import GrpcStream


class BlockingStream:
    """A streaming call for sync code: iterate it for the replies; `result()` waits for
    the end (then `.message`, `.status`...); `send()` / `done_writing()` as on the stream."""

    def __init__(self, stream: GrpcStream) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                yield await_only(self._stream.__anext__())
            except StopAsyncIteration:
                return

    def result(self) -> GrpcStream:
        """Wait for the call to end."""
        return await_only(_wait(self._stream))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


async def _wait(stream: GrpcStream) -> GrpcStream:
    return await stream


class BlockingGrpcClient:
    """`GrpcClient` whose calls block the calling synchronous user."""

    def __init__(self, client: GrpcClient) -> None:
        self._client = client

    @property
    def metadata(self) -> dict[str, str]:
        """Metadata sent with every call (update it, or assign a dict)."""
        return self._client.metadata

    @metadata.setter
    def metadata(self, value: dict[str, str]) -> None:
        self._client.metadata = dict(value)

    def unary(self, *args: Any, **kwargs: Any) -> Any:
        future = self._client.unary(*args, **kwargs)
        return await_only(future) if in_user() else future

    def server_stream(self, *args: Any, **kwargs: Any) -> Any:
        return self._stream(self._client.server_stream(*args, **kwargs))

    def client_stream(self, *args: Any, **kwargs: Any) -> Any:
        return self._stream(self._client.client_stream(*args, **kwargs))

    def bidi(self, *args: Any, **kwargs: Any) -> Any:
        return self._stream(self._client.bidi(*args, **kwargs))

    def _stream(self, stream: GrpcStream) -> Any:
        return BlockingStream(stream) if in_user() else stream

    def __getattr__(self, name: str) -> Any:
        # metadata, record(), measure()...
        return getattr(self._client, name)
