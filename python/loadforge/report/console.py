"""The console report: final tables after a run, and (re-exported) the live view."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .live import LiveView
from .tables import percentiles_table, requests_table
from .units import body_text, observed

if TYPE_CHECKING:
    from loadforge.result import Result
    from loadforge.stats import RunStats

__all__ = ["LiveView", "print_summary"]

# Characters of a failure's response body shown in the console (JSON/HTML keep 512 bytes).
BODY_COLUMN = 120


def _failures_table(stats: RunStats) -> Table | None:
    rows = [
        (e.count, s.method, s.name, e.kind, e.sample, body_text(e.body))
        for s in stats.sorted_endpoints()
        for e in s.errors.values()
    ]
    if not rows:
        return None
    table = Table(title="Failures by kind", title_justify="left", header_style="bold")
    for name, justify in (
        ("Count", "right"),
        ("Type", "left"),
        ("Name", "left"),
        ("Kind", "left"),
        ("Sample", "left"),
        ("Response body", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for count, method, name, kind, sample, body in sorted(rows, key=lambda r: -r[0]):
        first_line = sample.splitlines()[0] if sample else ""
        # The body's start on one line: enough to recognise the server's error.
        body_line = " ".join(body.split())[:BODY_COLUMN]
        table.add_row(
            f"{count:,}", Text(method), Text(name), Text(kind), Text(first_line), Text(body_line)
        )
    return table


def _exceptions_table(stats: RunStats) -> Table | None:
    if not stats.exceptions:
        return None
    table = Table(title="Task exceptions", title_justify="left", header_style="bold")
    table.add_column("Count", justify="right")
    table.add_column("Task: exception", overflow="fold")
    for e in sorted(stats.exceptions.values(), key=lambda e: -e.count):
        table.add_row(f"{e.count:,}", Text(e.kind))
    return table


def _thresholds_table(result: Result) -> Table | None:
    if not result.thresholds:
        return None
    table = Table(title="Thresholds", title_justify="left", header_style="bold")
    for name in ("", "Scope", "Threshold", "Observed"):
        table.add_column(name)
    for v in result.thresholds:
        mark = "[green]✓ pass[/]" if v.passed else "[red]✗ FAIL[/]"
        table.add_row(mark, Text(v.scope), Text(v.expr), observed(v.observed, v.threshold.unit))
    return table


def print_summary(result: Result, console: Console | None = None) -> None:
    """Print the final report: requests, percentiles, failures, thresholds, verdict."""
    # Off a terminal (CI logs) there is no width to fit: print Locust-wide tables.
    out = console or Console(width=None if sys.stdout.isatty() else 160)
    stats = result.stats
    if stats is not None:
        rows = stats.sorted_endpoints()
        latency = "latency from intended start" if result.open_model else "response time"
        out.print(requests_table(rows, stats.total, result.duration_s, "Requests"))
        out.print(percentiles_table(rows, stats.total, f"Percentiles (ms, {latency})"))
        if result.open_model:
            out.print(percentiles_table(rows, stats.total, "Service time (ms)", service=True))
        for table in (_failures_table(stats), _exceptions_table(stats)):
            if table is not None:
                out.print(table)
    thresholds = _thresholds_table(result)
    if thresholds is not None:
        out.print(thresholds)
    lost = [w.id for w in result.workers if w.lost]
    details = f"{result.total.requests:,} requests in {result.duration_s:.1f} s"
    if result.open_model:
        details += f", {result.dropped_iterations:,} dropped iterations"
    if lost:
        details += f", workers lost: {', '.join(lost)}"
    # Worker ids and the broken reason are user text: escaped, never markup.
    details = escape(details)
    if result.broken:
        out.print(f"[bold red]RUN BROKE[/] ({escape(result.broken)}) — {details}")
    elif result.exit_code == 0:
        out.print(f"[bold green]PASSED[/] — {details}")
    else:
        verdict = escape(result.verdict)
        out.print(f"[bold red]FAILED[/] (exit {result.exit_code}) — {verdict}; {details}")
