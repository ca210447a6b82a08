"""gRPC unary calls end to end against a real grpcio server: exact success counts
(declarative and `async def`), status failures under their names, deadlines, metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
from grpc_target import GrpcTarget, find_endpoint, grpc_scenario

import loadforge
from loadforge.result import EndpointResult
from loadforge.testing import free_port

HELLO = "/helloworld.Greeter/SayHello"


def _errors(endpoint: EndpointResult) -> dict[str, int]:
    return endpoint.errors_by_kind()


def test_declarative_unary_counts_every_handled_call(tmp_path: Path) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        from helloworld_pb2 import HelloReply, HelloRequest
        from loadforge import GrpcUser, constant, unary

        class Greeter(GrpcUser):
            wait_time = constant(0.01)
            tasks = [unary("/helloworld.Greeter/SayHello", HelloRequest(name="x"), HelloReply,
                           metadata={"x-run": "declarative"})]
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(path, host=target.url, users=4, run_time=2, processes=1)
    hello = find_endpoint(result, HELLO)
    assert hello.method == "GRPC"
    assert hello.failures == 0
    assert hello.requests == target.calls["SayHello"] > 50
    assert all(m.get("x-run") == "declarative" for m in target.metadata)
    assert all(m.get("te") is None for m in target.metadata)  # transport headers are not metadata


def test_async_unary_returns_the_reply_and_counts_exactly(tmp_path: Path) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        from helloworld_pb2 import HelloReply, HelloRequest
        from loadforge import GrpcUser, constant, task

        class Greeter(GrpcUser):
            wait_time = constant(0)

            async def on_start(self):
                self.client.metadata["x-user"] = str(self.user_id)

            @task
            async def say(self):
                r = await self.client.unary("/helloworld.Greeter/SayHello",
                                            HelloRequest(name="y"), HelloReply,
                                            metadata={"x-call": "1"}, name="hello")
                assert r.ok and r.grpc_status == "OK", r.error
                assert r.message.message == "hello y", r.message
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(path, host=target.url, users=3, run_time=2, processes=1)
    hello = find_endpoint(result, "hello")
    assert hello.failures == 0
    assert result.stats is not None and result.stats.exceptions == {}
    assert hello.requests == target.calls["SayHello"] > 50
    assert all(m.get("x-call") == "1" and "x-user" in m for m in target.metadata)


def test_unknown_method_is_unimplemented(tmp_path: Path) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        from helloworld_pb2 import HelloRequest
        from loadforge import GrpcUser, constant, unary

        class Greeter(GrpcUser):
            wait_time = constant(0.05)
            tasks = [unary("/helloworld.Greeter/SayGoodbye", HelloRequest(name="x"))]
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(path, host=target.url, users=2, run_time=1, processes=1)
    bye = find_endpoint(result, "/helloworld.Greeter/SayGoodbye")
    assert bye.requests > 0
    assert bye.failures == bye.requests
    assert _errors(bye) == {"grpc_UNIMPLEMENTED": bye.requests}
    assert sum(target.calls.values()) == 0
    # No thresholds and every call failed: the run fails, as Locust's would (was: exit 0).
    assert result.exit_code == 1 and not result.passed and "failed" in result.verdict


@pytest.mark.parametrize("declarative", [True, False])
def test_deadline_exceeded_is_sent_and_counted(tmp_path: Path, declarative: bool) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        from helloworld_pb2 import HelloReply, HelloRequest
        from loadforge import GrpcUser, constant, task, unary

        class Slow(GrpcUser):
            wait_time = constant(0)
            if DECLARATIVE:
                tasks = [unary("/helloworld.Greeter/SayHello", HelloRequest(name="sleep:600"))]
            else:
                @task
                async def slow(self):
                    r = await self.client.unary("/helloworld.Greeter/SayHello",
                                                HelloRequest(name="sleep:600"), HelloReply,
                                                timeout=0.2)
                    assert r.grpc_status == "DEADLINE_EXCEEDED", r.error
        """.replace("DECLARATIVE", str(declarative)),
    )
    with GrpcTarget() as target:
        result = loadforge.run(
            path,
            host=target.url,
            users=2,
            run_time=1.5,
            processes=1,
            request_timeout=0.2 if declarative else None,
        )
    hello = find_endpoint(result, HELLO)
    assert hello.requests >= 4
    assert _errors(hello) == {"grpc_DEADLINE_EXCEEDED": hello.requests}
    assert target.calls["SayHello"] == 0
    # The deadline travelled with the call (grpc-timeout), so the server knew it too.
    assert target.deadlines and all(d is not None and d <= 0.2 for d in target.deadlines)
    assert hello.latency_ms["max"] < 400


def test_server_down_is_unavailable(tmp_path: Path) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        from helloworld_pb2 import HelloRequest
        from loadforge import GrpcUser, constant, unary

        class Greeter(GrpcUser):
            wait_time = constant(0.1)
            tasks = [unary("/helloworld.Greeter/SayHello", HelloRequest(name="x"))]
        """,
    )
    host = f"http://127.0.0.1:{free_port()}"
    result = loadforge.run(path, host=host, users=2, run_time=1, processes=1)
    hello = find_endpoint(result, HELLO)
    assert hello.requests > 0
    assert _errors(hello) == {"grpc_UNAVAILABLE": hello.requests}


def test_a_call_the_engine_refuses_raises_in_its_task(tmp_path: Path) -> None:
    # Calls reach the engine in batches; one it cannot compile still fails its own task.
    path = grpc_scenario(
        tmp_path,
        """
        from helloworld_pb2 import HelloReply, HelloRequest
        from loadforge import GrpcUser, constant, task

        class Greeter(GrpcUser):
            wait_time = constant(0.01)

            @task
            async def say(self):
                bad = await self.client.unary("/helloworld.Greeter/SayHello",
                                              HelloRequest(name="b"), HelloReply,
                                              metadata={"x-bad": "line\\nbreak"})
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(path, host=target.url, users=2, run_time=1, processes=1)
    assert result.stats is not None
    kinds = list(result.stats.exceptions)
    assert kinds and all("PlanError" in k and "x-bad" in k for k in kinds), kinds
    assert target.calls["SayHello"] == 0


def test_run_cli_connections_flag_sets_connections_per_thread(tmp_path: Path) -> None:
    """`loadforge run --connections N`: the engine opens N HTTP/2 connections per target
    per runtime thread (the server counts its peers)."""
    import os
    import subprocess
    import sys

    path = grpc_scenario(
        tmp_path,
        """
        from helloworld_pb2 import HelloReply, HelloRequest
        from loadforge import GrpcUser, constant, unary

        class Greeter(GrpcUser):
            wait_time = constant(0.01)
            tasks = [unary("/helloworld.Greeter/SayHello", HelloRequest(name="x"), HelloReply)]
        """,
    )
    peers = {}
    for connections in (1, 3):
        with GrpcTarget() as target:
            done = subprocess.run(
                [sys.executable, "-m", "loadforge", "run", str(path), "-H", target.url,
                 "-u", "12", "-r", "100", "-t", "1s", "--processes", "1", "-q",
                 "--connections", str(connections)],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            peers[connections] = len(target.peers)
    threads = os.cpu_count() or 1
    assert 1 <= peers[1] <= threads
    assert peers[1] < peers[3] <= 3 * threads
