"""Worker health as the controller sees it: CPU from heartbeats, a warning in the live view
when a worker is saturated, and a worker stopped by its host (SIGTERM) reporting its last
interval before it exits."""

from __future__ import annotations

import asyncio
import io
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest
from distributed_run import SCENARIO, Run, served
from rich.console import Console

from loadforge._proto import control_pb2, control_pb2_grpc
from loadforge.control.controller import Controller, ControllerOptions
from loadforge.control.health import cpu_warning
from loadforge.control.worker import PROTOCOL_VERSION
from loadforge.report.live import LiveView
from loadforge.scenario import PlanOptions, build_plan, load_scenario
from loadforge.testing import DemoProcess


def test_cpu_warning_names_only_saturated_running_workers() -> None:
    workers = [
        SimpleNamespace(id="calm", cores=4, cpu_percent=350.0, status="running"),  # 87.5%
        SimpleNamespace(id="hot", cores=2, cpu_percent=196.0, status="running"),  # 98%
        SimpleNamespace(id="gone", cores=1, cpu_percent=100.0, status="lost"),
    ]
    warning = cpu_warning(workers)
    assert warning.startswith("worker hot at 98% CPU")
    assert "calm" not in warning and "gone" not in warning
    assert cpu_warning(workers[:1]) == ""


async def _fake_worker(port: int, name: str, cpu_percent: float, leave: asyncio.Event) -> list[str]:
    """A worker over a real gRPC stream that reports CPU but fires nothing."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = control_pb2_grpc.ControllerStub(channel).Connect()
        hello = control_pb2.Hello(worker_id=name, cores=2, protocol_version=PROTOCOL_VERSION)
        await call.write(control_pb2.WorkerMessage(hello=hello))
        kinds = [(await call.read()).WhichOneof("kind"), (await call.read()).WhichOneof("kind")]
        beat = control_pb2.Heartbeat(cpu_percent=cpu_percent, unix_ms=int(time.time() * 1000))
        await call.write(control_pb2.WorkerMessage(heartbeat=beat))
        await leave.wait()
        await call.write(control_pb2.WorkerMessage(done=control_pb2.Done()))
        await call.done_writing()
        return kinds


def test_controller_warns_in_the_live_view_when_a_worker_is_saturated(tmp_path: Path) -> None:
    scenario = tmp_path / "s.py"
    scenario.write_text(SCENARIO)
    plan = build_plan(
        load_scenario(str(scenario)),
        PlanOptions(users=2, run_time="30s", host="http://127.0.0.1:9"),
    )
    out = Console(file=io.StringIO(), width=300, force_terminal=False)
    view = LiveView(out, plain_every_s=0.0)

    async def scenario_run() -> tuple[list[list[str]], str]:
        controller = Controller(plan, ControllerOptions(expect_workers=2), on_tick=view)
        port = await controller.start()
        leave = asyncio.Event()
        workers = [
            asyncio.create_task(_fake_worker(port, "busy", 190.0, leave)),
            asyncio.create_task(_fake_worker(port, "idle", 30.0, leave)),
        ]
        run = asyncio.create_task(controller.run())
        deadline = time.monotonic() + 10
        while not controller.cpu_warning and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        warning = controller.cpu_warning
        await asyncio.sleep(1.2)  # one controller tick: the live view prints a line
        leave.set()
        kinds = await asyncio.gather(*workers)
        await asyncio.wait_for(run, 10)
        await controller.close()
        return kinds, warning

    kinds, warning = asyncio.run(scenario_run())
    view.close()
    assert kinds == [["welcome", "plan"], ["welcome", "plan"]]
    assert warning.startswith("worker busy at 95% CPU"), warning
    assert "idle" not in warning
    assert "warning: worker busy at 95% CPU" in out.file.getvalue()  # type: ignore[attr-defined]


@pytest.fixture
def demo(demo_target: DemoProcess) -> Iterator[DemoProcess]:
    demo_target.reset()
    yield demo_target


def test_worker_stopped_by_sigterm_reports_its_last_interval_and_exits_0(
    tmp_path: Path, demo: DemoProcess
) -> None:
    run = Run(tmp_path, demo, "-u", "4", "-r", "100", "-t", "6s", "--expect-workers", "2")
    try:
        run.worker("stays")
        leaving = run.worker("leaves")
        time.sleep(3)
        leaving.send_signal(signal.SIGTERM)
        _, err = leaving.communicate(timeout=10)
        assert leaving.returncode == 0, err
        code, summary, ctl_err = run.finish()
    finally:
        run.kill_all()
    assert code == 0, ctl_err
    by_id = {w["id"]: w for w in summary["workers"]}  # type: ignore[attr-defined]
    assert by_id["leaves"]["requests"] > 0 and not by_id["leaves"]["lost"]
    assert by_id["stays"]["requests"] > by_id["leaves"]["requests"]
    # Its final interval came in with Done: nothing it fired went uncounted.
    assert summary["total"]["requests"] == served(demo)  # type: ignore[index]


def test_worker_stopped_before_the_plan_exits_0_having_fired_nothing(
    tmp_path: Path, demo: DemoProcess
) -> None:
    run = Run(tmp_path, demo, "-u", "2", "-t", "2s", "--expect-workers", "2",
              "--expect-timeout", "4")  # fmt: skip
    try:
        waiting = run.worker("waiting")
        time.sleep(1.5)  # joined; the controller still waits for a second worker
        started = time.monotonic()
        waiting.send_signal(signal.SIGTERM)
        _, err = waiting.communicate(timeout=10)
        assert waiting.returncode == 0, err
        assert time.monotonic() - started < 5
        code, _, _ = run.finish()
    finally:
        run.kill_all()
    assert code == 3  # the second worker never came
    assert served(demo) == 0
