"""The peers loadforge is compared with, each pinned to the load CPU, 50 connections."""

from __future__ import annotations

import csv
import json
import re
import sys
import tempfile
from pathlib import Path

from loadforge.testing import GRPC_HELLO_PATH

from .measure import ROOT, Measurement, failed, pinned, run
from .tools import locust_command

CONNECTIONS = 50
# HelloRequest{name: "x"} as a gRPC length-prefixed message.
HELLO_REQUEST_FRAME = b"\x00\x00\x00\x00\x03\x0a\x01x"


def wrk(url: str, duration_s: int) -> Measurement:
    """wrk 4, one thread, 50 keep-alive connections."""
    cmd = pinned(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration_s}s", url])
    result = run(cmd, duration_s + 30)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    total = re.search(r"(\d+) requests in", result.stdout)
    if result.returncode != 0 or not rps or not total:
        return failed("wrk -t1 -c50", cmd, result)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    note = f"{errors.group(1)} non-2xx" if errors else ""
    return Measurement("wrk -t1 -c50", float(rps.group(1)), int(total.group(1)), note, cmd)


def h2load(
    tool: str, url: str, duration_s: int, extra: list[str], conns: int = 10, streams: int = 10
) -> Measurement:
    """h2load over h2c: 10 connections x 10 concurrent streams (= 100 in flight) by default."""
    cmd = pinned(
        ["h2load", "-t1", f"-c{conns}", f"-m{streams}", "-D", str(duration_s), *extra, url]
    )
    result = run(cmd, duration_s + 30)
    rps = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", result.stdout)
    counts = re.search(
        r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed", result.stdout
    )
    codes = re.search(r"status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", result.stdout)
    if result.returncode != 0 or not rps or not counts or not codes:
        return failed(tool, cmd, result)
    note = f"{counts.group(2)} failed" if int(counts.group(2)) else ""
    # Not "2xx != succeeded": a response landing as the clock stops is counted in 2xx only.
    if any(int(n) for n in codes.groups()):
        note = (note + " non-2xx answers").strip()
    return Measurement(tool, float(rps.group(1)), int(counts.group(1)), note, cmd)


def h2load_get(h2_url: str, duration_s: int, conns: int = 10, streams: int = 10) -> Measurement:
    """HTTP/2 cleartext GET /health, `conns` connections x `streams` streams."""
    tool = f"h2load -c{conns} -m{streams} (h2c GET)"
    return h2load(tool, f"{h2_url}/health", duration_s, [], conns, streams)


def h2load_grpc(h2_url: str, duration_s: int, workdir: Path) -> Measurement:
    """gRPC-shaped unary POST over h2c: framed HelloRequest in, framed HelloReply out."""
    body = workdir / "hello_request.bin"
    body.write_bytes(HELLO_REQUEST_FRAME)
    headers = ["-H", "content-type: application/grpc", "-H", "te: trailers", "-d", str(body)]
    return h2load("h2load -c10 -m10 (gRPC POST)", f"{h2_url}{GRPC_HELLO_PATH}", duration_s, headers)


def locust_fast_http(url: str, duration_s: int) -> Measurement:
    """Locust FastHttpUser, one process, 50 users, constant(0), headless."""
    tool = "Locust FastHttpUser (1 proc)"
    locust = locust_command()
    if locust is None:
        return Measurement(tool, None, note="n/a (pip install -r benches/requirements.txt)")
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "locust"
        cmd = pinned(
            [
                *locust,
                "-f",
                str(ROOT / "benches" / "locustfile.py"),
                "--headless",
                "-u",
                str(CONNECTIONS),
                "-r",
                str(CONNECTIONS),
                "-t",
                f"{duration_s}s",
                "-H",
                url,
                "--only-summary",
                "--csv",
                str(prefix),
                "-L",
                "ERROR",
            ]
        )
        result = run(cmd, duration_s + 60)
        stats = prefix.with_name("locust_stats.csv")
        if not stats.exists():
            return failed(tool, cmd, result)
        with stats.open() as f:
            total = next(row for row in csv.DictReader(f) if row["Name"] == "Aggregated")
    failures = int(total["Failure Count"])
    note = f"{failures} failures" if failures else ""
    return Measurement(tool, float(total["Requests/s"]), int(total["Request Count"]), note, cmd)


def grpc_aio(grpc_addr: str, duration_s: int) -> Measurement:
    """grpcio's grpc.aio client: one channel, 50 tasks calling SayHello in a loop."""
    tool = "grpc.aio client, 50 tasks"
    script = ROOT / "benches" / "harness" / "grpc_aio_client.py"
    cmd = pinned([sys.executable, str(script), grpc_addr, str(duration_s), str(CONNECTIONS)])
    result = run(cmd, duration_s + 30)
    try:
        out = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return failed(tool, cmd, result)
    note = f"{out['errors']} errors" if out["errors"] else ""
    return Measurement(tool, out["requests"] / out["seconds"], out["requests"], note, cmd)


def wrk_percentiles(
    url: str, duration_s: int, connections: int, prefix: list[str] | None = None
) -> dict[str, float] | None:
    """wrk's own p50/p99 (ms) with `connections` connections, for the accuracy bench."""
    wrk_cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency", url]
    cmd = pinned([*(prefix or []), *wrk_cmd])
    result = run(cmd, duration_s + 30)
    found = {}
    for label, key in (("50%", "p50"), ("99%", "p99")):
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", result.stdout, re.MULTILINE)
        if m is None:
            return None
        found[key] = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    return found
