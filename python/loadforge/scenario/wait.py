"""Wait times between tasks, spelled as in Locust: `wait_time = between(1, 3)`.

Each is a small value object: the plan builder turns it into a `WaitTime` message for the
engine, and the Python runtime calls it (`wait()`) to get the next pause in seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from loadforge._proto import plan_pb2

from .errors import ScenarioError


class WaitTime:
    """Base class of the wait-time values; `wait_time()` returns seconds to sleep."""

    def __call__(self, *_: object) -> float:
        raise NotImplementedError

    def to_proto(self) -> plan_pb2.WaitTime:
        raise NotImplementedError


@dataclass(frozen=True)
class Between(WaitTime):
    """A uniformly random pause in `[min_s, max_s]`."""

    min_s: float
    max_s: float

    def __call__(self, *_: object) -> float:
        return random.uniform(self.min_s, self.max_s)

    def to_proto(self) -> plan_pb2.WaitTime:
        return plan_pb2.WaitTime(between=plan_pb2.Between(min_s=self.min_s, max_s=self.max_s))


@dataclass(frozen=True)
class Constant(WaitTime):
    """Always the same pause."""

    seconds: float

    def __call__(self, *_: object) -> float:
        return self.seconds

    def to_proto(self) -> plan_pb2.WaitTime:
        return plan_pb2.WaitTime(constant_s=self.seconds)


@dataclass(frozen=True)
class ConstantPacing(WaitTime):
    """The task plus the pause take `seconds` (the engine subtracts the task's time)."""

    seconds: float

    def __call__(self, *_: object) -> float:
        return self.seconds

    def to_proto(self) -> plan_pb2.WaitTime:
        return plan_pb2.WaitTime(pacing_s=self.seconds)


@dataclass(frozen=True)
class ConstantThroughput(WaitTime):
    """`tasks_per_s` tasks per second per user (pacing of `1 / tasks_per_s`)."""

    tasks_per_s: float

    def __call__(self, *_: object) -> float:
        return 1.0 / self.tasks_per_s

    def to_proto(self) -> plan_pb2.WaitTime:
        return plan_pb2.WaitTime(throughput=self.tasks_per_s)


def _seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{what} must be a number of seconds, got {value!r}")
    if value < 0 or value != value:
        raise ScenarioError(f"{what} must be >= 0, got {value!r}")
    return float(value)


def between(min_wait: float, max_wait: float) -> Between:
    """Wait a random time between `min_wait` and `max_wait` seconds: `between(1, 3)`."""
    low = _seconds(min_wait, "between() min")
    high = _seconds(max_wait, "between() max")
    if low > high:
        raise ScenarioError(f"between({min_wait}, {max_wait}): min is greater than max")
    return Between(low, high)


def constant(wait: float) -> Constant:
    """Wait exactly `wait` seconds between tasks: `constant(0)` for no pause."""
    return Constant(_seconds(wait, "constant()"))


def constant_pacing(wait: float) -> ConstantPacing:
    """Start a task every `wait` seconds per user, whatever the task took."""
    return ConstantPacing(_seconds(wait, "constant_pacing()"))


def constant_throughput(task_runs_per_second: float) -> ConstantThroughput:
    """Run `task_runs_per_second` tasks per second per user."""
    rate = _seconds(task_runs_per_second, "constant_throughput()")
    if rate == 0:
        raise ScenarioError("constant_throughput() needs a rate > 0")
    return ConstantThroughput(rate)
