"""CPython's cost per request of the `async def` task runtime, without the engine.

    python benches/python_overhead.py [--users 50] [--seconds 3] [--profile] [--sync]

Runs the real `PythonRunner`, `Dispatcher` and `HttpClient` on uvloop with
`benches/scenarios/http_async.py` (or, with `--sync`, the Locust file
`benches/locustfile.py`: greenlets and the requests-like session), against an in-process
stand-in for the engine that
answers every submitted request at once (no Rust, no sockets). What it prints, µs of
Python per request, is the part of the Locust comparison that lives on the event-loop
thread; the fast paths in `runtime/client.py` and `runtime/runner.py` were tuned with it
(1.82 -> 1.45 us). Not a bar: a profiling aid (`--profile` prints the top functions).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import time
from pathlib import Path
from typing import Any

import uvloop

from loadforge.runtime.runner import PythonRunner
from loadforge.scenario import build_plan, load_scenario

SCENARIO = Path(__file__).parent / "scenarios" / "http_async.py"
SYNC_SCENARIO = Path(__file__).parent / "locustfile.py"
HOST = "http://127.0.0.1:1"
HEADERS = (
    b"server: nginx\r\ndate: Sun, 22 Nov 2026 01:00:00 GMT\r\n"
    b"content-type: application/json\r\ncontent-length: 41\r\nconnection: keep-alive\r\n"
)
BODY = b'{"status":"ok","model_loaded":true,"x":1}'


class InstantEngine:
    """The engine's Python-facing calls, answering each request at once via an eventfd."""

    def __init__(self) -> None:
        self.fd = os.eventfd(0, os.EFD_NONBLOCK)
        self.events: list[tuple[Any, ...]] = []
        self.answered = 0

    def event_fd(self) -> int:
        return self.fd

    def take_events(self) -> list[tuple[Any, ...]]:
        try:
            os.eventfd_read(self.fd)
        except BlockingIOError:
            pass
        events, self.events = self.events, []
        return events

    def submit_batch(self, items: list[tuple[Any, ...]]) -> list[Any]:
        signal = not self.events
        self.events.extend((0, item[0], 200, HEADERS, BODY, 150, "", "") for item in items)
        self.answered += len(items)
        if signal:
            os.eventfd_write(self.fd, 1)
        return []

    def submit(self, *_: Any, **__: Any) -> None:
        raise NotImplementedError("catch_response requests are not measured here")

    def user_finished(self, user_id: int, retired: bool = False) -> None: ...

    def take_iteration(self) -> bool:
        return True

    def iteration_finished(self, iteration_id: int) -> None: ...


async def measure(users: int, seconds: float, path: Path = SCENARIO) -> float:
    scenario = load_scenario(path, host=HOST)
    plan = build_plan(scenario, {"host": HOST})
    engine = InstantEngine()
    classes = {cls.__name__: cls for cls in scenario.user_classes}
    runner = PythonRunner(engine, plan.engine.users, classes, host=HOST, limit_iterations=False)
    runner.attach(asyncio.get_running_loop())
    for user_id in range(1, users + 1):
        runner._start_user(user_id, 0)  # what the engine's start-user event does
    await asyncio.sleep(0.5)  # warm up
    before, started = engine.answered, time.perf_counter()
    await asyncio.sleep(seconds)
    done, elapsed = engine.answered - before, time.perf_counter() - started
    await runner.stop(timeout=1.0)
    return elapsed / done * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sync", action="store_true", help="the Locust file, sync def task")
    args = parser.parse_args()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    us = uvloop.run(measure(args.users, args.seconds, SYNC_SCENARIO if args.sync else SCENARIO))
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    print(f"{us:.2f} us of Python per request ({1e6 / us:,.0f} requests/s on one core)")


if __name__ == "__main__":
    main()
