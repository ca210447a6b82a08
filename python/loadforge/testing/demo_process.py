"""The demo target in a child process, as tests and benches use it."""

from __future__ import annotations

import http.client
import os
import selectors
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

import loadforge

# Where `loadforge` was imported from, so the child runs the same code as the parent.
_PACKAGE_ROOT = str(Path(next(iter(loadforge.__path__))).resolve().parent)


class DemoProcess:
    """`python -m loadforge.demo --port 0 --grpc-port 0` in a child process.

    Example:
        with DemoProcess() as demo:
            demo.reset()
            ...  # fire at demo.http_url / demo.grpc_addr
            assert demo.stats()["http"]["/health"]["200"] == 100
    """

    def __init__(self, host: str = "127.0.0.1", start_timeout_s: float = 15.0) -> None:
        self.host = host
        self.start_timeout_s = start_timeout_s
        self.http_url = ""
        self.grpc_addr = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        """The child's process id."""
        if self._proc is None:
            raise RuntimeError("demo target not started")
        return self._proc.pid

    def start(self) -> DemoProcess:
        """Start the child and wait for its `demo target: http://... grpc://...` line."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p
        )
        self._stderr = tempfile.TemporaryFile()
        cmd = [sys.executable, "-m", "loadforge.demo", "--host", self.host]
        self._proc = subprocess.Popen(
            [*cmd, "--port", "0", "--grpc-port", "0"],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        line = self._read_banner()
        words = line.split()
        if len(words) != 4 or words[:2] != ["demo", "target:"]:
            self.stop()
            raise RuntimeError(f"unexpected demo target banner {line!r}")
        self.http_url = words[2]
        self.grpc_addr = words[3].removeprefix("grpc://")
        return self

    def _read_banner(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            if not selector.select(self.start_timeout_s):
                errors = self.stderr_text()
                self.stop()
                raise TimeoutError(f"demo target did not start: {errors}")
        line = self._proc.stdout.readline().decode().strip()
        if not line:
            self._proc.wait(5)
            errors = self.stderr_text()
            self.stop()
            raise RuntimeError(f"demo target exited: {errors}")
        return line

    def stderr_text(self) -> str:
        """What the child wrote to stderr so far (for failure messages)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def _request(self, method: str, path: str) -> Any:
        host_port = self.http_url.removeprefix("http://")
        conn = http.client.HTTPConnection(host_port, timeout=5)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"{method} {path}: {response.status} {body!r}")
            return orjson.loads(body)
        finally:
            conn.close()

    def stats(self) -> dict[str, Any]:
        """`GET /stats`: what the demo target has answered since the last reset."""
        stats: dict[str, Any] = self._request("GET", "/stats")
        return stats

    def reset(self) -> None:
        """`POST /stats/reset`."""
        self._request("POST", "/stats/reset")

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM, wait, (SIGKILL if it hangs); returns the exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        return proc.returncode

    def __enter__(self) -> DemoProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
