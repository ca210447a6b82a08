"""`locust.stats`: the statistics classes `environment.stats` is made of.

Module settings people assign (`PERCENTILES_TO_REPORT`, `CSV_STATS_INTERVAL_SEC`...) are
accepted and have no effect: loadforge reports from exact HDR histograms.
"""

from typing import Any

from loadforge.compat import missing
from loadforge.environment import RequestStats, StatsEntry

PERCENTILES_TO_REPORT = [0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0]
PERCENTILES_TO_CHART = [0.5, 0.95]
PERCENTILES_TO_STATISTICS = [0.95, 0.99]
CSV_STATS_INTERVAL_SEC = 1
CSV_STATS_FLUSH_INTERVAL_SEC = 10
CONSOLE_STATS_INTERVAL_SEC = 2
HISTORY_STATS_INTERVAL_SEC = 5
CURRENT_RESPONSE_TIME_PERCENTILE_WINDOW = 10


def __getattr__(name: str) -> Any:
    raise missing("locust.stats", name, "loadforge writes its own reports (--csv, --html, --json)")


__all__ = ["RequestStats", "StatsEntry"]
