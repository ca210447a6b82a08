"""Simulated workers for the controller scale benchmark: real gRPC streams to a real
controller, each sending a snapshot of ENDPOINTS endpoints (real HDR V2 histograms) and a
heartbeat every second, as a worker's engine would, without firing any request.

    python benches/harness/scale_workers.py --port P --token T --first 0 --count 100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time

import grpc

from loadforge._core import Histogram
from loadforge._proto import control_pb2, control_pb2_grpc, snapshot_pb2
from loadforge.control.worker import PROTOCOL_VERSION

# Different interval contents per endpoint, reused round-robin (building them is not what
# is measured; merging them is).
VARIANTS = 6


def _histogram(rng: random.Random, median_us: float, requests: int) -> bytes:
    """An interval of `requests` latencies, log-normal around `median_us`, with a tail."""
    hist = Histogram()
    for _ in range(requests):
        value = rng.lognormvariate(0.0, 0.6) * median_us
        if rng.random() < 0.01:
            value *= 8  # slow outliers, as a real service has
        hist.record(max(1, int(value)))
    return hist.encode()


def interval_snapshots(endpoints: int, requests: int, seed: int) -> list[snapshot_pb2.Snapshot]:
    """VARIANTS snapshots of `endpoints` endpoints with `requests` each per interval."""
    rng = random.Random(seed)
    medians = [rng.uniform(800, 40_000) for _ in range(endpoints)]
    snaps = []
    for _ in range(VARIANTS):
        snap = snapshot_pb2.Snapshot(users=5, iterations=endpoints * requests)
        for i, median in enumerate(medians):
            ep = snap.endpoints.add(
                method="GET" if i % 3 else "POST",
                name=f"/api/v1/resource{i}",
                requests=requests,
                failures=requests // 100,
                bytes_received=requests * 512,
                bytes_sent=requests * 128,
                latency=_histogram(rng, median, requests),
            )
            ep.status_codes[200] = requests - requests // 100
            ep.status_codes[503] = requests // 100
            ep.errors.add(kind="http_status", count=requests // 100, sample="503")
        snaps.append(snap)
    return snaps


async def simulated_worker(
    port: int, token: str, name: str, snaps: list[snapshot_pb2.Snapshot], offset_s: float
) -> int:
    """Join, wait for the plan, then report every second until told to stop. Snapshots sent."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await asyncio.wait_for(channel.channel_ready(), 60)
        call = control_pb2_grpc.ControllerStub(channel).Connect()
        hello = control_pb2.Hello(
            worker_id=name, host="sim", cores=1, protocol_version=PROTOCOL_VERSION, token=token
        )
        await call.write(control_pb2.WorkerMessage(hello=hello))
        stop = asyncio.Event()
        planned = asyncio.Event()

        async def read() -> None:
            while (msg := await call.read()) is not grpc.aio.EOF:
                kind = msg.WhichOneof("kind")
                if kind == "plan":
                    planned.set()
                elif kind in ("stop", "reject"):
                    stop.set()
            stop.set()

        reader = asyncio.create_task(read())
        await planned.wait()
        await asyncio.sleep(offset_s)  # real workers do not all report at the same instant
        sent = 0
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            if stop.is_set():
                break
            snap = snaps[sent % len(snaps)]
            now_ms = int(time.time() * 1000)
            snap.start_ms, snap.end_ms = now_ms - 1000, now_ms
            await call.write(control_pb2.WorkerMessage(snapshot=snap))
            beat = control_pb2.Heartbeat(cpu_percent=40.0, unix_ms=now_ms)
            await call.write(control_pb2.WorkerMessage(heartbeat=beat))
            sent += 1
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
            await call.write(control_pb2.WorkerMessage(done=control_pb2.Done()))
            sent += 1  # the controller merges the Done's (empty) last interval too
            await call.done_writing()
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.CancelledError):
            await reader
        return sent


async def main_async(args: argparse.Namespace) -> int:
    snaps = interval_snapshots(args.endpoints, args.requests, seed=args.first)
    rng = random.Random(args.first)
    tasks = [
        simulated_worker(args.port, args.token, f"sim-{i:03d}", snaps, rng.random())
        for i in range(args.first, args.first + args.count)
    ]
    sent = await asyncio.gather(*tasks)
    print(sum(sent), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--endpoints", type=int, default=20)
    parser.add_argument("--requests", type=int, default=500, help="per endpoint per second")
    from loadforge.control.loop import new_event_loop

    loop = new_event_loop()
    try:
        return loop.run_until_complete(main_async(parser.parse_args()))
    finally:
        loop.close()


if __name__ == "__main__":
    raise SystemExit(main())
