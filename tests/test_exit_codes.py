"""The exit code without thresholds follows Locust: anything that failed fails the run,
`exit_code_on_error` chooses the code, thresholds (when given) decide instead."""

from __future__ import annotations

import textwrap
from pathlib import Path

import loadforge
from loadforge.testing import DemoProcess


def _scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scenario.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_dropped_open_model_iterations_fail_a_run_without_thresholds(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    path = _scenario(
        tmp_path,
        """
        from loadforge import HttpUser, get

        class Slow(HttpUser):
            tasks = [get("/delay?ms=200")]
        """,
    )
    # One iteration in flight at a time, 50 wanted per second: most cannot start.
    result = loadforge.run(
        path, arrival_rate=50, users=1, run_time="1s", host=demo_target.http_url, processes=1
    )
    assert result.total.failures == 0 and result.dropped_iterations > 10
    assert result.exit_code == 1 and "dropped" in result.verdict
    lenient = loadforge.run(
        path,
        arrival_rate=50,
        users=1,
        run_time="1s",
        host=demo_target.http_url,
        processes=1,
        exit_code_on_error=0,
    )
    assert lenient.exit_code == 0


def test_thresholds_decide_when_given_even_with_failures(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    path = _scenario(
        tmp_path,
        """
        from loadforge import HttpUser, constant, get

        class Mixed(HttpUser):
            wait_time = constant(0.01)
            tasks = {get("/status/200"): 9, get("/status/500"): 1}
        """,
    )
    kwargs = {"users": 2, "run_time": "1s", "host": demo_target.http_url, "processes": 1}
    assert loadforge.run(path, thresholds=["fail_ratio < 50%"], **kwargs).exit_code == 0
    strict = loadforge.run(path, thresholds=["fail_ratio < 1%"], **kwargs)
    assert strict.exit_code == 1 and "threshold" in strict.verdict
    report = tmp_path / "report.html"
    plain = loadforge.run(path, html_path=str(report), **kwargs)
    assert plain.exit_code == 1  # no thresholds: failures fail it
    # The report says why, in the same words as the console and the JSON.
    assert f"{plain.verdict} (exit 1)" in report.read_text()
