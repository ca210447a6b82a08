"""The HTML report of a real run, opened in headless Chromium: every chart rendered.

plotly.js draws each chart as `<svg class="main-svg">` inside its `<div id="chart-...">`,
with one `trace scatter` group per line; a report whose script failed (plotly.js missing,
bad data) leaves the divs empty. Skipped when Debian's `chromium` is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from loadforge.api import run

ROOT = Path(__file__).resolve().parent.parent
CHARTS = ("chart-rps", "chart-latency", "chart-users", "chart-dist")


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class ChartClasses(HTMLParser):
    """Per chart div id: the classes of every element inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.classes: dict[str, list[str]] = {}
        self._stack: list[str | None] = []  # chart id owning each open element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        owner = self._stack[-1] if self._stack else None
        if attr.get("id") in CHARTS:
            owner = attr["id"]
            self.classes.setdefault(owner or "", [])
        elif owner is not None:
            self.classes[owner].extend((attr.get("class") or "").split())
        if tag not in ("br", "img", "input", "meta", "link", "hr"):
            self._stack.append(owner)

    def handle_endtag(self, tag: str) -> None:
        if self._stack:
            self._stack.pop()


def render_dom(chromium: str, page: Path, profile: Path) -> str:
    proc = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.slow
def test_html_report_charts_render_in_chromium(demo_target: Any, tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    page = tmp_path / "report.html"
    run(
        ROOT / "scenarios" / "demo.py",
        users=4,
        spawn_rate=100,
        run_time="3s",
        host=demo_target.http_url,
        processes=1,
        html_path=str(page),
    )
    parser = ChartClasses()
    parser.feed(render_dom(chromium, page, tmp_path / "profile"))
    for chart in CHARTS:
        classes = parser.classes.get(chart, [])
        assert "main-svg" in classes, f"{chart} was not drawn"
        assert "scatter" in classes and "trace" in classes, f"{chart} has no data trace"


def test_an_empty_report_leaves_the_chart_divs_empty(tmp_path: Path) -> None:
    """The check above can fail: a page whose script breaks has no svg in the divs."""
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    page = tmp_path / "broken.html"
    page.write_text(
        "<html><body>"
        + "".join(f'<div id="{c}"></div>' for c in CHARTS)
        + "<script>Plotly.newPlot('chart-rps', [])</script></body></html>"
    )
    parser = ChartClasses()
    parser.feed(render_dom(chromium, page, tmp_path / "profile"))
    assert set(parser.classes) == set(CHARTS)
    assert all("main-svg" not in classes for classes in parser.classes.values())
