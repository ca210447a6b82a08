"""`loadforge.run()` / `await loadforge.arun()`: a load test as a function call.

Both go the one path: load and validate the scenario, build the Plan, start a controller,
let workers (local child processes, or remote ones that dial in) run it, merge, evaluate
thresholds, write the reports.

    result = loadforge.run("scenarios/demo.py", users=20, run_time="10s",
                           host="http://127.0.0.1:8000")
    assert result.passed, result.thresholds
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from loadforge.control.channel import ChannelSecurity
from loadforge.control.controller import Controller, ControllerOptions, Outcome, RunBroken
from loadforge.control.hooks import ControllerHooks, options_json
from loadforge.control.local import LocalWorkers
from loadforge.control.loop import new_event_loop
from loadforge.control.security import new_token
from loadforge.preflight import TargetUnreachable, unreachable
from loadforge.result import Result
from loadforge.scenario import PlanOptions, build_plan, load_scenario

__all__ = ["RunBroken", "arun", "run"]


def run(scenario: str | os.PathLike[str] | None = None, **kwargs: Any) -> Result:
    """Run a load test and return its Result (blocking). Keywords as for `arun`."""
    loop = new_event_loop()
    try:
        return loop.run_until_complete(arun(scenario, **kwargs))
    finally:
        loop.close()


async def arun(
    scenario: str | os.PathLike[str] | None = None,
    *,
    classes: Sequence[type] | None = None,
    users: int | None = None,
    spawn_rate: float | None = None,
    run_time: str | float | None = None,
    host: str | None = None,
    processes: int | None = None,
    arrival_rate: float | None = None,
    iterations: int | None = None,
    stages: str | None = None,
    profile: str | None = None,
    thresholds: Sequence[Any] = (),
    tags: Sequence[str] = (),
    exclude_tags: Sequence[str] = (),
    connect_timeout: float | None = None,
    connections: int | None = None,
    tls_insecure: bool = False,
    request_timeout: float | None = None,
    stop_timeout: float | None = None,
    require_target: bool = False,
    json_path: str | None = None,
    csv_prefix: str | None = None,
    csv_full_history: bool = False,
    html_path: str | None = None,
    junit_path: str | None = None,
    live: bool = False,
    console: bool = False,
    bind: str = "127.0.0.1:0",
    expect_workers: int | None = None,
    expect_timeout: float = 60.0,
    token: str | None = None,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    tls_ca: str | None = None,
    insecure: bool = False,
    prometheus: str | None = None,
    exit_code_on_error: int = 1,
    reset_stats: bool = False,
    parsed_options: argparse.Namespace | None = None,
) -> Result:
    """Run a load test; returns a Result. Invalid input raises before anything is fired.

    ``scenario`` is a scenario file; or pass ``classes=[MyUser, ...]`` defined in an
    importable module (a test file). ``processes`` local workers are started (default:
    one per core; 0 = wait for ``expect_workers`` remote workers at ``bind``).
    ``connections`` sets the HTTP/2 (and gRPC) connections per target on each engine
    thread (default 4). ``tls_insecure=True`` accepts any certificate from an ``https://``
    target (self-signed test servers). ``prometheus="HOST:PORT"`` serves the controller's
    current metrics at ``/metrics``.

    Without thresholds the run fails (exit code ``exit_code_on_error``, default 1) when any
    request failed, a task raised or an open-model iteration was dropped, as Locust's
    ``--exit-code-on-error``; a Locust ``quitting`` listener's
    ``environment.process_exit_code`` overrides every rule but a broken run.
    ``reset_stats=True`` drops what was measured while users were still being started.
    ``parsed_options`` is what the scenario sees as ``environment.parsed_options``.
    """
    scen = load_scenario(
        None if scenario is None else os.fspath(scenario),
        host=host,
        tags=tuple(tags),
        exclude_tags=tuple(exclude_tags),
        classes=classes,
    )
    options = PlanOptions(
        users=users,
        spawn_rate=spawn_rate,
        run_time=run_time,
        host=host,
        arrival_rate=arrival_rate,
        iterations=iterations,
        stages=stages,
        profile=profile,
        thresholds=list(thresholds),
        tags=list(tags),
        exclude_tags=list(exclude_tags),
        connect_timeout=connect_timeout,
        connections=connections or 0,
        tls_insecure=tls_insecure,
        request_timeout=request_timeout,
        stop_timeout=stop_timeout,
    )
    plan = build_plan(scen, options)
    if parsed_options is None:
        parsed_options = _namespace(plan, run_time=run_time, spawn_rate=spawn_rate)
    plan.options_json = options_json(parsed_options)
    problems = unreachable(plan)
    if problems and require_target:
        raise TargetUnreachable("target not reachable: " + "; ".join(problems))
    for problem in problems:
        print(f"loadforge: warning: {problem}; running anyway", file=sys.stderr)

    local = (os.cpu_count() or 1) if processes is None else processes
    ctl_options = ControllerOptions(
        bind=bind,
        expect_workers=expect_workers or max(local, 1),
        expect_timeout_s=expect_timeout,
        token=token if token is not None else (new_token() if local else ""),
        security=ChannelSecurity(cert=tls_cert, key=tls_key, ca=tls_ca),
        insecure=insecure,
        stop_timeout_s=plan.engine.stop_timeout_s or 5.0,
    )
    view = _live_view(live)
    shape = scen.shape() if scen.shape is not None else None
    ticks: list[Callable[[Controller], None]] = [view] if view is not None else []
    controller = Controller(plan, ctl_options, on_tick=lambda c: _tick(ticks, c), shape=shape)
    port = await controller.start()
    hooks = ControllerHooks(
        controller,
        distributed=not local,
        host=plan.host or None,
        classes=scen.classes,
        options=parsed_options,
        target_users=_target_users(plan),
        reset_stats=reset_stats,
    )
    ticks.append(lambda _c: hooks.tick())
    try:
        exporter = await _start_exporter(prometheus, controller)
    except BaseException:
        await controller.close()
        raise
    if not local:
        print(
            f"loadforge: controller listening on {bind.rsplit(':', 1)[0]}:{port}", file=sys.stderr
        )
    workers = LocalWorkers(local, f"127.0.0.1:{port}", ctl_options.token)
    outcome: Outcome | None = None
    try:
        with workers, _stop_on_signals(controller):
            workers.start()
            hooks.test_start()
            outcome = await controller.run()
            await controller.close()
            await asyncio.get_running_loop().run_in_executor(None, workers.stop)
    finally:
        if outcome is None:
            await controller.close()
        if exporter is not None:
            await exporter.close()
        if view is not None:
            view.close()
    chosen_code = hooks.finish()
    if outcome.broken and not outcome.stats.total_requests():
        raise RunBroken(outcome.broken)
    result = Result.from_outcome(
        outcome, plan, exit_code_on_error=exit_code_on_error, process_exit_code=chosen_code
    )
    result.write_reports(
        json_path=json_path,
        csv_prefix=csv_prefix,
        csv_full_history=csv_full_history,
        html_path=html_path,
        junit_path=junit_path,
        console=console,
    )
    return result


def _tick(ticks: list[Callable[[Controller], None]], controller: Controller) -> None:
    for tick in ticks:
        tick(controller)


def _target_users(plan: Any) -> int:
    profile = plan.engine.profile
    if profile.HasField("closed"):
        return int(profile.closed.users)
    return 0


def _namespace(plan: Any, **given: Any) -> argparse.Namespace:
    """`environment.parsed_options` for a run started from Python (Locust's names)."""
    return argparse.Namespace(
        host=plan.host or None,
        num_users=_target_users(plan) or None,
        users=_target_users(plan) or None,
        spawn_rate=given.get("spawn_rate"),
        run_time=given.get("run_time"),
        headless=True,
        tags=list(plan.tags) or None,
        exclude_tags=list(plan.exclude_tags) or None,
    )


async def _start_exporter(address: str | None, controller: Controller) -> Any:
    if not address:
        return None
    from loadforge.control.prometheus import MetricsExporter

    exporter = await MetricsExporter.start(address, controller)
    host = address.rsplit(":", 1)[0]
    print(
        f"loadforge: Prometheus metrics on http://{host}:{exporter.port}/metrics", file=sys.stderr
    )
    return exporter


def _live_view(enabled: bool) -> Any:
    if not enabled:
        return None
    from loadforge.report.console import LiveView

    return LiveView()


class _stop_on_signals:
    """Ctrl-C / SIGTERM stop the workers cleanly; the run still ends with a report."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.loop = asyncio.get_running_loop()
        self.installed: list[int] = []

    def __enter__(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self.loop.add_signal_handler(sig, self.controller.request_stop, "interrupted")
                self.installed.append(sig)
            except (RuntimeError, ValueError, NotImplementedError):
                pass  # not the main thread (e.g. inside a test runner's worker thread)

    def __exit__(self, *exc: object) -> None:
        for sig in self.installed:
            self.loop.remove_signal_handler(sig)
