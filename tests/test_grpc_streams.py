"""Streaming gRPC calls from Python tasks against a real grpcio server: server-, client-
streaming and bidirectional calls counted exactly, messages counted, time to the first
message recorded apart from the totals, cancelled and unknown calls counted as failures."""

from __future__ import annotations

from pathlib import Path

from grpc_target import GrpcTarget, find_endpoint, grpc_scenario

import loadforge
from loadforge.result import EndpointResult


def _messages(endpoint: EndpointResult) -> int:
    assert endpoint.stats is not None
    return endpoint.stats.messages


def test_every_call_shape_is_counted_exactly(tmp_path: Path) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        from echo_pb2 import EchoReply, EchoRequest
        from loadforge import GrpcUser, constant, task

        def fine(call):
            # A call opened while the run stops is answered "cut off" without being fired.
            return call.ok or "cut off" in call.error_message

        class ServerStream(GrpcUser):
            wait_time = constant(0)

            @task
            async def count(self):
                call = self.client.server_stream(
                    "/echo.Echo/Count", EchoRequest(text="x", count=20), EchoReply,
                    metadata={"x-shape": "server"})
                seen = [reply.index async for reply in call]
                if not fine(call):
                    raise AssertionError(call.error_message)
                if not call.ok:
                    return
                assert seen == list(range(20)), seen
                assert call.messages == 20 and call.first_message_ms <= call.elapsed_ms

        class ClientStream(GrpcUser):
            wait_time = constant(0)

            @task(2)
            async def collect(self):
                r = await self.client.client_stream(
                    "/echo.Echo/Collect", [EchoRequest(text=c) for c in "abc"], EchoReply)
                assert fine(r), r.error_message
                if r.ok:
                    assert (r.message.text, r.message.index) == ("abc", 3)

            @task(1)
            async def collect_async(self):
                async def requests():
                    for c in "xyz":
                        yield EchoRequest(text=c)

                r = await self.client.client_stream(
                    "/echo.Echo/Collect", requests(), EchoReply, name="collect async")
                assert fine(r), r.error_message
                assert not r.ok or r.message.text == "xyz", r.message

        class Bidi(GrpcUser):
            wait_time = constant(0)

            @task
            async def chat(self):
                call = self.client.bidi("/echo.Echo/Chat", None, EchoReply)
                for word in ("ping", "pong", "done"):
                    call.send(EchoRequest(text=word))
                    reply = await anext(call, None)
                    if reply is None:
                        assert fine(call), call.error_message
                        return
                    assert reply.text == word.upper(), reply
                call.done_writing()
                rest = [r async for r in call]
                done = await call
                assert rest == [] and done.ok and done.messages == 3, done
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(
            path, host=target.url, users=3, spawn_rate=100, run_time=2, processes=1
        )
    assert result.stats is not None and result.stats.exceptions == {}

    count = find_endpoint(result, "/echo.Echo/Count", "GRPC")
    assert count.failures == 0
    assert count.requests == target.calls["Count"] > 10
    assert _messages(count) == 20 * count.requests
    first = find_endpoint(result, "/echo.Echo/Count", "GRPC-FIRST")
    assert first.requests == count.requests
    assert first.latency_ms["p50"] <= count.latency_ms["p50"]
    assert any(m.get("x-shape") == "server" for m in target.metadata)

    collect = find_endpoint(result, "/echo.Echo/Collect", "GRPC")
    collect_async = find_endpoint(result, "collect async", "GRPC")
    assert collect.failures == collect_async.failures == 0
    assert collect.requests + collect_async.requests == target.calls["Collect"]
    assert collect.requests > 0 and collect_async.requests > 0

    chat = find_endpoint(result, "/echo.Echo/Chat", "GRPC")
    assert chat.failures == 0
    assert chat.requests == target.calls["Chat"] > 10
    assert _messages(chat) == 3 * chat.requests

    # Time-to-first-message samples are a second view of calls, not more requests.
    calls = count.requests + collect.requests + collect_async.requests + chat.requests
    assert result.total.requests == calls


def test_first_message_time_and_whole_call_are_measured_apart(tmp_path: Path) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        from echo_pb2 import EchoReply, EchoRequest
        from loadforge import GrpcUser, constant, task

        class Slow(GrpcUser):
            wait_time = constant(0)

            @task
            async def count(self):
                # The server sleeps 150 ms after the first of three messages.
                call = self.client.server_stream(
                    "/echo.Echo/Count", EchoRequest(count=3, sleep_ms=150), EchoReply)
                async for _ in call:
                    pass
                assert call.ok and call.messages == 3
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(path, host=target.url, users=2, run_time=1.5, processes=1)
    whole = find_endpoint(result, "/echo.Echo/Count", "GRPC")
    first = find_endpoint(result, "/echo.Echo/Count", "GRPC-FIRST")
    assert whole.requests == first.requests == target.calls["Count"] >= 4
    assert first.latency_ms["max"] < 100
    assert whole.latency_ms["min"] >= 150


def test_cancelled_and_unknown_streams_are_failures(tmp_path: Path) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        import asyncio

        from echo_pb2 import EchoReply, EchoRequest
        from loadforge import GrpcUser, constant, task

        class Quitter(GrpcUser):
            wait_time = constant(0.02)

            @task
            async def first_only(self):
                async with self.client.server_stream(
                        "/echo.Echo/Count", EchoRequest(count=1000, sleep_ms=2000),
                        EchoReply, name="cancelled") as call:
                    async for _ in call:
                        break
                done = await call
                assert done.grpc_status == "CANCELLED", done

            @task
            async def broken_source(self):
                async def requests():
                    yield EchoRequest(text="a")
                    await asyncio.sleep(0.01)
                    raise RuntimeError("source broke")

                call = await self.client.client_stream(
                    "/echo.Echo/Collect", requests(), EchoReply, name="broken source")
                assert call.grpc_status == "CANCELLED", call

            @task
            async def unknown(self):
                call = await self.client.server_stream("/echo.Echo/Nope", EchoRequest())
                assert call.grpc_status == "UNIMPLEMENTED", call
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(path, host=target.url, users=2, run_time=1, processes=1)
    assert result.stats is not None and result.stats.exceptions == {}
    cancelled = find_endpoint(result, "cancelled", "GRPC")
    assert cancelled.requests > 0
    assert cancelled.errors_by_kind() == {"grpc_CANCELLED": cancelled.requests}
    broken = find_endpoint(result, "broken source", "GRPC")
    # (The server may still see such a call end normally: it gets the reset late.)
    assert broken.errors_by_kind() == {"grpc_CANCELLED": broken.requests}
    nope = find_endpoint(result, "/echo.Echo/Nope", "GRPC")
    assert nope.errors_by_kind() == {"grpc_UNIMPLEMENTED": nope.requests}
    assert target.calls["Count"] == 0


def test_declarative_server_stream_counts_calls_and_messages(tmp_path: Path) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        from echo_pb2 import EchoReply, EchoRequest
        from loadforge import GrpcUser, constant, server_stream

        class Follower(GrpcUser):
            wait_time = constant(0)
            tasks = [server_stream("/echo.Echo/Count", EchoRequest(count=5), EchoReply)]
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(path, host=target.url, users=4, run_time=1.5, processes=1)
    count = find_endpoint(result, "/echo.Echo/Count", "GRPC")
    assert count.failures == 0
    assert count.requests == target.calls["Count"] > 20
    assert _messages(count) == target.streamed == 5 * count.requests
