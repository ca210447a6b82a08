"""`--csv` files against the ones a real Locust writes for the same load: the same
files, the same header lines byte for byte, the same shape of rows.

Locust is not a dev dependency (it brings gevent, which monkey-patches): install it in a
venv of its own and point `LOCUST_BIN` at its `locust` command (or put it on PATH), as
.ci/run does: `python3 -m venv V && V/bin/pip install locust==2.47.0`. Skipped when no
Locust is found.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loadforge.testing import DemoProcess

FILES = ("stats", "stats_history", "failures", "exceptions")
LOCUSTFILE = """
from locust import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health")

    @task
    def invalid(self):
        self.client.post("/predict", json={"data": "bad"})

    @task
    def broken(self):
        raise ValueError("broken task")
"""
SCENARIO = """
from loadforge import HttpUser, constant, get, post, task

class Visitor(HttpUser):
    wait_time = constant(0.05)
    tasks = [get("/health"), post("/predict", json={"data": "bad"})]

    @task
    async def broken(self):
        raise ValueError("broken task")
"""


def _locust() -> str:
    found = os.environ.get("LOCUST_BIN") or shutil.which("locust")
    if not found:
        pytest.skip("no Locust installed (set LOCUST_BIN to a locust command)")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=60)
    if version.returncode != 0:
        pytest.skip(f"{found} --version failed: {version.stderr.strip()}")
    return found


def _read(prefix: Path) -> dict[str, bytes]:
    return {name: Path(f"{prefix}_{name}.csv").read_bytes() for name in FILES}


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def test_csv_files_match_a_real_locust_run(tmp_path: Path, demo_target: DemoProcess) -> None:
    locust = _locust()
    common = ["-u", "2", "-r", "10", "-t", "2s", "--headless", "--csv-full-history"]
    (tmp_path / "locustfile.py").write_text(textwrap.dedent(LOCUSTFILE))
    ran = subprocess.run(
        [locust, "-f", str(tmp_path / "locustfile.py"), *common, "-H", demo_target.http_url,
         "--csv", str(tmp_path / "locust"), "--only-summary"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    theirs = _read(tmp_path / "locust")
    assert ran.returncode in (0, 1), ran.stderr

    (tmp_path / "scenario.py").write_text(textwrap.dedent(SCENARIO))
    ran = subprocess.run(
        [sys.executable, "-m", "loadforge", "run", str(tmp_path / "scenario.py"), *common,
         "-q", "--processes", "1", "-H", demo_target.http_url, "--csv", str(tmp_path / "ours")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    ours = _read(tmp_path / "ours")
    assert ran.returncode in (0, 1), ran.stderr

    for name in FILES:
        header = theirs[name].split(b"\n", 1)[0]
        assert ours[name].split(b"\n", 1)[0] == header, name
        # Locust's csv dialect: CRLF line ends.
        assert header.endswith(b"\r"), name
        theirs_rows, our_rows = _rows(theirs[name]), _rows(ours[name])
        assert {len(r) for r in our_rows} == {len(r) for r in theirs_rows}, name

    def names(data: bytes) -> set[tuple[str, str]]:
        return {(r[0], r[1]) for r in _rows(data)[1:]}

    assert names(ours["stats"]) == names(theirs["stats"])
    failure = _rows(ours["failures"])[1]
    assert failure[:2] == ["POST", "/predict"]
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.fullmatch(stamp, failure[4]) and re.fullmatch(stamp, failure[5]), failure
    assert failure[4] <= failure[5]
    (exception,) = _rows(ours["exceptions"])[1:]
    assert "broken task" in exception[1]
