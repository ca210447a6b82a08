"""Parse durations (`"1m30s"`, `"90"`, `"500ms"`) and stages (`"30s:10,1m:100"`)."""

from __future__ import annotations

import re

from .errors import ConfigError

_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|us|h|m|s)?")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 0.000001, None: 1.0}


def parse_duration(text: str | float | int) -> float:
    """Seconds in a duration: `"1h"`, `"1m30s"`, `"2.5s"`, `"500ms"`, or a bare number.

    >>> parse_duration("1m30s")
    90.0
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0:
            raise ConfigError(f"duration must be >= 0, got {text!r}")
        return float(text)
    if not isinstance(text, str):
        raise ConfigError(f"duration must be like '30s' or '1m30s', got {text!r}")
    compact = text.strip().lower().replace(" ", "")
    pos, total, parts = 0, 0.0, 0
    while pos < len(compact):
        match = _PART.match(compact, pos)
        if match is None:
            break
        # A bare number is only allowed alone ("90"), not inside "1m30".
        if match[2] is None and (parts or match.end() != len(compact)):
            break
        total += float(match[1]) * _SECONDS[match[2]]
        pos, parts = match.end(), parts + 1
    if not compact or pos != len(compact):
        raise ConfigError(f"invalid duration {text!r}: use e.g. '30s', '5m', '1h30m', '500ms'")
    return total


def parse_stages(text: str) -> list[tuple[float, float]]:
    """`"30s:10,1m:100"` → `[(30.0, 10.0), (60.0, 100.0)]` (duration, target at its end).

    The target is users (closed model) or iterations per second (open model).
    """
    stages = []
    for item in (p.strip() for p in text.split(",")):
        duration, sep, target = item.partition(":")
        if not sep:
            raise ConfigError(f"invalid stage {item!r}: expected DURATION:TARGET, e.g. '30s:10'")
        try:
            value = float(target)
        except ValueError:
            raise ConfigError(
                f"invalid stage {item!r}: target {target!r} is not a number"
            ) from None
        if value < 0 or value != value:
            raise ConfigError(f"invalid stage {item!r}: target must be >= 0")
        stages.append((parse_duration(duration), value))
    return stages
