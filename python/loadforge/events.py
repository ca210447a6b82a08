"""Run events, spelled as Locust's: `events.request`, `events.test_start`, `events.quitting`...

    from loadforge.events import events

    @events.quitting.add_listener
    def gate(environment, **kwargs):
        if environment.stats.total.fail_ratio > 0.01:
            environment.process_exit_code = 1

Where each fires (a run is a controller plus worker processes, see docs/locust.md):
`init`, `init_command_line_parser`, `test_start`, `test_stop`, `spawning_complete` and
`quitting` in the controller (whose `environment.stats` are the exact merged figures)
and `init`, `test_start`, `test_stop` in every worker; `request` in the worker that sent
the request. A listener that raises is logged and counted, never fatal.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any

log = logging.getLogger("loadforge.events")

Listener = Callable[..., Any]


class EventHook:
    """Listeners of one event: `add_listener(fn)` (also usable as a decorator), `fire(**kw)`."""

    __slots__ = ("handlers", "name")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.handlers: list[Listener] = []

    def add_listener(self, handler: Listener) -> Listener:
        self.handlers.append(handler)
        return handler

    def remove_listener(self, handler: Listener) -> None:
        self.handlers.remove(handler)

    def __iadd__(self, handler: Listener) -> EventHook:
        self.add_listener(handler)
        return self

    def __isub__(self, handler: Listener) -> EventHook:
        self.remove_listener(handler)
        return self

    def fire(self, *, reverse: bool = False, **kwargs: Any) -> None:
        """Call every listener with `kwargs`; one that raises is reported and skipped."""
        handlers = reversed(self.handlers) if reverse else self.handlers
        for handler in list(handlers):
            try:
                handler(**kwargs)
            except Exception as exc:
                where = traceback.extract_tb(exc.__traceback__)[-1]
                key = (self.name, where.filename, where.lineno, type(exc).__name__)
                raised[key] = raised.get(key, 0) + 1
                if raised[key] == 1:  # once per place: a request listener fires per request
                    print(
                        f"loadforge: warning: a listener of events.{self.name} raised "
                        f"{type(exc).__name__}: {exc} ({where.filename}:{where.lineno}); "
                        "the run goes on",
                        file=sys.stderr,
                    )


class RequestHook(EventHook):
    """`events.request`: a scenario's own `fire(...)` (a custom client, as in Locust) is
    recorded in the run's statistics; loadforge's clients record in the engine and only
    `notify` the listeners."""

    __slots__ = ("recorder",)

    def __init__(self, name: str = "request") -> None:
        super().__init__(name)
        self.recorder: Callable[..., None] | None = None

    def fire(self, *, reverse: bool = False, **kwargs: Any) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder(**kwargs)
        super().fire(reverse=reverse, **kwargs)

    def notify(self, **kwargs: Any) -> None:
        """Call the listeners only (the request is already recorded)."""
        super().fire(**kwargs)


# Listener exceptions of this process: (event, file, line, exception type) -> count.
raised: dict[tuple[str, str, int | None, str], int] = {}

EVENT_NAMES = (
    "request",
    "user_error",
    "report_to_master",
    "worker_report",
    "worker_connect",
    "spawning_complete",
    "quitting",
    "quit",
    "init",
    "init_command_line_parser",
    "test_start",
    "test_stopping",
    "test_stop",
    "reset_stats",
    "cpu_warning",
    "heartbeat_sent",
    "heartbeat_received",
    "usage_monitor",
)


class Events:
    """One `EventHook` per event name (Locust's names; see the module docstring for which
    ones loadforge fires)."""

    request: RequestHook
    user_error: EventHook
    report_to_master: EventHook
    worker_report: EventHook
    worker_connect: EventHook
    spawning_complete: EventHook
    quitting: EventHook
    quit: EventHook
    init: EventHook
    init_command_line_parser: EventHook
    test_start: EventHook
    test_stopping: EventHook
    test_stop: EventHook
    reset_stats: EventHook
    cpu_warning: EventHook
    heartbeat_sent: EventHook
    heartbeat_received: EventHook
    usage_monitor: EventHook

    def __init__(self) -> None:
        for name in EVENT_NAMES:
            setattr(self, name, RequestHook() if name == "request" else EventHook(name))


# The process's events: scenario files register their listeners here when they load.
events = Events()


def reset() -> None:
    """Drop every listener (before a scenario file is imported again in this process)."""
    for name in EVENT_NAMES:
        getattr(events, name).handlers.clear()
    raised.clear()
