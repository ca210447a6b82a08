"""A controller process plus worker processes, as the distributed tests start them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from loadforge.testing import DemoProcess

SCENARIO = """
from loadforge import HttpUser, constant, get, post

class Visitor(HttpUser):
    wait_time = constant(0.01)
    tasks = {get("/health"): 3, post("/predict", json={"data": [0.5] * 784}): 1}
"""

LISTENING = re.compile(r"controller listening on [\d.]+:(\d+)")


def loadforge_process(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`python -m loadforge ARGS` with stdout and stderr captured as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "loadforge", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def controller_port(proc: subprocess.Popen[str], timeout_s: float = 20.0) -> int:
    """The port from the controller's `listening on` line (it binds port 0)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if match := LISTENING.search(line):
            return int(match.group(1))
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"controller did not start (exit {proc.poll()})")


def served(demo: DemoProcess) -> int:
    """HTTP requests the demo target answered since its last reset."""
    return int(demo.stats()["http_total"])


class Run:
    """A controller process plus the workers a test starts against it."""

    def __init__(self, tmp: Path, demo: DemoProcess, *controller_args: str) -> None:
        scenario = tmp / "scenario.py"
        scenario.write_text(SCENARIO)
        self.json_path = tmp / "result.json"
        self.token = "s3cret-token"
        self.controller = loadforge_process(
            "controller",
            str(scenario),
            "-H",
            demo.http_url,
            "--bind",
            "127.0.0.1:0",
            "--json",
            str(self.json_path),
            "-q",
            "--token",
            self.token,
            *controller_args,
        )
        self.port = controller_port(self.controller)
        self.workers: list[subprocess.Popen[str]] = []

    def worker(self, name: str, *extra: str, token: str | None = None) -> subprocess.Popen[str]:
        proc = loadforge_process(
            "worker",
            "--controller",
            f"127.0.0.1:{self.port}",
            "--id",
            name,
            "--token",
            self.token if token is None else token,
            *extra,
        )
        self.workers.append(proc)
        return proc

    def finish(self, timeout_s: float = 60.0) -> tuple[int, dict[str, object], str]:
        _, err = self.controller.communicate(timeout=timeout_s)
        for w in self.workers:
            w.communicate(timeout=20)
        summary = json.loads(self.json_path.read_text()) if self.json_path.exists() else {}
        return self.controller.returncode, summary, err

    def kill_all(self) -> None:
        for proc in [self.controller, *self.workers]:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
