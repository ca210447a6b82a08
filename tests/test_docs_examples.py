"""docs/scenarios.md's "What a task can call" example runs as written against the demo
target: every client call, `catch_response`, `measure` and `record` it shows."""

from __future__ import annotations

import re
from pathlib import Path

import loadforge
from loadforge.testing import DemoProcess

DOC = Path(__file__).parent.parent / "docs" / "scenarios.md"


def _example(section: str) -> str:
    text = DOC.read_text()
    start = text.index(f"## {section}")
    match = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert match, section
    return match.group(1)


def test_task_api_example_runs(tmp_path: Path, demo_target: DemoProcess) -> None:
    scenario = tmp_path / "scenario.py"
    scenario.write_text(_example("What a task can call"))
    result = loadforge.run(scenario, users=1, iterations=3, host=demo_target.http_url, processes=1)
    assert result.stats is not None
    assert not result.stats.exceptions, {e.kind: e.sample for e in result.stats.exceptions.values()}
    keys = {ep.key for ep in result.endpoints}
    for key in (
        "GET /health",
        "GET /echo?q",
        "POST predict",
        "POST /login",
        "POST /detect",
        "PUT /echo",
        "PATCH /echo",
        "DELETE /echo",
        "HEAD /health",
        "OPTIONS /echo",
        "GET health via request()",
        "POST checked",
        "CUSTOM local work",
        "WS chat",
    ):
        assert key in keys, (key, sorted(keys))
    assert result.endpoint("POST checked").failures == 0
    assert result.endpoint("WS chat").requests == 6
    assert result.endpoint("WS chat").failures == 3
