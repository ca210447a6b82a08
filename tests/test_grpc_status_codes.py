"""gRPC endpoints count gRPC status codes (docs/grpc.md), one per call, so they sum to the
endpoint's requests; streams' reply messages are in the `--json` summary.

They used to hold the HTTP status under the call (200 for most failed calls) and nothing
at all for a call cut by its deadline, so they did not sum to `requests`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from grpc_target import GrpcTarget, find_endpoint, grpc_scenario

import loadforge

PROTOS = Path(__file__).parent / "protos"


def _grpc(tmp_path: Path, target: GrpcTarget, *args: str) -> dict:
    summary = tmp_path / "out.json"
    done = subprocess.run(
        [
            sys.executable, "-m", "loadforge", "grpc", "-q", "--processes", "1",
            "--json", str(summary), *args, target.addr,
        ],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert summary.exists(), done.stderr
    report = json.loads(summary.read_text())
    (endpoint,) = [e for e in report["endpoints"] if e["method"] == "GRPC"]
    return endpoint


def test_ok_calls_and_stream_messages(tmp_path: Path) -> None:
    with GrpcTarget() as target:
        ep = _grpc(
            tmp_path, target, "--call", "echo.Echo/Count", "--proto", str(PROTOS / "echo.proto"),
            "-d", '{"text": "hi", "count": 3}', "-c", "4", "-n", "40",
        )  # fmt: skip
    assert ep["requests"] == 40 == target.calls["Count"]
    assert ep["status_codes"] == {"0": 40}
    assert ep["messages"] == 120 == target.streamed


def test_deadline_cut_calls_are_deadline_exceeded(tmp_path: Path) -> None:
    with GrpcTarget() as target:
        ep = _grpc(
            tmp_path, target, "--call", "helloworld.Greeter/SayHello",
            "--proto", str(PROTOS / "helloworld.proto"), "-d", '{"name": "sleep:400"}',
            "--timeout", "0.1", "-c", "5", "-n", "10",
        )  # fmt: skip
    assert ep["requests"] == 10
    assert ep["failures"] == 10
    assert ep["status_codes"] == {"4": 10}, ep
    # One entry per distinct message (a call cut by our deadline, or answered by the
    # server's): every one is DEADLINE_EXCEEDED, together all ten calls.
    assert {e["kind"] for e in ep["errors"]} == {"grpc_DEADLINE_EXCEEDED"}, ep["errors"]
    assert sum(e["count"] for e in ep["errors"]) == 10


def test_codes_sum_to_requests_with_calls_cut_by_the_stop(tmp_path: Path) -> None:
    path = grpc_scenario(
        tmp_path,
        """
        from helloworld_pb2 import HelloReply, HelloRequest
        from loadforge import GrpcUser, constant, unary

        class Greeter(GrpcUser):
            wait_time = constant(0)
            tasks = {
                unary("/helloworld.Greeter/SayHello", HelloRequest(name="fast"), HelloReply): 3,
                unary("/helloworld.Greeter/SayHello", HelloRequest(name="sleep:5000"),
                      HelloReply, name="slow"): 1,
                unary("/helloworld.Greeter/Nope", HelloRequest(name="x"), HelloReply): 1,
            }
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(
            path, users=4, spawn_rate=100, run_time="1s", stop_timeout=0.3,
            host=target.url, processes=1,
        )  # fmt: skip
    for ep in result.endpoints:
        assert sum(ep.status_codes.values()) == ep.requests, (ep.key, ep.status_codes)
    slow = find_endpoint(result, "slow")
    assert slow.status_codes == {4: slow.requests}
    assert find_endpoint(result, "/helloworld.Greeter/Nope").status_codes.keys() == {12}
    fast = find_endpoint(result, "/helloworld.Greeter/SayHello")
    assert fast.status_codes == {0: fast.requests} and fast.requests > 0
    assert sum(result.total.status_codes.values()) == result.total.requests
