"""`RunStats`: merge `Snapshot` messages from every worker, exactly.

Histograms are added (never averaged), so the merged percentiles are those of one
histogram that saw every request. Counts are summed per endpoint (method + name).

    stats = RunStats()
    stats.add(snapshot, "worker-1")
    stats.endpoint("GET /health").percentile_ms(95)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from loadforge._core import Histogram
from loadforge._proto import snapshot_pb2

from .timeseries import Cumulative, TimeSeries, percentile_ms

AGGREGATED = "Aggregated"
# Distinct messages kept per error kind and endpoint (the engine keeps as many per
# interval); more count under the kind's first, so messages carrying ids stay bounded.
MESSAGES_PER_KIND = 16
# Time to the first message of a streaming gRPC call (`GRPC-FIRST <name>`): a second view of
# a call already counted under `GRPC <name>`, so it stays out of the totals.
FIRST_MESSAGE_METHOD = "GRPC-FIRST"


@dataclass
class ErrorEntry:
    """Occurrences of one distinct failure (kind and message; task exceptions: kind), with
    the first sample message and response body bytes seen."""

    kind: str
    count: int = 0
    sample: str = ""
    # The first bytes (at most 512) of the response body of the first occurrence.
    body: bytes = b""
    # Workers that reported it (kept for task exceptions, as Locust's "Nodes").
    workers: set[str] = field(default_factory=set)
    # Unix ms of the first and last snapshot that carried it (Locust's "First Seen",
    # "Last Seen"): exact to the snapshot interval, 1 s. 0 when unknown.
    first_seen_ms: int = 0
    last_seen_ms: int = 0


def _merge_errors(
    into: dict[str, ErrorEntry],
    errors: list[snapshot_pb2.ErrorCount],
    worker: str = "",
    at_ms: int = 0,
    by_message: bool = False,
) -> None:
    for err in errors:
        # Request failures are distinct per message ("HTTP status 422" vs "... 500");
        # task exceptions per kind, their sample being one traceback of many.
        key = f"{err.kind}\n{err.sample}" if by_message else err.kind
        entry = into.get(key)
        if entry is None and by_message:
            same_kind = [e for e in into.values() if e.kind == err.kind]
            if len(same_kind) >= MESSAGES_PER_KIND:
                entry = same_kind[0]
        if entry is None:
            entry = into[key] = ErrorEntry(err.kind, body=err.body)
        entry.count += err.count
        if at_ms:
            if not entry.first_seen_ms or at_ms < entry.first_seen_ms:
                entry.first_seen_ms = at_ms
            entry.last_seen_ms = max(entry.last_seen_ms, at_ms)
        if not entry.sample and err.sample:
            entry.sample = err.sample
        if worker:
            entry.workers.add(worker)


@dataclass
class EndpointStats:
    """Totals of one endpoint (or of all of them, for the aggregate)."""

    method: str
    name: str
    requests: int = 0
    failures: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0
    messages: int = 0
    status_codes: Counter[int] = field(default_factory=Counter)
    errors: dict[str, ErrorEntry] = field(default_factory=dict)
    latency: Histogram = field(default_factory=Histogram)
    service_latency: Histogram | None = None

    @property
    def key(self) -> str:
        """`"GET /health"`; `"Aggregated"` for the total."""
        return f"{self.method} {self.name}" if self.method else self.name

    def add_counts(self, ep: snapshot_pb2.EndpointStats, at_ms: int = 0) -> None:
        """Adds one snapshot's counts; `at_ms` (the snapshot's end) dates its errors."""
        self.requests += ep.requests
        self.failures += ep.failures
        self.bytes_received += ep.bytes_received
        self.bytes_sent += ep.bytes_sent
        self.messages += ep.messages
        for code, count in ep.status_codes.items():
            self.status_codes[code] += count
        _merge_errors(self.errors, list(ep.errors), at_ms=at_ms, by_message=True)

    def add_histograms(self, latency: Histogram | None, service: Histogram | None) -> None:
        if latency is not None:
            self.latency.add(latency)
        if service is not None:
            if self.service_latency is None:
                self.service_latency = Histogram()
            self.service_latency.add(service)

    def percentile_ms(self, percentile: float) -> float:
        """Latency at `percentile` (0..100) in ms (from the intended start, open model)."""
        return percentile_ms(self.latency, percentile)

    @property
    def mean_ms(self) -> float:
        return self.latency.mean / 1000.0 if self.latency.count else 0.0

    @property
    def min_ms(self) -> float:
        return self.latency.min / 1000.0 if self.latency.count else 0.0

    @property
    def max_ms(self) -> float:
        return self.latency.max / 1000.0 if self.latency.count else 0.0

    @property
    def fail_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def avg_content_size(self) -> float:
        return self.bytes_received / self.requests if self.requests else 0.0


@dataclass
class WorkerTotals:
    """What one worker contributed."""

    id: str
    requests: int = 0
    failures: int = 0
    iterations: int = 0
    dropped_iterations: int = 0
    users: int = 0
    snapshots: int = 0


def _decode(data: bytes) -> Histogram | None:
    return Histogram.decode(data) if data else None


class RunStats:
    """Everything known about a run so far, merged from all workers' snapshots."""

    def __init__(self, max_series_points: int = 3600) -> None:
        self.endpoints: dict[tuple[str, str], EndpointStats] = {}
        self.total = EndpointStats("", AGGREGATED)
        self.exceptions: dict[str, ErrorEntry] = {}
        self.workers: dict[str, WorkerTotals] = {}
        self.series = TimeSeries(max_series_points, self._cumulative)
        self.iterations = 0
        self.dropped_iterations = 0
        self.start_ms = 0
        self.end_ms = 0

    def add(self, snapshot: snapshot_pb2.Snapshot, worker_id: str = "") -> None:
        """Merge one interval's snapshot from `worker_id`."""
        worker = self.workers.get(worker_id)
        if worker is None:
            worker = self.workers[worker_id] = WorkerTotals(worker_id)
        worker.snapshots += 1
        worker.users = snapshot.users
        worker.iterations += snapshot.iterations
        worker.dropped_iterations += snapshot.dropped_iterations
        self.iterations += snapshot.iterations
        self.dropped_iterations += snapshot.dropped_iterations
        if snapshot.start_ms and (not self.start_ms or snapshot.start_ms < self.start_ms):
            self.start_ms = snapshot.start_ms
        self.end_ms = max(self.end_ms, snapshot.end_ms)
        _merge_errors(self.exceptions, list(snapshot.exceptions), worker_id)
        bucket = self.series.bucket(snapshot.end_ms, worker_id, snapshot.users)
        for ep in snapshot.endpoints:
            key = (ep.method, ep.name)
            stats = self.endpoints.get(key)
            if stats is None:
                stats = self.endpoints[key] = EndpointStats(ep.method, ep.name)
            latency, service = _decode(ep.latency), _decode(ep.service_latency)
            stats.add_counts(ep, snapshot.end_ms)
            stats.add_histograms(latency, service)
            if ep.method != FIRST_MESSAGE_METHOD:
                self.total.add_counts(ep, snapshot.end_ms)
                self.total.add_histograms(latency, service)
                worker.requests += ep.requests
                worker.failures += ep.failures
            if bucket is not None:
                bucket.add(stats.key, latency, ep.requests, ep.failures)

    def _cumulative(self) -> dict[str, Cumulative]:
        return {
            s.key: Cumulative(
                s.requests,
                s.failures,
                s.percentile_ms(50),
                s.mean_ms,
                s.min_ms,
                s.max_ms,
                s.avg_content_size,
            )
            for s in (*self.endpoints.values(), self.total)
        }

    # --- reading --------------------------------------------------------------------

    def total_requests(self) -> int:
        return self.total.requests

    @property
    def users(self) -> int:
        """Users running (closed) or iterations in flight (open), per the latest snapshots."""
        return sum(w.users for w in self.workers.values())

    @property
    def measured_s(self) -> float:
        """Seconds covered by the snapshots (first start to last end)."""
        if not self.start_ms or self.end_ms <= self.start_ms:
            return 0.0
        return (self.end_ms - self.start_ms) / 1000.0

    def sorted_endpoints(self) -> list[EndpointStats]:
        """Endpoints ordered by name, then method (as Locust's tables)."""
        return sorted(self.endpoints.values(), key=lambda e: (e.name, e.method))

    def endpoint(self, key: str) -> EndpointStats | None:
        """An endpoint by `"METHOD name"`, `"total"`/`"Aggregated"` for the aggregate."""
        if key in ("total", AGGREGATED):
            return self.total
        method, _, name = key.partition(" ")
        return self.endpoints.get((method.upper(), name))

    def metric(
        self, scope: str, metric: str, percentile: float | None, duration_s: float | None = None
    ) -> float | None:
        """A threshold metric (latencies in ms); None when the scope saw no requests."""
        stats = self.endpoint(scope)
        if stats is None or not stats.requests:
            return None
        if metric == "percentile":
            return stats.percentile_ms(percentile or 0.0)
        if metric == "mean":
            return stats.mean_ms
        if metric == "min":
            return stats.min_ms
        if metric == "max":
            return stats.max_ms
        if metric == "fail_ratio":
            return stats.fail_ratio
        if metric == "failures":
            return float(stats.failures)
        if metric == "requests":
            return float(stats.requests)
        if metric == "rps":
            seconds = duration_s or self.measured_s
            return stats.requests / seconds if seconds > 0 else 0.0
        raise ValueError(f"unknown metric {metric!r}")

    def for_duration(self, duration_s: float | None) -> _FixedDuration:
        """A view for `thresholds.evaluate` whose rates use `duration_s`."""
        return _FixedDuration(self, duration_s)


class _FixedDuration:
    def __init__(self, stats: RunStats, duration_s: float | None) -> None:
        self.stats = stats
        self.duration_s = duration_s

    def metric(self, scope: str, metric: str, percentile: float | None) -> float | None:
        return self.stats.metric(scope, metric, percentile, self.duration_s)
