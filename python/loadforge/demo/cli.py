"""`python -m loadforge.demo` / `loadforge demo-server`: run the demo target until signalled."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import uvloop

from loadforge.demo.server import start_demo


def build_parser() -> argparse.ArgumentParser:
    """The demo target's command line (also used by `loadforge demo-server`)."""
    parser = argparse.ArgumentParser(
        prog="loadforge demo-server",
        description="Run the built-in demo target: an ML-inference-shaped HTTP/1.1 and gRPC API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port, 0 = any free port")
    parser.add_argument(
        "--grpc-port", type=int, default=50051, help="gRPC port, 0 = any free port, -1 = no gRPC"
    )
    return parser


async def _serve_until_signalled(host: str, http_port: int, grpc_port: int | None) -> None:
    # Handlers go in before the banner: whoever reads it may signal us at once.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    demo = await start_demo(host, http_port, grpc_port)
    print(demo.banner(), flush=True)
    await stop.wait()
    await demo.close()


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit code (0 clean stop, 1 could not bind)."""
    args = build_parser().parse_args(argv)
    grpc_port = None if args.grpc_port < 0 else args.grpc_port
    try:
        uvloop.run(_serve_until_signalled(args.host, args.port, grpc_port))
    except OSError as e:
        print(f"demo target: cannot listen on {args.host}: {e}", file=sys.stderr)
        return 1
    return 0
