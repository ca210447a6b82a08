"""The fixed-delay target of the accuracy bench: `rust/core/examples/delay_server.rs`,
built on first use and run pinned to the target CPU."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from .measure import ROOT, pinned

BINARY = ROOT / "target" / "release" / "examples" / "delay_server"
BUILD = ["cargo", "build", "-j", "2", "--release", "--example", "delay_server"]
BUILD += ["-p", "loadforge-core"]


def build() -> None:
    """Build the server (a second or so when it is up to date)."""
    subprocess.run(BUILD, cwd=ROOT, check=True, capture_output=True)


@contextmanager
def delay_server(delay_us: int, cpu: int = 1) -> Iterator[str]:
    """A server answering every request `delay_us` after reading it; yields its base URL."""
    build()
    proc = subprocess.Popen(
        pinned([str(BINARY), str(delay_us)], cpu), stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "port":
            raise RuntimeError(f"delay_server did not start (said {line!r})")
        yield f"http://127.0.0.1:{line[1]}"
    finally:
        proc.terminate()
        proc.wait(10)
