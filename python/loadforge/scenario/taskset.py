"""Task sets, as in Locust, where it stays simple: a class of `async def` tasks (and nested
task sets) that a user enters as one of its tasks and stays in until a task calls
`self.interrupt()`.

    class Browse(TaskSet):
        @task(3)
        async def page(self):
            await self.client.get("/page")

        @task
        async def leave(self):
            self.interrupt()

    class Visitor(HttpUser):
        tasks = {Browse: 4, home: 1}

While inside, the user runs the set's tasks by weight with the set's `wait_time` (or the
user's) between them; `on_start` / `on_stop` of the set run on entering and leaving. Each
request is recorded as usual; an exception in a task of the set leaves the set and is
counted under the set's name, and the user goes on. Declarative requests (`get(...)`)
belong on user classes, not in task sets.
"""

from __future__ import annotations

import asyncio
import inspect
import random
from typing import Any, ClassVar, NoReturn

from .errors import ScenarioError
from .task import WEIGHT_ATTR, check_weight

# Set on a user by the runtime when it must stop: a task set leaves after its current task.
STOPPING_ATTR = "_loadforge_stopping"


class InterruptTaskSet(Exception):
    """Raised by `TaskSet.interrupt()`: back to the parent's tasks."""


class TaskSet:
    """A group of tasks a user runs until one of them calls `interrupt()`.

    `self.user` is the user, `self.parent` the user or the enclosing task set, and
    `self.client` the user's client.
    """

    tasks: ClassVar[Any] = ()
    wait_time: ClassVar[Any] = None  # None: the user's

    def __init__(self, parent: Any) -> None:
        self.parent: Any = parent
        self.user: Any = parent.user if isinstance(parent, TaskSet) else parent

    @property
    def client(self) -> Any:
        """The user's client."""
        return self.user.client

    def interrupt(self, reschedule: bool = True) -> NoReturn:
        """Leave this task set (`reschedule` is accepted for Locust compatibility)."""
        raise InterruptTaskSet()

    async def on_start(self) -> None:
        """Runs on entering the set (override it)."""

    async def on_stop(self) -> None:
        """Runs on leaving the set (override it)."""


def is_task_set(item: Any) -> bool:
    return inspect.isclass(item) and issubclass(item, TaskSet)


def task_set_entries(cls: type[TaskSet]) -> list[tuple[Any, int]]:
    """The set's tasks and weights: `tasks` (dict or list) plus `@task` methods.

    Raises ScenarioError for a task that is neither `async def` nor a task set.
    """
    entries: list[tuple[Any, int]] = []
    declared = cls.tasks
    if isinstance(declared, dict):
        for item, weight in declared.items():
            entries.append((item, check_weight(weight, f"{cls.__name__}.tasks")))
    elif isinstance(declared, list | tuple):
        entries.extend((item, 1) for item in declared)
    else:
        raise ScenarioError(f"{cls.__name__}.tasks must be a dict {{task: weight}} or a list")
    for klass in reversed(cls.__mro__):
        for value in vars(klass).values():
            if hasattr(value, WEIGHT_ATTR):
                entries.append((value, getattr(value, WEIGHT_ATTR)))
    entries = [(item, weight) for item, weight in entries if weight > 0]
    if not entries:
        raise ScenarioError(f"task set {cls.__name__} has no task")
    for item, _ in entries:
        if is_task_set(item):
            task_set_entries(item)
        elif not inspect.iscoroutinefunction(item):
            what = getattr(item, "__qualname__", None) or (
                f"{item.method} {item.name}" if hasattr(item, "method") else repr(item)
            )
            raise ScenarioError(
                f"task set {cls.__name__}: task {what} must be `async def` or a TaskSet "
                "(declarative requests belong on the user class)"
            )
    return entries


def runner_for(cls: type[TaskSet]) -> Any:
    """An `async def` task for a user class that runs the task set `cls`."""
    choices = [item for item, weight in task_set_entries(cls) for _ in range(weight)]

    async def run_task_set(user: Any) -> None:
        await _run(cls, user, choices)

    run_task_set.__name__ = f"_loadforge_taskset_{cls.__name__}"
    run_task_set.__qualname__ = cls.__qualname__
    return run_task_set


async def _run(cls: type[TaskSet], parent: Any, choices: list[Any]) -> None:
    ts = cls(parent)
    user = ts.user
    wait = cls.wait_time if cls.wait_time is not None else getattr(user, "wait_time", None)
    await _maybe_await(ts.on_start())
    try:
        while not getattr(user, STOPPING_ATTR, False):
            item = random.choice(choices)
            try:
                if is_task_set(item):
                    nested = [i for i, w in task_set_entries(item) for _ in range(w)]
                    await _run(item, ts, nested)
                else:
                    await item(ts)
            except InterruptTaskSet:
                return
            pause = float(wait()) if callable(wait) else 0.0
            if pause > 0 and not getattr(user, STOPPING_ATTR, False):
                await asyncio.sleep(pause)
    finally:
        await _maybe_await(ts.on_stop())


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):
        await result
