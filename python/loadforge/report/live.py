"""The live view during a run: a table redrawn in place on a terminal (rich.live), or a
plain progress line every few seconds when the output is not a terminal (CI logs)."""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from loadforge.stats import RunStats
from loadforge.timeseries import SeriesPoint

from .units import ms

# Seconds of history behind the "current" rates and percentiles.
WINDOW_S = 5


def _window(points: list[SeriesPoint], key: str | None) -> tuple[float, float, float]:
    """(rps, p50, p95) over recent points; percentiles are the worst second's."""
    seconds = sum(p.width_s for p in points) or 1
    stats = [p.total if key is None else p.endpoints.get(key) for p in points]
    present = [s for s in stats if s is not None]
    requests = sum(s.requests for s in present)
    p50 = max((s.p50 for s in present if s.requests), default=0.0)
    p95 = max((s.p95 for s in present if s.requests), default=0.0)
    return requests / seconds, p50, p95


def _header(elapsed: float, run_time: float, users: int, workers: int) -> Table:
    """`loadforge  ━━━━━━━━──── 12 / 30 s  users 20  workers 2` (a bar when the run ends
    on its own)."""
    grid = Table.grid(padding=(0, 2))
    cells: list[Any] = [Text("loadforge", style="bold")]
    if run_time:
        cells.append(ProgressBar(total=run_time, completed=min(elapsed, run_time), width=30))
        cells.append(Text(f"{elapsed:.0f} / {run_time:.0f} s"))
    else:
        cells.append(Text(f"{elapsed:.0f} s"))
    cells.append(Text(f"users {users}"))
    cells.append(Text(f"workers {workers}"))
    grid.add_row(*cells)
    return grid


class LiveView:
    """Progress of a running test. Call `update(stats, elapsed, run_time, users, workers)`
    (or the object itself with a controller) about once a second; `close()` at the end.

    On a terminal the table is redrawn in place (no scrolling, no flicker); otherwise a
    line is printed every `plain_every_s` seconds.
    """

    def __init__(self, console: Console | None = None, plain_every_s: float = 5.0) -> None:
        self.console = console or Console(file=sys.stderr)
        self.plain_every_s = plain_every_s
        self._live: Live | None = None
        self._last_plain = 0.0

    def __call__(self, controller: Any) -> None:
        """The controller's tick hook: reads its stats, elapsed time and plan."""
        plan = getattr(controller, "plan", None)
        run_time = plan.engine.profile.run_time_s if plan is not None else 0.0
        stats: RunStats = controller.stats
        states = list(getattr(controller, "workers", {}).values())
        workers = sum(1 for w in states if w.status in ("joined", "running"))
        warning = getattr(controller, "cpu_warning", "")
        self.update(stats, controller.elapsed, run_time, stats.users, workers, warning)

    def update(
        self,
        stats: RunStats,
        elapsed: float,
        run_time: float,
        users: int,
        workers: int = 0,
        warning: str = "",
    ) -> None:
        """Redraw; `warning` (e.g. a saturated worker's CPU) is shown below the table."""
        if self.console.is_terminal:
            renderable = self.render(stats, elapsed, run_time, users, workers)
            if warning:
                renderable = Group(renderable, Text(f"warning: {warning}", style="bold yellow"))
            if self._live is None:
                self._live = Live(
                    renderable, console=self.console, auto_refresh=False, transient=False
                )
                self._live.start()
            self._live.update(renderable, refresh=True)
            return
        now = time.monotonic()
        if now - self._last_plain >= self.plain_every_s:
            self._last_plain = now
            line = self.line(stats, elapsed, run_time, users, workers)
            if warning:
                line += f" | warning: {warning}"
            self.console.print(Text(line), highlight=False, soft_wrap=True)

    @staticmethod
    def _recent(stats: RunStats) -> list[SeriesPoint]:
        # The newest second is usually still filling; leave it out of rates.
        points = stats.series.recent(WINDOW_S + 1)
        return points[:-1] if len(points) > 1 else points

    def line(
        self, stats: RunStats, elapsed: float, run_time: float, users: int, workers: int = 0
    ) -> str:
        """One plain progress line."""
        rps, _, p95 = _window(self._recent(stats), None)
        total = stats.total
        limit = f"/{run_time:.0f}s" if run_time else "s"
        return (
            f"[{elapsed:5.0f}{limit}] users {users} | workers {workers} | "
            f"{total.requests:,} req ({rps:,.1f}/s) | "
            f"{total.failures:,} failed | p50 {ms(total.percentile_ms(50))} ms "
            f"p95 {ms(total.percentile_ms(95))} ms (last {WINDOW_S}s p95 {ms(p95)} ms)"
        )

    def render(
        self, stats: RunStats, elapsed: float, run_time: float, users: int, workers: int = 0
    ) -> Group:
        """The live table: per endpoint, totals and current (last few seconds) figures."""
        recent = self._recent(stats)
        table = Table(header_style="bold", expand=False)
        table.add_column("Type")
        table.add_column("Name", overflow="fold")
        for name in ("Requests", "Failures", "req/s now", "p50 now", "p95 now", "p95", "p99"):
            table.add_column(name, justify="right")
        for s in stats.sorted_endpoints():
            rps, p50, p95 = _window(recent, s.key)
            table.add_row(
                Text(s.method),
                Text(s.name),
                f"{s.requests:,}",
                f"{s.failures:,}",
                f"{rps:,.1f}",
                ms(p50),
                ms(p95),
                ms(s.percentile_ms(95)),
                ms(s.percentile_ms(99)),
            )
        rps, p50, p95 = _window(recent, None)
        total = stats.total
        table.add_section()
        table.add_row(
            "",
            "Aggregated",
            f"{total.requests:,}",
            f"{total.failures:,}",
            f"{rps:,.1f}",
            ms(p50),
            ms(p95),
            ms(total.percentile_ms(95)),
            ms(total.percentile_ms(99)),
            style="bold",
        )
        return Group(_header(elapsed, run_time, users, workers), table)

    def close(self) -> None:
        """Stop redrawing (leaves the last table on screen)."""
        if self._live is not None:
            self._live.stop()
            self._live = None
