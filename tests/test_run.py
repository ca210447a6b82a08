"""`loadforge run` and `loadforge.run()` end to end: load shapes, abort-on-fail, iteration
limits, the open model, Python tasks, and bad input that must fire nothing (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import loadforge
from loadforge.testing import DemoProcess, free_port


@pytest.fixture
def demo(demo_target: DemoProcess) -> DemoProcess:
    demo_target.reset()
    return demo_target


def _scenario(tmp_path: Path, body: str, name: str = "scenario.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadforge", *args],
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_load_shape_drives_users_and_ends_the_run(tmp_path: Path, demo: DemoProcess) -> None:
    path = _scenario(
        tmp_path,
        """
        from loadforge import HttpUser, LoadTestShape, constant, get

        class Visitor(HttpUser):
            wait_time = constant(0.05)
            tasks = [get("/health")]

        class Steps(LoadTestShape):
            def tick(self):
                t = self.get_run_time()
                if t > 4:
                    return None
                return (2, 100) if t < 2 else (6, 100)
        """,
    )
    started = time.monotonic()
    result = loadforge.run(path, host=demo.http_url, processes=1)
    assert time.monotonic() - started < 20
    assert result.stopped_by == "the load shape ended"
    users = [p["users"] for p in result.time_series]
    assert max(users) == 6, users
    assert min(u for u in users if u) <= 2, users
    assert result.total.requests == demo.stats()["http_total"]


def test_abort_on_fail_stops_the_run_early_with_exit_code_1(
    tmp_path: Path, demo: DemoProcess
) -> None:
    path = _scenario(
        tmp_path,
        """
        from loadforge import HttpUser, constant, get

        class Broken(HttpUser):
            wait_time = constant(0.01)
            tasks = [get("/status/500")]

        thresholds = [{"expr": "fail_ratio < 1%", "abort_on_fail": True, "abort_grace_s": 1}]
        """,
    )
    started = time.monotonic()
    result = loadforge.run(path, host=demo.http_url, users=2, run_time="60s", processes=1)
    assert time.monotonic() - started < 15
    assert "abort_on_fail" in result.stopped_by
    assert result.exit_code == 1
    assert result.total.failures == result.total.requests > 0


def test_iterations_limit_is_exact(tmp_path: Path, demo: DemoProcess) -> None:
    path = _scenario(
        tmp_path,
        """
        from loadforge import HttpUser, constant, get

        class Visitor(HttpUser):
            wait_time = constant(0)
            tasks = [get("/health")]
        """,
    )
    out = tmp_path / "r.json"
    proc = _cli(
        "run", str(path), "-H", demo.http_url, "-u", "5", "-r", "50", "--iterations", "137",
        "-t", "30s", "--processes", "2", "--json", str(out), "-q",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(out.read_text())
    assert summary["total"]["requests"] == 137
    assert demo.stats()["http_total"] == 137


def test_open_model_reports_service_time_and_dropped_iterations(
    tmp_path: Path, demo: DemoProcess
) -> None:
    path = _scenario(
        tmp_path,
        """
        from loadforge import HttpUser, get

        class Visitor(HttpUser):
            tasks = [get("/health")]
        """,
    )
    out = tmp_path / "r.json"
    proc = _cli(
        "run", str(path), "-H", demo.http_url, "--arrival-rate", "100", "-u", "20",
        "-t", "3s", "--processes", "1", "--json", str(out), "-q",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(out.read_text())
    total = summary["total"]
    assert summary["model"] == "open"
    assert 270 <= total["requests"] <= 301, total["requests"]
    assert "service_latency_ms" in total and "dropped_iterations" in total
    assert total["requests"] == demo.stats()["http_total"]


def test_python_tasks_are_counted_exactly(tmp_path: Path, demo: DemoProcess) -> None:
    path = _scenario(
        tmp_path,
        """
        from loadforge import HttpUser, constant, task

        class Scripted(HttpUser):
            wait_time = constant(0.01)

            @task(3)
            async def predict(self):
                r = await self.client.post("/predict", json={"data": [0.5] * 784}, name="predict")
                assert r.status == 200

            @task
            async def health(self):
                r = await self.client.get("/health")
                assert r.json()["status"] == "healthy"
        """,
    )
    result = loadforge.run(
        path, host=demo.http_url, users=4, spawn_rate=100, run_time="2s", processes=2
    )
    assert result.exit_code == 0
    served = demo.stats()
    assert result.total.requests == served["http_total"]
    assert result.endpoints["POST predict"].requests == served["http"]["/predict"]["200"]
    assert result.total.failures == 0


BAD_INPUTS = {
    "syntax": ("class X(:\n    pass\n", "scenario.py:1"),
    "no_users": ("x = 1\n", "no user classes"),
    "bad_wait": (
        "from loadforge import HttpUser, get\n"
        "class V(HttpUser):\n    wait_time = 'soon'\n    tasks = [get('/')]\n",
        "wait_time",
    ),
    "not_callable": (
        "from loadforge import HttpUser\nclass V(HttpUser):\n    tasks = [42]\n",
        "scenario.py:",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_scenario_exits_2_naming_the_place_and_fires_nothing(
    tmp_path: Path, demo: DemoProcess, case: str
) -> None:
    source, expected = BAD_INPUTS[case]
    path = _scenario(tmp_path, source)
    proc = _cli("run", str(path), "-H", demo.http_url, "-u", "1", "-t", "1s", "-q")
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3, proc.stderr  # no 40-line traceback
    assert demo.stats()["http_total"] == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--threshold", "p95 <"], "threshold"),
        (["-t", "soon"], "soon"),
        (["--profile", "nope"], "nope"),
    ],
)
def test_bad_options_exit_2(
    tmp_path: Path, demo: DemoProcess, args: list[str], expected: str
) -> None:
    path = _scenario(
        tmp_path,
        "from loadforge import HttpUser, get\nclass V(HttpUser):\n    tasks = [get('/health')]\n",
    )
    proc = _cli("run", str(path), "-H", demo.http_url, "-u", "1", *args, "-q")
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert demo.stats()["http_total"] == 0


def test_require_target_fails_fast_when_nothing_listens(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path,
        "from loadforge import HttpUser, get\nclass V(HttpUser):\n    tasks = [get('/health')]\n",
    )
    host = f"http://127.0.0.1:{free_port()}"
    proc = _cli("run", str(path), "-H", host, "-u", "1", "-t", "1s", "--require-target", "-q")
    assert proc.returncode == 2
    assert "does not answer" in proc.stderr


def test_iterations_limit_holds_for_python_tasks(tmp_path: Path, demo: DemoProcess) -> None:
    path = _scenario(
        tmp_path,
        """
        from loadforge import HttpUser, constant, task

        class Scripted(HttpUser):
            wait_time = constant(0)

            @task
            async def health(self):
                await self.client.get("/health")
        """,
    )
    started = time.monotonic()
    result = loadforge.run(
        path, host=demo.http_url, users=4, spawn_rate=100, iterations=40, run_time="30s",
        processes=2,
    )  # fmt: skip
    assert time.monotonic() - started < 15, "the run did not end at its iteration limit"
    assert result.total.requests == 40 == demo.stats()["http_total"]
