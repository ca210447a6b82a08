"""`loadforge report results.json --html out.html`: re-render reports from a saved summary.

The JSON summary (`Result.to_dict()`, `--json`) carries what the HTML and JUnit reports
need, and the per-endpoint Locust percentiles for `PREFIX_stats.csv`. The history CSV is
rebuilt from `time_series`, which keeps windowed p50/p95/p99 only: the other percentile
columns and the cumulative latency columns of re-rendered history rows read `N/A`.

    summary = load_summary("results.json")
    write_from_summary(summary, html_path="out.html", junit_path="junit.xml")
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from loadforge.errors import InvalidInput
from loadforge.timeseries import LOCUST_PERCENTILES

from . import html, junit
from .csv_report import (
    EXCEPTIONS_COLUMNS,
    FAILURES_COLUMNS,
    HISTORY_COLUMNS,
    STATS_COLUMNS,
    write_rows,
)

NA = "N/A"


class SummaryError(InvalidInput):
    """A file is not a loadforge JSON summary (exit code 2)."""


def load_summary(path: str | Path) -> dict[str, Any]:
    """Read a `--json` summary; `SummaryError` names the file when it is not one."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as err:
        raise SummaryError(f"{path}: {err.strerror or err}") from None
    except orjson.JSONDecodeError as err:
        raise SummaryError(f"{path}: not JSON ({err})") from None
    if not isinstance(data, dict) or not {"total", "endpoints"} <= data.keys():
        raise SummaryError(f"{path}: not a loadforge summary (no 'total' and 'endpoints')")
    return data


def _key(p: float) -> str:
    return "max" if p == 100 else f"p{p:g}"


def _stats_row(ep: dict[str, Any], method: str, name: str, seconds: float) -> list[Any]:
    requests = int(ep.get("requests", 0))
    lat = ep.get("latency_ms", {})
    if requests:
        percentiles: list[Any] = [round(lat.get(_key(p), 0.0)) for p in LOCUST_PERCENTILES]
    else:
        percentiles = [NA] * len(LOCUST_PERCENTILES)
    size = ep.get("bytes_received", 0) / requests if requests else 0.0
    return [
        method,
        name,
        requests,
        ep.get("failures", 0),
        round(lat.get("p50", 0.0)),
        round(lat.get("mean", 0.0), 3),
        round(lat.get("min", 0.0), 3),
        round(lat.get("max", 0.0), 3),
        round(size, 3),
        round(requests / seconds, 3),
        round(ep.get("failures", 0) / seconds, 3),
        *percentiles,
    ]


def stats_rows(summary: dict[str, Any]) -> list[list[Any]]:
    """`PREFIX_stats.csv` rows: endpoints, then `Aggregated`."""
    seconds = summary.get("duration_s") or 1.0
    rows = [
        _stats_row(ep, ep.get("method", ""), ep.get("name", ""), seconds)
        for ep in summary["endpoints"]
    ]
    rows.append(_stats_row(summary["total"], "", "Aggregated", seconds))
    return rows


def history_rows(summary: dict[str, Any]) -> list[list[Any]]:
    """`PREFIX_stats_history.csv` rows (aggregate only) from `time_series`."""
    windowed = {"50%": "p50", "95%": "p95", "99%": "p99"}
    rows = []
    requests = failures = 0
    for point in summary.get("time_series", []):
        width = point.get("width_s", 1) or 1
        requests += round(point.get("rps", 0.0) * width)
        failures += round(point.get("failures_per_s", 0.0) * width)
        percentiles = [
            round(point[windowed[f"{p:g}%"]]) if f"{p:g}%" in windowed and point.get("rps") else NA
            for p in LOCUST_PERCENTILES
        ]
        rows.append(
            [
                point.get("time", 0) + width,
                point.get("users", 0),
                "",
                "Aggregated",
                f"{point.get('rps', 0.0):2f}",
                f"{point.get('failures_per_s', 0.0):2f}",
                *percentiles,
                requests,
                failures,
                *([NA] * 5),
            ]
        )
    return rows


def failure_rows(summary: dict[str, Any]) -> list[list[Any]]:
    """`PREFIX_failures.csv` rows: one per endpoint and error kind."""
    rows = []
    for ep in summary["endpoints"]:
        for err in ep.get("errors", []):
            sample = err.get("sample", "")
            error = f"{err['kind']}: {sample}" if sample else err["kind"]
            seen = [err.get("first_seen", ""), err.get("last_seen", "")]
            rows.append(
                [ep.get("method", ""), ep.get("name", ""), error, err.get("count", 0), *seen]
            )
    return rows


def exception_rows(summary: dict[str, Any]) -> list[list[Any]]:
    """`PREFIX_exceptions.csv` rows: task exceptions with a sample traceback."""
    return [
        [
            e.get("count", 0),
            e.get("kind", ""),
            e.get("traceback", ""),
            ", ".join(e.get("workers", [])),
        ]
        for e in summary.get("exceptions", [])
    ]


def write_csv_from_summary(summary: dict[str, Any], prefix: str | Path) -> list[Path]:
    """The four Locust-style CSV files from a summary; returns their paths."""
    base = str(prefix)
    Path(base).parent.mkdir(parents=True, exist_ok=True)
    files: Iterable[tuple[Path, list[str], list[list[Any]]]] = (
        (Path(f"{base}_stats.csv"), STATS_COLUMNS, stats_rows(summary)),
        (Path(f"{base}_stats_history.csv"), HISTORY_COLUMNS, history_rows(summary)),
        (Path(f"{base}_failures.csv"), FAILURES_COLUMNS, failure_rows(summary)),
        (Path(f"{base}_exceptions.csv"), EXCEPTIONS_COLUMNS, exception_rows(summary)),
    )
    written = []
    for path, header, rows in files:
        write_rows(path, header, rows)
        written.append(path)
    return written


def write_from_summary(
    summary: dict[str, Any],
    *,
    html_path: str | None = None,
    junit_path: str | None = None,
    csv_prefix: str | None = None,
) -> list[Path]:
    """Write the requested reports from a summary dict; returns the files written."""
    written: list[Path] = []
    if html_path:
        html.write(summary, html_path)
        written.append(Path(html_path))
    if junit_path:
        junit.write(summary, junit_path)
        written.append(Path(junit_path))
    if csv_prefix:
        written.extend(write_csv_from_summary(summary, csv_prefix))
    return written
