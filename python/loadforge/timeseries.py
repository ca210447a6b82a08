"""Per-second history of a run (users, rps, failures/s, windowed percentiles), bounded.

Snapshots from every worker land in one-second buckets (by their end time). A bucket
keeps histograms only while late snapshots may still arrive; then it is reduced to a
few numbers. When a run grows past `max_points`, neighbouring points are merged, so a
24-hour run costs the same memory as a short one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from loadforge._core import Histogram

# Snapshots may arrive this many seconds after their bucket's newest peer.
LATE_S = 3
# The percentiles Locust reports (its console table and CSV columns).
LOCUST_PERCENTILES = (50.0, 66.0, 75.0, 80.0, 90.0, 95.0, 98.0, 99.0, 99.9, 99.99, 100.0)


def percentile_ms(hist: Histogram, percentile: float) -> float:
    """The latency at `percentile` (0..100) in milliseconds; 0.0 for an empty histogram."""
    return hist.value_at_percentile(percentile) / 1000.0 if hist.count else 0.0


@dataclass
class Cumulative:
    """Totals from the start of the run up to a point (for Locust's history CSV)."""

    requests: int = 0
    failures: int = 0
    median_ms: float = 0.0
    mean_ms: float = 0.0
    min_ms: float = 0.0
    max_ms: float = 0.0
    avg_content_size: float = 0.0


@dataclass
class WindowStats:
    """Requests, failures and windowed percentiles (ms, `LOCUST_PERCENTILES`) of a point."""

    requests: int = 0
    failures: int = 0
    percentiles: tuple[float, ...] = (0.0,) * len(LOCUST_PERCENTILES)

    @property
    def p50(self) -> float:
        return self.percentiles[0]

    @property
    def p95(self) -> float:
        return self.percentiles[5]

    @property
    def p99(self) -> float:
        return self.percentiles[7]

    def merge(self, other: WindowStats) -> None:
        # Percentiles of merged windows cannot be recovered: keep the worse (an upper bound).
        self.requests += other.requests
        self.failures += other.failures
        self.percentiles = tuple(map(max, self.percentiles, other.percentiles))


@dataclass
class SeriesPoint:
    """One point of the history: `time_s` (Unix) covering `width_s` seconds."""

    time_s: int
    width_s: int
    users: int
    total: WindowStats
    endpoints: dict[str, WindowStats] = field(default_factory=dict)
    # Cumulative totals by endpoint key ("Aggregated" for all) when the point was closed.
    cumulative: dict[str, Cumulative] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.total.requests / self.width_s

    @property
    def failures_per_s(self) -> float:
        return self.total.failures / self.width_s

    def to_dict(self, start_s: float = 0.0) -> dict[str, object]:
        def window(w: WindowStats) -> dict[str, float]:
            return {
                "rps": w.requests / self.width_s,
                "failures_per_s": w.failures / self.width_s,
                "p50": w.p50,
                "p95": w.p95,
                "p99": w.p99,
            }

        return {
            "time": self.time_s,
            "elapsed_s": round(self.time_s - start_s, 3),
            "width_s": self.width_s,
            "users": self.users,
            **window(self.total),
            "endpoints": {key: window(w) for key, w in self.endpoints.items()},
        }


def _window(hist: Histogram, requests: int, failures: int) -> WindowStats:
    return WindowStats(
        requests, failures, tuple(percentile_ms(hist, p) for p in LOCUST_PERCENTILES)
    )


class Bucket:
    """One open second: histograms still merging snapshots from every worker."""

    def __init__(self) -> None:
        self.users: dict[str, int] = {}
        self.total = Histogram()
        self.requests = 0
        self.failures = 0
        self.endpoints: dict[str, tuple[Histogram, list[int]]] = {}

    def add(self, key: str, hist: Histogram | None, requests: int, failures: int) -> None:
        self.requests += requests
        self.failures += failures
        entry = self.endpoints.get(key)
        if entry is None:
            entry = self.endpoints[key] = (Histogram(), [0, 0])
        entry[1][0] += requests
        entry[1][1] += failures
        if hist is not None:
            entry[0].add(hist)
            self.total.add(hist)

    def point(self, second: int) -> SeriesPoint:
        return SeriesPoint(
            time_s=second,
            width_s=1,
            users=sum(self.users.values()),
            total=_window(self.total, self.requests, self.failures),
            endpoints={k: _window(h, c[0], c[1]) for k, (h, c) in self.endpoints.items()},
        )


class TimeSeries:
    """Bounded per-second history; `RunStats.add` feeds it through `bucket()`."""

    def __init__(
        self,
        max_points: int = 3600,
        cumulative: Callable[[], dict[str, Cumulative]] | None = None,
    ) -> None:
        self.max_points = max_points
        self.points: list[SeriesPoint] = []
        self._cumulative = cumulative
        self._open: dict[int, Bucket] = {}
        self._newest = 0

    def bucket(self, end_ms: int, worker_id: str, users: int) -> Bucket | None:
        """The open bucket for a snapshot ending at `end_ms`, or None when too late."""
        second = end_ms // 1000
        if self.points and second < self.points[-1].time_s + self.points[-1].width_s:
            return None  # already reduced; the totals still count it
        if second > self._newest:
            self._newest = second
            self._close(older_than=second - LATE_S)
        bucket = self._open.get(second)
        if bucket is None:
            bucket = self._open[second] = Bucket()
        bucket.users[worker_id] = users
        return bucket

    def _close(self, older_than: int) -> None:
        closing = sorted(s for s in self._open if s < older_than)
        if not closing:
            return
        cumulative = self._cumulative() if self._cumulative else {}
        for second in closing:
            point = self._open.pop(second).point(second)
            point.cumulative = cumulative
            self.points.append(point)
        if len(self.points) > self.max_points:
            self._coarsen()

    def _coarsen(self) -> None:
        merged: list[SeriesPoint] = []
        for i in range(0, len(self.points) - 1, 2):
            a, b = self.points[i], self.points[i + 1]
            a.total.merge(b.total)
            for key, w in b.endpoints.items():
                a.endpoints.setdefault(key, WindowStats()).merge(w)
            a.users = max(a.users, b.users)
            a.width_s += b.width_s
            a.cumulative = b.cumulative
            merged.append(a)
        if len(self.points) % 2:
            merged.append(self.points[-1])
        self.points = merged

    def all_points(self) -> list[SeriesPoint]:
        """Reduced points plus the still-open buckets (computed, not closed)."""
        return [*self.points, *(self._open[s].point(s) for s in sorted(self._open))]

    def recent(self, seconds: int = 10) -> list[SeriesPoint]:
        """The last points covering about `seconds` (for a live view)."""
        points = self.all_points()
        return points[-seconds:]

    def finish(self) -> None:
        """Reduce every open bucket (the run is over)."""
        self._close(older_than=self._newest + 1)
