"""One measured run of one tool, and running pinned commands."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOAD_CPU = 0  # load generators run here ...
TARGET_CPU = 1  # ... and the target's one worker here


@dataclass
class Measurement:
    """What a tool achieved: requests/s over the run, or a note saying why there is none."""

    tool: str
    rps: float | None
    requests: int | None = None
    note: str = ""
    command: list[str] = field(default_factory=list)
    detail: str = ""  # error output or anything worth keeping in the JSON

    @property
    def ok(self) -> bool:
        return self.rps is not None


def pinned(cmd: list[str], cpu: int = LOAD_CPU) -> list[str]:
    """`cmd` run under `taskset -c cpu`."""
    return ["taskset", "-c", str(cpu), *cmd]


def run(cmd: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    """Run to completion, capturing output; a hang becomes a failed run, not a stuck bench."""
    try:
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout_s, cwd=ROOT, check=False
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return subprocess.CompletedProcess(cmd, -1, out, f"timed out after {timeout_s:.0f}s")


def pin_process(pid: int, cpu: int = TARGET_CPU) -> None:
    """Move a running process (e.g. nginx's worker) onto one CPU."""
    subprocess.run(["taskset", "-pc", str(cpu), str(pid)], check=True, capture_output=True)


def failed(tool: str, cmd: list[str], result: subprocess.CompletedProcess[str]) -> Measurement:
    """A Measurement for a run whose output could not be read."""
    tail = (result.stderr or result.stdout or "").strip().splitlines()[-5:]
    return Measurement(
        tool, None, note=f"failed (exit {result.returncode})", command=cmd, detail="\n".join(tail)
    )
