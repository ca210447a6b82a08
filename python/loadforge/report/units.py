"""How figures are written for people, the same in every report (console, live view,
HTML, JUnit, the `ThresholdsFailed` message): a latency in ms, a ratio in percent, a
rate per second. One place, so no report prints `0.847134ratio`.

    >>> ms(12.345)
    '12.3'
    >>> observed(0.847134, "ratio")
    '84.71%'
    >>> observed(312.5, "ms")
    '312.5 ms'
"""

from __future__ import annotations

import datetime


def ms(value: float) -> str:
    """A latency for humans: `0.42`, `12.3`, `1,204`."""
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def observed(value: float | None, unit: str) -> str:
    """A threshold's observed value with its unit (`Threshold.unit`: "ms", "ratio" or ""
    for counts and rates); "no requests" when the scope saw none."""
    if value is None:
        return "no requests"
    if unit == "ratio":
        return f"{value:.2%}"
    if unit == "ms":
        return f"{ms(value)} ms"
    return f"{value:,.2f}"


def body_text(body: bytes) -> str:
    """A failure's response body sample as text (undecodable bytes as U+FFFD)."""
    return body.decode("utf-8", errors="replace")


def utc_second(unix_ms: int) -> str:
    """`2026-12-02T14:20:05Z`, Locust's timestamp (its CSVs' "First Seen"); "" for 0."""
    if not unix_ms:
        return ""
    moment = datetime.datetime.fromtimestamp(unix_ms // 1000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
