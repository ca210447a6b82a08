"""Synchronous task code on the event loop: each sync user runs in its own greenlet.

Locust users write `self.client.get("/x")` and `time.sleep(1)` in plain `def` tasks.
Here such a user runs in a `UserGreenlet` whose parent is the event loop's greenlet. A
call that would block (a request, a sleep) hands an awaitable to the parent with
`await_only`; the parent's asyncio task awaits it and switches back with the result. So
thousands of users share one thread and one loop, a blocking-looking call never blocks
the others, and every request still goes through the engine, which times it at the
socket. (SQLAlchemy's asyncio layer bridges sync code to asyncio the same way.)

    async def run_user():
        return await run_sync(task_body, user)   # task_body may call await_only(...)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet

T = TypeVar("T")


class NotInUser(RuntimeError):
    """A blocking call was made outside a user's greenlet (for example from `async def`)."""


class UserGreenlet(greenlet):  # type: ignore[misc]
    """A greenlet running synchronous user code; `driver` awaits on its behalf."""

    def __init__(self, run: Callable[..., Any], driver: greenlet) -> None:
        super().__init__(run, driver)
        self.driver = driver


def in_user() -> bool:
    """True when the caller runs inside a user's greenlet (so it may block)."""
    return type(getcurrent()) is UserGreenlet


def await_only(awaitable: Awaitable[T]) -> T:
    """Wait for `awaitable` from synchronous user code; other users run meanwhile."""
    current = getcurrent()
    if type(current) is not UserGreenlet:
        raise NotInUser(
            "a blocking call outside a synchronous task; in `async def` code use `await`"
        )
    result: T = current.driver.switch(awaitable)
    return result


async def run_sync(function: Callable[..., T], *args: Any) -> T:
    """Run `function(*args)` in a new `UserGreenlet`, awaiting whatever it hands over.

    An exception raised while awaiting (a failed future, cancellation) is thrown into the
    greenlet at its `await_only` call, so the user's code sees it where it waited.
    """
    child = UserGreenlet(function, getcurrent())
    handed = child.switch(*args)
    while not child.dead:
        try:
            value = await handed
        except BaseException as exc:
            handed = child.throw(exc)
        else:
            handed = child.switch(value)
    result: T = handed
    return result
