"""Benchmarks: loadforge beside wrk, h2load, Locust and grpc.aio, measured in the same run.

    python benches/run.py [--duration 10] [--only http1,http2,grpc,python]
    python benches/run.py --only memory,accuracy,controller   # the optional groups

The target is nginx with one worker pinned to CPU 1 (loadforge.testing.NginxServer);
every load generator, peer or loadforge, runs pinned to CPU 0 with 50 connections/users.
Prints a table of req/s and ratios against the peer of each comparison, with the bars
from BASELINES.md, and writes the same as JSON to bench-results/.
Needs: wrk, h2load, nginx (Debian: wrk nghttp2-client nginx-light); Locust from
benches/requirements.txt for the `python` group.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness import peers
from harness.loadforge_side import run_scenario
from harness.measure import ROOT, Measurement, pin_process
from harness.report import Row, render_table, write_json
from harness.tools import install_hint, missing_tools

from loadforge.testing import NginxServer

GROUPS = ("http1", "http2", "grpc", "python")
# Optional groups: run only when named in --only, each by its own script's main().
OPTIONAL_GROUPS = (
    "controller",  # controller_scale.py: 200 simulated workers, CPU < 1 core
    "memory",  # memory.py: 10,000 users in one worker, RSS < 500 MB and flat (60 s)
    "accuracy",  # accuracy.py: fixed-delay p50/p99 and the SIGSTOP stall
)
H2_USERS = 100  # = h2load's -c10 -m10 streams in flight


@dataclass
class Comparison:
    """A peer, and optionally the loadforge run that must reach `bar` x the peer's req/s."""

    group: str
    peer: Callable[[], Measurement]
    ours: Callable[[], Measurement] | None = None
    bar: float | None = None


def comparisons(nginx: NginxServer, duration: int, workdir: Path) -> list[Comparison]:
    http, h2 = nginx.http_url, nginx.h2_url

    measured: dict[str, Measurement] = {}

    def ours(
        tool: str, scenario: str, host: str, users: int = 50, extra: tuple[str, ...] = ()
    ) -> Callable[[], Measurement]:
        # Measured once per run even when two comparisons use it (then the same figures).
        def measure() -> Measurement:
            if tool not in measured:
                measured[tool] = run_scenario(tool, scenario, host, duration, users, extra)
            return measured[tool]

        return measure

    locust_peer: dict[str, Measurement] = {}

    def locust() -> Measurement:
        if "m" not in locust_peer:
            locust_peer["m"] = peers.locust_fast_http(http, duration)
        return locust_peer["m"]

    python_async = ours("loadforge async def GET", "http_async.py", http)
    # benches/locustfile.py itself, unchanged: Locust's FastHttpUser, a plain `def` task.
    python_sync = ours("loadforge running the Locust file (sync def)", "../locustfile.py", http)

    return [
        Comparison(
            "http1",
            lambda: peers.wrk(f"{http}/health", duration),
            ours("loadforge declarative GET", "http_get.py", http),
            1.0,
        ),
        # h2load keeps 10 x 10 = 100 streams in flight; 100 loadforge users on one engine
        # thread with --connections 10 run the same layout. h2load's 4 x 25 (the engine's
        # default of 4 connections per thread) is measured beside it for reference.
        Comparison(
            "http2",
            lambda: peers.h2load_get(h2, duration),
            ours(
                "loadforge declarative h2c GET, 100 users, 10 connections",
                "http2_get.py",
                h2,
                H2_USERS,
                ("--connections", "10"),
            ),
            1.0,
        ),
        Comparison("http2", lambda: peers.h2load_get(h2, duration, conns=4, streams=25)),
        Comparison(
            "grpc",
            lambda: peers.h2load_grpc(h2, duration, workdir),
            ours("loadforge declarative gRPC", "grpc_unary.py", h2),
            1.0,
        ),
        Comparison(
            "grpc",
            lambda: peers.grpc_aio(nginx.grpc_addr, duration),
            ours("loadforge async def gRPC", "grpc_async.py", h2),
            5.0,
        ),
        Comparison("python", locust, python_async, 10.0),
        Comparison("python", locust, python_sync, 8.0),
        Comparison("python", python_async, python_sync, 0.8),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--only", default=",".join(GROUPS), help="comma-separated groups")
    parser.add_argument("--peers-only", action="store_true", help="skip the loadforge side")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results", help="JSON folder")
    args = parser.parse_args(argv)
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = sorted(set(groups) - set(GROUPS) - set(OPTIONAL_GROUPS))
    if unknown:
        choices = ", ".join(GROUPS + OPTIONAL_GROUPS)
        parser.error(f"unknown group(s) {unknown}; choose from {choices}")
    scale_code = 0
    for name in [g for g in OPTIONAL_GROUPS if g in groups]:
        groups.remove(name)
        script = "controller_scale" if name == "controller" else name
        print(f"{name} (benches/{script}.py):", flush=True)
        code = importlib.import_module(script).main([])
        scale_code = scale_code or code
        print(flush=True)
    if not groups:
        return scale_code

    needed = ["nginx", "taskset"]
    needed += ["wrk"] if "http1" in groups else []
    needed += ["h2load"] if {"http2", "grpc"} & set(groups) else []
    missing = missing_tools(needed)
    if missing:
        print(
            f"bench: missing {', '.join(missing)}; install with: {install_hint(missing)}",
            file=sys.stderr,
        )
        return 2

    rows: list[Row] = []
    shown: set[int] = set()
    with NginxServer() as nginx, tempfile.TemporaryDirectory() as tmp:
        for pid in nginx.worker_pids():
            pin_process(pid)
        print(
            f"target: nginx worker pinned to CPU 1 at {nginx.http_url} (HTTP/1.1) and "
            f"{nginx.h2_url} (h2c); load on CPU 0, {args.duration}s each",
            flush=True,
        )
        for c in comparisons(nginx, args.duration, Path(tmp)):
            if c.group not in groups:
                continue
            peer = c.peer()
            if id(peer) not in shown:  # a peer shared by comparisons is listed once
                shown.add(id(peer))
                rows.append(Row(c.group, peer))
                print(f"  {peer.tool}: {_show(peer)}", flush=True)
            if c.ours is not None and not args.peers_only:
                ours = c.ours()
                shown.add(id(ours))
                rows.append(Row(c.group, ours, peer, c.bar))
                print(f"  {ours.tool}: {_show(ours)} vs {peer.tool}", flush=True)
    print()
    print(render_table(rows))
    path = write_json(rows, args.out, args.duration)
    print(f"\nwrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 1 if scale_code or any(r.verdict == "FAIL" for r in rows) else 0


def _show(m: Measurement) -> str:
    text = f"{m.rps:,.0f} req/s" if m.rps is not None else m.note
    if m.rps is not None and m.note:
        text += f" ({m.note})"
    if m.detail and m.rps is None:
        text += f": {m.detail.splitlines()[-1][:160]}"
    return text


if __name__ == "__main__":
    sys.exit(main())
