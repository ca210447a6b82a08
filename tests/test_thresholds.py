"""Threshold expressions: parsing (units, scopes, errors) and evaluation against stats."""

from __future__ import annotations

import pytest

from loadforge._core import Histogram
from loadforge._proto import plan_pb2, snapshot_pb2
from loadforge.stats import RunStats
from loadforge.thresholds import ThresholdError, evaluate, parse_threshold, parse_thresholds


@pytest.mark.parametrize(
    ("text", "metric", "op", "value", "percentile"),
    [
        ("p95 < 2s", "percentile", "<", 2000.0, 95.0),
        ("p99.9 <= 500ms", "percentile", "<=", 500.0, 99.9),
        ("p99.99 < 1500us", "percentile", "<", 1.5, 99.99),
        ("p(90) < 1m", "percentile", "<", 60000.0, 90.0),
        ("median < 20", "percentile", "<", 20.0, 50.0),
        ("fail_ratio < 1%", "fail_ratio", "<", 0.01, None),
        ("fail_ratio <= 0.05", "fail_ratio", "<=", 0.05, None),
        ("rps > 10", "rps", ">", 10.0, None),
        ("failures == 0", "failures", "==", 0.0, None),
        ("requests >= 100", "requests", ">=", 100.0, None),
        ("mean < 200ms", "mean", "<", 200.0, None),
        ("max < 3s", "max", "<", 3000.0, None),
        ("min>=0.1ms", "min", ">=", 0.1, None),
    ],
)
def test_parse(text: str, metric: str, op: str, value: float, percentile: float | None) -> None:
    t = parse_threshold(text)
    assert (t.scope, t.metric, t.op, t.percentile) == ("total", metric, op, percentile)
    assert t.value == pytest.approx(value)


@pytest.mark.parametrize(
    "text",
    [
        "p95 2s",
        "p95 < fast",
        "latency < 2s",
        "p0 < 1s",
        "p101 < 1s",
        "rps > 10s",
        "fail_ratio < 2s",
        "fail_ratio < 150%",
        "p95 < 10%",
        "",
    ],
)
def test_invalid_expressions(text: str) -> None:
    with pytest.raises(ThresholdError) as info:
        parse_threshold(text)
    assert repr(text) in str(info.value) or "invalid" in str(info.value)


def test_scopes() -> None:
    assert parse_threshold(("post /predict", "p99 < 500ms")).scope == "POST /predict"
    assert parse_threshold("GET /health: p95 < 10ms").scope == "GET /health"
    assert parse_threshold(("TOTAL", "rps > 1")).scope == "total"
    proto = plan_pb2.Threshold(scope="GET /x", expr="max < 1s")
    assert parse_threshold(proto).scope == "GET /x"
    with pytest.raises(ThresholdError, match="scope"):
        parse_threshold(("/predict", "p99 < 1s"))
    with pytest.raises(ThresholdError):
        parse_threshold(("a", "b", "c"))  # type: ignore[arg-type]


def _stats() -> RunStats:
    # /fast: 1..100 ms, 100 requests, 2 failures; /slow: 1 s x 10 requests. Over 10 s.
    stats = RunStats()
    snap = snapshot_pb2.Snapshot(start_ms=1_000_000, end_ms=1_010_000, users=5)
    fast = Histogram()
    for ms in range(1, 101):
        fast.record(ms * 1000)
    slow = Histogram()
    slow.record(1_000_000, 10)
    snap.endpoints.add(method="GET", name="/fast", requests=100, failures=2, latency=fast.encode())
    snap.endpoints.add(method="POST", name="/slow", requests=10, latency=slow.encode())
    stats.add(snap, "w1")
    return stats


def test_evaluate_observed_values() -> None:
    stats = _stats()
    verdicts = evaluate(
        parse_thresholds(
            [
                ("GET /fast", "p50 < 51ms"),
                ("GET /fast", "p99 < 99ms"),
                ("GET /fast", "fail_ratio < 1%"),
                ("POST /slow", "mean >= 1s"),
                "rps > 10",
                "requests == 110",
                "failures == 0",
                ("GET /missing", "p95 < 1s"),
                ("GET /missing", "requests == 0"),
            ]
        ),
        stats,
    )
    observed = [(v.expr, v.passed, v.observed) for v in verdicts]
    assert observed[0][1] is True and observed[0][2] == pytest.approx(50, rel=0.01)
    assert observed[1][1] is False and observed[1][2] == pytest.approx(99, rel=0.01)
    assert observed[2][1] is False and observed[2][2] == pytest.approx(0.02)
    assert observed[3][1] is True and observed[3][2] == pytest.approx(1000, rel=0.001)
    assert observed[4][1] is True and observed[4][2] == pytest.approx(11.0)
    assert observed[5][1] is True
    assert observed[6][1] is False and observed[6][2] == 2.0
    assert observed[7][1] is False and observed[7][2] is None  # no requests: fails
    assert observed[8][1] is True and observed[8][2] == 0.0
    assert verdicts[2].to_dict() == {
        "scope": "GET /fast",
        "expr": "fail_ratio < 1%",
        "observed": pytest.approx(0.02),
        "unit": "ratio",
        "passed": False,
    }


def test_dict_form_with_abort_on_fail_round_trips_through_the_plan() -> None:
    t = parse_threshold(
        {"expr": "p99 < 1s", "scope": "GET /x", "abort_on_fail": True, "abort_grace_s": 10}
    )
    assert (t.scope, t.abort_on_fail, t.abort_grace_s) == ("GET /x", True, 10.0)
    again = parse_threshold(t.to_proto())
    assert again == t
    with pytest.raises(ThresholdError):
        parse_threshold({"expr": "p99 < 1s", "abort": True})
