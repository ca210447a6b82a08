"""`http2 = True` on an HttpUser: every request of the class goes over HTTP/2, in the plan
(declarative tasks and hooks) and through `self.client` in `async def` tasks."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loadforge._proto import plan_pb2
from loadforge.scenario import PlanOptions, ScenarioError, build_plan, load_scenario
from loadforge.testing import NginxServer

HOST = "http://127.0.0.1:8000"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scenario.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_class_switch_moves_every_http_request_to_http2(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        from loadforge import HttpUser, get, post

        class Fast(HttpUser):
            http2 = True
            tasks = {get("/a"): 1}
            on_start = [post("/login", json={"u": 1})]

        class Plain(HttpUser):
            tasks = {get("/b"): 1, get("/c", http2=True): 1}
        """,
    )
    plan = build_plan(load_scenario(path), PlanOptions(host=HOST))
    fast, plain = plan.engine.users
    assert [t.request.protocol for t in fast.tasks] == [plan_pb2.PROTOCOL_HTTP2]
    assert [r.protocol for r in fast.on_start] == [plan_pb2.PROTOCOL_HTTP2]
    assert [t.request.protocol for t in plain.tasks] == [
        plan_pb2.PROTOCOL_HTTP1,
        plan_pb2.PROTOCOL_HTTP2,
    ]


@pytest.mark.parametrize(
    ("base", "value", "message"),
    [
        ("HttpUser", "'yes'", "http2 must be True or False"),
        ("GrpcUser", "True", "always speaks HTTP/2"),
    ],
)
def test_bad_http2_setting_names_the_line(
    tmp_path: Path, base: str, value: str, message: str
) -> None:
    task = "get('/a')" if base == "HttpUser" else "unary('/p.S/M', Empty())"
    path = _write(
        tmp_path,
        f"""
        from google.protobuf.empty_pb2 import Empty
        from loadforge import GrpcUser, HttpUser, get, unary

        class Api({base}):
            tasks = {{{task}: 1}}
            http2 = {value}
        """,
    )
    with pytest.raises(ScenarioError, match=message) as info:
        load_scenario(path)
    assert "scenario.py:7" in str(info.value)


def _run(path: Path, host: str, out: Path) -> dict[str, int]:
    args = f"run {path} -H {host} -u 4 -r 50 -t 2s --processes 1 --json {out} -q"
    proc = subprocess.run(
        [sys.executable, "-m", "loadforge", *args.split()],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode in (0, 1), proc.stderr
    total: dict[str, int] = json.loads(out.read_text())["total"]
    return total


@pytest.mark.parametrize("kind", ["declarative", "async def"])
def test_http2_users_talk_to_an_h2c_only_port(
    tmp_path: Path, nginx: NginxServer, kind: str
) -> None:
    # nginx's h2c port answers HTTP/2 with prior knowledge only: HTTP/1.1 requests fail
    # there, so success proves the switch reached the engine.
    task = (
        "tasks = {get('/health', status=200): 1}"
        if kind == "declarative"
        else "@task\n            async def health(self):\n"
        "                r = await self.client.get('/health')\n"
        "                assert r.status == 200 and r.json()['status'] == 'healthy'"
    )
    body = """
        from loadforge import HttpUser, constant, get, task

        class Api(HttpUser):
            http2 = {switch}
            wait_time = constant(0)
            {task}
        """
    on = _write(tmp_path, body.format(switch="True", task=task))
    total = _run(on, nginx.h2_url, tmp_path / "on.json")
    assert total["requests"] > 0 and total["failures"] == 0, total

    off = _write(tmp_path, body.format(switch="False", task=task))
    total = _run(off, nginx.h2_url, tmp_path / "off.json")
    assert total["failures"] == total["requests"] > 0, total
