"""A real run of the bundled demo scenario against the demo target, through every report.

The one path: load → plan → controller → worker process → Rust engine → snapshots →
RunStats → Result → JSON/CSV/console.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from loadforge.api import run

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.mark.slow
def test_demo_scenario_end_to_end(demo_target: Any, tmp_path: Path) -> None:
    demo_target.reset()
    result = run(
        SCENARIOS / "demo.py",
        users=4,
        spawn_rate=100,
        run_time="3s",
        host=demo_target.http_url,
        processes=1,
        json_path=str(tmp_path / "summary.json"),
        csv_prefix=str(tmp_path / "run"),
    )
    assert result.exit_code == 0, result.thresholds
    served = demo_target.stats()["http"]
    health = result.endpoints["GET /health"]
    predict = result.endpoints["POST /predict"]
    # Every request the engine counted reached the server (and nothing else did).
    assert health.requests == served["/health"]["200"]
    assert predict.requests == served["/predict"]["200"]
    assert health.failures == predict.failures == 0
    assert 0 < health.latency_ms["p50"] <= health.latency_ms["p99"] <= health.latency_ms["max"]

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["passed"] is True
    assert summary["total"]["requests"] == result.total.requests > 0
    assert [t["passed"] for t in summary["thresholds"]] == [True, True, True]

    rows = list(csv.DictReader(io.StringIO((tmp_path / "run_stats.csv").read_text())))
    assert rows[-1]["Name"] == "Aggregated"
    assert int(rows[-1]["Request Count"]) == result.total.requests
