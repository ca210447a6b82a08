"""The engine's own HTTP/2 connection (`rust/core/src/net/h2conn.rs`, used for requests
from Python tasks) against a real grpcio server: bodies beyond the flow-control windows,
the server's concurrent-stream limit, and calls cut off by their deadline while others
share the connection."""

from __future__ import annotations

from pathlib import Path

from grpc_target import GrpcTarget, find_endpoint, grpc_scenario

import loadforge


def test_megabyte_messages_both_ways_wait_for_flow_control(tmp_path: Path) -> None:
    # 1 MB requests are 16x the server's initial stream window: the engine must send in
    # step with its WINDOW_UPDATEs; the 1 MB replies exercise ours.
    path = grpc_scenario(
        tmp_path,
        """
        from echo_pb2 import EchoReply, EchoRequest
        from loadforge import GrpcUser, constant, task

        TEXT = "x" * 1_000_000

        class Big(GrpcUser):
            wait_time = constant(0)

            @task
            async def say(self):
                r = await self.client.unary("/echo.Echo/Say", EchoRequest(text=TEXT), EchoReply,
                                            name="big")
                assert r.ok, r.error_message
                assert r.message.text == TEXT
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(path, host=target.url, users=4, run_time=2, processes=1)
    big = find_endpoint(result, "big")
    assert result.stats is not None and result.stats.exceptions == {}
    assert big.failures == 0
    assert big.requests == target.calls["Say"] >= 8


def test_calls_beyond_the_servers_stream_limit_wait_their_turn(tmp_path: Path) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        from echo_pb2 import EchoReply, EchoRequest
        from loadforge import GrpcUser, constant, task

        class Slow(GrpcUser):
            wait_time = constant(0)

            @task
            async def say(self):
                r = await self.client.unary("/echo.Echo/Say",
                                            EchoRequest(text="t", sleep_ms=20), EchoReply)
                assert r.ok, r.error_message
        """,
    )
    with GrpcTarget(options=[("grpc.max_concurrent_streams", 2)]) as target:
        result = loadforge.run(
            path, host=target.url, users=12, run_time=2, processes=1, connections=1
        )
    say = find_endpoint(result, "/echo.Echo/Say")
    assert result.stats is not None and result.stats.exceptions == {}
    assert say.failures == 0
    assert say.requests == target.calls["Say"]
    # One connection per engine thread, shared by the users (fewer connections than users).
    connections = len({p for p in target.peers if p})
    assert connections < 12
    # Two at a time per connection for 2 s at >= 20 ms each: at most ~100 per stream slot
    # (the limit held), and steady progress through it.
    assert 40 < say.requests <= connections * 2 * 105


def test_deadline_cut_calls_reset_their_stream_and_the_connection_goes_on(
    tmp_path: Path,
) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        from echo_pb2 import EchoReply, EchoRequest
        from loadforge import GrpcUser, constant, task

        class Mixed(GrpcUser):
            wait_time = constant(0)

            @task
            async def both(self):
                late = await self.client.unary("/echo.Echo/Say",
                                               EchoRequest(text="late", sleep_ms=300),
                                               EchoReply, timeout=0.05, name="late")
                assert late.error == "grpc_DEADLINE_EXCEEDED", late.error
                quick = await self.client.unary("/echo.Echo/Say", EchoRequest(text="q"),
                                                EchoReply, name="quick")
                assert quick.ok and quick.message.text == "q", quick.error_message
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(
            path, host=target.url, users=3, run_time=2, processes=1, connections=1
        )
    assert result.stats is not None and result.stats.exceptions == {}
    late, quick = find_endpoint(result, "late"), find_endpoint(result, "quick")
    assert late.requests == late.failures >= 10
    assert {e.kind for e in late.errors} == {"grpc_DEADLINE_EXCEEDED"}
    assert quick.failures == 0
    assert quick.requests >= late.requests - 3
    assert len({p for p in target.peers if p}) < 3  # the users shared their thread's connection


def test_async_calls_over_tls_negotiate_h2_and_count_exactly(tmp_path: Path) -> None:
    from tls_certs import CertificateAuthority

    server = CertificateAuthority(tmp_path).issue("grpc-server", server=True)
    key_and_cert = (Path(server.key).read_bytes(), Path(server.cert).read_bytes())
    path = grpc_scenario(
        tmp_path,
        """
        from echo_pb2 import EchoReply, EchoRequest
        from loadforge import GrpcUser, constant, task

        class Secure(GrpcUser):
            wait_time = constant(0)

            @task
            async def say(self):
                r = await self.client.unary("/echo.Echo/Say", EchoRequest(text="tls"),
                                            EchoReply, metadata={"x-tls": "1"})
                assert r.ok and r.message.text == "tls", r.error_message
        """,
    )
    with GrpcTarget(tls=key_and_cert) as target:
        result = loadforge.run(
            path, host=target.https_url, users=4, run_time=2, processes=1, tls_insecure=True
        )
    say = find_endpoint(result, "/echo.Echo/Say")
    assert result.stats is not None and result.stats.exceptions == {}
    assert say.failures == 0
    assert say.requests == target.calls["Say"] > 20
    assert all(m.get("x-tls") == "1" for m in target.metadata)
