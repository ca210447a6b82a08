"""Local workers: child processes that dial an in-process controller on loopback.

This is how `loadforge run` and `loadforge.run()` use the one path: the same controller and
worker code as a distributed run, with the workers started here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Sequence

from loadforge.control.security import TOKEN_ENV


class LocalWorkers:
    """Start ``count`` worker processes for the controller at ``address``; reap them."""

    def __init__(self, count: int, address: str, token: str) -> None:
        self.count = count
        self.address = address
        self.token = token
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, extra_args: Sequence[str] = ()) -> None:
        env = dict(os.environ, **{TOKEN_ENV: self.token})
        for i in range(self.count):
            args = [sys.executable, "-m", "loadforge", "worker", "--controller", self.address]
            args += ["--id", f"local-{i}", *extra_args]
            # Own session: a Ctrl-C in the terminal reaches the controller only, which then
            # stops the workers cleanly so their last interval is not lost.
            self.procs.append(
                subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
            )

    def stop(self, timeout_s: float = 10.0) -> list[int | None]:
        """Wait for the workers to exit (they do once the controller closes); then kill."""
        codes: list[int | None] = []
        for proc in self.procs:
            try:
                codes.append(proc.wait(timeout=timeout_s))
            except subprocess.TimeoutExpired:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
                codes.append(None)
        return codes

    def __enter__(self) -> LocalWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
