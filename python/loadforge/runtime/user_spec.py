"""What the runner needs to know about one Python user class, worked out once per class.

The plan's `UserClass` message is the source of truth for task weights, declarative
templates and the wait time (the same plan the engine got); the Python class supplies the
task bodies and hooks.
"""

from __future__ import annotations

import functools
import inspect
import random
from collections.abc import Awaitable, Callable
from typing import Any

from loadforge._proto import plan_pb2

from .greenlets import await_only
from .templates import TemplateRequest

# Above this total weight, choose by bisecting cumulative weights instead of from a list
# with one entry per unit of weight.
MAX_EXPANDED = 1000

TaskRunner = Callable[[], Awaitable[Any]]
# (task name, runner) bound to one user instance.
BoundTask = tuple[str, TaskRunner]
WaitFunction = Callable[[Any, float], float]


class UserSpec:
    """One user class of the plan: its tasks, weights, wait time and hooks."""

    __slots__ = (
        "cls",
        "grpc",
        "host",
        "index",
        "name",
        "no_wait",
        "on_start_templates",
        "on_stop_templates",
        "paced",
        "pool",
        "python_on_start",
        "python_on_stop",
        "sync",
        "tasks",
        "wait",
        "weights",
    )

    def __init__(self, index: int, plan_user: plan_pb2.UserClass, cls: type, host: str) -> None:
        self.index = index
        self.name = plan_user.name
        self.cls = cls
        self.host = getattr(cls, "host", None) or host
        self.grpc = getattr(cls, "protocol", "http") == "grpc"
        # (task name, python method name or template)
        self.tasks: list[tuple[str, str | TemplateRequest]] = []
        self.weights: list[int] = []
        for task in plan_user.tasks:
            if task.weight == 0:
                continue
            if task.WhichOneof("kind") == "python":
                label = task.python.removeprefix("_loadforge_task_")
                self.tasks.append((label, task.python))
            else:
                template = TemplateRequest(task.request)
                self.tasks.append((template.name, template))
            self.weights.append(task.weight)
        if not self.tasks:
            raise ValueError(f"user class {self.name} has no task with a weight above 0")
        self.on_start_templates = [TemplateRequest(t) for t in plan_user.on_start]
        self.on_stop_templates = [TemplateRequest(t) for t in plan_user.on_stop]
        self.python_on_start = plan_user.python_on_start or _has_hook(cls, "on_start")
        self.python_on_stop = plan_user.python_on_stop or _has_hook(cls, "on_stop")
        self.wait, self.no_wait, self.paced = _wait_function(
            plan_user.wait_time if plan_user.HasField("wait_time") else None, cls
        )
        self.sync = is_sync_class(cls, [kind for _, kind in self.tasks if isinstance(kind, str)])
        # Idle instances for open-model iterations (one per iteration in flight).
        self.pool: list[Any] = []

    def bind(self, user: Any, client: Any) -> list[BoundTask]:
        """The task list bound to one user instance, in plan order.

        `client` is the engine's `HttpClient`/`GrpcClient` (declarative templates use it
        whatever session the user's own code sees). A synchronous class's tasks are plain
        callables run in the user's greenlet; its `async def` tasks are awaited from there.
        """
        bound: list[BoundTask] = []
        for name, kind in self.tasks:
            if isinstance(kind, TemplateRequest):
                run: Any = functools.partial(kind.run, client)
                bound.append((name, _blocking(run) if self.sync else run))
            elif self.sync:
                bound.append((name, _bind_sync_task(user, kind)))
            else:
                bound.append((name, _bind_python_task(user, kind)))
        return bound

    def picker(self, bound: list[BoundTask], rng: random.Random) -> Callable[[], BoundTask]:
        """A function choosing the next task by weight."""
        if len(bound) == 1:
            only = bound[0]
            return lambda: only
        total = sum(self.weights)
        if total <= MAX_EXPANDED:
            expanded = [
                task
                for task, weight in zip(bound, self.weights, strict=True)
                for _ in range(weight)
            ]
            return functools.partial(rng.choice, expanded)
        cumulative: list[int] = []
        running = 0
        for weight in self.weights:
            running += weight
            cumulative.append(running)
        choices = rng.choices
        return lambda: choices(bound, cum_weights=cumulative)[0]


def _has_hook(cls: type, name: str) -> bool:
    return callable(getattr(cls, name, None))


# Set on a class whose users always run synchronously (Locust's user classes): their
# `self.client` is the blocking, requests-like session even when every task is async.
SYNC_CLASS_ATTR = "_loadforge_sync"


def is_sync_class(cls: type, task_names: list[str]) -> bool:
    """Whether users of `cls` run in greenlets: a Locust class, or any plain `def` task
    or hook (task sets count as plain: they run in the user's greenlet)."""
    if getattr(cls, SYNC_CLASS_ATTR, False):
        return True
    for name in task_names:
        method = getattr(cls, name, None)
        if method is not None and not inspect.iscoroutinefunction(method):
            return True
    for hook in ("on_start", "on_stop"):
        method = getattr(cls, hook, None)
        if callable(method) and not inspect.iscoroutinefunction(method):
            return True
    return False


def _blocking(run: Callable[[], Awaitable[Any]]) -> Callable[[], Any]:
    return lambda: await_only(run())


def _bind_sync_task(user: Any, name: str) -> Callable[[], Any]:
    method = getattr(user, name, None)
    if method is None:
        raise ValueError(f"user class {type(user).__name__} has no task named {name!r}")
    if inspect.iscoroutinefunction(method):
        return _blocking(method)
    return method


def _bind_python_task(user: Any, name: str) -> TaskRunner:
    # The plan names every Python task by an attribute of the class (the scenario loader
    # attaches module-level task functions as methods).
    method = getattr(user, name, None)
    if method is None:
        raise ValueError(f"user class {type(user).__name__} has no task named {name!r}")
    if inspect.iscoroutinefunction(method):
        return method
    return _as_async(method)


def _as_async(function: Callable[[], Any]) -> TaskRunner:
    # A plain function (or partial of a coroutine function) still runs as an awaitable.
    async def run() -> Any:
        result = function()
        if inspect.isawaitable(result):
            return await result
        return result

    return run


def _wait_function(wait: plan_pb2.WaitTime | None, cls: type) -> tuple[WaitFunction, bool, bool]:
    """(wait(user, task_seconds) -> seconds, never waits, paced)."""
    if wait is None:
        if callable(getattr(cls, "wait_time", None)):
            # A custom wait_time the plan could not express: ask the user each time.
            return (lambda user, _took: float(user.wait_time())), False, False
        return (lambda _user, _took: 0.0), True, False
    kind = wait.WhichOneof("kind")
    if kind == "constant_s":
        seconds = wait.constant_s
        return (lambda _user, _took: seconds), seconds <= 0, False
    if kind == "between":
        low, high = wait.between.min_s, wait.between.max_s
        uniform = random.uniform
        return (lambda _user, _took: uniform(low, high)), high <= 0, False
    if kind == "pacing_s" or kind == "throughput":
        period = wait.pacing_s if kind == "pacing_s" else 1.0 / wait.throughput
        return (lambda _user, took: period - took), period <= 0, True
    return (lambda _user, _took: 0.0), True, False
