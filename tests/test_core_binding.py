"""The native module `loadforge._core` driven from Python against a real loopback server.

Covers the Histogram (V2 round trip, exact merges, decoding by the `hdrhistogram`
package), the Engine's lifecycle and snapshots, typed errors, and the Python-task seam
(event fd, `submit`, `take_events`, `record`).
"""

from __future__ import annotations

import select
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hdrh.histogram import HdrHistogram

from loadforge import _core
from loadforge._proto import plan_pb2, snapshot_pb2


class _Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real service
    # One write per response: with the default unbuffered writer, head and body go out
    # as two segments and Nagle + delayed ACK add ~40 ms to every response.
    wbufsize = -1
    counter: _Counter

    def do_GET(self) -> None:
        with self.counter.lock:
            self.counter.hits += 1
        body = b'{"ok": true}'
        status = 503 if self.path.startswith("/fail") else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    # The default listen backlog (5) drops SYNs when the engine opens many connections
    # at once, and each drop costs a 1 s retransmit.
    request_queue_size = 128
    daemon_threads = True


class _Server:
    def __init__(self) -> None:
        self.counter = _Counter()
        handler = type("Handler", (_Handler,), {"counter": self.counter})
        self.httpd = _HTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    try:
        yield s
    finally:
        s.close()


def _plan(url: str, *, users: int = 4, iterations: int = 0, python: bool = False) -> bytes:
    plan = plan_pb2.EnginePlan(threads=1, connect_timeout_s=2, request_timeout_s=5)
    user = plan.users.add(name="api", weight=1, python=python)
    task = user.tasks.add(weight=1)
    if python:
        task.python = "do_it"
    else:
        task.request.method = "GET"
        task.request.url = url
        task.request.name = "hello"
    plan.profile.closed.users = users
    plan.profile.iterations = iterations
    return plan.SerializeToString()


def test_histogram_round_trip_merge_and_hdrh_decode() -> None:
    parts = [_core.Histogram() for _ in range(4)]
    whole = _core.Histogram()
    for i in range(1, 20_001):
        value = (i * 7919) % 5_000_000 + 1
        parts[i % 4].record(value)
        whole.record(value)
    merged = _core.Histogram()
    for p in parts:
        merged.add(_core.Histogram.decode(p.encode()))
    assert merged.encode() == whole.encode()
    assert merged.count == 20_000
    for q in (50.0, 99.0, 99.9):
        assert merged.value_at_percentile(q) == whole.value_at_percentile(q)
    # V2 cookie base 0x1c849303; bits 4-7 carry the word size, as Java's encoder writes.
    assert int.from_bytes(whole.encode()[:4], "big") & ~0xF0 == 0x1C849303
    # The hdrhistogram package reads the V2 payload (it expects it zlib-compressed).
    other = HdrHistogram.decode(zlib.compress(whole.encode()), b64_wrap=False)
    assert other.get_total_count() == 20_000
    assert other.get_value_at_percentile(99.0) == whole.value_at_percentile(99.0)
    whole.reset()
    assert whole.count == 0
    with pytest.raises(ValueError):
        _core.Histogram.decode(b"nope")


def test_engine_counts_equal_the_server_and_snapshots_decode(server: _Server) -> None:
    engine = _core.Engine(_plan(server.url("/hello"), iterations=300))
    assert not engine.running
    engine.start()
    assert engine.wait(30.0), "the iteration limit ends the run by itself"
    snaps = [
        snapshot_pb2.Snapshot.FromString(engine.snapshot()),
        snapshot_pb2.Snapshot.FromString(engine.stop(1.0)),
    ]
    assert not engine.running
    requests = sum(ep.requests for s in snaps for ep in s.endpoints)
    assert requests == 300 == server.counter.hits
    assert sum(s.iterations for s in snaps) == 300
    merged = _core.Histogram()
    for s in snaps:
        for ep in s.endpoints:
            assert (ep.method, ep.name) == ("GET", "hello")
            assert ep.failures == 0
            merged.add(_core.Histogram.decode(ep.latency))
    assert merged.count == 300
    assert merged.min >= 1


def test_plan_errors_are_typed() -> None:
    with pytest.raises(_core.PlanError, match="ftp://x"):
        _core.Engine(_plan("ftp://x/y"))
    with pytest.raises(_core.LoadforgeError):
        _core.Engine(b"\xff\xff")
    assert issubclass(_core.EngineError, _core.LoadforgeError)


def test_python_users_events_and_submit(server: _Server) -> None:
    engine = _core.Engine(_plan("", users=2, python=True))
    engine.start()
    try:
        fd = engine.event_fd()
        readable, _, _ = select.select([fd], [], [], 5.0)
        assert readable, "user start events make the fd readable"
        starts: list[tuple[object, ...]] = []
        deadline = time.monotonic() + 5
        while len(starts) < 2 and time.monotonic() < deadline:
            starts.extend(engine.take_events())
            time.sleep(0.01)
        assert [e[0] for e in starts] == [1, 1]
        assert all(e[2] == 0 for e in starts)
        assert engine.users == 2
        assert select.select([fd], [], [], 0)[0] == []

        for token in range(10):
            engine.submit(
                token, "GET", server.url("/fail" if token == 9 else "/ok"), [], b"", "sub"
            )
        done: list[tuple[object, ...]] = []
        deadline = time.monotonic() + 5
        while len(done) < 10 and time.monotonic() < deadline:
            select.select([fd], [], [], 1.0)
            done.extend(engine.take_events())
        assert len(done) == 10
        assert {e[1] for e in done} == set(range(10))
        by_token = {e[1]: e for e in done}
        kind, _tok, status, headers, body, elapsed_us, error_kind, _msg = by_token[0]
        assert (kind, status, body, error_kind) == (0, 200, b'{"ok": true}', "")
        assert isinstance(headers, bytes)
        assert b"content-type: application/json\r\n" in headers
        assert isinstance(elapsed_us, int) and elapsed_us > 0
        assert by_token[9][2] == 503

        engine.record("GET", "custom", 2500, ok=False, error_kind="exception", error_message="tb")
        snap = snapshot_pb2.Snapshot.FromString(engine.snapshot())
        eps = {ep.name: ep for ep in snap.endpoints}
        assert eps["sub"].requests == 10
        assert eps["sub"].failures == 1
        assert eps["sub"].errors[0].kind == "http_status"
        assert eps["custom"].errors[0].kind == "exception"
        assert eps["custom"].errors[0].sample == "tb"
        assert server.counter.hits == 10
    finally:
        engine.stop(0.5)


def test_open_model_rate_scale_and_service_latency(server: _Server) -> None:
    plan = plan_pb2.EnginePlan(threads=1, connect_timeout_s=2, request_timeout_s=5)
    task = plan.users.add(name="api", weight=1).tasks.add(weight=1)
    task.request.method = "GET"
    task.request.url = server.url("/open")
    task.request.name = "open"
    plan.profile.open.rate = 100.0
    plan.profile.run_time_s = 1.0
    engine = _core.Engine(plan.SerializeToString())
    engine.start()
    with pytest.raises(_core.PlanError):
        engine.scale(rate=-1.0)
    assert engine.wait(10.0)
    (ep,) = snapshot_pb2.Snapshot.FromString(engine.stop()).endpoints
    assert ep.requests == 100 == server.counter.hits  # arrivals strictly within 1 s
    assert _core.Histogram.decode(ep.service_latency).count == 100
    latency = _core.Histogram.decode(ep.latency)
    service = _core.Histogram.decode(ep.service_latency)
    assert latency.max >= service.max  # measured from the intended start
