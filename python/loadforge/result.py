"""`Result`: what a run returns — per-endpoint statistics, threshold verdicts, workers.

result = loadforge.run("scenarios/demo.py", users=10, run_time="10s", host=...)
result.endpoints["GET /health"].latency_ms["p95"]
result.raise_for_thresholds()
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, SupportsIndex, overload

from loadforge._proto import plan_pb2

from .report.units import body_text, observed, utc_second
from .stats import AGGREGATED, EndpointStats, ErrorEntry, RunStats
from .thresholds import Verdict, evaluate, parse_thresholds
from .timeseries import percentile_ms

EXIT_PASSED = 0
EXIT_THRESHOLD_FAILED = 1
EXIT_INVALID_INPUT = 2
EXIT_RUN_BROKE = 3

# Percentiles in `latency_ms` (keys "p50" ... "p99.99"), besides mean, min and max: Locust's
# set plus p90, so `loadforge report --csv` can re-create its columns from a saved JSON.
SUMMARY_PERCENTILES = (50.0, 66.0, 75.0, 80.0, 90.0, 95.0, 98.0, 99.0, 99.9, 99.99)
# The points of `total.percentile_curve` (the HDR percentile plot of the HTML report).
CURVE_PERCENTILES = (
    *(float(p) for p in range(0, 100, 10)),
    95.0,
    99.0,
    99.5,
    99.9,
    99.95,
    99.99,
    99.999,
    100.0,
)


class ThresholdsFailed(AssertionError):
    """Raised by `Result.raise_for_thresholds()`; lists each failed threshold."""

    def __init__(self, failed: Sequence[Verdict]) -> None:
        self.failed = list(failed)
        lines = [f"{v.scope}: {v.expr} (observed {_fmt(v)})" for v in self.failed]
        super().__init__(f"{len(lines)} threshold(s) failed: " + "; ".join(lines))


def _fmt(v: Verdict) -> str:
    return observed(v.observed, v.threshold.unit)


def percentile_key(p: float) -> str:
    """`50.0` → `"p50"`, `99.9` → `"p99.9"`."""
    return f"p{p:g}"


def latency_summary(stats: EndpointStats, service: bool = False) -> dict[str, float]:
    """`{"mean", "min", "p50", ..., "p99.99", "max"}` in milliseconds."""
    hist = stats.service_latency if service else stats.latency
    if hist is None or not hist.count:
        return {
            "mean": 0.0,
            "min": 0.0,
            **dict.fromkeys(map(percentile_key, SUMMARY_PERCENTILES), 0.0),
            "max": 0.0,
        }
    out = {"mean": round(hist.mean / 1000.0, 3), "min": hist.min / 1000.0}
    for p in SUMMARY_PERCENTILES:
        out[percentile_key(p)] = percentile_ms(hist, p)
    out["max"] = hist.max / 1000.0
    return out


def percentile_curve(stats: EndpointStats, service: bool = False) -> list[list[float]]:
    """`[[percentile, ms], ...]` at `CURVE_PERCENTILES` from the merged histogram."""
    hist = stats.service_latency if service else stats.latency
    if hist is None or not hist.count:
        return []
    return [[p, percentile_ms(hist, p)] for p in CURVE_PERCENTILES]


@dataclass
class EndpointResult:
    """Statistics of one endpoint (or of all, for `Result.total`)."""

    method: str
    name: str
    requests: int
    failures: int
    rps: float
    latency_ms: dict[str, float]
    service_latency_ms: dict[str, float] | None = None
    status_codes: dict[int, int] = field(default_factory=dict)
    errors: list[ErrorEntry] = field(default_factory=list)
    bytes_received: int = 0
    # Reply messages received (gRPC): one per unary call, every one of a stream.
    messages: int = 0
    stats: EndpointStats | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return f"{self.method} {self.name}" if self.method else self.name

    @property
    def fail_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def errors_by_kind(self) -> dict[str, int]:
        """Failures per error kind (`errors` has one entry per distinct message).

        >>> result.endpoint("GET /x").errors_by_kind()  # doctest: +SKIP
        {'http_status': 12, 'timeout': 1}
        """
        counts: dict[str, int] = {}
        for e in self.errors:
            counts[e.kind] = counts.get(e.kind, 0) + e.count
        return counts

    def percentile_ms(self, percentile: float) -> float:
        """Any percentile, in ms, from the merged histogram."""
        return self.stats.percentile_ms(percentile) if self.stats else 0.0

    @classmethod
    def from_stats(cls, stats: EndpointStats, duration_s: float) -> EndpointResult:
        return cls(
            method=stats.method,
            name=stats.name,
            requests=stats.requests,
            failures=stats.failures,
            rps=stats.requests / duration_s if duration_s > 0 else 0.0,
            latency_ms=latency_summary(stats),
            service_latency_ms=(
                latency_summary(stats, service=True) if stats.service_latency is not None else None
            ),
            status_codes=dict(stats.status_codes),
            errors=sorted(stats.errors.values(), key=lambda e: -e.count),
            bytes_received=stats.bytes_received,
            messages=stats.messages,
            stats=stats,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "name": self.name,
            "requests": self.requests,
            "failures": self.failures,
            "rps": self.rps,
            "latency_ms": self.latency_ms,
        }
        if self.service_latency_ms is not None:
            out["service_latency_ms"] = self.service_latency_ms
        out["status_codes"] = {str(k): v for k, v in sorted(self.status_codes.items())}
        out["errors"] = [
            {
                "kind": e.kind,
                "count": e.count,
                "sample": e.sample,
                "body": body_text(e.body),
                "first_seen": utc_second(e.first_seen_ms),
                "last_seen": utc_second(e.last_seen_ms),
            }
            for e in self.errors
        ]
        out["bytes_received"] = self.bytes_received
        if self.method.startswith("GRPC"):
            out["messages"] = self.messages
        return out


class EndpointList(list[EndpointResult]):
    """A list of endpoints that can also be indexed by `"METHOD name"`."""

    @overload
    def __getitem__(self, index: SupportsIndex) -> EndpointResult: ...
    @overload
    def __getitem__(self, index: slice) -> list[EndpointResult]: ...
    @overload
    def __getitem__(self, index: str) -> EndpointResult: ...
    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, str):
            method, _, name = index.partition(" ")
            for ep in self:
                if ep.method == method.upper() and ep.name == name:
                    return ep
            raise KeyError(index)
        return super().__getitem__(index)

    def get(self, key: str) -> EndpointResult | None:
        try:
            return self[key]
        except KeyError:
            return None


@dataclass
class WorkerResult:
    """One worker's part in the run."""

    id: str
    host: str
    requests: int
    lost: bool
    status: str = ""
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "requests": self.requests,
            "lost": self.lost,
            "status": self.status,
            "error": self.error,
        }


@dataclass
class Result:
    """The outcome of a run.

    `exit_code`: 3 the run broke; else a Locust `quitting` listener's
    `environment.process_exit_code` when one was set; else, with thresholds, 0 when all
    passed and 1 when one failed; without thresholds, 0 for a clean run and
    `exit_code_on_error` (default 1, as Locust) when a request failed, a task raised or
    an open-model iteration was dropped. `verdict` says which rule decided, in words.
    """

    passed: bool
    total: EndpointResult
    endpoints: EndpointList
    thresholds: list[Verdict]
    workers: list[WorkerResult]
    duration_s: float
    started_at: float  # Unix seconds
    open_model: bool = False
    dropped_iterations: int = 0
    broken: str = ""
    stopped_by: str = ""
    stats: RunStats | None = field(default=None, repr=False)
    exit_code_on_error: int = EXIT_THRESHOLD_FAILED
    process_exit_code: int | None = None
    # Without thresholds: what failed ("" for a clean run).
    errors_seen: str = ""

    @property
    def exit_code(self) -> int:
        if self.broken:
            return EXIT_RUN_BROKE
        if self.process_exit_code is not None:
            return self.process_exit_code
        if self.thresholds:
            return EXIT_PASSED if self.passed else EXIT_THRESHOLD_FAILED
        return self.exit_code_on_error if self.errors_seen else EXIT_PASSED

    @property
    def verdict(self) -> str:
        """Why the run passed or failed, in one line."""
        if self.broken:
            return f"the run broke: {self.broken}"
        if self.process_exit_code is not None:
            return f"exit code {self.process_exit_code} set by the scenario's listener"
        if self.thresholds:
            failed = len(self.failed_thresholds)
            return f"{failed} threshold(s) failed" if failed else "every threshold passed"
        if self.errors_seen:
            return f"no thresholds, and {self.errors_seen}"
        return "no thresholds, and nothing failed"

    @property
    def failed_thresholds(self) -> list[Verdict]:
        return [v for v in self.thresholds if not v.passed]

    def endpoint(self, key: str) -> EndpointResult:
        """The endpoint `"GET /health"` (KeyError when it saw no requests)."""
        return self.endpoints[key]

    def raise_for_thresholds(self) -> None:
        """Raise `ThresholdsFailed` if any threshold failed (handy in tests)."""
        if self.failed_thresholds:
            raise ThresholdsFailed(self.failed_thresholds)

    # --- building ---------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        stats: RunStats,
        thresholds: Iterable[Any] = (),
        *,
        workers: Sequence[WorkerResult] = (),
        duration_s: float = 0.0,
        started_at: float = 0.0,
        open_model: bool = False,
        broken: str = "",
        stopped_by: str = "",
    ) -> Result:
        """Evaluate thresholds over merged stats. Rates use the span the snapshots cover
        (falling back to `duration_s`)."""
        stats.series.finish()
        seconds = stats.measured_s or duration_s
        verdicts = evaluate(parse_thresholds(thresholds), stats.for_duration(seconds))
        total = EndpointResult.from_stats(stats.total, seconds)
        endpoints = EndpointList(
            EndpointResult.from_stats(ep, seconds) for ep in stats.sorted_endpoints()
        )
        errors_seen = _errors_seen(stats)
        return cls(
            passed=not broken
            and all(v.passed for v in verdicts)
            and (bool(verdicts) or not errors_seen),
            errors_seen=errors_seen,
            total=total,
            endpoints=endpoints,
            thresholds=verdicts,
            workers=list(workers),
            duration_s=seconds,
            started_at=started_at,
            open_model=open_model,
            dropped_iterations=stats.dropped_iterations,
            broken=broken,
            stopped_by=stopped_by,
            stats=stats,
        )

    @classmethod
    def from_outcome(
        cls,
        outcome: Any,
        plan: plan_pb2.Plan,
        *,
        exit_code_on_error: int = EXIT_THRESHOLD_FAILED,
        process_exit_code: int | None = None,
    ) -> Result:
        """From the controller's `Outcome` (stats, workers, started_at, duration_s, broken)."""
        stats: RunStats = outcome.stats
        workers = []
        for w in outcome.workers:
            totals = stats.workers.get(w.id)
            workers.append(
                WorkerResult(
                    id=w.id,
                    host=w.host,
                    requests=totals.requests if totals else 0,
                    lost=w.status in ("lost", "failed"),
                    status=w.status,
                    error=w.error,
                )
            )
        result = cls.build(
            stats,
            list(plan.thresholds),
            workers=workers,
            duration_s=outcome.duration_s,
            started_at=outcome.started_at,
            open_model=plan.engine.profile.WhichOneof("model") == "open",
            broken=getattr(outcome, "broken", ""),
            stopped_by=getattr(outcome, "stopped_by", ""),
        )
        result.exit_code_on_error = exit_code_on_error
        result.process_exit_code = process_exit_code
        if process_exit_code is not None and not result.broken:
            result.passed = process_exit_code == 0
        return result

    # --- output -----------------------------------------------------------------------

    @property
    def time_series(self) -> list[dict[str, Any]]:
        """The per-second points of the run (`time_series` of the JSON summary)."""
        if self.stats is None:
            return []
        start = self.stats.start_ms / 1000.0
        return [p.to_dict(start) for p in self.stats.series.all_points()]

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary (see DESIGN.md), plus time series and run details."""
        total: dict[str, Any] = {
            "requests": self.total.requests,
            "failures": self.total.failures,
            "rps": self.total.rps,
            "fail_ratio": self.total.fail_ratio,
            "bytes_received": self.total.bytes_received,
            "latency_ms": self.total.latency_ms,
            "percentile_curve": percentile_curve(self.stats.total) if self.stats else [],
        }
        if self.open_model:
            total["service_latency_ms"] = self.total.service_latency_ms or latency_summary(
                EndpointStats("", AGGREGATED), service=True
            )
            total["service_percentile_curve"] = (
                percentile_curve(self.stats.total, service=True) if self.stats else []
            )
            total["dropped_iterations"] = self.dropped_iterations
        exceptions = self.stats.exceptions.values() if self.stats else []
        started = datetime.datetime.fromtimestamp(self.started_at, tz=datetime.UTC)
        return {
            "passed": self.passed,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "started_at": started.isoformat(),
            "duration_s": self.duration_s,
            "model": "open" if self.open_model else "closed",
            "broken": self.broken,
            "stopped_by": self.stopped_by,
            "total": total,
            "endpoints": [ep.to_dict() for ep in self.endpoints],
            "thresholds": [v.to_dict() for v in self.thresholds],
            "workers": [w.to_dict() for w in self.workers],
            "exceptions": [
                {
                    "kind": e.kind,
                    "count": e.count,
                    "traceback": e.sample,
                    "workers": sorted(e.workers),
                }
                for e in exceptions
            ],
            "time_series": self.time_series,
        }

    def to_json(self, indent: bool = True) -> str:
        """The JSON summary as text."""
        import orjson

        option = orjson.OPT_INDENT_2 if indent else 0
        return orjson.dumps(self.to_dict(), option=option).decode()

    def write_reports(
        self,
        *,
        json_path: str | None = None,
        csv_prefix: str | None = None,
        csv_full_history: bool = False,
        html_path: str | None = None,
        junit_path: str | None = None,
        console: bool = False,
    ) -> None:
        """Write the requested reports; `console=True` prints the final tables and the
        files written."""
        written: list[str] = []
        if json_path:
            from .report.json_report import write_json

            write_json(self, json_path)
            written.append(str(json_path))
        if csv_prefix:
            from .report.csv_report import write_csv

            paths = write_csv(self, csv_prefix, full_history=csv_full_history)
            written.extend(map(str, paths))
        # HTML and JUnit writers live in their own modules with `write(result, path)`.
        for module, path in (("html", html_path), ("junit", junit_path)):
            if path:
                importlib.import_module(f"loadforge.report.{module}").write(self, path)
                written.append(str(path))
        if console:
            from .report.console import print_summary

            print_summary(self)
            for path in written:
                print(f"wrote {path}")


def _errors_seen(stats: RunStats) -> str:
    """What failed in a run, for the no-threshold rule ("" when nothing did)."""
    parts = []
    if stats.total.failures:
        parts.append(f"{stats.total.failures:,} request(s) failed")
    raised = sum(e.count for e in stats.exceptions.values())
    if raised:
        parts.append(f"{raised:,} task exception(s)")
    if stats.dropped_iterations:
        parts.append(f"{stats.dropped_iterations:,} iteration(s) dropped")
    return ", ".join(parts)
