"""The reported duration is the time load was applied (engine start to the last
completion), so `rps`, `rps` thresholds and the per-second series agree.

A run stopped by its run time used to end its last snapshot when the worker next looked
(up to a second later), so a `-t 2s` run reported 3 s and a third less rps.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from grpc_target import GrpcTarget

import loadforge
from loadforge.testing import DemoProcess


@pytest.fixture
def demo(demo_target: DemoProcess) -> DemoProcess:
    demo_target.reset()
    return demo_target


def _loadforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadforge", *args], capture_output=True, text=True, timeout=90
    )


def test_run_time_is_the_reported_duration(tmp_path: Path, demo: DemoProcess) -> None:
    scenario = tmp_path / "scenario.py"
    scenario.write_text(
        textwrap.dedent(
            """
            from loadforge import HttpUser, constant, get

            class Visitor(HttpUser):
                wait_time = constant(0.1)
                tasks = [get("/health")]
            """
        )
    )
    summary = tmp_path / "out.json"
    done = _loadforge(
        "run", str(scenario), "-u", "2", "-r", "100", "-t", "2s", "--headless", "-q",
        "--processes", "1", "-H", demo.http_url, "--json", str(summary),
        "--threshold", "rps > 15",
    )  # fmt: skip
    report = json.loads(summary.read_text())
    total = report["total"]
    assert abs(report["duration_s"] - 2.0) < 0.2, report["duration_s"]
    assert total["rps"] == pytest.approx(total["requests"] / report["duration_s"])
    # 2 users, 0.1 s apart: about 20/s, whatever the duration rule rounds.
    assert 15 < total["rps"] < 22, total
    (verdict,) = report["thresholds"]
    assert verdict["observed"] == pytest.approx(total["rps"])
    assert done.returncode == 0, done.stderr
    # The per-second series carries the same requests within the same span.
    series = report["time_series"]
    assert sum(p["rps"] * p["width_s"] for p in series) == pytest.approx(total["requests"])
    seconds = sum(p["width_s"] for p in series)
    assert seconds == round(report["duration_s"])
    assert total["requests"] / seconds == pytest.approx(total["rps"], rel=0.1)


def test_grpc_rate_is_reported_as_fired(tmp_path: Path) -> None:
    summary = tmp_path / "out.json"
    with GrpcTarget() as target:
        done = _loadforge(
            "grpc", "-q", "--processes", "1", "--call", "helloworld.Greeter/SayHello",
            "--proto", str(Path(__file__).parent / "protos" / "helloworld.proto"),
            "-d", '{"name": "rate"}', "--rps", "200", "-z", "3s", "--json", str(summary),
            target.addr,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(summary.read_text())
    assert report["total"]["requests"] == target.calls["SayHello"]
    assert report["total"]["rps"] == pytest.approx(200, rel=0.05)


def test_run_returns_soon_after_the_load_ends(tmp_path: Path, demo: DemoProcess) -> None:
    """The worker noticed its engine had finished only at its next report, and the
    controller a finished worker only at its next heartbeat: up to 2 s per run."""
    scenario = tmp_path / "scenario.py"
    scenario.write_text(
        "from loadforge import HttpUser, constant, get\n\n"
        "class Visitor(HttpUser):\n"
        "    wait_time = constant(0.1)\n"
        "    tasks = [get('/health')]\n"
    )
    result = loadforge.run(scenario, users=1, run_time="1.5s", host=demo.http_url, processes=1)
    returned = time.time()
    load_ended = result.started_at + result.duration_s
    assert returned - load_ended < 0.8, returned - load_ended
