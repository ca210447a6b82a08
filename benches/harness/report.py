"""The bench's output: a table of ratios against peers measured in the same run, and JSON."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .measure import Measurement


@dataclass
class Row:
    """One line of the table: a measurement and, for loadforge rows, its bar against a peer."""

    group: str
    measurement: Measurement
    peer: Measurement | None = None
    bar: float | None = None  # loadforge must reach bar x the peer's req/s

    @property
    def ratio(self) -> float | None:
        m, p = self.measurement, self.peer
        if m.rps is None or p is None or not p.rps:
            return None
        return m.rps / p.rps

    @property
    def verdict(self) -> str:
        if self.peer is None:
            return "peer"
        if self.ratio is None or self.bar is None:
            return "n/a"
        return "PASS" if self.ratio >= self.bar else "FAIL"


def _versus(row: Row) -> str:
    if row.ratio is None or row.peer is None:
        return ""
    # A loadforge peer (async def vs the Locust file) is named in full: "loadforge" alone
    # would not say which run.
    tool = row.peer.tool
    return f"{row.ratio:.2f}x {tool if tool.startswith('loadforge') else tool.split()[0]}"


def render_table(rows: list[Row]) -> str:
    """A plain-text table: group, tool, req/s, ratio vs peer, bar, verdict, note."""
    header = ("group", "tool", "req/s", "vs peer", "bar", "result", "note")
    lines = [header]
    for r in rows:
        m = r.measurement
        lines.append(
            (
                r.group,
                m.tool,
                f"{m.rps:,.0f}" if m.rps is not None else "-",
                _versus(r),
                f">= {r.bar:g}x" if r.bar is not None else "",
                r.verdict,
                m.note,
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = [
            str(c).rjust(w) if i == 2 else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def write_json(rows: list[Row], directory: Path, duration_s: int) -> Path:
    """bench-results/bench-<timestamp>.json with every measurement and verdict."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "node": platform.node(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "duration_s": duration_s,
        "rows": [
            {
                "group": r.group,
                **asdict(r.measurement),
                "peer": r.peer.tool if r.peer else None,
                "ratio": r.ratio,
                "bar": r.bar,
                "result": r.verdict,
            }
            for r in rows
        ],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
