"""The live view on a terminal, fed by a real controller during a real run: progress bar,
users and workers, a per-endpoint table with current rates, redrawn in place."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from loadforge.control.controller import Controller
from loadforge.report.live import LiveView

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_live_view_redraws_progress_users_workers_and_endpoints(
    demo_target: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    views: list[LiveView] = []
    ticks: list[tuple[float, int]] = []

    class Recording(LiveView):
        def __init__(self) -> None:
            super().__init__(console)
            views.append(self)

        def __call__(self, controller: Controller) -> None:
            ticks.append((controller.elapsed, len(controller.workers)))
            super().__call__(controller)

    # api.arun builds its view through report.console.LiveView; hand it the recording one.
    monkeypatch.setattr("loadforge.report.console.LiveView", Recording)
    from loadforge.api import run

    run(
        ROOT / "scenarios" / "demo.py",
        users=3,
        spawn_rate=100,
        run_time="3s",
        host=demo_target.http_url,
        processes=1,
        live=True,
    )
    assert views and len(ticks) >= 2
    out = screen.getvalue()
    assert "━" in out  # the progress bar
    assert "/ 3 s" in out and "users 3" in out and "workers 1" in out
    for column in ("req/s now", "p95 now", "GET", "/health", "POST", "/predict", "Aggregated"):
        assert column in out
    # Redrawn in place (cursor moves up over the previous frame), not scrolled out again.
    assert "\x1b[1A\x1b[2K" in out and out.count("loadforge") >= 2
