"""Memory: 10,000 users with open connections in one worker (one engine), RSS over time.

    python benches/memory.py [--users 10000] [--duration 60] [--full] [--interval 3]
                             [--python | --locust]

The target is nginx (one worker pinned to CPU 1) with worker_connections raised for every
user; RLIMIT_NOFILE is raised to its hard limit here (nginx and loadforge inherit it).
`loadforge run` runs one worker process pinned to CPU 0: USERS declarative users (or
`async def` users with --python, a Locust file's sync `def` users with --locust: one
greenlet each), spawned at 1000/s, each keeping one keep-alive
connection and sending `GET /health` every 1-2 s. The worker's RSS (VmRSS) and its open
sockets are sampled every `--interval` seconds.

Bars (issue 3): peak RSS under 500 MB, and RSS flat: after warm-up (the ramp plus 10 s),
the mean of the last three samples within 5% of the mean of the first three. The slope
(MB per minute, least squares after warm-up) is printed too. `--full` runs 10 minutes.
Writes bench-results/memory-<timestamp>.json; exit 1 if a bar is missed.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.measure import ROOT, pin_process
from harness.summary_run import start_loadforge

from loadforge.testing import NginxServer

RSS_LIMIT_MB = 500.0
FLAT_TOLERANCE = 0.05
SPAWN_RATE = 1000
WARMUP_AFTER_RAMP_S = 10.0
FULL_RUN_S = 600

DECLARATIVE = """
from loadforge import HttpUser, between, get

class Idle(HttpUser):
    wait_time = between(1, 2)
    tasks = {get("/health"): 1}
"""
PYTHON = """
from loadforge import HttpUser, between, task

class Idle(HttpUser):
    wait_time = between(1, 2)

    @task
    async def health(self):
        await self.client.get("/health")
"""
LOCUST = """
from locust import HttpUser, between, task

class Idle(HttpUser):
    wait_time = between(1, 2)

    @task
    def health(self):
        self.client.get("/health")
"""


@dataclass
class Sample:
    """One reading of the worker process."""

    t_s: float
    rss_mb: float
    sockets: int


def worker_pid(run_pid: int, timeout_s: float = 60.0) -> int | None:
    """The `loadforge worker` child of the `loadforge run` process (taskset execs in place)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in _children(run_pid):
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            if b"worker" in cmdline:
                return child
        time.sleep(0.1)
    return None


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def read_sample(pid: int, t_s: float) -> Sample | None:
    """VmRSS and the number of open sockets of `pid`, or None once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        sockets = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                sockets += fd.readlink().name.startswith("socket:")
            except OSError:
                continue
    except OSError:
        return None
    rss = [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")]
    if not rss:  # exited, not yet reaped
        return None
    return Sample(round(t_s, 1), round(rss[0] / 1024, 1), sockets)


def slope_mb_per_min(samples: list[Sample]) -> float:
    """Least-squares slope of RSS over time."""
    n = len(samples)
    if n < 2:
        return 0.0
    mean_t = sum(s.t_s for s in samples) / n
    mean_r = sum(s.rss_mb for s in samples) / n
    var = sum((s.t_s - mean_t) ** 2 for s in samples)
    cov = sum((s.t_s - mean_t) * (s.rss_mb - mean_r) for s in samples)
    return 60 * cov / var if var else 0.0


def raise_fd_limit(needed: int) -> int:
    """Soft RLIMIT_NOFILE up to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=60, help="run seconds (default 60)")
    parser.add_argument("--full", action="store_true", help=f"a {FULL_RUN_S // 60}-minute run")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between samples")
    parser.add_argument("--python", action="store_true", help="async def users, not declarative")
    parser.add_argument("--locust", action="store_true", help="a Locust file's sync def users")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results", help="JSON folder")
    args = parser.parse_args(argv)
    duration = FULL_RUN_S if args.full else args.duration
    ramp_s = args.users / SPAWN_RATE
    warmup_s = ramp_s + WARMUP_AFTER_RAMP_S
    if duration < warmup_s + 6 * args.interval:
        parser.error(f"--duration must leave time after the {warmup_s:.0f} s warm-up")

    limit = raise_fd_limit(2 * args.users + 2048)
    if limit < args.users + 1024:
        print(f"memory: RLIMIT_NOFILE is {limit}, too low for {args.users} users", file=sys.stderr)
        return 2
    kind = "Locust sync def" if args.locust else "async def" if args.python else "declarative"
    print(
        f"{args.users} {kind} users, {duration} s, RSS sampled every {args.interval:g} s "
        f"(warm-up {warmup_s:.0f} s); RLIMIT_NOFILE {limit}",
        flush=True,
    )
    samples: list[Sample] = []
    with (
        NginxServer(worker_connections=args.users + 1024) as nginx,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for pid in nginx.worker_pids():
            pin_process(pid)
        scenario = Path(tmp) / "idle_users.py"
        source = LOCUST if args.locust else PYTHON if args.python else DECLARATIVE
        scenario.write_text(textwrap.dedent(source))
        out = Path(tmp) / "summary.json"
        users = ["-u", str(args.users), "-r", str(SPAWN_RATE), "-t", f"{duration}s"]
        proc = start_loadforge(scenario, nginx.http_url, users, out)
        worker = worker_pid(proc.pid)
        if worker is None:
            proc.kill()
            print("memory: no worker process appeared", file=sys.stderr)
            return 3
        started = time.monotonic()
        while proc.poll() is None:
            sample = read_sample(worker, time.monotonic() - started)
            if sample is None:
                break
            samples.append(sample)
            print(f"  t={sample.t_s:6.1f}s  rss={sample.rss_mb:7.1f} MB  sockets={sample.sockets}")
            time.sleep(args.interval)
        _, stderr = proc.communicate(timeout=120)
        if not out.exists():
            print(f"memory: loadforge run failed: {stderr.decode()[-600:]}", file=sys.stderr)
            return 3
        total = json.loads(out.read_text())["total"]

    steady = [s for s in samples if warmup_s <= s.t_s <= duration - args.interval]
    peak = max(s.rss_mb for s in samples)
    first = sum(s.rss_mb for s in steady[:3]) / len(steady[:3])
    last = sum(s.rss_mb for s in steady[-3:]) / len(steady[-3:])
    drift = (last - first) / first
    slope = slope_mb_per_min(steady)
    sockets = max(s.sockets for s in samples)
    checks = [
        ("peak RSS", f"< {RSS_LIMIT_MB:.0f} MB", f"{peak:.1f} MB", peak < RSS_LIMIT_MB),
        (
            "RSS flat after warm-up",
            f"last within {FLAT_TOLERANCE:.0%} of first",
            f"{first:.1f} -> {last:.1f} MB ({drift:+.1%}), slope {slope:+.2f} MB/min",
            abs(drift) <= FLAT_TOLERANCE,
        ),
        # A declarative user holds its own connection; Python users' requests (async def
        # and sync) share each engine thread's pool, so their socket count is shown only.
        (
            "connections open",
            f">= {args.users}" if not (args.python or args.locust) else "(pooled: shown only)",
            f"{sockets} sockets",
            sockets >= args.users or args.python or args.locust,
        ),
        (
            "requests, failures",
            "> 0, 0",
            f"{total['requests']}, {total['failures']}",
            total["requests"] > 0 and total["failures"] == 0,
        ),
    ]
    print()
    width = max(len(c[0]) for c in checks)
    for what, expected, measured, ok in checks:
        verdict = "PASS" if ok else "FAIL"
        print(f"{what.ljust(width)}  expected {expected:<32} measured {measured:<48} {verdict}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"memory-{time.strftime('%Y%m%d-%H%M%S')}.json"
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "users": args.users,
        "kind": kind,
        "duration_s": duration,
        "warmup_s": warmup_s,
        "checks": [
            dict(zip(("check", "expected", "measured", "passed"), c, strict=True)) for c in checks
        ],
        "samples": [asdict(s) for s in samples],
        "requests": total["requests"],
        "rps": total["rps"],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0 if all(c[3] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
