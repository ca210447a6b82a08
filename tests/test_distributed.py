"""Controller and workers as real processes on loopback: exact merges, and what happens when
parts fail (a worker killed, the controller killed, a late worker, a wrong token, another
protocol version)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from loadforge._proto import control_pb2, control_pb2_grpc
from loadforge.testing import DemoProcess

SCENARIO = """
from loadforge import HttpUser, constant, get, post

class Visitor(HttpUser):
    wait_time = constant(0.01)
    tasks = {get("/health"): 3, post("/predict", json={"data": [0.5] * 784}): 1}
"""

LISTENING = re.compile(r"controller listening on [\d.]+:(\d+)")


def _loadforge(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loadforge", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _controller_port(proc: subprocess.Popen[str], timeout_s: float = 20.0) -> int:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if match := LISTENING.search(line):
            return int(match.group(1))
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"controller did not start (exit {proc.poll()})")


class Run:
    """A controller process plus the workers a test starts against it."""

    def __init__(self, tmp: Path, demo: DemoProcess, *controller_args: str) -> None:
        scenario = tmp / "scenario.py"
        scenario.write_text(SCENARIO)
        self.json_path = tmp / "result.json"
        self.token = "s3cret-token"
        self.controller = _loadforge(
            "controller",
            str(scenario),
            "-H",
            demo.http_url,
            "--bind",
            "127.0.0.1:0",
            "--json",
            str(self.json_path),
            "-q",
            "--token",
            self.token,
            *controller_args,
        )
        self.port = _controller_port(self.controller)
        self.workers: list[subprocess.Popen[str]] = []

    def worker(self, name: str, token: str | None = None) -> subprocess.Popen[str]:
        proc = _loadforge(
            "worker",
            "--controller",
            f"127.0.0.1:{self.port}",
            "--id",
            name,
            "--token",
            self.token if token is None else token,
        )
        self.workers.append(proc)
        return proc

    def finish(self, timeout_s: float = 60.0) -> tuple[int, dict[str, object], str]:
        _, err = self.controller.communicate(timeout=timeout_s)
        for w in self.workers:
            w.communicate(timeout=20)
        summary = json.loads(self.json_path.read_text()) if self.json_path.exists() else {}
        return self.controller.returncode, summary, err

    def kill_all(self) -> None:
        for proc in [self.controller, *self.workers]:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


@pytest.fixture
def demo(demo_target: DemoProcess) -> Iterator[DemoProcess]:
    demo_target.reset()
    yield demo_target


@pytest.fixture
def make_run(tmp_path: Path, demo: DemoProcess) -> Iterator[type]:
    runs: list[Run] = []

    def make(*args: str) -> Run:
        run = Run(tmp_path, demo, *args)
        runs.append(run)
        return run

    yield make  # type: ignore[misc]
    for run in runs:
        run.kill_all()


def _served(demo: DemoProcess) -> int:
    return int(demo.stats()["http_total"])


def test_three_workers_merge_exactly_what_the_target_served(make_run, demo) -> None:  # type: ignore[no-untyped-def]
    run = make_run("-u", "9", "-r", "100", "-t", "3s", "--expect-workers", "3")
    for i in range(3):
        run.worker(f"w{i}")
    code, summary, err = run.finish()
    assert code == 0, err
    workers = summary["workers"]
    assert sorted(w["id"] for w in workers) == ["w0", "w1", "w2"]
    assert all(w["requests"] > 0 and not w["lost"] for w in workers)
    total = summary["total"]["requests"]
    assert total == sum(w["requests"] for w in workers)
    assert total == sum(ep["requests"] for ep in summary["endpoints"])
    assert total == _served(demo)
    assert all(w.returncode == 0 for w in run.workers)


def test_worker_killed_mid_run_is_reported_lost_and_the_run_ends_on_time(make_run, demo) -> None:  # type: ignore[no-untyped-def]
    run = make_run("-u", "4", "-r", "100", "-t", "8s", "--expect-workers", "2")
    run.worker("survivor")
    victim = run.worker("victim")
    time.sleep(4)
    victim.send_signal(signal.SIGKILL)
    started = time.monotonic()
    code, summary, err = run.finish()
    assert time.monotonic() - started < 20, "the run did not end on time"
    lost = {w["id"]: w["lost"] for w in summary["workers"]}
    assert lost == {"survivor": False, "victim": True}, err
    # The victim's data up to its last snapshot is kept.
    victim_requests = next(w["requests"] for w in summary["workers"] if w["id"] == "victim")
    assert victim_requests > 0
    # Its users went to the survivor, which kept firing until the end.
    assert summary["total"]["requests"] <= _served(demo)
    assert code == 0, err


def test_workers_stop_firing_when_the_controller_is_killed(make_run, demo) -> None:  # type: ignore[no-untyped-def]
    run = make_run("-u", "4", "-r", "100", "-t", "60s", "--expect-workers", "2")
    workers = [run.worker("a"), run.worker("b")]
    time.sleep(3)
    assert _served(demo) > 0
    run.controller.send_signal(signal.SIGKILL)
    run.controller.wait()
    deadline = time.monotonic() + 15
    for w in workers:
        w.communicate(timeout=max(0.1, deadline - time.monotonic()))
        assert w.returncode == 3
    settled = _served(demo)
    time.sleep(1.5)
    assert _served(demo) == settled, "a worker kept firing without its controller"


def test_late_worker_gets_a_share(make_run, demo) -> None:  # type: ignore[no-untyped-def]
    run = make_run("-u", "6", "-r", "100", "-t", "6s", "--expect-workers", "1")
    run.worker("early")
    time.sleep(2.5)
    run.worker("late")
    code, summary, err = run.finish()
    assert code == 0, err
    by_id = {w["id"]: w["requests"] for w in summary["workers"]}
    assert by_id["early"] > 0 and by_id["late"] > 0
    assert summary["total"]["requests"] == _served(demo)


def test_wrong_token_is_rejected_and_nothing_is_fired(make_run, demo) -> None:  # type: ignore[no-untyped-def]
    run = make_run("-u", "2", "-t", "2s", "--expect-workers", "1", "--expect-timeout", "3")
    intruder = run.worker("intruder", token="wrong")
    _, err = intruder.communicate(timeout=20)
    assert intruder.returncode == 3
    assert "invalid token" in err
    code, _summary, ctl_err = run.finish()
    assert code == 3
    assert "expected 1 worker" in ctl_err
    assert _served(demo) == 0


def test_other_protocol_version_is_refused_with_a_clear_message(make_run) -> None:  # type: ignore[no-untyped-def]
    run = make_run("-u", "1", "-t", "1s", "--expect-timeout", "3")

    def hello() -> Iterator[control_pb2.WorkerMessage]:
        yield control_pb2.WorkerMessage(
            hello=control_pb2.Hello(worker_id="old", protocol_version=99, token=run.token)
        )

    with grpc.insecure_channel(f"127.0.0.1:{run.port}") as channel:
        replies = list(control_pb2_grpc.ControllerStub(channel).Connect(hello(), timeout=10))
    assert [r.WhichOneof("kind") for r in replies] == ["reject"]
    assert "protocol version 99" in replies[0].reject.reason
    assert "same loadforge version" in replies[0].reject.reason


def test_non_loopback_bind_without_token_is_refused(tmp_path: Path) -> None:
    scenario = tmp_path / "s.py"
    scenario.write_text(SCENARIO)
    proc = _loadforge(
        "controller", str(scenario), "-H", "http://127.0.0.1:9", "--bind", "0.0.0.0:0", "-t", "1s"
    )
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "without a token" in err
