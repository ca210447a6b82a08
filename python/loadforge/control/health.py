"""Is a worker itself the bottleneck? A load generator whose CPU is saturated delays its own
requests, so its latencies describe the generator, not the target.

Workers report their process CPU (all threads; can exceed 100 on several cores) in every
heartbeat; the controller compares it with the cores the worker announced.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

# Above this share of its cores a worker is saturated.
SATURATED_PERCENT = 90.0


class WorkerLoad(Protocol):
    id: str
    cores: int
    cpu_percent: float
    status: str


def core_percent(worker: WorkerLoad) -> float:
    """CPU use as a share of the worker's cores (0..100)."""
    return worker.cpu_percent / max(1, worker.cores)


def saturated(workers: Iterable[WorkerLoad]) -> list[WorkerLoad]:
    """Running workers above `SATURATED_PERCENT` of their cores, busiest first."""
    busy = [
        w
        for w in workers
        if w.status in ("joined", "running") and core_percent(w) > SATURATED_PERCENT
    ]
    return sorted(busy, key=core_percent, reverse=True)


def cpu_warning(workers: Iterable[WorkerLoad]) -> str:
    """One line for the live view, or "" when no worker is saturated.

    >>> from types import SimpleNamespace as W
    >>> cpu_warning([W(id="w1", cores=2, cpu_percent=194.0, status="running")])
    'worker w1 at 97% CPU: latencies may include its own delays; add workers or lower the load'
    """
    busy = saturated(workers)
    if not busy:
        return ""
    names = ", ".join(f"{w.id} at {core_percent(w):.0f}%" for w in busy[:3])
    more = f" and {len(busy) - 3} more" if len(busy) > 3 else ""
    noun, own = ("worker", "its") if len(busy) == 1 else ("workers", "their")
    return (
        f"{noun} {names}{more} CPU: latencies may include {own} own delays; "
        "add workers or lower the load"
    )
