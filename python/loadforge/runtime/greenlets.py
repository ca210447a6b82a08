"""Synchronous task code on the event loop: each sync user runs in its own greenlet.

Locust users write `self.client.get("/x")` and `time.sleep(1)` in plain `def` tasks.
Here such a user runs in a `UserGreenlet` whose parent is the event loop's greenlet. A
call that would block hands control back to the loop in one of two ways:

- `await_only(awaitable)`: the user's driver (an asyncio task running `run_sync`) awaits
  it and switches back with the result. Sleeps and anything asyncio-shaped go this way.
- parking, for an engine request: the user registers itself as the request's waiter
  (`UserGreenlet` has the `done/set_result/set_exception/cancel` of a future), and the
  dispatcher switches straight back into it when the completion event arrives: no
  future, no task wake-up, no driver step per request, as gevent's hub resumes a
  greenlet. (Measured with benches/python_overhead.py --sync: see benches/README.md.)

So thousands of users share one thread and one loop, a blocking-looking call never blocks
the others, and every request still goes through the engine, which times it at the
socket. (SQLAlchemy's asyncio layer bridges sync code to asyncio the first way.)

    async def run_user():
        return await run_sync(task_body, user)   # task_body may await_only(...)
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet

T = TypeVar("T")

# Handed to the parent by a parked user: "nothing to await; the dispatcher resumes me".
PARKED = object()
# What a relay future carries: the user handed something to await, or it finished.
_AWAIT, _DONE = 0, 1


class NotInUser(RuntimeError):
    """A blocking call was made outside a user's greenlet (for example from `async def`)."""


class UserGreenlet(greenlet):
    """A greenlet running synchronous user code; `driver` awaits on its behalf.

    It doubles as the waiter of the engine request it is parked on (the dispatcher calls
    `set_result` with the response, or `set_exception` / `cancel`).
    """

    def __init__(self, run: Callable[..., Any], driver: greenlet) -> None:
        super().__init__(run, driver)
        self.driver = driver
        # Set by `run_sync` while the user is parked: resolved when it next hands the
        # driver something to await, finishes, or raises while the dispatcher runs it.
        self.relay: asyncio.Future[Any] | None = None

    # The waiter interface the dispatcher uses for a parked request.

    def done(self) -> bool:
        return bool(self.dead)

    def set_result(self, value: Any) -> None:
        resume(self, value)

    def set_exception(self, exc: BaseException) -> None:
        resume(self, exc, throw=True)

    def cancel(self) -> bool:
        if self.dead:
            return False
        resume(self, asyncio.CancelledError(), throw=True)
        return True


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


def resume(user: UserGreenlet, value: Any, *, throw: bool = False) -> None:
    """Continue a parked user with `value` (or raise it there, `throw=True`): the
    dispatcher on its request's completion, or a failure or cancellation of it."""
    if user.dead:
        return
    try:
        handed = user.throw(value) if throw else user.switch(value)
    except BaseException as exc:
        _relay(user, exc=exc)
        return
    if handed is not PARKED:
        _relay(user, handed)


def _relay(user: UserGreenlet, handed: Any = None, exc: BaseException | None = None) -> None:
    # Hand over to the driver what the user did while the dispatcher ran it.
    future, user.relay = user.relay, None
    if future is None or future.done():
        # The driver is gone (cancelled at the stop): drop an awaitable nobody will await.
        if asyncio.iscoroutine(handed):
            handed.close()
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result((_DONE if user.dead else _AWAIT, handed))


async def run_sync(function: Callable[..., T], *args: Any) -> T:
    """Run `function(*args)` in a new `UserGreenlet`, awaiting whatever it hands over.

    An exception raised while awaiting (a failed future, cancellation) is thrown into the
    greenlet where it waits, so the user's code sees it where it waited.
    The greenlet runs in a copy of the caller's context (an open-model iteration's start
    delay is a context variable).
    """
    child = UserGreenlet(function, getcurrent())
    child.gr_context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    handed = child.switch(*args)
    while not child.dead:
        if handed is PARKED:
            relay = child.relay = loop.create_future()
            try:
                kind, handed = await relay
            except asyncio.CancelledError as exc:
                if not relay.done() or relay.cancelled():
                    # Cancelled while parked: the user sees it where it waits.
                    child.relay = None
                    handed = child.throw(exc)
                    continue
                raise
            if kind == _DONE:
                break
            continue
        try:
            value = await handed
        except BaseException as exc:
            handed = child.throw(exc)
        else:
            handed = child.switch(value)
    result: T = handed
    return result
