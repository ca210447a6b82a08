"""The controller side of the scale benchmark: a real Controller in its own process, whose
CPU (all threads) and time spent merging snapshots are measured once a second.

    python benches/harness/scale_controller.py --workers 200 --duration 20 [--profile OUT]

Prints `port N` when listening, then one JSON line with the measurements at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from loadforge._proto import snapshot_pb2
from loadforge.control.controller import Controller, ControllerOptions
from loadforge.control.loop import new_event_loop
from loadforge.scenario import PlanOptions, build_plan, load_scenario
from loadforge.stats import RunStats

TOKEN = "scale-bench-token"
# The plan is never fired (the simulated workers only report), so its target never answers.
SCENARIO = """
from loadforge import HttpUser, constant, get

class Api(HttpUser):
    wait_time = constant(1)
    tasks = {get("/api/v1/resource0"): 1}
"""


class TimedStats(RunStats):
    """RunStats that keeps the wall time spent in `add` (the merge)."""

    def __init__(self) -> None:
        super().__init__()
        self.merge_s = 0.0
        self.merged = 0

    def add(self, snapshot: snapshot_pb2.Snapshot, worker_id: str = "") -> None:
        started = time.perf_counter()
        super().add(snapshot, worker_id)
        self.merge_s += time.perf_counter() - started
        self.merged += 1


class Sampler:
    """The controller's tick hook: CPU and merge time per second of the run."""

    def __init__(self) -> None:
        self.seconds: list[dict[str, float]] = []
        self._last: tuple[float, float, float] | None = None

    def __call__(self, controller: Controller) -> None:
        t = os.times()
        stats = controller.stats
        assert isinstance(stats, TimedStats)
        now = (time.monotonic(), t.user + t.system, stats.merge_s)
        if controller.stopped_by:
            return  # after the stop the loop ticks faster than once a second; not steady
        if self._last is not None and now[0] - self._last[0] >= 0.5:
            wall = now[0] - self._last[0]
            self.seconds.append(
                {
                    "cpu_percent": 100 * (now[1] - self._last[1]) / wall,
                    "merge_ms_per_s": 1000 * (now[2] - self._last[2]) / wall,
                }
            )
        self._last = now


async def serve(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.py"
        path.write_text(SCENARIO)
        plan = build_plan(
            load_scenario(str(path)),
            PlanOptions(
                users=args.workers, run_time=f"{args.duration}s", host="http://127.0.0.1:9"
            ),
        )
    sampler = Sampler()
    options = ControllerOptions(expect_workers=args.workers, expect_timeout_s=120, token=TOKEN)
    controller = Controller(plan, options, on_tick=sampler)
    stats = TimedStats()
    controller.stats = stats
    port = await controller.start()
    print(f"port {port}", flush=True)
    t0, cpu0 = time.monotonic(), sum(os.times()[:2])
    outcome = await controller.run()
    wall, cpu = time.monotonic() - t0, sum(os.times()[:2]) - cpu0
    await controller.close()
    # Skip the first second (admission and 200 plans sent) and the last (stop and Done).
    steady = sampler.seconds[1:-1] or sampler.seconds
    return {
        "workers": args.workers,
        "snapshots_merged": stats.merged,
        "requests_merged": outcome.stats.total_requests(),
        "run_s": round(outcome.duration_s, 2),
        "wall_s_with_admission": round(wall, 2),
        "cpu_s_with_admission": round(cpu, 2),
        "cpu_percent_mean": round(sum(s["cpu_percent"] for s in steady) / len(steady), 1),
        "cpu_percent_max": round(max(s["cpu_percent"] for s in steady), 1),
        "merge_ms_per_s_mean": round(sum(s["merge_ms_per_s"] for s in steady) / len(steady), 1),
        "merge_ms_per_s_max": round(max(s["merge_ms_per_s"] for s in steady), 1),
        "merge_us_per_snapshot": round(1e6 * stats.merge_s / max(1, stats.merged), 1),
        "lost_workers": sum(1 for w in outcome.workers if w.status == "lost"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--profile", help="write cProfile stats of the controller here")
    args = parser.parse_args()
    loop = new_event_loop()
    profiler = cProfile.Profile() if args.profile else None
    try:
        if profiler is not None:
            profiler.enable()
        result = loop.run_until_complete(serve(args))
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        loop.close()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
