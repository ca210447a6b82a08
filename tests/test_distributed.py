"""Controller and workers as real processes on loopback: exact merges, and what happens when
parts fail (a worker killed, the controller killed, a late worker, a wrong token, another
protocol version)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from distributed_run import SCENARIO, Run, loadforge_process, served

from loadforge._proto import control_pb2, control_pb2_grpc
from loadforge.testing import DemoProcess


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
    assert total == served(demo)
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
    assert summary["total"]["requests"] <= served(demo)
    assert code == 0, err


def test_workers_stop_firing_when_the_controller_is_killed(make_run, demo) -> None:  # type: ignore[no-untyped-def]
    run = make_run("-u", "4", "-r", "100", "-t", "60s", "--expect-workers", "2")
    workers = [run.worker("a"), run.worker("b")]
    time.sleep(3)
    assert served(demo) > 0
    run.controller.send_signal(signal.SIGKILL)
    run.controller.wait()
    deadline = time.monotonic() + 15
    for w in workers:
        w.communicate(timeout=max(0.1, deadline - time.monotonic()))
        assert w.returncode == 3
    settled = served(demo)
    time.sleep(1.5)
    assert served(demo) == settled, "a worker kept firing without its controller"


def test_late_worker_gets_a_share(make_run, demo) -> None:  # type: ignore[no-untyped-def]
    run = make_run("-u", "6", "-r", "100", "-t", "6s", "--expect-workers", "1")
    run.worker("early")
    time.sleep(2.5)
    run.worker("late")
    code, summary, err = run.finish()
    assert code == 0, err
    by_id = {w["id"]: w["requests"] for w in summary["workers"]}
    assert by_id["early"] > 0 and by_id["late"] > 0
    assert summary["total"]["requests"] == served(demo)


def test_wrong_token_is_rejected_and_nothing_is_fired(make_run, demo) -> None:  # type: ignore[no-untyped-def]
    run = make_run("-u", "2", "-t", "2s", "--expect-workers", "1", "--expect-timeout", "3")
    intruder = run.worker("intruder", token="wrong")
    _, err = intruder.communicate(timeout=20)
    assert intruder.returncode == 3
    assert "invalid token" in err
    code, _summary, ctl_err = run.finish()
    assert code == 3
    assert "expected 1 worker" in ctl_err
    assert served(demo) == 0


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
    proc = loadforge_process(
        "controller", str(scenario), "-H", "http://127.0.0.1:9", "--bind", "0.0.0.0:0", "-t", "1s"
    )
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "without a token" in err


def test_frozen_worker_is_lost_after_5s_silence_and_its_load_moves(make_run, demo) -> None:  # type: ignore[no-untyped-def]
    """SIGSTOP keeps the worker's stream open but silent: only heartbeats can tell."""
    run = make_run("-u", "4", "-r", "100", "-t", "12s", "--expect-workers", "2")
    run.worker("steady")
    frozen = run.worker("frozen")
    time.sleep(3)
    frozen.send_signal(signal.SIGSTOP)
    started = time.monotonic()
    time.sleep(7)  # past the 5 s silence limit: the controller has given up on it
    frozen.kill()
    code, summary, err = run.finish()
    assert time.monotonic() - started < 25, "the run did not end on time"
    frozen_entry = next(w for w in summary["workers"] if w["id"] == "frozen")
    assert "silent" in frozen_entry["error"], frozen_entry
    lost = {w["id"]: w["lost"] for w in summary["workers"]}
    assert lost == {"steady": False, "frozen": True}, err
    assert code == 0, err
    # The survivor took over the frozen worker's users: it ran all 4 after the loss.
    late_users = [p["users"] for p in summary["time_series"][-4:-1]]
    assert max(late_users) == 4, summary["time_series"]


def test_workers_stop_firing_when_the_controller_freezes(make_run, demo) -> None:  # type: ignore[no-untyped-def]
    """A controller that is there but silent (SIGSTOP) for 10 s: workers stop by themselves."""
    run = make_run("-u", "2", "-r", "100", "-t", "60s", "--expect-workers", "1")
    worker = run.worker("orphan")
    time.sleep(3)
    run.controller.send_signal(signal.SIGSTOP)
    frozen_at = time.monotonic()
    try:
        _, err = worker.communicate(timeout=25)
        stopped_after = time.monotonic() - frozen_at
    finally:
        run.controller.send_signal(signal.SIGCONT)
    assert worker.returncode == 3
    assert "silent" in err
    assert 9 <= stopped_after <= 16, stopped_after
    settled = served(demo)
    time.sleep(1.5)
    assert served(demo) == settled
