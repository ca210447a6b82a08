"""Every report writes a threshold's observed value as the console does: a ratio in
percent, a latency in ms, a rate as a number (JUnit printed `0.847134ratio`)."""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from rich.console import Console

import loadforge
from loadforge.report.console import print_summary
from loadforge.testing import DemoProcess

THRESHOLDS = ["fail_ratio < 1%", "p95 < 0.001ms", "rps > 1000000"]


def test_observed_values_carry_their_unit_in_every_report(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    scenario = tmp_path / "scenario.py"
    scenario.write_text(
        textwrap.dedent(
            """
            from loadforge import HttpUser, constant, get, post

            class Visitor(HttpUser):
                wait_time = constant(0.05)
                tasks = {get("/health"): 1, post("/predict", json={"data": "bad"}): 5}
            """
        )
    )
    junit, html = tmp_path / "junit.xml", tmp_path / "report.html"
    result = loadforge.run(
        scenario,
        users=2,
        spawn_rate=100,
        run_time="1s",
        host=demo_target.http_url,
        processes=1,
        thresholds=THRESHOLDS,
        junit_path=str(junit),
        html_path=str(html),
    )
    ratio, p95, rps = (v.observed for v in result.thresholds)
    assert ratio is not None and p95 is not None and rps is not None
    expected = [f"{ratio:.2%}", f"{p95:.2f} ms" if p95 < 10 else f"{p95:.1f} ms", f"{rps:,.2f}"]
    assert re.fullmatch(r"\d+\.\d\d%", expected[0])

    failures = [f.get("message") for f in ET.parse(junit).iter("failure")]
    assert failures == [f"observed {e}" for e in expected]

    page = html.read_text()
    for e in expected:
        assert f"<td>{e}</td>" in page, e

    console = Console(file=io.StringIO(), width=200, force_terminal=False)
    print_summary(result, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    for e in expected:
        assert e in text, e

    with pytest.raises(AssertionError) as raised:
        result.raise_for_thresholds()
    for e in expected:
        assert f"(observed {e})" in str(raised.value)
    for report in (junit.read_text(), page, text, str(raised.value)):
        assert not re.search(r"\dratio", report)
