"""RunStats merges snapshots exactly: N workers' histograms == one that saw everything."""

from __future__ import annotations

import random

import pytest

from loadforge._core import Histogram
from loadforge._proto import snapshot_pb2
from loadforge.stats import MESSAGES_PER_KIND, RunStats
from loadforge.timeseries import TimeSeries

PERCENTILES = (50, 66, 75, 90, 95, 99, 99.9, 99.99, 100)


def snapshot(
    start_s: int, values: dict[tuple[str, str], list[int]], users: int = 1, **counts: int
) -> snapshot_pb2.Snapshot:
    snap = snapshot_pb2.Snapshot(
        start_ms=start_s * 1000, end_ms=(start_s + 1) * 1000, users=users, **counts
    )
    for (method, name), latencies in values.items():
        hist = Histogram()
        for v in latencies:
            hist.record(v)
        ep = snap.endpoints.add(
            method=method,
            name=name,
            requests=len(latencies),
            failures=sum(1 for v in latencies if v > 900_000),
            bytes_received=10 * len(latencies),
            latency=hist.encode(),
        )
        ep.status_codes[200] = len(latencies)
    return snap


def test_merge_equals_one_histogram_of_all_values() -> None:
    rng = random.Random(7)
    keys = [("GET", "/health"), ("POST", "/predict")]
    truth = {k: Histogram() for k in keys}
    total_truth = Histogram()
    stats = RunStats()
    for second in range(5):
        for worker in ("w1", "w2", "w3"):
            values = {k: [int(rng.lognormvariate(9, 1.5)) + 1 for _ in range(200)] for k in keys}
            for k, vs in values.items():
                for v in vs:
                    truth[k].record(v)
                    total_truth.record(v)
            stats.add(snapshot(1000 + second, values, users=4), worker)
    for k in keys:
        merged = stats.endpoints[k]
        assert merged.requests == 3000
        assert merged.latency.count == truth[k].count
        for p in PERCENTILES:
            assert merged.latency.value_at_percentile(p) == truth[k].value_at_percentile(p)
        assert merged.latency.max == truth[k].max
        assert merged.latency.min == truth[k].min
        assert merged.latency.mean == truth[k].mean
    for p in PERCENTILES:
        assert stats.total.latency.value_at_percentile(p) == total_truth.value_at_percentile(p)
    assert stats.total.requests == 6000
    assert stats.total.status_codes[200] == 6000
    assert stats.total.bytes_received == 60000
    assert stats.users == 12
    assert {w: t.requests for w, t in stats.workers.items()} == {"w1": 2000, "w2": 2000, "w3": 2000}
    assert stats.measured_s == 5.0
    # Percentile helpers return milliseconds.
    ep = stats.endpoint("POST /predict")
    assert ep is not None
    assert ep.percentile_ms(95) == truth[("POST", "/predict")].value_at_percentile(95) / 1000


def test_errors_exceptions_and_service_latency() -> None:
    stats = RunStats()
    for worker in ("a", "b"):
        snap = snapshot_pb2.Snapshot(start_ms=0, end_ms=1000, dropped_iterations=3)
        service = Histogram()
        service.record(500)
        ep = snap.endpoints.add(
            method="GET", name="/x", requests=4, failures=2, service_latency=service.encode()
        )
        ep.errors.add(kind="timeout", count=1, sample=f"timed out on {worker}")
        ep.errors.add(kind="http_status", count=1)
        snap.exceptions.add(kind="visit: KeyError: 'k'", count=2, sample="Traceback ...")
        stats.add(snap, worker)
    x = stats.endpoints[("GET", "/x")]
    # One entry per distinct failure (kind and message).
    assert {(e.kind, e.sample): e.count for e in x.errors.values()} == {
        ("timeout", "timed out on a"): 1,
        ("timeout", "timed out on b"): 1,
        ("http_status", ""): 2,
    }
    assert x.service_latency is not None and x.service_latency.count == 2
    assert stats.dropped_iterations == 6
    exc = stats.exceptions["visit: KeyError: 'k'"]
    assert (exc.count, exc.workers) == (4, {"a", "b"})


def test_time_series_windows_per_second() -> None:
    stats = RunStats()
    for second in range(10):
        for worker in ("w1", "w2"):
            # Seconds 0-4 fast (1 ms), 5-9 slow (100 ms): windows must show the change.
            value = 1000 if second < 5 else 100_000
            stats.add(snapshot(second, {("GET", "/a"): [value] * 10}, users=second), worker)
    stats.series.finish()
    points = stats.series.all_points()
    assert [p.time_s for p in points] == list(range(1, 11))
    assert all(p.total.requests == 20 and p.rps == 20.0 for p in points)
    assert points[0].users == 0 and points[-1].users == 18
    assert points[2].total.p99 == 1.0
    # HDR reports the bucket's highest equivalent value (3 significant digits).
    assert points[7].total.p50 == pytest.approx(100.0, rel=1e-3)
    assert points[7].endpoints["GET /a"].p95 == pytest.approx(100.0, rel=1e-3)


def test_time_series_memory_is_bounded() -> None:
    series = TimeSeries(max_points=100)
    for second in range(1000):
        bucket = series.bucket(second * 1000 + 500, "w", 1)
        assert bucket is not None
        hist = Histogram()
        hist.record(1000 + second)
        bucket.add("GET /x", hist, 1, 0)
    series.finish()
    assert len(series.points) <= 100
    assert sum(p.total.requests for p in series.points) == 1000
    assert sum(p.width_s for p in series.points) == 1000
    # Late snapshots for reduced seconds are refused (their totals still count elsewhere).
    assert series.bucket(5 * 1000, "w", 1) is None


def test_distinct_failures_are_bounded_and_keep_their_first_body() -> None:
    stats = RunStats()
    for i in range(40):
        snap = snapshot_pb2.Snapshot(start_ms=i * 1000, end_ms=(i + 1) * 1000)
        ep = snap.endpoints.add(method="GET", name="/x", requests=1, failures=1)
        ep.errors.add(kind="check_failed", count=1, sample=f"id {i}", body=f"body {i}".encode())
        ep.errors.add(kind="http_status", count=1, sample="HTTP status 500", body=b"b%d" % i)
        stats.add(snap, "w")
    errors = list(stats.endpoints[("GET", "/x")].errors.values())
    checks = [e for e in errors if e.kind == "check_failed"]
    assert len(checks) == MESSAGES_PER_KIND
    assert sum(e.count for e in checks) == 40
    (status,) = [e for e in errors if e.kind == "http_status"]
    assert (status.count, status.body) == (40, b"b0")  # only the first body is kept
