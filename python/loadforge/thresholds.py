"""Pass/fail criteria: parse `"p95 < 2s"`, `("POST /predict", "p99 < 500ms")` and evaluate them.

Metrics: any percentile `pN` (`p50`, `p99.9`, ...), `mean`, `min`, `max` (latencies,
compared in milliseconds; units `us`, `ms`, `s`, `m`, bare numbers are ms), `rps`,
`fail_ratio` (`1%` or `0.01`), `failures`, `requests`. Scope is `"total"` or an endpoint
`"METHOD name"`.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from loadforge._proto import plan_pb2
from loadforge.errors import InvalidInput

TOTAL = "total"
LATENCY_METRICS = ("mean", "min", "max")
COUNT_METRICS = ("rps", "failures", "requests")
_ALIASES = {"median": "p50", "avg": "mean", "average": "mean", "error_rate": "fail_ratio"}
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_EXPR = re.compile(
    r"^\s*(?P<metric>[A-Za-z_]+|p\(?\d+(?:\.\d+)?\)?)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>us|µs|ms|s|m|%)?\s*$"
)
# "POST /predict: p99 < 500ms" (the command-line spelling of an endpoint threshold).
_SCOPED = re.compile(r"^\s*(?P<scope>[A-Za-z]+ \S.*?)\s*:\s*(?P<expr>[^:]+)$")
_LATENCY_UNITS = {None: 1.0, "ms": 1.0, "us": 0.001, "µs": 0.001, "s": 1000.0, "m": 60_000.0}


class ThresholdError(InvalidInput):
    """A threshold expression is invalid; the message says which and why."""


class MetricSource(Protocol):
    """What thresholds read: a metric of a scope, or None when the scope saw nothing."""

    def metric(self, scope: str, metric: str, percentile: float | None) -> float | None: ...


@dataclass(frozen=True)
class Threshold:
    """One parsed threshold. `value` is in ms for latencies and a ratio for `fail_ratio`."""

    scope: str
    expr: str
    metric: str  # "percentile", "mean", "min", "max", "rps", "fail_ratio", ...
    op: str
    value: float
    percentile: float | None = None
    # Stop the run early once this fails (after `abort_grace_s` seconds of running).
    abort_on_fail: bool = False
    abort_grace_s: float = 0.0

    @property
    def unit(self) -> str:
        if self.metric in ("percentile", *LATENCY_METRICS):
            return "ms"
        return "ratio" if self.metric == "fail_ratio" else ""

    def check(self, observed: float) -> bool:
        """True when `observed` satisfies the threshold."""
        return _OPS[self.op](observed, self.value)

    def to_proto(self) -> plan_pb2.Threshold:
        return plan_pb2.Threshold(
            scope=self.scope,
            expr=self.expr,
            abort_on_fail=self.abort_on_fail,
            abort_grace_s=self.abort_grace_s,
        )


@dataclass(frozen=True)
class Verdict:
    """The outcome of one threshold: `observed` is None when the scope had no requests."""

    threshold: Threshold
    observed: float | None
    passed: bool

    @property
    def scope(self) -> str:
        return self.threshold.scope

    @property
    def expr(self) -> str:
        return self.threshold.expr

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "expr": self.expr,
            "observed": self.observed,
            "unit": self.threshold.unit,
            "passed": self.passed,
        }


def _normalize_scope(scope: str) -> str:
    scope = scope.strip()
    if scope.lower() == TOTAL:
        return TOTAL
    method, _, name = scope.partition(" ")
    if not method.isalpha() or not name.strip():
        raise ThresholdError(
            f"threshold scope {scope!r} must be 'total' or 'METHOD name', e.g. 'POST /predict'"
        )
    return f"{method.upper()} {name.strip()}"


def parse_expr(expr: str, scope: str = TOTAL, *, abort_on_fail: bool = False) -> Threshold:
    """Parse one expression for a scope.

    >>> parse_expr("p99.9 <= 500ms").value
    500.0
    >>> parse_expr("fail_ratio < 1%").value
    0.01
    """
    if not isinstance(expr, str):
        raise ThresholdError(f"threshold must be a string like 'p95 < 2s', got {expr!r}")
    match = _EXPR.match(expr)
    if match is None:
        raise ThresholdError(
            f"invalid threshold {expr!r}: expected 'METRIC OP VALUE[unit]', "
            "e.g. 'p95 < 2s', 'fail_ratio < 1%', 'rps > 10'"
        )
    raw_metric, op, unit = match["metric"].lower(), match["op"], match["unit"]
    number = float(match["num"])
    metric = _ALIASES.get(raw_metric, raw_metric)
    percentile = None
    if metric.startswith("p") and metric[1:].strip("()").replace(".", "", 1).isdigit():
        percentile = float(metric[1:].strip("()"))
        if not 0 < percentile <= 100:
            raise ThresholdError(f"invalid threshold {expr!r}: percentile must be in (0, 100]")
        metric = "percentile"
    if metric == "percentile" or metric in LATENCY_METRICS:
        if unit == "%":
            raise ThresholdError(f"invalid threshold {expr!r}: a latency takes us, ms, s or m")
        value = number * _LATENCY_UNITS[unit]
    elif metric == "fail_ratio":
        if unit not in (None, "%"):
            raise ThresholdError(f"invalid threshold {expr!r}: fail_ratio takes % or a ratio")
        value = number / 100.0 if unit == "%" else number
        if value > 1:
            raise ThresholdError(f"invalid threshold {expr!r}: fail_ratio is at most 100%")
    elif metric in COUNT_METRICS:
        if unit is not None:
            raise ThresholdError(f"invalid threshold {expr!r}: {metric} takes a plain number")
        value = number
    else:
        known = "pN (p50, p95, p99.9...), mean, min, max, rps, fail_ratio, failures, requests"
        raise ThresholdError(
            f"invalid threshold {expr!r}: unknown metric {raw_metric!r}; use {known}"
        )
    return Threshold(
        _normalize_scope(scope),
        " ".join(expr.split()),
        metric,
        op,
        value,
        percentile,
        abort_on_fail,
    )


def parse_threshold(item: Any) -> Threshold:
    """Parse a string (`"p95 < 2s"`, `"POST /predict: p99 < 500ms"`), a `(scope, expr)`
    tuple, a dict (`{"expr": ..., "scope": ..., "abort_on_fail": True, "abort_grace_s": 10}`),
    a `Threshold` or a `plan_pb2.Threshold`."""
    if isinstance(item, Threshold):
        return item
    if isinstance(item, plan_pb2.Threshold):
        parsed = parse_expr(item.expr, item.scope or TOTAL, abort_on_fail=item.abort_on_fail)
        return dataclasses.replace(parsed, abort_grace_s=item.abort_grace_s)
    if isinstance(item, Mapping):
        unknown = set(item) - {"expr", "scope", "abort_on_fail", "abort_grace_s"}
        if "expr" not in item or unknown:
            raise ThresholdError(
                f"threshold dict takes expr, scope, abort_on_fail, abort_grace_s; got {item!r}"
            )
        parsed = parse_expr(
            item["expr"], item.get("scope", TOTAL), abort_on_fail=bool(item.get("abort_on_fail"))
        )
        grace = item.get("abort_grace_s", 0.0)
        if isinstance(grace, bool) or not isinstance(grace, int | float) or grace < 0:
            raise ThresholdError(f"abort_grace_s must be seconds >= 0, got {grace!r}")
        return dataclasses.replace(parsed, abort_grace_s=float(grace))
    if isinstance(item, tuple):
        if len(item) != 2 or not all(isinstance(p, str) for p in item):
            raise ThresholdError(f"threshold tuple must be (scope, expr), got {item!r}")
        return parse_expr(item[1], item[0])
    if isinstance(item, str):
        scoped = _SCOPED.match(item)
        if scoped is not None and _EXPR.match(scoped["expr"]):
            return parse_expr(scoped["expr"], scoped["scope"])
        return parse_expr(item)
    raise ThresholdError(f"threshold must be a string or (scope, expr), got {item!r}")


def parse_thresholds(items: Iterable[Any]) -> list[Threshold]:
    """Parse several thresholds (see `parse_threshold`)."""
    return [parse_threshold(item) for item in items]


def evaluate(thresholds: Iterable[Threshold], source: MetricSource) -> list[Verdict]:
    """Evaluate every threshold; a scope that saw no requests fails (observed None),
    except for `requests`/`failures`, which are then 0."""
    verdicts = []
    for t in thresholds:
        observed = source.metric(t.scope, t.metric, t.percentile)
        if observed is None and t.metric in ("requests", "failures"):
            observed = 0.0
        passed = observed is not None and not math.isnan(observed) and t.check(observed)
        verdicts.append(Verdict(t, observed, passed))
    return verdicts
