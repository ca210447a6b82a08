"""Rich tables shared by the final console report and the live view.

Names come from scenarios (`/item/[id]`): every user-supplied cell is a `Text`, which
rich never reads as markup (a plain str would lose `[id]` as an unknown style tag).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text

from loadforge.stats import EndpointStats
from loadforge.timeseries import LOCUST_PERCENTILES

from .units import ms


def percentile_label(p: float) -> str:
    return "max" if p == 100 else f"p{p:g}"


def requests_table(
    rows: Iterable[EndpointStats], total: EndpointStats, duration_s: float, title: str
) -> Table:
    """Requests, failures, median/p95/p99/max and throughput per endpoint + aggregate."""
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("Type")
    table.add_column("Name", overflow="fold")
    for name in ("Requests", "Failures", "Median ms", "p95 ms", "p99 ms", "Max ms", "req/s"):
        table.add_column(name, justify="right")

    def add(s: EndpointStats, style: str = "") -> None:
        failures = f"{s.failures} ({s.fail_ratio:.1%})" if s.requests else "0"
        rate = s.requests / duration_s if duration_s > 0 else 0.0
        table.add_row(
            Text(s.method),
            Text(s.name),
            f"{s.requests:,}",
            failures,
            ms(s.percentile_ms(50)),
            ms(s.percentile_ms(95)),
            ms(s.percentile_ms(99)),
            ms(s.max_ms),
            f"{rate:,.1f}",
            style=style,
        )

    for s in rows:
        add(s)
    table.add_section()
    add(total, "bold")
    return table


def percentiles_table(
    rows: Iterable[EndpointStats], total: EndpointStats, title: str, service: bool = False
) -> Table:
    """Locust's percentile table: p50 ... p99.99 and max (ms), per endpoint + aggregate."""
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("Type")
    table.add_column("Name", overflow="fold")
    for p in LOCUST_PERCENTILES:
        table.add_column(percentile_label(p), justify="right")
    table.add_column("Requests", justify="right")

    def add(s: EndpointStats, style: str = "") -> None:
        hist = s.service_latency if service else s.latency
        if hist is None or not hist.count:
            values = ["-"] * len(LOCUST_PERCENTILES)
        else:
            values = [ms(hist.value_at_percentile(p) / 1000.0) for p in LOCUST_PERCENTILES]
        table.add_row(Text(s.method), Text(s.name), *values, f"{s.requests:,}", style=style)

    for s in rows:
        add(s)
    table.add_section()
    add(total, "bold")
    return table
