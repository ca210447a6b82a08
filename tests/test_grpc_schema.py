"""gRPC messages without generated code: a .proto compiled when the scenario loads, and
server reflection; bad input exits 2 with a clear message before anything is fired."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from grpc_target import GrpcTarget

import loadforge
from loadforge.scenario import ScenarioError, proto_schema

PROTOS = Path(__file__).parent / "protos"
HELLO = "/helloworld.Greeter/SayHello"


def _scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scenario.py"
    path.write_text(textwrap.dedent(body))
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadforge", *args],
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_proto_compiled_at_load_time_drives_both_kinds_of_task(tmp_path: Path) -> None:
    # No generated code anywhere near the scenario: only the .proto, shipped in the bundle.
    shutil.copy(PROTOS / "helloworld.proto", tmp_path / "helloworld.proto")
    path = _scenario(
        tmp_path,
        """
        from loadforge import GrpcUser, constant, proto_schema, task

        greeter = proto_schema("helloworld.proto")
        HELLO = greeter.method("/helloworld.Greeter/SayHello")

        class Declarative(GrpcUser):
            wait_time = constant(0.01)
            tasks = [greeter.unary(HELLO.path, {"name": "json"}, name="declarative")]

        class Scripted(GrpcUser):
            wait_time = constant(0.01)

            @task
            async def say(self):
                request = HELLO.request_type(name="py")
                r = await self.client.unary(HELLO.path, request, HELLO.response_type,
                                            name="scripted")
                assert r.ok and r.message.message == "hello py", r.error
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(
            path, host=target.url, users=2, spawn_rate=10, run_time=2, processes=1
        )
    assert result.stats is not None and result.stats.exceptions == {}
    declarative = result.endpoint("GRPC declarative")
    scripted = result.endpoint("GRPC scripted")
    assert declarative.failures == scripted.failures == 0
    assert declarative.requests > 20 and scripted.requests > 20
    assert declarative.requests + scripted.requests == target.calls["SayHello"]


def test_reflection_finds_methods_and_messages(tmp_path: Path) -> None:
    with GrpcTarget(reflection=True) as target:
        path = _scenario(
            tmp_path,
            f"""
            from loadforge import GrpcUser, constant, reflect_schema

            server = reflect_schema("{target.url}")
            assert "echo.Echo" in server.services, server.services

            class Api(GrpcUser):
                wait_time = constant(0.01)
                tasks = [
                    server.unary("/helloworld.Greeter/SayHello", '{{"name": "r"}}'),
                    server.server_stream("/echo.Echo/Count", {{"count": 3}}),
                ]
            """,
        )
        result = loadforge.run(
            path, host=target.url, users=2, spawn_rate=10, run_time=2, processes=1
        )
    hello = result.endpoint(f"GRPC {HELLO}")
    count = result.endpoint("GRPC /echo.Echo/Count")
    assert hello.failures == count.failures == 0
    assert hello.requests == target.calls["SayHello"] > 10
    assert count.requests == target.calls["Count"] > 10
    assert target.streamed == 3 * count.requests


def test_schema_errors_are_clear(tmp_path: Path) -> None:
    shutil.copy(PROTOS / "helloworld.proto", tmp_path / "helloworld.proto")
    schema = proto_schema(tmp_path / "helloworld.proto")
    assert schema.services == ["helloworld.Greeter"]
    with pytest.raises(ScenarioError, match=r"has no method .SayBye. \(it has: SayHello\)"):
        schema.method("/helloworld.Greeter/SayBye")
    with pytest.raises(ScenarioError, match=r"does not fit helloworld\.HelloRequest"):
        schema.request(HELLO, {"nam": "typo"})
    with pytest.raises(ScenarioError, match="not valid JSON"):
        schema.unary(HELLO, "{name: x}")
    with pytest.raises(ScenarioError, match="not a server-streaming method"):
        schema.server_stream(HELLO, {})


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown_method", "no method 'Shout'"),
        ("unknown_service", "no service 'nope.Nope'"),
        ("bad_data", "does not fit echo.EchoRequest"),
        ("missing_import", "missing/types.proto"),
    ],
)
def test_bad_input_exits_2_before_firing(tmp_path: Path, case: str, message: str) -> None:
    (tmp_path / "broken.proto").write_text(
        'syntax = "proto3";\npackage broken;\nimport "missing/types.proto";\n'
    )
    with GrpcTarget(reflection=True) as target:
        line = {
            "unknown_method": 'reflect_schema(HOST).unary("/echo.Echo/Shout", {})',
            "unknown_service": 'reflect_schema(HOST).unary("/nope.Nope/X", {})',
            "bad_data": 'reflect_schema(HOST).unary("/echo.Echo/Say", {"txt": 1})',
            "missing_import": 'proto_schema("broken.proto").unary("/broken.B/M", {})',
        }[case]
        path = _scenario(
            tmp_path,
            f"""
            from loadforge import GrpcUser, constant, proto_schema, reflect_schema, unary

            HOST = "{target.url}"

            class Api(GrpcUser):
                wait_time = constant(0)
                tasks = [{line}]
            """,
        )
        done = _cli("run", str(path), "-H", target.url, "-u", "1", "-t", "1", "--headless")
    assert done.returncode == 2, done.stderr
    assert message in done.stderr, done.stderr
    assert sum(target.calls.values()) == 0
