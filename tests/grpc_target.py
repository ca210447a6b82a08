"""A real grpcio server on loopback that counts every call it handles.

Serves `helloworld.Greeter/SayHello` (a name `sleep:MS` sleeps MS ms first) and the
`echo.Echo` service (tests/protos/echo.proto) in every call shape. `calls[method]` counts
calls the server finished with OK; `metadata` keeps each call's invocation metadata.
Runs on grpcio's own threads, so a test can drive loadforge in the foreground.
"""

from __future__ import annotations

import collections
import shutil
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from _proto import echo_pb2, echo_pb2_grpc, helloworld_pb2, helloworld_pb2_grpc

PROTOS = Path(__file__).parent / "_proto"


def grpc_scenario(tmp_path: Path, body: str) -> Path:
    """Write a scenario file (dedented `body`) beside the test protos' message modules,
    which travel to the workers in its bundle."""
    for module in ("helloworld_pb2.py", "echo_pb2.py"):
        shutil.copy(PROTOS / module, tmp_path / module)
    path = tmp_path / "scenario.py"
    path.write_text(textwrap.dedent(body))
    return path


def find_endpoint(result: Any, name: str, method: str | None = None) -> Any:
    """The result's endpoint called `name` (and `method`, when given)."""
    found = [
        e for e in result.endpoints if e.name == name and (method is None or e.method == method)
    ]
    assert found, [e.key for e in result.endpoints]
    return found[0]


class GrpcTarget:
    """`with GrpcTarget() as t: ... t.url` (`http://127.0.0.1:PORT`), `t.calls`, `t.metadata`."""

    def __init__(
        self,
        *,
        reflection: bool = False,
        options: list[tuple[str, Any]] | None = None,
        tls: tuple[bytes, bytes] | None = None,
    ) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.streamed = 0  # messages sent on server streams
        self.metadata: list[dict[str, str]] = []
        self.deadlines: list[float | None] = []  # seconds left when SayHello began
        self.peers: set[str] = set()  # client addresses: one per connection
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=options)
        helloworld_pb2_grpc.add_GreeterServicer_to_server(_Greeter(self), self._server)
        echo_pb2_grpc.add_EchoServicer_to_server(_Echo(self), self._server)
        if reflection:
            from grpc_reflection.v1alpha import reflection as grpc_reflection

            names = (
                helloworld_pb2.DESCRIPTOR.services_by_name["Greeter"].full_name,
                echo_pb2.DESCRIPTOR.services_by_name["Echo"].full_name,
                grpc_reflection.SERVICE_NAME,
            )
            grpc_reflection.enable_server_reflection(names, self._server)
        if tls is None:
            self.port = self._server.add_insecure_port("127.0.0.1:0")
        else:
            # (key PEM, certificate PEM): TLS with ALPN h2, at `https_url`.
            credentials = grpc.ssl_server_credentials([tls])
            self.port = self._server.add_secure_port("127.0.0.1:0", credentials)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> GrpcTarget:
        self._server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.stop(grace=None).wait(5)

    def count(self, method: str, context: grpc.ServicerContext, streamed: int = 0) -> None:
        """Count a finished call (only if the client is still there to get the answer)."""
        metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        with self._lock:
            if context.is_active():
                self.calls[method] += 1
                self.streamed += streamed
            self.metadata.append(metadata)
            self.peers.add(context.peer())


class _Greeter(helloworld_pb2_grpc.GreeterServicer):
    def __init__(self, target: GrpcTarget) -> None:
        self._target = target

    def SayHello(
        self, request: helloworld_pb2.HelloRequest, context: grpc.ServicerContext
    ) -> helloworld_pb2.HelloReply:
        self._target.deadlines.append(context.time_remaining())
        if request.name.startswith("sleep:"):
            time.sleep(int(request.name.split(":", 1)[1]) / 1000)
        reply = helloworld_pb2.HelloReply(message=f"hello {request.name}")
        self._target.count("SayHello", context)
        return reply


class _Echo(echo_pb2_grpc.EchoServicer):
    def __init__(self, target: GrpcTarget) -> None:
        self._target = target

    def Say(self, request: echo_pb2.EchoRequest, context: grpc.ServicerContext) -> Any:
        time.sleep(request.sleep_ms / 1000)
        self._target.count("Say", context)
        return echo_pb2.EchoReply(text=request.text)

    def Count(
        self, request: echo_pb2.EchoRequest, context: grpc.ServicerContext
    ) -> Iterator[echo_pb2.EchoReply]:
        for i in range(request.count):
            if i == 1 and request.sleep_ms:
                time.sleep(request.sleep_ms / 1000)
            yield echo_pb2.EchoReply(text=request.text, index=i)
        self._target.count("Count", context, request.count)

    def Collect(
        self, requests: Iterator[echo_pb2.EchoRequest], context: grpc.ServicerContext
    ) -> echo_pb2.EchoReply:
        texts = [r.text for r in requests]
        self._target.count("Collect", context)
        return echo_pb2.EchoReply(text="".join(texts), index=len(texts))

    def Chat(
        self, requests: Iterator[echo_pb2.EchoRequest], context: grpc.ServicerContext
    ) -> Iterator[echo_pb2.EchoReply]:
        n = 0
        for r in requests:
            yield echo_pb2.EchoReply(text=r.text.upper(), index=n)
            n += 1
        self._target.count("Chat", context, n)
