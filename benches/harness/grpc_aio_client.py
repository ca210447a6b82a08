"""The grpc.aio peer: N tasks calling helloworld.Greeter/SayHello for D seconds.

    python benches/harness/grpc_aio_client.py HOST:PORT DURATION_S TASKS

Prints one JSON line: {"requests": n, "errors": n, "seconds": s}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from _proto import helloworld_pb2, helloworld_pb2_grpc


async def main(target: str, duration_s: float, tasks: int) -> dict[str, float]:
    counts = {"requests": 0, "errors": 0}
    async with grpc.aio.insecure_channel(target) as channel:
        stub = helloworld_pb2_grpc.GreeterStub(channel)
        request = helloworld_pb2.HelloRequest(name="x")
        await stub.SayHello(request, timeout=5)  # connect before the clock starts
        deadline = time.perf_counter() + duration_s

        async def loop() -> None:
            while time.perf_counter() < deadline:
                try:
                    await stub.SayHello(request, timeout=5)
                    counts["requests"] += 1
                except grpc.RpcError:
                    counts["errors"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(tasks)))
        elapsed = time.perf_counter() - started
    return {**counts, "seconds": elapsed}


if __name__ == "__main__":
    target, duration, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(asyncio.run(main(target, duration, n))))
