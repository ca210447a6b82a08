"""`--prometheus HOST:PORT`, scraped during a real run (CLI process, real worker process,
real demo target), and the live view's plain progress lines when stderr is not a TTY."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from loadforge.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*)\})?'
    r" (?P<value>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|NaN|[-+]?Inf))$"
)


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Strict reading of the text format: every line a comment or a valid sample, and every
    sample's family declared with # TYPE before it."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    typed: set[str] = set()
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a valid sample line: {line!r}"
        name = match["name"]
        family = re.sub(r"_(sum|count)$", "", name)
        assert name in typed or family in typed, f"{name} has no # TYPE"
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match["labels"] or ""))
        samples[(name, labels)] = float(match["value"])
    return samples


def value(samples: dict[Any, float], metric: str, /, **labels: str) -> float:
    return samples[(metric, frozenset(labels.items()))]


def scrape(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.headers["Content-Type"], response.read().decode()


@pytest.mark.slow
def test_metrics_scraped_during_a_real_run(demo_target: Any, tmp_path: Path) -> None:
    demo_target.reset()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loadforge",
            "run",
            str(ROOT / "scenarios" / "demo.py"),
            "-H",
            demo_target.http_url,
            "-u",
            "3",
            "-r",
            "100",
            "-t",
            "3s",
            "--processes",
            "1",
            "--headless",
            "--prometheus",
            "127.0.0.1:0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        match = re.search(r"Prometheus metrics on (http://127\.0\.0\.1:\d+/metrics)", first)
        assert match, first
        url = match.group(1)
        # Scrape until the run has a second of requests behind it.
        deadline = time.monotonic() + 20
        samples: dict[Any, float] = {}
        while time.monotonic() < deadline:
            kind, text = scrape(url)
            samples = parse(text)
            if value(samples, "loadforge_current_rps", method="", name="Aggregated") > 0:
                break
            time.sleep(0.3)
        assert kind.startswith("text/plain; version=0.0.4")
        assert value(samples, "loadforge_requests_total", method="GET", name="/health") > 0
        assert value(samples, "loadforge_failures_total", method="GET", name="/health") == 0
        assert value(samples, "loadforge_users") == 3
        assert value(samples, "loadforge_workers", status="running") == 1
        p50 = value(
            samples, "loadforge_latency_seconds", method="", name="Aggregated", quantile="0.5"
        )
        p99 = value(
            samples, "loadforge_latency_seconds", method="", name="Aggregated", quantile="0.99"
        )
        assert 0 < p50 <= p99 < 1.0
        cpu = [k for k in samples if k[0] == "loadforge_worker_cpu_percent"]
        assert len(cpu) == 1 and dict(cpu[0][1])["worker"]
        with pytest.raises(urllib.error.HTTPError, match="404"):
            scrape(url.replace("/metrics", "/nope"))
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    # Not a TTY: the live view prints plain progress lines, no redraw escapes.
    progress = [
        line
        for line in stderr.splitlines()
        if re.match(r"\[\s*\d+/3s\] users \d+ \| workers 1 \|", line)
    ]
    assert progress, stderr
    assert "\x1b[" not in stderr
    # The requests the exporter counted were really served.
    served = demo_target.stats()["http"]["/health"]["200"]
    assert served >= value(samples, "loadforge_requests_total", method="GET", name="/health")
    # After the run the endpoint is gone.
    with pytest.raises(urllib.error.URLError):
        scrape(url)
    assert "PASSED" in stdout


def test_bad_prometheus_address_is_invalid_input(demo_target: Any) -> None:
    demo_target.reset()
    code = main(
        [
            "run",
            str(ROOT / "scenarios" / "demo.py"),
            "-H",
            demo_target.http_url,
            "-t",
            "1s",
            "--processes",
            "1",
            "-q",
            "--prometheus",
            "localhost",
        ]
    )
    assert code == 2
    assert demo_target.stats()["http"] == {}
