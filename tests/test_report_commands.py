"""`loadforge report` and `loadforge compare` on the JSON of a real run, and that JSON
validated against its documented schema (docs/json-summary.schema.json)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from loadforge.api import run
from loadforge.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "json-summary.schema.json").read_text())
# Locust 2.x's exact stats header (locust/stats.py).
LOCUST_STATS_HEADER = (
    b"Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    b"Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    b"50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n"
)


def validate(summary: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(summary), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.fixture(scope="module")
def saved_run(demo_target: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 2 s run of the demo scenario through the CLI, with --json and --csv."""
    out = tmp_path_factory.mktemp("saved")
    code = main(
        [
            "run",
            str(ROOT / "scenarios" / "demo.py"),
            "-H",
            demo_target.http_url,
            "-u",
            "3",
            "-r",
            "100",
            "-t",
            "2s",
            "--processes",
            "1",
            "-q",
            "--json",
            str(out / "run.json"),
            "--csv",
            str(out / "live"),
        ]
    )
    assert code == 0
    return out


def test_schema_is_valid_and_rejects_a_broken_summary(saved_run: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    summary = json.loads((saved_run / "run.json").read_text())
    validate(summary)
    del summary["total"]["latency_ms"]["p99"]
    summary["workers"][0]["status"] = "sleeping"
    with pytest.raises(AssertionError, match=r"p99.*|status"):
        validate(summary)


def test_real_run_json_carries_the_percentile_curve(saved_run: Path) -> None:
    total = json.loads((saved_run / "run.json").read_text())["total"]
    curve = total["percentile_curve"]
    assert [p for p, _ in curve][:3] == [0.0, 10.0, 20.0] and curve[-1][0] == 100.0
    values = [ms for _, ms in curve]
    assert values == sorted(values) and values[0] > 0
    assert curve[-1][1] == total["latency_ms"]["max"]
    assert dict(curve)[50.0] == total["latency_ms"]["p50"]


@pytest.mark.slow
def test_open_model_json_matches_the_schema(demo_target: Any) -> None:
    result = run(
        ROOT / "scenarios" / "demo.py",
        arrival_rate=40,
        users=10,
        run_time="2s",
        host=demo_target.http_url,
        processes=1,
    )
    summary = json.loads(result.to_json())
    validate(summary)
    assert summary["model"] == "open"
    assert summary["total"]["service_percentile_curve"][-1][1] > 0


def test_report_rerenders_html_junit_and_csv(saved_run: Path, tmp_path: Path) -> None:
    summary = json.loads((saved_run / "run.json").read_text())
    code = main(
        [
            "report",
            str(saved_run / "run.json"),
            "--html",
            str(tmp_path / "out.html"),
            "--junit",
            str(tmp_path / "junit.xml"),
            "--csv",
            str(tmp_path / "again"),
        ]
    )
    assert code == 0
    page = (tmp_path / "out.html").read_text()
    assert "Plotly.newPlot" in page and '"percentile_curve"' in page
    assert "<script src" not in page  # self-contained: plotly.js is inlined

    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("tests") == str(len(summary["thresholds"])) and suite.get("failures") == "0"

    raw = (tmp_path / "again_stats.csv").read_bytes()
    assert raw.startswith(LOCUST_STATS_HEADER)
    again = list(csv.DictReader(io.StringIO(raw.decode())))
    live = list(csv.DictReader(io.StringIO((saved_run / "live_stats.csv").read_text())))
    # The re-rendered table equals the one written during the run, cell by cell.
    assert again == live
    history = (tmp_path / "again_stats_history.csv").read_text().splitlines()
    assert len(history) == 1 + len(summary["time_series"])


def test_report_refuses_a_file_that_is_not_a_summary(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"hello": 1}')
    assert main(["report", str(tmp_path / "x.json"), "--html", str(tmp_path / "o.html")]) == 2
    assert not (tmp_path / "o.html").exists()
    assert main(["report", str(tmp_path / "missing.json"), "--html", "o.html"]) == 2


def test_compare_shows_deltas_and_fails_on_a_regression(
    saved_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = saved_run / "run.json"
    assert main(["compare", str(base), str(base), "--fail-on-regression", "1"]) == 0
    out = capsys.readouterr().out
    assert "GET /health" in out and "Aggregated" in out and "(+0.0%)" in out

    slower = json.loads(base.read_text())
    health = next(ep for ep in slower["endpoints"] if ep["name"] == "/health")
    health["latency_ms"]["p95"] *= 1.5
    (tmp_path / "new.json").write_text(json.dumps(slower))
    assert main(["compare", str(base), str(tmp_path / "new.json")]) == 0  # no gate: report only
    assert (
        main(["compare", str(base), str(tmp_path / "new.json"), "--fail-on-regression", "60"]) == 0
    )
    capsys.readouterr()
    assert (
        main(["compare", str(base), str(tmp_path / "new.json"), "--fail-on-regression", "10"]) == 1
    )
    out = capsys.readouterr().out
    assert "regression: GET /health p95 +50.0%" in out
