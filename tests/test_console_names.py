"""Names with `[...]` print intact in the final tables, the live view and `compare`.

Rich reads `[id]` in a plain string as a style tag and drops it, so `/item/[id]` printed
as `/item/` and `compare` showed two identical rows.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from rich.console import Console

import loadforge
from loadforge.report.compare import print_comparison
from loadforge.report.console import LiveView, print_summary
from loadforge.result import Result
from loadforge.testing import DemoProcess

NAMES = ("/item/[id]", "/predict [invalid]", "/predict")
SCENARIO = """
from loadforge import HttpUser, constant, get, post

class Visitor(HttpUser):
    wait_time = constant(0.05)
    tasks = [
        get("/health", name="/item/[id]"),
        post("/predict", json={"data": [0.5] * 784}),
        post("/predict", json={"data": "[bold]"}, name="/predict [invalid]"),
    ]
"""


@pytest.fixture(scope="module")
def run(demo_target: DemoProcess, tmp_path_factory: pytest.TempPathFactory) -> Result:
    demo_target.reset()
    folder = tmp_path_factory.mktemp("names")
    scenario = folder / "scenario.py"
    scenario.write_text(textwrap.dedent(SCENARIO))
    result = loadforge.run(
        scenario,
        users=3,
        spawn_rate=100,
        run_time="1s",
        host=demo_target.http_url,
        processes=1,
        thresholds=[("POST /predict [invalid]", "fail_ratio < 1%")],
    )
    assert {ep.name for ep in result.endpoints} == set(NAMES)
    assert result.endpoint("POST /predict [invalid]").failures > 0
    return result


def _console(terminal: bool = False) -> Console:
    return Console(file=io.StringIO(), width=250, force_terminal=terminal)


def _text(console: Console) -> str:
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_cli_tables_keep_brackets(tmp_path: Path, demo_target: DemoProcess) -> None:
    scenario = tmp_path / "scenario.py"
    scenario.write_text(textwrap.dedent(SCENARIO))
    done = subprocess.run(
        [
            sys.executable, "-m", "loadforge", "run", str(scenario), "-u", "3", "-r", "100",
            "-t", "1s", "--headless", "-q", "--processes", "1", "-H", demo_target.http_url,
        ],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    for name in NAMES:
        assert f" {name} " in done.stdout, (name, done.stdout)


def test_summary_keeps_brackets_in_every_table(run: Result) -> None:
    console = _console()
    print_summary(run, console)
    text = _text(console)
    # Requests, percentiles, failures (a 422 per invalid request) and thresholds.
    assert text.count(" /predict [invalid] ") >= 3, text
    assert "POST /predict [invalid]" in text, text
    assert text.count(" /item/[id] ") == 2, text


def test_live_view_keeps_brackets(run: Result) -> None:
    assert run.stats is not None
    console = _console(terminal=True)
    console.print(LiveView(console).render(run.stats, 1.0, 1.0, 3, 1))
    for name in NAMES:
        assert f" {name} " in _text(console), name


def test_compare_keeps_brackets(run: Result) -> None:
    summary = run.to_dict()
    console = _console()
    print_comparison(summary, summary, 10.0, console)
    text = _text(console)
    for name in NAMES:
        method = "GET" if name == "/item/[id]" else "POST"
        assert f"{method} {name} " in text, (name, text)
    assert len(re.findall(r"POST /predict +│", text)) == 1, text
