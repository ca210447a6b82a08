"""`gevent.lock`: `Semaphore`, `BoundedSemaphore`, `RLock` for users sharing a resource.

Between users (greenlets of one thread) a waiter polls cooperatively every millisecond,
so the holder and every other user keep running; outside tasks it is a thread lock.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from loadforge.compat import cooperative_sleep

POLL_S = 0.001


class Semaphore:
    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self.counter = value
        self._guard = threading.Lock()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._guard:
                if self.counter > 0:
                    self.counter -= 1
                    return True
            if not blocking or (deadline is not None and time.monotonic() >= deadline):
                return False
            cooperative_sleep(POLL_S)

    def release(self) -> None:
        with self._guard:
            self.counter += 1

    def locked(self) -> bool:
        return self.counter <= 0

    def __enter__(self) -> Semaphore:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class BoundedSemaphore(Semaphore):
    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._initial = value

    def release(self) -> None:
        with self._guard:
            if self.counter >= self._initial:
                raise ValueError("semaphore released too many times")
            self.counter += 1


class RLock:
    def __init__(self) -> None:
        self._semaphore = Semaphore(1)
        self._owner: Any = None
        self._count = 0

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        from greenlet import getcurrent

        me = getcurrent()
        if self._owner is me:
            self._count += 1
            return True
        if not self._semaphore.acquire(blocking, timeout):
            return False
        self._owner, self._count = me, 1
        return True

    def release(self) -> None:
        self._count -= 1
        if self._count == 0:
            self._owner = None
            self._semaphore.release()

    def __enter__(self) -> RLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


__all__ = ["BoundedSemaphore", "RLock", "Semaphore"]
