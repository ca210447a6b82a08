"""Helpers that start real servers for tests and benchmarks (not mocks).

- `DemoProcess`: the built-in demo target in a child process (`python -m loadforge.demo`).
- `NginxServer`: a throw-away nginx (one worker) answering `GET /health` over HTTP/1.1 and
  h2c, and a static gRPC `helloworld.Greeter/SayHello` reply over h2c; used as the fast
  target by `benches/run.py` and by the `nginx` pytest fixture in `tests/conftest.py`.
- `free_port()`: a port nobody listens on right now.

Both `tests/` and `benches/` import from here, so the servers they measure are the same.
"""

from loadforge.testing.demo_process import DemoProcess
from loadforge.testing.nginx import (
    GRPC_HELLO_PATH,
    HEALTH_BODY,
    NginxNotInstalled,
    NginxServer,
    find_nginx,
)
from loadforge.testing.ports import free_port

__all__ = [
    "GRPC_HELLO_PATH",
    "HEALTH_BODY",
    "DemoProcess",
    "NginxNotInstalled",
    "NginxServer",
    "find_nginx",
    "free_port",
]
