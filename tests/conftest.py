"""Shared fixtures: real servers on loopback that many test files fire at.

- `demo_target`: the built-in demo target in a child process (session-wide; call
  `.reset()` before counting with `.stats()`).
- `nginx`: a private nginx (one worker) answering `GET /health` (HTTP/1.1 and h2c) and a
  static gRPC `helloworld.Greeter/SayHello` reply; skipped when nginx is not installed.

The servers themselves live in `loadforge.testing`, so `benches/` starts the same ones.
Generated protobuf modules for test protos (tests/protos/) are importable as `_proto`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loadforge.testing import DemoProcess, NginxServer, find_nginx


@pytest.fixture(scope="session")
def demo_target() -> Iterator[DemoProcess]:
    """The demo target (`python -m loadforge.demo --port 0 --grpc-port 0`).

    Has `.http_url` (`http://127.0.0.1:PORT`), `.grpc_addr` (`127.0.0.1:PORT`),
    `.stats()` and `.reset()`.
    """
    demo = DemoProcess().start()
    try:
        yield demo
    finally:
        demo.stop()


@pytest.fixture(scope="session")
def nginx() -> Iterator[NginxServer]:
    """nginx with `.http_url`, `.h2_url`, `.grpc_addr`; skips if nginx is not installed."""
    if find_nginx() is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx-light)")
    server = NginxServer().start()
    try:
        yield server
    finally:
        server.stop()
