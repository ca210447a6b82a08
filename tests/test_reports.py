"""Result, JSON summary, Locust-compatible CSV files, console report and live view."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rich.console import Console

from loadforge._core import Histogram
from loadforge._proto import plan_pb2, snapshot_pb2
from loadforge.report.console import LiveView, print_summary
from loadforge.report.csv_report import write_csv
from loadforge.report.json_report import write_json
from loadforge.result import Result, ThresholdsFailed, WorkerResult
from loadforge.stats import RunStats

# Locust 2.47's exact header lines (locust/stats.py, StatsCSV / StatsCSVFileWriter);
# test_locust_csv.py checks them against a real Locust run where one is installed.
LOCUST_STATS_HEADER = (
    b"Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    b"Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    b"50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n"
)
LOCUST_HISTORY_HEADER = (
    b"Timestamp,User Count,Type,Name,Requests/s,Failures/s,"
    b"50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,"
    b"Total Request Count,Total Failure Count,Total Median Response Time,"
    b"Total Average Response Time,Total Min Response Time,Total Max Response Time,"
    b"Total Average Content Size\r\n"
)
LOCUST_FAILURES_HEADER = b"Method,Name,Error,Occurrences,First Seen,Last Seen\r\n"
LOCUST_EXCEPTIONS_HEADER = b"Count,Message,Traceback,Nodes\r\n"


def make_stats(open_model: bool = False) -> RunStats:
    stats = RunStats()
    for second in range(4):
        for worker in ("w1", "w2"):
            snap = snapshot_pb2.Snapshot(
                start_ms=1_700_000_000_000 + second * 1000,
                end_ms=1_700_000_001_000 + second * 1000,
                users=5,
                dropped_iterations=1 if open_model else 0,
            )
            for method, name, ms in (("GET", "/health", 2), ("POST", "/predict", 40)):
                hist = Histogram()
                hist.record(ms * 1000, 10)
                ep = snap.endpoints.add(
                    method=method,
                    name=name,
                    requests=10,
                    failures=1 if name == "/predict" else 0,
                    bytes_received=410,
                    latency=hist.encode(),
                    service_latency=hist.encode() if open_model else b"",
                )
                if name == "/predict":
                    ep.errors.add(kind="http_status", count=1, sample="HTTP 503")
            snap.exceptions.add(kind="predict: ValueError: bad", count=1, sample="Traceback: x")
            stats.add(snap, worker)
    return stats


def make_result(thresholds: list[object], open_model: bool = False) -> Result:
    return Result.build(
        make_stats(open_model),
        thresholds,
        workers=[WorkerResult("w1", "hostA", 80, False), WorkerResult("w2", "hostB", 80, True)],
        duration_s=4.0,
        started_at=1_700_000_000.0,
        open_model=open_model,
    )


def test_result_lookup_verdicts_and_exit_codes() -> None:
    passing = make_result(["p95 < 2s", "rps > 10", ("GET /health", "p99 < 10ms")])
    assert passing.passed and passing.exit_code == 0
    passing.raise_for_thresholds()
    health = passing.endpoints["GET /health"]
    assert (health.requests, health.failures) == (80, 0)
    assert health.rps == pytest.approx(20.0)
    assert health.latency_ms["p50"] == pytest.approx(2.0, rel=1e-3)
    assert passing.endpoint("POST /predict").failures == 8
    assert passing.total.requests == 160
    with pytest.raises(KeyError):
        passing.endpoints["GET /nope"]

    failing = make_result(["p95 < 10ms", "fail_ratio < 1%"])
    assert not failing.passed and failing.exit_code == 1
    with pytest.raises(ThresholdsFailed, match="p95 < 10ms") as info:
        failing.raise_for_thresholds()
    assert len(info.value.failed) == 2

    broken = Result.build(RunStats(), [], broken="every worker lost")
    assert broken.exit_code == 3 and not broken.passed


def test_from_outcome_reads_controller_outcome() -> None:
    @dataclass
    class Worker:
        id: str
        host: str
        status: str
        error: str = ""

    @dataclass
    class Outcome:
        stats: RunStats
        workers: list[Worker] = field(default_factory=list)
        started_at: float = 1_700_000_000.0
        duration_s: float = 4.0
        broken: str = ""
        stopped_by: str = ""

    plan = plan_pb2.Plan(thresholds=[plan_pb2.Threshold(scope="total", expr="p95 < 1s")])
    plan.engine.profile.open.rate = 10
    outcome = Outcome(make_stats(True), [Worker("w1", "a", "done"), Worker("w2", "b", "lost")])
    result = Result.from_outcome(outcome, plan)
    assert result.open_model and result.passed
    assert [(w.id, w.requests, w.lost) for w in result.workers] == [
        ("w1", 80, False),
        ("w2", 80, True),
    ]


def test_json_shape(tmp_path: Path) -> None:
    result = make_result(["p95 < 2s", ("POST /predict", "p99 < 500ms")])
    path = tmp_path / "out" / "summary.json"
    write_json(result, path)
    data = json.loads(path.read_text())
    assert data["passed"] is True
    assert set(data["total"]) >= {"requests", "failures", "rps", "latency_ms"}
    assert set(data["total"]["latency_ms"]) >= {"mean", "p50", "p90", "p95", "p99", "p99.9", "max"}
    assert "dropped_iterations" not in data["total"]
    (health,) = [e for e in data["endpoints"] if e["name"] == "/health"]
    assert health["method"] == "GET" and health["requests"] == 80 and health["failures"] == 0
    assert isinstance(health["rps"], float)
    assert set(health["latency_ms"]) >= {"mean", "p50", "p90", "p95", "p99", "p99.9", "max"}
    assert data["thresholds"][1]["scope"] == "POST /predict"
    assert data["thresholds"][1]["expr"] == "p99 < 500ms"
    assert isinstance(data["thresholds"][1]["observed"], float)
    assert data["thresholds"][1]["passed"] is True
    assert data["workers"][1] == {
        "id": "w2",
        "host": "hostB",
        "requests": 80,
        "lost": True,
        "status": "",
        "error": "",
    }
    assert data["started_at"].startswith("2023-11-14T22:13:20")
    assert data["time_series"] and {"time", "users", "rps", "p95"} <= set(data["time_series"][0])


def test_json_open_model_has_service_latency_and_dropped() -> None:
    data = json.loads(make_result([], open_model=True).to_json())
    assert data["total"]["dropped_iterations"] == 8
    assert data["total"]["service_latency_ms"]["p50"] == pytest.approx(2.0, rel=0.1)
    assert "service_latency_ms" in data["endpoints"][0]


def test_csv_files_match_locust(tmp_path: Path) -> None:
    result = make_result([])
    paths = write_csv(result, tmp_path / "run", full_history=True)
    stats_csv, history_csv, failures_csv, exceptions_csv = (p.read_bytes() for p in paths)
    assert [p.name for p in paths] == [
        "run_stats.csv",
        "run_stats_history.csv",
        "run_failures.csv",
        "run_exceptions.csv",
    ]
    assert stats_csv.startswith(LOCUST_STATS_HEADER)
    assert history_csv.startswith(LOCUST_HISTORY_HEADER)
    assert failures_csv.startswith(LOCUST_FAILURES_HEADER)
    assert exceptions_csv.startswith(LOCUST_EXCEPTIONS_HEADER)

    rows = list(csv.reader(io.StringIO(stats_csv.decode())))
    assert [r[:4] for r in rows[1:]] == [
        ["GET", "/health", "80", "0"],
        ["POST", "/predict", "80", "8"],
        ["", "Aggregated", "160", "8"],
    ]
    assert rows[1][4] == "2" and rows[2][-1] == "40"  # median, 100% in whole ms
    assert float(rows[3][9]) == pytest.approx(40.0)  # requests/s over 4 s

    history = list(csv.DictReader(io.StringIO(history_csv.decode())))
    aggregated = [r for r in history if r["Name"] == "Aggregated"]
    assert len(aggregated) == 4
    assert [int(r["Total Request Count"]) for r in aggregated] == [40, 80, 120, 160]
    assert aggregated[0]["Requests/s"] == "40.000000"
    assert aggregated[0]["User Count"] == "10"
    assert {r["Name"] for r in history} == {"/health", "/predict", "Aggregated"}

    failures = list(csv.reader(io.StringIO(failures_csv.decode())))
    assert failures[1] == [
        "POST",
        "/predict",
        "http_status: HTTP 503",
        "8",
        "2023-11-14T22:13:21Z",
        "2023-11-14T22:13:24Z",
    ]
    exceptions = list(csv.reader(io.StringIO(exceptions_csv.decode())))
    assert exceptions[1] == ["8", "predict: ValueError: bad", "Traceback: x", "w1, w2"]


def test_console_summary() -> None:
    out = Console(file=io.StringIO(), width=200, force_terminal=False)
    result = make_result(["p95 < 10ms", ("GET /health", "p99 < 10ms")])
    print_summary(result, out)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    for needle in (
        "/health",
        "/predict",
        "Aggregated",
        "p99.99",
        "http_status",
        "HTTP 503",
        "predict: ValueError: bad",
        "✗ FAIL",
        "✓ pass",
        "FAILED",
        "workers lost: w2",
    ):
        assert needle in text, needle


def test_live_view_plain_lines_when_not_a_terminal() -> None:
    out = Console(file=io.StringIO(), width=200, force_terminal=False)
    view = LiveView(out, plain_every_s=0.0)
    stats = make_stats()
    view.update(stats, 3.0, 60.0, stats.users)
    view.update(stats, 4.0, 60.0, stats.users)
    view.close()
    lines = out.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 2
    assert "users 10" in lines[0] and "160 req" in lines[0] and "/60s" in lines[0]


def test_live_view_redraws_in_place_on_a_terminal() -> None:
    out = Console(file=io.StringIO(), width=160, force_terminal=True)
    view = LiveView(out)
    stats = make_stats()
    for elapsed in (1.0, 2.0, 3.0):
        view.update(stats, elapsed, 10.0, stats.users)
    view.close()
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "Aggregated" in text and "users 10" in text
    assert "\x1b[" in text  # cursor movement: redrawn, not appended


def test_time_series_is_a_list_property() -> None:
    result = make_result([])
    assert isinstance(result.time_series, list)
    assert [p["users"] for p in result.time_series] == [10, 10, 10, 10]
    assert result.time_series == result.to_dict()["time_series"]
