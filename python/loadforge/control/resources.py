"""CPU and memory of this process, for heartbeats (a saturated generator measures badly)."""

from __future__ import annotations

import os
import time


class ProcessMeter:
    """CPU percent since the previous reading, and resident memory."""

    def __init__(self) -> None:
        self._cpu = self._cpu_seconds()
        self._wall = time.monotonic()

    @staticmethod
    def _cpu_seconds() -> float:
        t = os.times()
        return t.user + t.system

    def cpu_percent(self) -> float:
        cpu, wall = self._cpu_seconds(), time.monotonic()
        elapsed = wall - self._wall
        percent = 100.0 * (cpu - self._cpu) / elapsed if elapsed > 0 else 0.0
        self._cpu, self._wall = cpu, wall
        return percent

    @staticmethod
    def rss_bytes() -> int:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0
