"""Counting exceptions raised by Python tasks, for `Snapshot.exceptions`.

An exception in a task does not stop the user; it is counted here per distinct
(task, exception type, message) with one sample traceback. The number of distinct kinds is
bounded so a task that puts a counter or an id in its messages cannot grow memory.
"""

from __future__ import annotations

import traceback

from loadforge._proto import snapshot_pb2

MAX_KINDS = 100
MAX_MESSAGE = 200
OVERFLOW_KIND = "(other exceptions: too many distinct kinds)"


class ExceptionCounter:
    """Counts task exceptions per interval; `take()` returns and resets the counts.

    >>> counter = ExceptionCounter()
    >>> try:
    ...     raise ValueError("bad")
    ... except ValueError as exc:
    ...     counter.add("predict", exc)
    >>> [(e.kind, e.count) for e in counter.take()]
    [('predict: ValueError: bad', 1)]
    """

    __slots__ = ("_counts", "_samples")

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._samples: dict[str, str] = {}

    def add(self, task_name: str, exc: BaseException) -> None:
        """Count one exception raised by `task_name` (call inside the `except` block)."""
        # The first line names the kind; the traceback sample keeps the rest.
        message = str(exc).split("\n", 1)[0]
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 3] + "..."
        kind = (
            f"{task_name}: {type(exc).__name__}: {message}"
            if message
            else (f"{task_name}: {type(exc).__name__}")
        )
        counts = self._counts
        if kind not in counts and len(counts) >= MAX_KINDS:
            kind = OVERFLOW_KIND
        count = counts.get(kind)
        if count is None:
            counts[kind] = 1
            self._samples[kind] = "".join(traceback.format_exception(exc))
        else:
            counts[kind] = count + 1

    def take(self) -> list[snapshot_pb2.ErrorCount]:
        """The counts since the previous call, as `ErrorCount` messages."""
        counts, samples = self._counts, self._samples
        self._counts, self._samples = {}, {}
        return [
            snapshot_pb2.ErrorCount(kind=kind, count=count, sample=samples[kind])
            for kind, count in counts.items()
        ]

    def total(self) -> int:
        """Exceptions counted since the previous `take()`."""
        return sum(self._counts.values())
