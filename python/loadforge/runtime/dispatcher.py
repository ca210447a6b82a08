"""The bridge between the engine's event queue and the asyncio event loop.

The engine makes `event_fd()` readable when its queue goes from empty to non-empty; the
loop wakes the `Dispatcher` once, which drains every waiting event with one
`take_events()` call. So a burst of completions costs one wake-up, never one per request.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any

from .greenlets import UserGreenlet, resume

log = logging.getLogger(__name__)

EVENT_COMPLETED = 0
EVENT_START_USER = 1
EVENT_STOP_USER = 2
EVENT_ITERATION = 3
EVENT_MESSAGES = 4
EVENT_STREAM_END = 5

# What a pending request waits with: its future, the response class to build, and the
# method and URL the response reports.
Pending = tuple[asyncio.Future[Any], Callable[..., Any], str, str]


class Dispatcher:
    """Resolves request futures and hands user events to the runner, one batch per wake-up.

    `on_start_user(user_id, class_index)`, `on_stop_user(user_id)` and
    `on_iteration(iteration_id, class_index, start_delay_us)` are called from the loop.
    """

    __slots__ = (
        "_call_soon",
        "_fd",
        "_on_iteration",
        "_on_start_user",
        "_on_stop_user",
        "_take_events",
        "engine",
        "loop",
        "next_token",
        "outbox",
        "pending",
        "streams",
        "wakeups",
    )

    def __init__(
        self,
        engine: Any,
        loop: asyncio.AbstractEventLoop,
        *,
        on_start_user: Callable[[int, int], None],
        on_stop_user: Callable[[int], None],
        on_iteration: Callable[[int, int, int], None],
    ) -> None:
        self.engine = engine
        self.loop = loop
        self.pending: dict[int, Pending] = {}
        # Open streaming gRPC calls by token (GrpcStream: feed/finish/abort).
        self.streams: dict[int, Any] = {}
        # Requests queued by `submit_later` (or appended by clients, which then call
        # `flush_soon` for the first), handed to the engine together by `flush`.
        self.outbox: list[tuple[Any, ...]] = []
        # Tokens only need to be unique among requests in flight of this engine.
        self.next_token: Callable[[], int] = itertools.count(1).__next__
        # Batches handled so far; the runner compares it to see whether a task yielded.
        self.wakeups = 0
        self._take_events = engine.take_events
        self._call_soon = loop.call_soon
        self._on_start_user = on_start_user
        self._on_stop_user = on_stop_user
        self._on_iteration = on_iteration
        self._fd: int | None = None

    def attach(self) -> None:
        """Start watching the engine's event fd on this loop."""
        if self._fd is None:
            self._fd = self.engine.event_fd()
            self.loop.add_reader(self._fd, self.drain)

    def detach(self) -> None:
        """Stop watching the fd and cancel every request still waiting."""
        if self._fd is not None:
            self.loop.remove_reader(self._fd)
            self._fd = None
        self.outbox.clear()
        # The same dict object stays: clients hold a reference to it.
        waiting = list(self.pending.values())
        self.pending.clear()
        for future, _, _, _ in waiting:
            future.cancel()
        streams = self.streams
        self.streams = {}
        for stream in streams.values():
            stream.abort()

    def submit_later(self, item: tuple[Any, ...]) -> None:
        """Queue a request (`Engine.submit_batch` item) for the end of this loop iteration.

        Every task that runs in one iteration adds its request, and the engine gets them
        in one call that wakes each runtime thread once: on a busy core that is the
        difference between one context switch per request and one per burst.
        """
        outbox = self.outbox
        outbox.append(item)
        if len(outbox) == 1:
            self._call_soon(self.flush)

    def flush_soon(self) -> None:
        """Call `flush` at the end of this loop iteration (after the first item is queued)."""
        self._call_soon(self.flush)

    def flush(self) -> None:
        """Hand the queued requests to the engine; a request it refuses fails its task."""
        outbox = self.outbox
        if not outbox:
            return
        # The same list object stays: clients append to it directly.
        items = outbox.copy()
        outbox.clear()
        try:
            errors = self.engine.submit_batch(items)
        except Exception as exc:
            errors = [(i, exc) for i in range(len(items))]
        for index, error in errors:
            waiter = self.pending.pop(items[index][0], None)
            if waiter is not None and not waiter[0].done():
                if not isinstance(error, BaseException):
                    from loadforge._core import PlanError

                    error = PlanError(error)
                waiter[0].set_exception(error)

    def drain(self) -> None:
        """Handle every event waiting in the engine (called by the loop when the fd is ready)."""
        self.wakeups += 1
        events = self._take_events()
        pending = self.pending
        pop = pending.pop
        for event in events:
            if event[0] == 0:  # EVENT_COMPLETED, the common case first
                waiter = pop(event[1], None)
                if waiter is not None:
                    future = waiter[0]
                    if type(future) is UserGreenlet:
                        # A parked synchronous user: switch straight back into it.
                        resume(future, waiter[1](event, waiter[2], waiter[3]))
                    # A cancelled task leaves its future done; the answer is dropped.
                    elif not future.done():
                        future.set_result(waiter[1](event, waiter[2], waiter[3]))
            elif event[0] == EVENT_MESSAGES:
                stream = self.streams.get(event[1])
                if stream is not None:
                    stream.feed(event[2])
            elif event[0] == EVENT_STREAM_END:
                stream = self.streams.pop(event[1], None)
                if stream is not None:
                    stream.finish(event)
            else:
                self._user_event(event)

    def _user_event(self, event: tuple[Any, ...]) -> None:
        kind = event[0]
        try:
            if kind == EVENT_START_USER:
                self._on_start_user(event[1], event[2])
            elif kind == EVENT_STOP_USER:
                self._on_stop_user(event[1])
            elif kind == EVENT_ITERATION:
                self._on_iteration(event[1], event[2], event[3])
            else:
                log.warning("unknown engine event %r", event)
        except Exception:
            # One bad event must not stop the loop from serving the others.
            log.exception("handling engine event %r", event)
