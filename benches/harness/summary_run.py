"""Run `loadforge run ... --json` pinned to the load CPU and hand back the JSON summary."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .loadforge_side import run_command
from .measure import ROOT, pinned, run


class RunFailed(RuntimeError):
    """`loadforge run` wrote no summary; the message holds the end of its output."""


def loadforge_json(
    scenario: Path, host: str, args: list[str], timeout_s: float, prefix: list[str] | None = None
) -> dict[str, Any]:
    """Run `scenario` against `host` with extra `args` on one worker process pinned to the
    load CPU (after `prefix`, e.g. `nice -n -10`); return the parsed `--json` summary
    (raises RunFailed without one)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.json"
        cmd = pinned([*(prefix or []), *run_command(scenario, host, out, args)])
        result = run(cmd, timeout_s)
        if not out.exists():
            raise RunFailed(_tail(result))
        summary: dict[str, Any] = json.loads(out.read_text())
        return summary


def start_loadforge(
    scenario: Path, host: str, args: list[str], out: Path
) -> subprocess.Popen[bytes]:
    """Start `loadforge run` pinned to the load CPU without waiting (the caller samples it)."""
    cmd = pinned(run_command(scenario, host, out, args))
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    lines = (result.stderr or result.stdout or "").strip().splitlines()
    return "\n".join(lines[-5:]) or f"exit {result.returncode}"
