"""pytest plugin (registered on install): a load test is a normal test.

    def test_api_holds_up(loadforge_run):
        result = loadforge_run("scenarios/demo.py", users=10, run_time="5s",
                               host="http://127.0.0.1:8000")
        result.raise_for_thresholds()

Imports are lazy: the plugin loads in every pytest session of a project that has loadforge
installed, and must not slow those down.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def loadforge_run() -> Callable[..., Any]:
    """`loadforge.run` with quiet defaults for tests (one local worker process, no live view)."""

    def _run(scenario: Any = None, **kwargs: Any) -> Any:
        from loadforge.api import run

        kwargs.setdefault("processes", 1)
        return run(scenario, **kwargs)

    return _run
