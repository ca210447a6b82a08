"""`loadforge compare base.json new.json`: per-endpoint deltas between two saved runs.

Compared per endpoint (and for the aggregate): requests/s, failure ratio, p50, p95, p99.
With a tolerance (`--fail-on-regression PCT`) a metric that got worse by more than PCT
percent is a regression: throughput down, failure ratio or a latency percentile up. A
failure ratio that rises from zero is always a regression beyond any tolerance.

    deltas = compare(load_summary("base.json"), load_summary("new.json"))
    regressions = [d for d in deltas if d.regressed(10.0)]
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

AGGREGATED = "Aggregated"
# (label, summary field, True when a higher value is better)
METRICS = (
    ("req/s", "rps", True),
    ("fail %", "fail_ratio", False),
    ("p50 ms", "p50", False),
    ("p95 ms", "p95", False),
    ("p99 ms", "p99", False),
)


@dataclass
class Delta:
    """One metric of one endpoint in both runs (`None` where the run lacks the endpoint)."""

    endpoint: str
    metric: str
    base: float | None
    new: float | None
    higher_is_better: bool

    @property
    def change_pct(self) -> float | None:
        """Relative change in percent (`inf` when rising from 0; None when not comparable)."""
        if self.base is None or self.new is None:
            return None
        if self.base == 0:
            return 0.0 if self.new == 0 else math.inf
        return (self.new - self.base) / self.base * 100.0

    def regressed(self, tolerance_pct: float) -> bool:
        """Worse by more than `tolerance_pct` percent."""
        change = self.change_pct
        if change is None:
            return False
        worse = -change if self.higher_is_better else change
        return worse > tolerance_pct


def _metrics(ep: dict[str, Any]) -> dict[str, float]:
    requests = ep.get("requests", 0)
    lat = ep.get("latency_ms", {})
    return {
        "rps": float(ep.get("rps", 0.0)),
        "fail_ratio": ep.get("failures", 0) / requests if requests else 0.0,
        "p50": float(lat.get("p50", 0.0)),
        "p95": float(lat.get("p95", 0.0)),
        "p99": float(lat.get("p99", 0.0)),
    }


def _endpoints(summary: dict[str, Any]) -> dict[str, dict[str, float]]:
    out = {f"{ep['method']} {ep['name']}": _metrics(ep) for ep in summary.get("endpoints", [])}
    out[AGGREGATED] = _metrics(summary.get("total", {}))
    return out


def compare(base: dict[str, Any], new: dict[str, Any]) -> list[Delta]:
    """Deltas for every endpoint of either run (base order first), aggregate last."""
    a, b = _endpoints(base), _endpoints(new)
    names = [k for k in a if k != AGGREGATED]
    names += [k for k in b if k not in a]
    names.append(AGGREGATED)
    deltas = []
    for name in names:
        for _, key, higher in METRICS:
            old = a.get(name, {}).get(key)
            cur = b.get(name, {}).get(key)
            deltas.append(Delta(name, key, old, cur, higher))
    return deltas


def _cell(d: Delta, tolerance: float | None) -> str:
    scale = 100.0 if d.metric == "fail_ratio" else 1.0

    def fmt(v: float | None) -> str:
        return "—" if v is None else f"{v * scale:,.2f}"

    change = d.change_pct
    if change is None:
        text = f"{fmt(d.base)} → {fmt(d.new)}"
    elif math.isinf(change):
        text = f"{fmt(d.base)} → {fmt(d.new)} (new)"
    else:
        text = f"{fmt(d.base)} → {fmt(d.new)} ({change:+.1f}%)"
    if tolerance is not None and d.regressed(tolerance):
        return f"[bold red]{text}[/]"
    return text


def table(deltas: list[Delta], tolerance: float | None = None) -> Table:
    """A rich table: one row per endpoint, `base → new (±%)` per metric."""
    out = Table(title="base → new", title_justify="left", header_style="bold")
    out.add_column("Endpoint", overflow="fold")
    for label, _, _ in METRICS:
        out.add_column(label, justify="right")
    rows: dict[str, list[Delta]] = {}
    for d in deltas:
        rows.setdefault(d.endpoint, []).append(d)
    for name, row in rows.items():
        if name == AGGREGATED:
            out.add_section()
        # The endpoint's name is user text (`/item/[id]`): a Text, never markup.
        out.add_row(
            Text(name),
            *(_cell(d, tolerance) for d in row),
            style="bold" if name == AGGREGATED else "",
        )
    return out


def print_comparison(
    base: dict[str, Any],
    new: dict[str, Any],
    tolerance_pct: float | None = None,
    console: Console | None = None,
) -> list[Delta]:
    """Print the comparison; returns the regressions beyond `tolerance_pct` (if given)."""
    # Off a terminal (CI logs) there is no width to fit.
    out = console or Console(width=None if sys.stdout.isatty() else 160)
    deltas = compare(base, new)
    out.print(table(deltas, tolerance_pct))
    if tolerance_pct is None:
        return []
    regressions = [d for d in deltas if d.regressed(tolerance_pct)]
    for d in regressions:
        change = "from zero" if math.isinf(d.change_pct or 0.0) else f"{d.change_pct:+.1f}%"
        out.print(f"[red]regression[/]: {escape(d.endpoint)} {d.metric} {change}", highlight=False)
    if not regressions:
        out.print(f"no regression beyond {tolerance_pct:g}%", highlight=False)
    return regressions
