"""Controller scale: can one controller keep up with 200 workers under one core?

    python benches/controller_scale.py [--workers 200] [--endpoints 20] [--duration 20]
                                       [--simulators 2] [--profile]

A real Controller runs in its own process; `--simulators` processes open `--workers` real
gRPC streams to it, each sending a one-second snapshot of `--endpoints` endpoints (real
HDR V2 histograms, log-normal latencies with a tail) plus a heartbeat every second, as
workers do. The controller's process CPU (all threads) and the time spent merging
(`RunStats.add`) are sampled every second. The bar (issue 6): mean CPU under 100% (one
core). `--profile` runs the controller under cProfile and prints where its time goes.
Exit code 1 when the bar is missed or a simulated worker was lost.
"""

from __future__ import annotations

import argparse
import json
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONTROLLER = HERE / "harness" / "scale_controller.py"
SIMULATOR = HERE / "harness" / "scale_workers.py"
TOKEN = "scale-bench-token"
BAR_CPU_PERCENT = 100.0


def _start_controller(args: argparse.Namespace, profile: str | None) -> tuple[Any, int]:
    cmd = [sys.executable, str(CONTROLLER), "--workers", str(args.workers)]
    cmd += ["--duration", str(args.duration)]
    if profile:
        cmd += ["--profile", profile]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("port "):
        proc.kill()
        raise RuntimeError(f"controller did not start: {line!r}")
    return proc, int(line.split()[1])


def _start_simulators(args: argparse.Namespace, port: int) -> list[subprocess.Popen[str]]:
    per = -(-args.workers // args.simulators)
    procs = []
    for first in range(0, args.workers, per):
        count = min(per, args.workers - first)
        cmd = [sys.executable, str(SIMULATOR), "--port", str(port), "--token", TOKEN]
        cmd += ["--first", str(first), "--count", str(count), "--endpoints", str(args.endpoints)]
        cmd += ["--requests", str(args.requests)]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
    return procs


def measure(args: argparse.Namespace, profile: str | None = None) -> dict[str, Any]:
    """One run; the controller's measurements plus what the simulators sent."""
    controller, port = _start_controller(args, profile)
    simulators = _start_simulators(args, port)
    try:
        timeout = args.duration + 120
        out, _ = controller.communicate(timeout=timeout)
        sent = sum(int(p.communicate(timeout=30)[0].strip() or 0) for p in simulators)
    finally:
        for proc in [controller, *simulators]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result.update(endpoints=args.endpoints, snapshots_sent=sent)
    return result


def render(r: dict[str, Any]) -> str:
    verdict = (
        "PASS" if r["cpu_percent_mean"] < BAR_CPU_PERCENT and not r["lost_workers"] else "FAIL"
    )
    cpu_max, merge_max, sent = r["cpu_percent_max"], r["merge_ms_per_s_max"], r["snapshots_sent"]
    rows = [
        ("workers x endpoints", f"{r['workers']} x {r['endpoints']}"),
        ("snapshots sent / merged (with Done)", f"{sent:,} / {r['snapshots_merged']:,}"),
        ("requests merged", f"{r['requests_merged']:,}"),
        ("controller CPU, mean / max per second", f"{r['cpu_percent_mean']}% / {cpu_max}%"),
        ("merge cost per second, mean / max", f"{r['merge_ms_per_s_mean']} / {merge_max} ms"),
        ("merge cost per snapshot", f"{r['merge_us_per_snapshot']} us"),
        ("workers lost", str(r["lost_workers"])),
        (f"bar: mean CPU < {BAR_CPU_PERCENT:.0f}%", verdict),
    ]  # fmt: skip
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--endpoints", type=int, default=20)
    parser.add_argument("--requests", type=int, default=500, help="per endpoint per second")
    parser.add_argument("--duration", type=int, default=20, help="seconds of reporting")
    parser.add_argument("--simulators", type=int, default=2, help="processes of workers")
    parser.add_argument("--profile", action="store_true", help="cProfile the controller")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        profile = str(Path(tmp) / "controller.prof") if args.profile else None
        result = measure(args, profile)
        print(render(result))
        if profile:
            print("\ncontroller profile (top 20 by own time):")
            pstats.Stats(profile).sort_stats("tottime").print_stats(20)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(f"\n({time.monotonic() - started:.0f}s)")
    ok = result["cpu_percent_mean"] < BAR_CPU_PERCENT and not result["lost_workers"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
