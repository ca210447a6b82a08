"""The `@task` and `@tag` decorators, spelled as in Locust."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar, overload

from .errors import ScenarioError
from .requests import RequestSpec

F = TypeVar("F", bound=Callable[..., Any])

# Attribute names set on decorated functions; read by the loader.
WEIGHT_ATTR = "_loadforge_weight"
TAGS_ATTR = "_loadforge_tags"


def check_weight(weight: object, what: str) -> int:
    """Return `weight` as an int >= 1, or raise `ScenarioError` naming `what`."""
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
        raise ScenarioError(f"{what}: weight must be an int >= 1, got {weight!r}")
    return weight


@overload
def task(weight: F) -> F: ...
@overload
def task(weight: int = 1) -> Callable[[F], F]: ...
def task(weight: Any = 1) -> Any:
    """Mark an `async def` method as a task: `@task` (weight 1) or `@task(3)`.

    >>> class Api(HttpUser):
    ...     @task(3)
    ...     async def predict(self):
    ...         await self.client.post("/predict", json={"data": [0.5] * 784})
    """
    if callable(weight):
        setattr(weight, WEIGHT_ATTR, 1)
        return weight
    checked = check_weight(weight, "@task")

    def mark(fn: F) -> F:
        if not callable(fn):
            raise ScenarioError(f"@task({weight}) must decorate a function, got {fn!r}")
        setattr(fn, WEIGHT_ATTR, checked)
        return fn

    return mark


def tag(*tags: str) -> Callable[[Any], Any]:
    """Tag a task so `--tags` / `--exclude-tags` can select it: `@tag("slow")`.

    Works on task functions and on declarative requests: `tag("smoke")(get("/health"))`.
    """
    if not tags or not all(isinstance(t, str) and t for t in tags):
        raise ScenarioError(f"@tag() needs one or more non-empty strings, got {tags!r}")

    def mark(item: Any) -> Any:
        if isinstance(item, RequestSpec):
            return dataclasses.replace(item, tags=item.tags | frozenset(tags))
        if not callable(item):
            raise ScenarioError(f"@tag must decorate a task, got {item!r}")
        setattr(item, TAGS_ATTR, frozenset(getattr(item, TAGS_ATTR, frozenset())) | set(tags))
        return item

    return mark
