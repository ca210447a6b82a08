"""Starting and stopping the demo target: HTTP/1.1 and gRPC on one event loop."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

import grpc
import uvloop
from grpc_reflection.v1alpha import reflection

from loadforge._proto import inference_pb2, inference_pb2_grpc
from loadforge.demo.counters import Counters
from loadforge.demo.grpc_service import InferenceService
from loadforge.demo.http_connection import HttpConnection
from loadforge.demo.routes import Router


def url_host(host: str) -> str:
    """`host` as it goes in a URL (IPv6 literals in brackets)."""
    return f"[{host}]" if ":" in host else host


class RunningDemo:
    """The demo target's listeners on the current event loop; `close()` stops them."""

    def __init__(
        self,
        host: str,
        http: asyncio.Server,
        grpc_server: grpc.aio.Server | None,
        grpc_port: int | None,
        counters: Counters,
    ) -> None:
        self.host = host
        self.counters = counters
        self._http = http
        self._grpc = grpc_server
        self.http_port: int = http.sockets[0].getsockname()[1]
        self.grpc_port = grpc_port

    @property
    def http_url(self) -> str:
        """e.g. `http://127.0.0.1:8000`"""
        return f"http://{url_host(self.host)}:{self.http_port}"

    @property
    def grpc_addr(self) -> str | None:
        """e.g. `127.0.0.1:50051` (what grpc.insecure_channel takes), or None without gRPC."""
        return None if self.grpc_port is None else f"{url_host(self.host)}:{self.grpc_port}"

    def banner(self) -> str:
        """The one line printed at start-up, which scripts and fixtures parse."""
        line = f"demo target: {self.http_url}"
        if self.grpc_addr is not None:
            line += f" grpc://{self.grpc_addr}"
        return line

    async def close(self, grace_s: float = 1.0) -> None:
        """Stop accepting, give in-flight gRPC calls `grace_s`, close everything."""
        self._http.close()
        if self._grpc is not None:
            await self._grpc.stop(grace_s)
        await self._http.wait_closed()


async def start_demo(
    host: str = "127.0.0.1", http_port: int = 0, grpc_port: int | None = 0
) -> RunningDemo:
    """Bind the HTTP listener (and gRPC unless `grpc_port` is None) on the running loop.

    Port 0 picks a free port; read the bound ones from the result.
    """
    counters = Counters()
    router = Router(counters)
    loop = asyncio.get_running_loop()
    http = await loop.create_server(
        lambda: HttpConnection(router), host, http_port, reuse_address=True, backlog=1024
    )
    grpc_server = None
    bound_grpc: int | None = None
    if grpc_port is not None:
        try:
            grpc_server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
            inference_pb2_grpc.add_InferenceServicer_to_server(
                InferenceService(counters), grpc_server
            )
            # Reflection lets clients without the .proto (loadforge grpc, ghz) call it.
            service = inference_pb2.DESCRIPTOR.services_by_name["Inference"].full_name
            reflection.enable_server_reflection((service, reflection.SERVICE_NAME), grpc_server)
            bound_grpc = grpc_server.add_insecure_port(f"{url_host(host)}:{grpc_port}")
            await grpc_server.start()
        except BaseException:
            http.close()
            raise
    return RunningDemo(host, http, grpc_server, bound_grpc, counters)


class DemoServer:
    """The demo target on a background thread with its own uvloop loop, for tests and scripts.

    Example:
        with DemoServer() as demo:
            urllib.request.urlopen(demo.http_url + "/health")
    """

    def __init__(
        self, host: str = "127.0.0.1", http_port: int = 0, grpc_port: int | None = 0
    ) -> None:
        self.host = host
        self._ports = (http_port, grpc_port)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._demo: RunningDemo | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float = 10.0) -> DemoServer:
        """Bind and serve; returns once the ports are bound (raises if binding failed)."""
        self._thread = threading.Thread(target=self._run, name="loadforge-demo", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError("demo target did not start")
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop serving and wait for the thread to end."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout_s)

    @property
    def running(self) -> RunningDemo:
        if self._demo is None:
            raise RuntimeError("demo target not started")
        return self._demo

    @property
    def http_port(self) -> int:
        return self.running.http_port

    @property
    def grpc_port(self) -> int | None:
        return self.running.grpc_port

    @property
    def http_url(self) -> str:
        return self.running.http_url

    @property
    def grpc_addr(self) -> str | None:
        return self.running.grpc_addr

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        loop = uvloop.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as e:
            self._error = e
        finally:
            self._ready.set()
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        http_port, grpc_port = self._ports
        self._demo = await start_demo(self.host, http_port, grpc_port)
        self._ready.set()
        await self._stop.wait()
        await self._demo.close()


def serve(http_port: int = 0, grpc_port: int | None = 0, host: str = "127.0.0.1") -> DemoServer:
    """Start the demo target on a background thread; call `.stop()` on the result when done.

    Example:
        demo = serve()
        print(demo.http_url, demo.grpc_addr)
        demo.stop()
    """
    return DemoServer(host, http_port, grpc_port).start()
