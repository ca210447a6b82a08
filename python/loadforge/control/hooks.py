"""Locust's events and `environment` at the two ends of a run.

The controller fires `init`, `test_start`, `spawning_complete`, `test_stop` and
`quitting` with an environment whose `stats` are the controller's merged statistics and
whose `runner.quit()` stops the run; a `quitting` listener's
`environment.process_exit_code` becomes the run's exit code. Each worker fires `init`,
`test_start` and `test_stop` with a `WorkerRunner` whose `quit()` asks the controller to
end the run. Listeners register at import; without any, all of this costs nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from typing import Any

from loadforge import environment as _environment
from loadforge.events import events
from loadforge.stats import RunStats


def parsed_options(options_json: str) -> argparse.Namespace:
    """The Namespace shipped in the plan (`Plan.options_json`)."""
    values = json.loads(options_json) if options_json else {}
    return argparse.Namespace(**values)


def options_json(namespace: argparse.Namespace | None) -> str:
    """`namespace` as the plan carries it (JSON-representable values only)."""
    if namespace is None:
        return ""
    out: dict[str, Any] = {}
    for key, value in vars(namespace).items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            value = str(value)
        out[key] = value
    return json.dumps(out, sort_keys=True)


class ControllerHooks:
    """Events of the controller process for one run."""

    def __init__(
        self,
        controller: Any,
        *,
        distributed: bool,
        host: str | None,
        classes: list[type],
        options: argparse.Namespace,
        target_users: int,
        reset_stats: bool = False,
    ) -> None:
        self.controller = controller
        self.env = env = _environment.current()
        env.host = host
        env.user_classes = list(classes)
        env.parsed_options = options
        loop = asyncio.get_running_loop()

        def quit_run(reason: str) -> None:
            loop.call_soon_threadsafe(controller.request_stop, reason)

        runner = _environment.MasterRunner if distributed else _environment.LocalRunner
        env.attach(
            runner,
            stats=lambda: controller.stats,
            duration=lambda: controller.stats.measured_s or controller.elapsed,
            users=lambda: controller.stats.users,
            workers=lambda: len(controller._active()),
            quit=quit_run,
        )
        self.target_users = target_users
        self.reset_stats = reset_stats
        env.reset_stats = reset_stats
        self._spawned = False
        events.init.fire(environment=env, runner=env.runner, web_ui=None)

    def test_start(self) -> None:
        assert self.env.runner is not None
        self.env.runner.state = _environment.STATE_SPAWNING
        events.test_start.fire(environment=self.env)

    def tick(self) -> None:
        """Once a second: `spawning_complete` when every user runs."""
        runner = self.env.runner
        if self._spawned or runner is None:
            return
        users = self.controller.stats.users
        if self.target_users and users >= self.target_users:
            self._spawned = True
            runner.state = _environment.STATE_RUNNING
            if self.reset_stats:
                # Locust's --reset-stats: what the ramp-up measured is left out.
                self.controller.stats = RunStats()
                events.reset_stats.fire()
            events.spawning_complete.fire(user_count=users)

    def finish(self) -> int | None:
        """`test_stop` and `quitting`; the exit code a listener chose (or None)."""
        runner = self.env.runner
        if runner is not None:
            runner.state = _environment.STATE_STOPPING
        events.test_stopping.fire(environment=self.env)
        events.test_stop.fire(environment=self.env)
        if runner is not None:
            runner.state = _environment.STATE_STOPPED
        events.quitting.fire(environment=self.env, reverse=True)
        return self.env.process_exit_code


class WorkerHooks:
    """Events of a worker process; `request_stop(reason)` reaches the controller."""

    def __init__(self, options_json: str, host: str, request_stop: Callable[[str], None]) -> None:
        self.env = env = _environment.current()
        env.host = host or None
        env.parsed_options = parsed_options(options_json)
        env.attach(_environment.WorkerRunner, quit=request_stop)
        events.init.fire(environment=env, runner=env.runner, web_ui=None)

    def test_start(self) -> None:
        assert self.env.runner is not None
        self.env.runner.state = _environment.STATE_RUNNING
        events.test_start.fire(environment=self.env)

    def test_stop(self) -> None:
        assert self.env.runner is not None
        self.env.runner.state = _environment.STATE_STOPPED
        events.test_stopping.fire(environment=self.env)
        events.test_stop.fire(environment=self.env)
