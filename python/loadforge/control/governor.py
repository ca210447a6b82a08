"""What steers a run while it goes: a custom load shape, and thresholds that abort it.

Both act on the controller once a second, on the merged stats, so a distributed run is
steered exactly like a local one.
"""

from __future__ import annotations

from typing import Any

from loadforge._proto import plan_pb2
from loadforge.stats import RunStats
from loadforge.thresholds import Threshold, evaluate, parse_thresholds


class ShapeDriver:
    """Feeds a `LoadTestShape`'s `tick()` into the plan: users (or rate) and spawn rate.

    `step()` returns None to keep going, "changed" when the load must be re-split, or
    "ended" when the shape returned None.
    """

    def __init__(self, shape: Any, engine: plan_pb2.EnginePlan) -> None:
        self.shape = shape
        self.engine = engine
        self.open = engine.profile.HasField("open")

    def start(self) -> bool:
        """Apply the first tick before anything is fired; False when it ends at once."""
        self.shape.reset_time()
        return self.step() != "ended"

    def step(self) -> str | None:
        tick = self.shape.tick()
        if tick is None:
            return "ended"
        target, spawn_rate = float(tick[0]), float(tick[1])
        profile = self.engine.profile
        if self.open:
            if profile.open.rate == target:
                return None
            profile.open.rate = target
        else:
            users = max(0, round(target))
            if profile.closed.users == users and profile.closed.spawn_rate == spawn_rate:
                return None
            profile.closed.users = users
            profile.closed.spawn_rate = spawn_rate
        return "changed"


class AbortWatch:
    """Thresholds marked abort_on_fail, checked each second after their grace delay."""

    def __init__(self, thresholds: list[plan_pb2.Threshold]) -> None:
        self.watched: list[Threshold] = [t for t in parse_thresholds(thresholds) if t.abort_on_fail]

    def failed(self, stats: RunStats, elapsed_s: float) -> str:
        """The first watched threshold failing now (past its grace), or ""."""
        due = [t for t in self.watched if elapsed_s >= t.abort_grace_s]
        if not due or not stats.total_requests():
            return ""
        for verdict in evaluate(due, stats.for_duration(stats.measured_s or elapsed_s)):
            if not verdict.passed:
                return f"threshold {verdict.scope}: {verdict.expr} failed (abort_on_fail)"
        return ""
