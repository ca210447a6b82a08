"""Resolve a user class into a validated `UserSpec`: tasks, weights, wait time, hooks.

The loader calls `resolve_user` for every class; each problem becomes a `ScenarioError`
pointing at the line that caused it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInput, ScenarioError
from .hosts import check_host
from .locate import attr_location, class_location
from .requests import RequestSpec
from .task import TAGS_ATTR, WEIGHT_ATTR, check_weight
from .taskset import is_task_set, runner_for
from .user import PROTOCOL_GRPC, User
from .wait import Constant, WaitTime


@dataclass(frozen=True)
class TaskSpec:
    """One weighted task: a declarative request or the name of a Python task method
    (`def` or `async def`)."""

    weight: int
    request: RequestSpec | None = None
    python: str | None = None
    tags: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        return self.python or (self.request.endpoint if self.request else "?")


@dataclass
class UserSpec:
    """A validated user class, ready for the plan builder and the Python runtime."""

    name: str
    cls: type[User]
    weight: int
    fixed_count: int
    wait_time: WaitTime
    tasks: list[TaskSpec]
    host: str | None
    protocol: str
    on_start: list[RequestSpec] = field(default_factory=list)
    on_stop: list[RequestSpec] = field(default_factory=list)
    python_on_start: bool = False
    python_on_stop: bool = False
    # Every HTTP request of the class goes over HTTP/2 (`http2 = True` on the class).
    http2: bool = False
    # `wait_time` is a function the plan cannot express: the Python runtime calls it.
    custom_wait: bool = False

    @property
    def python(self) -> bool:
        """True when the worker's event loop must run this user (any Python code in it)."""
        return (
            self.python_on_start
            or self.python_on_stop
            or self.custom_wait
            or any(t.python is not None for t in self.tasks)
        )


def _fail(cls: type, attr: str | None, message: str) -> ScenarioError:
    file, line = attr_location(cls, attr) if attr else class_location(cls)
    return ScenarioError(message, file=file, line=line)


def _describe(item: Any) -> str:
    return getattr(item, "__qualname__", None) or repr(item)


def _python_task(cls: type, fn: Any, attr: str) -> str:
    """The name the runtime calls the task by (`getattr(user, name)()`)."""
    if is_task_set(fn):
        try:
            runner = runner_for(fn)
        except ScenarioError as exc:
            raise _fail(cls, attr, f"{cls.__name__}: {exc.message}") from None
        if getattr(cls, runner.__name__, None) is None:
            setattr(cls, runner.__name__, runner)
        return runner.__name__
    if inspect.isclass(fn):
        raise _fail(
            cls,
            attr,
            f"{cls.__name__}: task {fn.__name__} is a class, not a TaskSet; put tasks "
            "on the user class or in a TaskSet",
        )
    if not callable(fn):
        raise _fail(cls, attr, f"{cls.__name__}: task {fn!r} is not callable")
    name = getattr(fn, "__name__", "task")
    if getattr(cls, name, None) is not fn and inspect.getattr_static(cls, name, None) is not fn:
        # A module-level function listed in `tasks`: attach it so the runtime finds it
        # as a method (called with the user as its argument, as in Locust).
        name = f"_loadforge_task_{name}"
        setattr(cls, name, fn)
    return name


def _task_entries(cls: type[User]) -> list[tuple[Any, int]]:
    entries: list[tuple[Any, int]] = []
    declared = cls.tasks
    if isinstance(declared, dict):
        for item, weight in declared.items():
            entries.append((item, check_weight(weight, f"{cls.__name__}.tasks[{_describe(item)}]")))
    elif isinstance(declared, list | tuple):
        for item in declared:
            entries.append((item, 1))
    elif declared is not None:
        raise ScenarioError(f"{cls.__name__}.tasks must be a dict {{task: weight}} or a list")
    return entries


def _decorated(cls: type) -> dict[str, tuple[Any, int]]:
    found: dict[str, tuple[Any, int]] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if hasattr(value, WEIGHT_ATTR):
                found[name] = (value, getattr(value, WEIGHT_ATTR))
            elif name in found:  # overridden without @task
                del found[name]
    return found


def _merge(tasks: Iterable[TaskSpec]) -> list[TaskSpec]:
    """Join repeated entries (a list naming a task twice means weight 2)."""
    merged: dict[tuple[Any, ...], TaskSpec] = {}
    for t in tasks:
        key = (t.python, t.request)
        if key in merged:
            old = merged[key]
            merged[key] = TaskSpec(old.weight + t.weight, t.request, t.python, t.tags)
        else:
            merged[key] = t
    return list(merged.values())


def collect_tasks(cls: type[User]) -> list[TaskSpec]:
    """All tasks of a class: its `tasks` attribute plus `@task` methods (inherited too)."""
    tasks: list[TaskSpec] = []
    try:
        entries = _task_entries(cls)
    except ScenarioError as exc:
        raise exc.located(*attr_location(cls, "tasks")) from None
    for item, weight in entries:
        if isinstance(item, RequestSpec):
            tasks.append(TaskSpec(weight, request=item, tags=item.tags))
        else:
            name = _python_task(cls, item, "tasks")
            tags = frozenset(getattr(item, TAGS_ATTR, frozenset()))
            tasks.append(TaskSpec(weight, python=name, tags=tags))
    for name, (fn, weight) in _decorated(cls).items():
        _python_task(cls, fn, name)
        tasks.append(TaskSpec(weight, python=name, tags=frozenset(getattr(fn, TAGS_ATTR, ()))))
    return _merge(tasks)


def _hook(cls: type, attr: str) -> tuple[list[RequestSpec], bool]:
    value = getattr(cls, attr, None)
    if value is None:
        return [], False
    if isinstance(value, RequestSpec):
        return [value], False
    if isinstance(value, list | tuple):
        bad = [v for v in value if not isinstance(v, RequestSpec)]
        if bad:
            raise _fail(
                cls,
                attr,
                f"{cls.__name__}.{attr}: list items must be requests like "
                f"post('/login', ...), got {bad[0]!r}",
            )
        return list(value), False
    if callable(value):
        return [], True  # a method, plain or `async def`
    raise _fail(cls, attr, f"{cls.__name__}.{attr} must be a method or a list of requests")


def _wait_time(cls: type[User]) -> WaitTime | None:
    """The class's wait time; None for a function the Python runtime calls each time."""
    value = cls.wait_time
    if isinstance(value, WaitTime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return Constant(float(value))
    if callable(value) and not inspect.isclass(value):
        return None  # any callable, as in Locust: `def wait_time(self): return 0.5`
    raise _fail(
        cls,
        "wait_time",
        f"{cls.__name__}.wait_time must be between(a, b), constant(s), "
        f"constant_pacing(s), constant_throughput(x) or a function, got {value!r}",
    )


def _keep(task: TaskSpec, tags: frozenset[str], exclude: frozenset[str]) -> bool:
    if tags and not task.tags & tags:
        return False
    return not task.tags & exclude


def resolve_user(
    cls: type[User], *, tags: Iterable[str] = (), exclude_tags: Iterable[str] = ()
) -> UserSpec:
    """Validate a user class; tasks not matching the tag filters are left out."""
    weight = cls.weight
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
        raise _fail(cls, "weight", f"{cls.__name__}.weight must be an int >= 1, got {weight!r}")
    fixed = cls.fixed_count
    if isinstance(fixed, bool) or not isinstance(fixed, int) or fixed < 0:
        raise _fail(
            cls, "fixed_count", f"{cls.__name__}.fixed_count must be an int >= 0, got {fixed!r}"
        )
    host = None
    if cls.host is not None:
        try:
            host = check_host(cls.host, f"{cls.__name__}.host")
        except InvalidInput as exc:
            raise _fail(cls, "host", str(exc)) from None
    http2 = cls.http2
    if not isinstance(http2, bool):
        raise _fail(cls, "http2", f"{cls.__name__}.http2 must be True or False, got {http2!r}")
    if http2 and cls.protocol == PROTOCOL_GRPC:
        raise _fail(cls, "http2", f"{cls.__name__}: a GrpcUser always speaks HTTP/2; drop http2")
    wait = _wait_time(cls)
    tasks = collect_tasks(cls)
    if not tasks:
        raise _fail(cls, None, f"{cls.__name__} has no tasks (use @task or tasks = {{...}})")
    for t in tasks:
        grpc = t.request is not None and t.request.method == "GRPC"
        if t.request is not None and grpc != (cls.protocol == PROTOCOL_GRPC):
            kind = "GrpcUser needs unary(...)" if not grpc else "unary() needs a GrpcUser"
            raise _fail(cls, "tasks", f"{cls.__name__}: {kind} ({t.label})")
    on_start, py_start = _hook(cls, "on_start")
    on_stop, py_stop = _hook(cls, "on_stop")
    wanted, excluded = frozenset(tags), frozenset(exclude_tags)
    return UserSpec(
        name=cls.__name__,
        cls=cls,
        weight=weight,
        fixed_count=fixed,
        wait_time=wait if wait is not None else Constant(0.0),
        tasks=[t for t in tasks if _keep(t, wanted, excluded)],
        host=host,
        protocol=cls.protocol,
        on_start=on_start,
        on_stop=on_stop,
        python_on_start=py_start,
        python_on_stop=py_stop,
        http2=http2,
        custom_wait=wait is None,
    )
