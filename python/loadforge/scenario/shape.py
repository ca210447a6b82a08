"""Custom load shapes: `class MyShape(LoadTestShape): def tick(self): ...`."""

from __future__ import annotations

import time


class LoadTestShape:
    """Drive users over time. `tick()` returns `(users, spawn_rate)` or None to stop.

    In the open model the first number is the arrival rate (iterations per second).

    >>> class Steps(LoadTestShape):
    ...     def tick(self):
    ...         t = self.get_run_time()
    ...         return None if t > 60 else (10 * (1 + int(t // 20)), 5)
    """

    abstract = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "abstract" not in cls.__dict__:
            cls.abstract = False

    def __init__(self) -> None:
        self.start_time = time.monotonic()

    def reset_time(self) -> None:
        """Restart the clock (called when the run starts)."""
        self.start_time = time.monotonic()

    def get_run_time(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.start_time

    def tick(self) -> tuple[float, float] | None:
        """Return `(users, spawn_rate)` for now, or None to end the run."""
        raise NotImplementedError
