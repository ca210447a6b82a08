"""A task that never yields must not silence its worker.

Every Python user of a worker shares one event loop. A task that computes without
waiting (`while True: pass`, a CPU-heavy parse, a real blocking call from C) holds that
loop: no other user runs, no snapshot or heartbeat reaches the controller, and after a
few seconds of silence the controller gives the worker up.

The watchdog is a thread that watches the loop's pulse (a callback every 100 ms). A
stall longer than `WARN_S` is reported once per task with how long it lasted; a stall of
`LIMIT_S` is cut: the watchdog sends the process SIGUSR2, whose Python handler runs in
the main thread between two bytecodes of the blocking code and raises `TaskBlocked`
there. The task fails with it (counted under its name, with a traceback), the loop runs
again, and the run ends on time with its report.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

# Where the signal must not land: loadforge's code and the loop's (a stall is user code).
_OWN_CODE = (str(Path(__file__).resolve().parent.parent), str(Path(asyncio.__file__).parent))

PULSE_S = 0.1
WARN_S = 0.5
# Under the controller's 5 s silence rule, with a margin for a busy machine.
LIMIT_S = 3.0


class TaskBlocked(Exception):
    """Raised inside a task that held the worker's event loop for `LIMIT_S` seconds."""


class LoopWatchdog:
    """Watch `loop` from a thread; `current()` names the task running now (for messages)."""

    def __init__(
        self,
        loop: Any,
        current: Callable[[], str],
        *,
        limit_s: float = LIMIT_S,
        warn_s: float = WARN_S,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self._loop = loop
        self._current = current
        self._limit_s = limit_s
        self._warn_s = warn_s
        self._warn = warn or (lambda text: print(text, file=sys.stderr, flush=True))
        self._pulse = time.monotonic()
        self._running = False
        self._thread: threading.Thread | None = None
        self._main = threading.main_thread().ident
        self._warned: set[str] = set()
        self._previous: Any = None
        self.longest_s = 0.0

    def start(self) -> None:
        """Arm it (from the loop's thread, the main thread of the worker)."""
        if self._running or threading.current_thread() is not threading.main_thread():
            return
        self._running = True
        self._pulse = time.monotonic()
        self._previous = signal.signal(signal.SIGUSR2, self._interrupt)
        self._loop.call_later(PULSE_S, self._beat)
        self._thread = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Disarm it (the runner is stopping: what runs now is loadforge's own code)."""
        if not self._running:
            return
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        signal.signal(signal.SIGUSR2, self._previous or signal.SIG_DFL)

    def _beat(self) -> None:
        self._pulse = time.monotonic()
        if self._running:
            self._loop.call_later(PULSE_S, self._beat)

    def _watch(self) -> None:
        cut_at = 0.0
        while self._running:
            time.sleep(PULSE_S)
            stalled = time.monotonic() - self._pulse
            if stalled < self._warn_s:
                cut_at = 0.0
                continue
            self.longest_s = max(self.longest_s, stalled)
            task = self._current()
            if task not in self._warned and stalled >= self._warn_s:
                self._warned.add(task)
                self._warn(
                    f"loadforge worker: warning: task {task!r} is blocking the event loop "
                    f"({stalled:.1f} s so far): no other user runs meanwhile; in a task, "
                    "wait with time.sleep() or self.client, never a busy loop"
                )
            if stalled >= self._limit_s and (not cut_at or stalled >= cut_at + self._limit_s):
                cut_at = stalled
                signal.pthread_kill(self._main, signal.SIGUSR2)  # type: ignore[arg-type]

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        stalled = time.monotonic() - self._pulse
        if frame is not None and frame.f_code.co_filename.startswith(_OWN_CODE):
            return  # the stall just ended and loadforge's own code runs: try again later
        if self._running and stalled >= self._limit_s:
            raise TaskBlocked(
                f"task {self._current()!r} held the event loop for {stalled:.1f} s and was "
                "interrupted (a task must wait, not spin)"
            )
