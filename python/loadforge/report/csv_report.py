"""`--csv PREFIX`: Locust-compatible CSV files, so existing dashboards and scripts keep working.

Writes `PREFIX_stats.csv`, `PREFIX_stats_history.csv`, `PREFIX_failures.csv` and
`PREFIX_exceptions.csv` with Locust's headers. Latencies are milliseconds; percentile
columns are whole milliseconds as in Locust. The history rows carry windowed (per-point)
percentiles, also for the aggregated row.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loadforge.stats import AGGREGATED, EndpointStats, RunStats
from loadforge.timeseries import LOCUST_PERCENTILES, Cumulative, SeriesPoint, WindowStats

from .units import utc_second

if TYPE_CHECKING:
    from loadforge.result import Result


def percentile_header(p: float) -> str:
    """Locust's column names: `50%`, `99.9%`, `100%`."""
    return f"{p:g}%"


PERCENTILE_COLUMNS = [percentile_header(p) for p in LOCUST_PERCENTILES]
STATS_COLUMNS = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_COLUMNS,
]
HISTORY_COLUMNS = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_COLUMNS,
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
]
# Locust 2.47 (locust/stats.py, StatsCSV.failures_columns) added the two dates.
FAILURES_COLUMNS = ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"]
EXCEPTIONS_COLUMNS = ["Count", "Message", "Traceback", "Nodes"]
NOT_AVAILABLE = ["N/A"] * len(LOCUST_PERCENTILES)


def _num(value: float) -> float:
    return round(value, 3)


def _stats_row(s: EndpointStats, duration_s: float) -> list[Any]:
    seconds = duration_s if duration_s > 0 else 1.0
    if s.requests:
        percentiles: list[Any] = [round(s.percentile_ms(p)) for p in LOCUST_PERCENTILES]
    else:
        percentiles = NOT_AVAILABLE
    return [
        s.method,
        s.name,
        s.requests,
        s.failures,
        round(s.percentile_ms(50)),
        _num(s.mean_ms),
        _num(s.min_ms),
        _num(s.max_ms),
        _num(s.avg_content_size),
        _num(s.requests / seconds),
        _num(s.failures / seconds),
        *percentiles,
    ]


def _history_row(
    point: SeriesPoint, method: str, name: str, window: WindowStats, total: Cumulative
) -> list[Any]:
    percentiles: list[Any] = (
        [round(v) for v in window.percentiles] if total.requests else NOT_AVAILABLE
    )
    return [
        point.time_s + point.width_s,
        point.users,
        method,
        name,
        f"{window.requests / point.width_s:2f}",
        f"{window.failures / point.width_s:2f}",
        *percentiles,
        total.requests,
        total.failures,
        round(total.median_ms),
        _num(total.mean_ms),
        _num(total.min_ms),
        _num(total.max_ms),
        _num(total.avg_content_size),
    ]


def write_rows(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    """One CSV file with Locust's dialect (comma, minimal quoting, CRLF line ends)."""
    # newline="" lets csv write "\r\n" line ends, exactly like Locust's files.
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def stats_rows(stats: RunStats, duration_s: float) -> list[list[Any]]:
    rows = [_stats_row(s, duration_s) for s in stats.sorted_endpoints()]
    rows.append(_stats_row(stats.total, duration_s))
    return rows


def history_rows(stats: RunStats, full_history: bool = False) -> list[list[Any]]:
    """One row per point (per endpoint too with `full_history`), then the aggregate.

    Total counts are exact running sums of the points; the total latency columns are the
    run's figures when the point was reduced (a few seconds after it ended).
    """
    rows = []
    running: dict[str, list[int]] = {}

    def totals(key: str, window: WindowStats, point: SeriesPoint) -> Cumulative:
        counts = running.setdefault(key, [0, 0])
        counts[0] += window.requests
        counts[1] += window.failures
        seen = point.cumulative.get(key, Cumulative())
        return dataclasses.replace(seen, requests=counts[0], failures=counts[1])

    for point in stats.series.all_points():
        if full_history:
            for s in stats.sorted_endpoints():
                window = point.endpoints.get(s.key, WindowStats())
                total = totals(s.key, window, point)
                rows.append(_history_row(point, s.method, s.name, window, total))
        total = totals(AGGREGATED, point.total, point)
        rows.append(_history_row(point, "", AGGREGATED, point.total, total))
    return rows


def failure_rows(stats: RunStats) -> list[list[Any]]:
    rows = []
    for s in stats.sorted_endpoints():
        for e in sorted(s.errors.values(), key=lambda e: -e.count):
            error = f"{e.kind}: {e.sample}" if e.sample else e.kind
            seen = (utc_second(e.first_seen_ms), utc_second(e.last_seen_ms))
            rows.append([s.method, s.name, error, e.count, *seen])
    return rows


def exception_rows(stats: RunStats) -> list[list[Any]]:
    return [
        [e.count, e.kind, e.sample, ", ".join(sorted(e.workers))]
        for e in sorted(stats.exceptions.values(), key=lambda e: -e.count)
    ]


def write_csv(result: Result, prefix: str | Path, *, full_history: bool = False) -> list[Path]:
    """Write the four CSV files; returns their paths."""
    stats = result.stats if result.stats is not None else RunStats()
    base = str(prefix)
    Path(base).parent.mkdir(parents=True, exist_ok=True)
    files = [
        (Path(f"{base}_stats.csv"), STATS_COLUMNS, stats_rows(stats, result.duration_s)),
        (Path(f"{base}_stats_history.csv"), HISTORY_COLUMNS, history_rows(stats, full_history)),
        (Path(f"{base}_failures.csv"), FAILURES_COLUMNS, failure_rows(stats)),
        (Path(f"{base}_exceptions.csv"), EXCEPTIONS_COLUMNS, exception_rows(stats)),
    ]
    for path, header, rows in files:
        write_rows(path, header, rows)
    return [path for path, _, _ in files]
