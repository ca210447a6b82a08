"""`--prometheus HOST:PORT`: the controller's current metrics in Prometheus' text format.

A tiny asyncio HTTP server on the controller's event loop answers `GET /metrics` with what
the controller knows at that moment (merged from every worker's snapshots): requests and
failures per endpoint, errors by kind, current requests/s, latency quantiles since the
start, users, workers by status, and each worker's CPU and memory. Reading happens on the
loop that merges snapshots, so a scrape sees one consistent state.

    exporter = await MetricsExporter.start("127.0.0.1:9646", controller)
    ...  # curl http://127.0.0.1:9646/metrics
    await exporter.close()
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

from loadforge.errors import ConfigError
from loadforge.stats import EndpointStats, RunStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.999)
# Seconds behind "current" requests/s (as the live view).
WINDOW_S = 5


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    # Nine significant digits: microsecond latencies in seconds print without float noise.
    return f"{value:.9g}" if isinstance(value, float) else str(value)


class _Family:
    """One metric family: its HELP and TYPE lines, then samples."""

    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        self.name = name

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        self.lines.append(f"{self.name}{suffix}{_labels(**labels)} {_number(value)}")


def _current_rps(stats: RunStats) -> tuple[float, dict[str, float]]:
    """(total, per endpoint key) requests/s over the last few complete seconds."""
    points = stats.series.recent(WINDOW_S + 1)
    points = points[:-1] if len(points) > 1 else points  # the newest second is still filling
    seconds = sum(p.width_s for p in points) or 1
    per_key: dict[str, float] = {}
    for p in points:
        for key, window in p.endpoints.items():
            per_key[key] = per_key.get(key, 0.0) + window.requests / seconds
    return sum(p.total.requests for p in points) / seconds, per_key


def render(controller: Any) -> str:
    """The exposition text for a controller's state (stats, workers, elapsed, plan)."""
    stats: RunStats = controller.stats
    endpoints = stats.sorted_endpoints()
    total_rps, rps = _current_rps(stats)

    requests = _Family("loadforge_requests_total", "counter", "Requests completed.")
    failures = _Family("loadforge_failures_total", "counter", "Requests that failed.")
    errors = _Family("loadforge_errors_total", "counter", "Failed requests by error kind.")
    current = _Family("loadforge_current_rps", "gauge", f"Requests/s over the last {WINDOW_S}s.")
    latency = _Family(
        "loadforge_latency_seconds",
        "summary",
        "Response time since the start (from the intended start in the open model).",
    )

    def endpoint(s: EndpointStats, method: str, name: str, rate: float) -> None:
        requests.add(s.requests, method=method, name=name)
        failures.add(s.failures, method=method, name=name)
        current.add(round(rate, 3), method=method, name=name)
        for q in QUANTILES:
            value = s.latency.value_at_percentile(q * 100) / 1e6 if s.latency.count else 0.0
            latency.add(value, method=method, name=name, quantile=f"{q:g}")
        latency.add(s.latency.mean * s.latency.count / 1e6, "_sum", method=method, name=name)
        latency.add(s.latency.count, "_count", method=method, name=name)

    for s in endpoints:
        endpoint(s, s.method, s.name, rps.get(s.key, 0.0))
        for e in sorted(s.errors.values(), key=lambda e: e.kind):
            errors.add(e.count, method=s.method, name=s.name, kind=e.kind)
    endpoint(stats.total, "", "Aggregated", total_rps)

    families: list[_Family] = [requests, failures, errors, current, latency]
    families.extend(_run_families(controller, stats))
    return "\n".join(line for f in families for line in f.lines) + "\n"


def _run_families(controller: Any, stats: RunStats) -> Iterable[_Family]:
    users = _Family("loadforge_users", "gauge", "Users running (open model: iterations in flight).")
    users.add(stats.users)
    dropped = _Family(
        "loadforge_dropped_iterations_total", "counter", "Open model: iterations started late."
    )
    dropped.add(stats.dropped_iterations)
    elapsed = _Family("loadforge_elapsed_seconds", "gauge", "Seconds since the run started.")
    elapsed.add(round(controller.elapsed, 3))
    run_time = _Family("loadforge_run_time_seconds", "gauge", "Planned run time (0: no limit).")
    run_time.add(float(controller.plan.engine.profile.run_time_s))
    workers = _Family("loadforge_workers", "gauge", "Workers by status.")
    by_status: dict[str, int] = dict.fromkeys(("joined", "running", "done", "lost", "failed"), 0)
    for w in controller.workers.values():
        by_status[w.status] = by_status.get(w.status, 0) + 1
    for status, count in by_status.items():
        workers.add(count, status=status)
    cpu = _Family("loadforge_worker_cpu_percent", "gauge", "Worker CPU use (100 = one core).")
    rss = _Family("loadforge_worker_rss_bytes", "gauge", "Worker resident memory.")
    cores = _Family("loadforge_worker_cores", "gauge", "Cores a worker reported.")
    for w in controller.workers.values():
        cpu.add(float(w.cpu_percent), worker=w.id, host=w.host)
        rss.add(w.rss_bytes, worker=w.id, host=w.host)
        cores.add(w.cores, worker=w.id, host=w.host)
    return (users, dropped, elapsed, run_time, workers, cpu, rss, cores)


def parse_address(address: str) -> tuple[str, int]:
    """`"127.0.0.1:9646"` → (host, port); `ConfigError` when it is not HOST:PORT."""
    host, sep, port = address.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"--prometheus expects HOST:PORT, got {address!r}")
    return host, int(port)


class MetricsExporter:
    """The `/metrics` endpoint; `start()` binds, `port` is the bound port."""

    def __init__(self, server: asyncio.Server, controller: Any) -> None:
        self.server = server
        self.controller = controller
        sockets = server.sockets or ()
        self.port: int = sockets[0].getsockname()[1] if sockets else 0

    @classmethod
    async def start(cls, address: str, controller: Any) -> MetricsExporter:
        """Listen on `address` (HOST:PORT; port 0 picks a free one)."""
        host, port = parse_address(address)
        holder: list[MetricsExporter] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await holder[0]._serve(reader, writer)

        try:
            server = await asyncio.start_server(handle, host, port)
        except OSError as err:
            raise ConfigError(f"--prometheus {address}: cannot listen ({err.strerror})") from None
        exporter = cls(server, controller)
        holder.append(exporter)
        return exporter

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            method, _, rest = request.decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            if method not in ("GET", "HEAD"):
                status, body, kind = "405 Method Not Allowed", b"GET only\n", "text/plain"
            elif path in ("/metrics", "/"):
                status, body, kind = "200 OK", render(self.controller).encode(), CONTENT_TYPE
            else:
                status, body, kind = "404 Not Found", b"see /metrics\n", "text/plain"
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + (b"" if method == "HEAD" else body))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # a client that hangs up or sends garbage gets nothing
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def close(self) -> None:
        """Stop listening."""
        self.server.close()
        await self.server.wait_closed()
