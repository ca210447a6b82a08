"""A failed request keeps the first bytes (at most 512) of its response body with each
distinct failure, in the console, the JSON summary and the HTML report: "HTTP status 422"
alone did not say what was wrong without the server's logs."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

from rich.console import Console

import loadforge
from loadforge.report.console import print_summary
from loadforge.testing import DemoProcess

SCENARIO = """
from loadforge import HttpUser, constant, get, post

class Visitor(HttpUser):
    wait_time = constant(0.02)
    tasks = [
        post("/predict", json={"data": "bad"}, name="predict"),
        post("/status/503", name="predict"),
        get("/health"),
    ]
"""


def test_failures_keep_their_response_body(tmp_path: Path, demo_target: DemoProcess) -> None:
    scenario = tmp_path / "scenario.py"
    scenario.write_text(textwrap.dedent(SCENARIO))
    summary, report = tmp_path / "out.json", tmp_path / "out.html"
    result = loadforge.run(
        scenario,
        users=2,
        spawn_rate=100,
        run_time="1s",
        host=demo_target.http_url,
        processes=1,
        json_path=str(summary),
        html_path=str(report),
    )
    endpoints = {e["name"]: e for e in json.loads(summary.read_text())["endpoints"]}
    predict = endpoints["predict"]
    # Two distinct messages of one kind: two entries, each with its own body.
    bodies = {e["sample"]: e["body"] for e in predict["errors"]}
    assert {e["kind"] for e in predict["errors"]} == {"http_status"}
    assert set(bodies) == {"HTTP status 422", "HTTP status 503"}, bodies
    assert bodies["HTTP status 422"].startswith('{"error":'), bodies
    assert bodies["HTTP status 503"] == '{"status":503}', bodies
    assert sum(e["count"] for e in predict["errors"]) == predict["failures"] > 0
    assert all(len(e["body"].encode()) <= 512 for e in predict["errors"])
    assert endpoints["/health"]["errors"] == []

    page = report.read_text()
    assert "{&quot;error&quot;:" in page

    console = Console(file=io.StringIO(), width=250, force_terminal=False)
    print_summary(result, console)
    assert '{"error":' in console.file.getvalue()  # type: ignore[attr-defined]
