"""The built-in demo target: an ML-inference-shaped HTTP/1.1 + gRPC service to fire at.

Run it with `python -m loadforge.demo` (or `loadforge demo-server`), or from Python:

    from loadforge.demo import serve
    demo = serve()              # free ports, background thread
    print(demo.http_url, demo.grpc_addr)
    demo.stop()

Endpoints are listed in `loadforge.demo.routes`; the gRPC service is
`loadforge.demo.v1.Inference` (proto/loadforge/demo/v1/inference.proto).
"""

from loadforge.demo.cli import main
from loadforge.demo.server import DemoServer, RunningDemo, serve, start_demo

__all__ = ["DemoServer", "RunningDemo", "main", "serve", "start_demo"]
