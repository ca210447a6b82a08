"""`gevent.event.Event` for threads spawned outside tasks (a flag with `wait`)."""

from __future__ import annotations

import threading

from loadforge.compat import cooperative_sleep
from loadforge.runtime.greenlets import in_user


class Event:
    def __init__(self) -> None:
        self._flag = threading.Event()

    def set(self) -> None:
        self._flag.set()

    def clear(self) -> None:
        self._flag.clear()

    def is_set(self) -> bool:
        return self._flag.is_set()

    isSet = is_set
    ready = is_set

    def wait(self, timeout: float | None = None) -> bool:
        if not in_user():
            return self._flag.wait(timeout)
        waited = 0.0
        while not self._flag.is_set() and (timeout is None or waited < timeout):
            cooperative_sleep(0.01)
            waited += 0.01
        return self._flag.is_set()
