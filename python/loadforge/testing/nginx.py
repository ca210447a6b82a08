"""A throw-away nginx with one worker: the fast reference target of BASELINES.md.

- `GET /health` on `http_port` (HTTP/1.1) and on `h2_port` (h2c, prior knowledge) answers
  HEALTH_BODY (41 bytes of JSON).
- `POST /helloworld.Greeter/SayHello` on `h2_port` answers a framed `HelloReply{message: "hi"}`
  from a static file, with trailer `grpc-status: 0`, so a real gRPC client accepts it.

It never touches the system nginx: its config, pid file, logs and temp dirs live in a
private temporary directory, and it listens on free loopback ports.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from loadforge.testing.ports import free_port, wait_for_listener

HEALTH_BODY = b'{"status":"healthy","model_loaded":true}\n'
GRPC_HELLO_PATH = "/helloworld.Greeter/SayHello"
HELLO_REPLY_MESSAGE = "hi"
# HelloReply{message: "hi"}: field 1, wire type 2 -> tag 0x0a, length 2, "hi".
HELLO_REPLY_PROTO = b"\x0a\x02hi"
# gRPC length-prefixed message: compressed flag 0, 4-byte big-endian length, bytes.
HELLO_REPLY_FRAME = b"\x00" + len(HELLO_REPLY_PROTO).to_bytes(4, "big") + HELLO_REPLY_PROTO
DEBIAN_PACKAGE = "nginx-light"


class NginxNotInstalled(RuntimeError):
    """No nginx binary; install the Debian package `nginx-light`."""


def find_nginx() -> str | None:
    """Path of the nginx binary (PATH, then /usr/sbin), or None."""
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def render_config(
    workdir: Path, host: str, http_port: int, h2_port: int, worker_connections: int = 4096
) -> str:
    """The nginx.conf text: one worker, no access log, keep-alive without a request limit."""
    health = HEALTH_BODY.decode().replace("\n", "\\n")
    health_location = f"""
        location = /health {{
            default_type application/json;
            return 200 '{health}';
        }}"""
    temp = workdir / "temp"
    return f"""# written by loadforge.testing.nginx; private to one test run
worker_processes 1;
# Room for every connection the worker may hold (plus files), within the hard limit.
worker_rlimit_nofile {worker_connections + 1024};
daemon off;
master_process on;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;

events {{
    worker_connections {worker_connections};
}}

http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;

    server {{
        listen {host}:{http_port};
        {health_location}
    }}

    server {{
        listen {host}:{h2_port} http2;
        {health_location}

        # gRPC-shaped unary reply from a static file (see BASELINES.md).
        location /helloworld.Greeter/ {{
            root {workdir}/grpc;
            default_type application/grpc;
            add_trailer grpc-status 0;
            # nginx refuses POST to static files with 405; answer the file instead.
            error_page 405 =200 $uri;
        }}
    }}
}}
"""


class NginxServer:
    """nginx on free loopback ports, started and stopped by this object.

    Example:
        with NginxServer() as nginx:
            wrk(nginx.http_url + "/health")
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        start_timeout_s: float = 10.0,
        worker_connections: int = 4096,
    ) -> None:
        binary = find_nginx()
        if binary is None:
            raise NginxNotInstalled(
                f"nginx is not installed (Debian/Ubuntu: apt-get install {DEBIAN_PACKAGE})"
            )
        self.binary = binary
        self.host = host
        self.start_timeout_s = start_timeout_s
        # Connections the one worker accepts; raise it (and RLIMIT_NOFILE) for 10k users.
        self.worker_connections = worker_connections
        self.http_port = 0
        self.h2_port = 0
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        """HTTP/1.1 base URL, e.g. `http://127.0.0.1:41234`."""
        return f"http://{self.host}:{self.http_port}"

    @property
    def h2_url(self) -> str:
        """h2c base URL (HTTP/2 with prior knowledge)."""
        return f"http://{self.host}:{self.h2_port}"

    @property
    def grpc_addr(self) -> str:
        """host:port for a gRPC channel to the static SayHello reply."""
        return f"{self.host}:{self.h2_port}"

    @property
    def master_pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("nginx not started")
        return self._proc.pid

    def worker_pids(self) -> list[int]:
        """Process ids of the worker processes (children of the master)."""
        children = Path(f"/proc/{self.master_pid}/task/{self.master_pid}/children")
        return [int(p) for p in children.read_text().split()]

    def start(self) -> NginxServer:
        """Write the config, start nginx, wait until both ports accept connections."""
        last_error = ""
        for _ in range(3):  # a free port can be taken between probing and binding
            self._workdir = tempfile.TemporaryDirectory(prefix="loadforge-nginx-")
            workdir = Path(self._workdir.name)
            self.http_port, self.h2_port = free_port(self.host), free_port(self.host)
            self._prepare(workdir)
            self._proc = subprocess.Popen(
                [
                    self.binary,
                    "-p",
                    f"{workdir}/",
                    "-c",
                    f"{workdir}/nginx.conf",
                    "-e",
                    f"{workdir}/error.log",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready():
                return self
            last_error = (workdir / "error.log").read_text(errors="replace")
            self.stop()
            if "Address already in use" not in last_error:
                break
        raise RuntimeError(f"nginx did not start: {last_error.strip()}")

    def _prepare(self, workdir: Path) -> None:
        (workdir / "temp").mkdir()
        reply = workdir / "grpc" / GRPC_HELLO_PATH.lstrip("/")
        reply.parent.mkdir(parents=True)
        reply.write_bytes(HELLO_REPLY_FRAME)
        (workdir / "nginx.conf").write_text(
            render_config(workdir, self.host, self.http_port, self.h2_port, self.worker_connections)
        )
        # Workers run as an unprivileged user when started as root: let them read the reply.
        for path in (workdir, reply.parent.parent, reply.parent):
            path.chmod(0o755)
        reply.chmod(0o644)

    def _wait_ready(self) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout_s
        for port in (self.http_port, self.h2_port):
            if not wait_for_listener(self.host, port, max(0.1, deadline - time.monotonic())):
                return False
        while time.monotonic() < deadline:  # the worker is forked after the ports are bound
            if self._proc.poll() is not None:
                return False
            if self.worker_pids():
                return True
            time.sleep(0.02)
        return False

    def stop(self, timeout_s: float = 5.0) -> None:
        """Fast shutdown (SIGTERM), SIGKILL if it hangs; removes the temporary directory."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> NginxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
