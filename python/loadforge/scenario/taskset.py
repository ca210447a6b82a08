"""Task sets, as in Locust: a class of tasks (and nested task sets) that a user enters as
one of its tasks and stays in until a task calls `self.interrupt()`.

    class Browse(TaskSet):
        @task(3)
        def page(self):
            self.client.get("/page")

        @task
        def leave(self):
            self.interrupt()

    class Visitor(HttpUser):
        tasks = {Browse: 4, home: 1}

While inside, the user runs the set's tasks by weight (a `SequentialTaskSet`: in the
order written, round and round) with the set's `wait_time` (or the user's) between them;
`on_start` / `on_stop` of the set run on entering and leaving. Tasks may be plain `def`
or `async def`. A user with a task set runs as a synchronous user (its own greenlet, see
`loadforge.runtime.greenlets`). An exception in a task is counted under the task's name
and the set goes on, as in Locust. Declarative requests (`get(...)`) belong on user
classes, not in task sets.
"""

from __future__ import annotations

import inspect
import random
from typing import Any, ClassVar, NoReturn

from .errors import ScenarioError
from .flow import InterruptTaskSet, RescheduleTask, RescheduleTaskImmediately, StopUser
from .task import WEIGHT_ATTR, check_weight

# Set on a user by the runtime: its `UserRuntime` (stop flag, sleep, exception counter).
RUNTIME_ATTR = "_loadforge_runtime"

__all__ = ["RUNTIME_ATTR", "InterruptTaskSet", "SequentialTaskSet", "TaskSet"]


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

    @property
    def environment(self) -> Any:
        """The user's environment (Locust spelling)."""
        return getattr(self.user, "environment", None)

    def interrupt(self, reschedule: bool = True) -> NoReturn:
        """Leave this task set; with `reschedule=False` the parent skips its wait."""
        raise InterruptTaskSet(reschedule)

    def wait(self) -> None:
        """Sleep for this set's wait time now (as Locust's `TaskSet.wait()`)."""
        _runtime(self.user).sleep(_pause(self))

    def on_start(self) -> None:
        """Runs on entering the set (override it; plain or `async def`)."""

    def on_stop(self) -> None:
        """Runs on leaving the set (override it; plain or `async def`)."""


class SequentialTaskSet(TaskSet):
    """A task set whose tasks run in the order they are written, then again from the top."""


def is_task_set(item: Any) -> bool:
    return inspect.isclass(item) and issubclass(item, TaskSet)


def task_set_entries(cls: type[TaskSet]) -> list[tuple[Any, int]]:
    """The set's tasks and weights: `tasks` (dict or list) plus `@task` methods, in the
    order written.

    Raises ScenarioError for a task that is neither a function nor a task set.
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
        elif not callable(item) or inspect.isclass(item):
            what = getattr(item, "__qualname__", None) or (
                f"{item.method} {item.name}" if hasattr(item, "method") else repr(item)
            )
            raise ScenarioError(
                f"task set {cls.__name__}: task {what} must be a function or a TaskSet "
                "(declarative requests belong on the user class)"
            )
    return entries


def runner_for(cls: type[TaskSet]) -> Any:
    """A synchronous task for a user class that runs the task set `cls` (in the user's
    greenlet)."""
    task_set_entries(cls)  # refuse a broken set when the scenario loads

    def run_task_set(user: Any) -> None:
        if not _run(cls, user):
            raise RescheduleTaskImmediately()  # interrupt(reschedule=False): no wait

    run_task_set.__name__ = f"_loadforge_taskset_{cls.__name__}"
    run_task_set.__qualname__ = cls.__qualname__
    return run_task_set


def _runtime(user: Any) -> Any:
    runtime = getattr(user, RUNTIME_ATTR, None)
    if runtime is None:
        raise RuntimeError("task sets run inside a loadforge run")
    return runtime


def _pause(ts: TaskSet) -> float:
    wait = type(ts).wait_time
    if wait is None:
        wait = getattr(ts.user, "wait_time", None)
        return float(wait()) if callable(wait) else 0.0
    # A set's own wait_time: a between()/constant() value, or a method of the set.
    return float(ts.wait_time()) if callable(wait) else float(wait)


def _choices(cls: type[TaskSet]) -> list[Any]:
    return [item for item, weight in task_set_entries(cls) for _ in range(weight)]


def _run(cls: type[TaskSet], parent: Any) -> bool:
    """Run the set until interrupted or the user stops; False: the parent skips its wait."""
    ts = cls(parent)
    runtime = _runtime(ts.user)
    choices = _choices(cls)
    sequential = issubclass(cls, SequentialTaskSet)
    position = 0
    runtime.call(ts.on_start)
    try:
        while not runtime.stopping:
            if sequential:
                item = choices[position % len(choices)]
                position += 1
            else:
                item = random.choice(choices)
            try:
                if is_task_set(item):
                    if not _run(item, ts):
                        continue
                else:
                    runtime.call(item, ts)
            except InterruptTaskSet as exc:
                return exc.reschedule
            except RescheduleTaskImmediately:
                continue
            except RescheduleTask:
                pass
            except StopUser:
                raise
            except Exception as exc:
                runtime.count(getattr(item, "__name__", cls.__name__), exc)
            if not runtime.stopping:
                runtime.sleep(_pause(ts))
        return True
    finally:
        runtime.call(ts.on_stop)
