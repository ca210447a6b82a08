"""The process's `Environment`, as Locust's: what event listeners and users see of the run.

    @events.quitting.add_listener
    def gate(environment, **kwargs):
        if environment.stats.total.fail_ratio > 0.01:
            environment.process_exit_code = 1

`environment.stats` reads the run's merged HDR statistics: in the controller (where
`init`, `test_start`, `test_stop` and `quitting` fire) they are exact for the whole run,
every worker included. In a worker they are empty: its numbers go to the controller.
`environment.runner` is a `LocalRunner` under `loadforge run`, a `MasterRunner` under
`loadforge controller`, and a `WorkerRunner` in a worker; `runner.quit()` ends the run.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from typing import Any

from loadforge.events import Events, events
from loadforge.stats import EndpointStats, RunStats

STATE_INIT, STATE_SPAWNING, STATE_RUNNING = "ready", "spawning", "running"
STATE_CLEANUP, STATE_STOPPING, STATE_STOPPED, STATE_MISSING = (
    "cleanup",
    "stopping",
    "stopped",
    "missing",
)


class StatsEntry:
    """Locust's `StatsEntry` over one endpoint's exact merged figures (times in ms)."""

    def __init__(self, stats: EndpointStats, duration: Callable[[], float]) -> None:
        self._stats = stats
        self._duration = duration

    name = property(lambda self: self._stats.name)
    method = property(lambda self: self._stats.method or None)
    num_requests = property(lambda self: self._stats.requests)
    num_failures = property(lambda self: self._stats.failures)
    num_none_requests = property(lambda self: 0)
    total_content_length = property(lambda self: self._stats.bytes_received)
    fail_ratio = property(lambda self: self._stats.fail_ratio)
    avg_response_time = property(lambda self: self._stats.mean_ms)
    min_response_time = property(lambda self: self._stats.min_ms if self._stats.requests else None)
    max_response_time = property(lambda self: self._stats.max_ms)
    median_response_time = property(lambda self: self._stats.percentile_ms(50))
    avg_content_length = property(lambda self: self._stats.avg_content_size)

    @property
    def total_rps(self) -> float:
        seconds = self._duration()
        return self._stats.requests / seconds if seconds > 0 else 0.0

    @property
    def total_fail_per_sec(self) -> float:
        seconds = self._duration()
        return self._stats.failures / seconds if seconds > 0 else 0.0

    current_rps = total_rps
    current_fail_per_sec = total_fail_per_sec

    def get_response_time_percentile(self, percent: float) -> float:
        """Response time (ms) at `percent` (0..1, as Locust: 0.95 is p95)."""
        return self._stats.percentile_ms(percent * 100.0)

    get_current_response_time_percentile = get_response_time_percentile

    def __repr__(self) -> str:
        return f"<StatsEntry {self.method} {self.name} requests={self.num_requests}>"


class RequestStats:
    """Locust's `environment.stats`: `total`, `get(name, method)`, `entries`, `errors`."""

    def __init__(self, source: Callable[[], RunStats], duration: Callable[[], float]) -> None:
        self._source = source
        self._duration = duration

    @property
    def total(self) -> StatsEntry:
        return StatsEntry(self._source().total, self._duration)

    @property
    def entries(self) -> dict[tuple[str, str], StatsEntry]:
        return {
            (ep.name, ep.method): StatsEntry(ep, self._duration)
            for ep in self._source().endpoints.values()
        }

    def get(self, name: str, method: str) -> StatsEntry:
        found = self._source().endpoints.get((method, name))
        return StatsEntry(found or EndpointStats(method, name), self._duration)

    @property
    def errors(self) -> dict[tuple[str, str, str], Any]:
        out: dict[tuple[str, str, str], Any] = {}
        for ep in self._source().endpoints.values():
            for key, entry in ep.errors.items():
                out[(ep.method, ep.name, key)] = entry
        return out

    num_requests = property(lambda self: self._source().total.requests)
    num_failures = property(lambda self: self._source().total.failures)

    def reset_all(self) -> None:
        """Not available: loadforge's statistics cover the whole run (use --reset-stats)."""


class Runner:
    """Locust's `environment.runner`: its state, user count and `quit()`."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.state = STATE_INIT
        self._quit: Callable[[str], None] | None = None

    @property
    def stats(self) -> RequestStats:
        return self.environment.stats

    @property
    def user_count(self) -> int:
        return self.environment._users()

    def quit(self) -> None:
        """End the run now (the report is still written)."""
        if self._quit is not None:
            self._quit("runner.quit() called by the scenario")

    def stop(self) -> None:
        """Same as `quit()`: a loadforge run cannot be restarted in place."""
        self.quit()


class LocalRunner(Runner):
    """The runner of `loadforge run`'s controller."""


class MasterRunner(Runner):
    """The runner of `loadforge controller`."""

    @property
    def worker_count(self) -> int:
        return self.environment._workers()


class WorkerRunner(Runner):
    """The runner of a worker process."""


class Environment:
    """What listeners and users get as `environment` (one per process)."""

    def __init__(self, **settings: Any) -> None:
        # Locust's keyword arguments are accepted (a file may build one at import);
        # loadforge's run uses the process's own environment (`current()`).
        self.events: Events = events
        self.runner: Runner | None = None
        self.parsed_options: argparse.Namespace = argparse.Namespace()
        self.host: str | None = None
        self.user_classes: list[type] = []
        self.shape_class: Any = None
        self.tags: list[str] | None = None
        self.exclude_tags: list[str] | None = None
        self.process_exit_code: int | None = None
        self.catch_exceptions = True
        self.web_ui = None
        self.reset_stats = False
        empty = RunStats()
        self._run_stats: Callable[[], RunStats] = lambda: empty
        self._duration: Callable[[], float] = lambda: 0.0
        self._users: Callable[[], int] = lambda: 0
        self._workers: Callable[[], int] = lambda: 0
        self.stats = RequestStats(lambda: self._run_stats(), lambda: self._duration())
        for key in ("host", "user_classes", "shape_class", "tags", "exclude_tags"):
            if key in settings:
                setattr(self, key, settings[key])
        if "parsed_options" in settings and settings["parsed_options"] is not None:
            self.parsed_options = settings["parsed_options"]

    def attach(
        self,
        runner: type[Runner],
        *,
        stats: Callable[[], RunStats] | None = None,
        duration: Callable[[], float] | None = None,
        users: Callable[[], int] | None = None,
        workers: Callable[[], int] | None = None,
        quit: Callable[[str], None] | None = None,
    ) -> Runner:
        """Bind this process's run to the environment (the controller or a worker)."""
        self.runner = runner(self)
        self.runner._quit = quit
        if stats is None:
            empty = RunStats()
            self._run_stats = lambda: empty
        else:
            self._run_stats = stats
        self._duration = duration or (lambda: 0.0)
        self._users = users or (lambda: 0)
        self._workers = workers or (lambda: 0)
        self.process_exit_code = None
        return self.runner


_current: Environment | None = None
_lock = threading.Lock()


def current() -> Environment:
    """This process's environment."""
    global _current
    with _lock:
        if _current is None:
            _current = Environment()
        return _current
