"""The loadforge side of each comparison: `loadforge run SCENARIO ... --json`, pinned."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from .measure import ROOT, Measurement, pinned, run

USERS = 50
SCENARIOS = ROOT / "benches" / "scenarios"


def loadforge_command() -> list[str]:
    """The `loadforge` entry point next to this interpreter, else on PATH, else `-m loadforge`."""
    beside = Path(sys.executable).with_name("loadforge")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("loadforge")
    return [found] if found else [sys.executable, "-m", "loadforge"]


def run_command(
    scenario: Path | str, host: str, out: Path, args: tuple[str, ...] | list[str] = ()
) -> list[str]:
    """`loadforge run SCENARIO -H HOST` on one worker process, headless and quiet, writing
    its JSON summary to `out`, with `args` after (not pinned: callers add `pinned()`)."""
    return [
        *loadforge_command(),
        "run",
        str(scenario),
        "-H",
        host,
        "--headless",
        "--processes",
        "1",
        "-q",
        "--json",
        str(out),
        *args,
    ]


def run_scenario(
    tool: str,
    scenario: str,
    host: str,
    duration_s: int,
    users: int = USERS,
    extra: tuple[str, ...] = (),
) -> Measurement:
    """Run one bench scenario with `users` users (50) on one process pinned to the load CPU.

    Reads `total.requests` and `total.rps` from the JSON summary; any failure to run (the
    CLI or engine not built yet, a broken scenario) becomes "n/a" with the reason kept.
    """
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        cmd = pinned(
            run_command(
                SCENARIOS / scenario,
                host,
                summary,
                ["-u", str(users), "-r", str(users), "-t", f"{duration_s}s", *extra],
            )
        )
        result = run(cmd, duration_s + 60)
        if not summary.exists():
            tail = (result.stderr or result.stdout or "").strip().splitlines()[-3:]
            return Measurement(
                tool, None, note="n/a (not built yet)", command=cmd, detail="\n".join(tail)
            )
        total = json.loads(summary.read_text())["total"]
    note = f"{total['failures']} failures" if total.get("failures") else ""
    return Measurement(tool, float(total["rps"]), int(total["requests"]), note, cmd)
