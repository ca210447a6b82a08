"""`loadforge grpc`: a ghz-style one-off run through the controller and workers, with a
.proto or server reflection; bad input exits 2 before anything is fired."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from grpc_target import GrpcTarget

PROTOS = Path(__file__).parent / "protos"


def _grpc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadforge", "grpc", "-q", "--processes", "1", *args],
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_reflection_and_a_call_count(tmp_path: Path) -> None:
    summary = tmp_path / "out.json"
    with GrpcTarget(reflection=True) as target:
        done = _grpc(
            "--call", "helloworld.Greeter/SayHello", "-d", '{"name": "cli"}',
            "-m", '{"x-tool": "loadforge"}', "-c", "5", "-n", "300",
            "--json", str(summary), target.addr,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(summary.read_text())
    assert report["total"]["requests"] == 300 == target.calls["SayHello"]
    assert report["total"]["failures"] == 0
    assert all(m.get("x-tool") == "loadforge" for m in target.metadata)
    assert "PASSED" in done.stdout


def test_proto_file_rate_and_duration(tmp_path: Path) -> None:
    summary = tmp_path / "out.json"
    data = tmp_path / "request.json"
    data.write_text('{"text": "hi", "count": 2}')
    with GrpcTarget() as target:
        done = _grpc(
            "--call", "/echo.Echo/Count", "-d", f"@{data}", "--proto",
            str(PROTOS / "echo.proto"), "--rps", "100", "-c", "10", "-z", "2s",
            "--json", str(summary), target.addr,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(summary.read_text())
    (count,) = [e for e in report["endpoints"] if e["name"] == "/echo.Echo/Count"]
    assert count["requests"] == target.calls["Count"]
    assert 150 <= count["requests"] <= 210
    assert target.streamed == 2 * count["requests"]


def test_bad_input_exits_2_and_fires_nothing(tmp_path: Path) -> None:
    (tmp_path / "broken.proto").write_text(
        'syntax = "proto3";\npackage broken;\nimport "nowhere.proto";\n'
    )
    with GrpcTarget(reflection=True) as target:
        cases = [
            (["--call", "helloworld.Greeter/Shout"], "--call helloworld.Greeter/Shout: "),
            (
                ["--call", "helloworld.Greeter/Shout", "--proto", str(PROTOS / "helloworld.proto")],
                "--call helloworld.Greeter/Shout: helloworld.proto: service helloworld.Greeter "
                "has no method 'Shout'",
            ),
            (["--call", "echo.Echo/Say", "-d", '{"txt": 1}'], "does not fit echo.EchoRequest"),
            (["--call", "echo.Echo/Say", "-d", "[1]"], "--data must be a JSON object"),
            (["--call", "echo.Echo/Chat"], "call it from an async task"),
            (
                ["--call", "b.B/M", "--proto", str(tmp_path / "broken.proto")],
                f"--proto {tmp_path / 'broken.proto'}: cannot compile broken.proto: nowhere.proto",
            ),
        ]
        for args, message in cases:
            done = _grpc(*args, "-n", "10", target.addr)
            assert done.returncode == 2, (args, done.stderr)
            assert message in done.stderr, (args, done.stderr)
            # Never the generated scenario the user did not write.
            assert "loadforge-grpc-" not in done.stderr and "grpc_call.py" not in done.stderr
        done = _grpc("--call", "helloworld.Greeter/SayHello", "-n", "10", "127.0.0.1:1")
        assert done.returncode == 2
        assert "reflection at 127.0.0.1:1: " in done.stderr, done.stderr
        assert "loadforge-grpc-" not in done.stderr
    assert sum(target.calls.values()) == 0


def test_connections_per_engine_thread() -> None:
    peers = {}
    for connections in (1, 3):
        with GrpcTarget(reflection=True) as target:
            done = _grpc(
                "--call", "helloworld.Greeter/SayHello", "--connections", str(connections),
                "-c", "24", "-n", "600", target.addr,
            )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert target.calls["SayHello"] == 600
        peers[connections] = len(target.peers)
    threads = os.cpu_count() or 1
    assert 1 <= peers[1] <= threads
    assert peers[1] < peers[3] <= 3 * threads


def test_url_target_thresholds_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with GrpcTarget(reflection=True) as target:
        done = _grpc(
            "--call", "helloworld.Greeter/SayHello", "-d", '{"name": "url"}', "-c", "2",
            "-n", "50", "--threshold", "requests >= 50", "--threshold", "p99 < 0.001ms",
            "--json", f"{out}.json", "--csv", str(out), "--html", f"{out}.html",
            "--junit", f"{out}.xml", target.url,
        )  # fmt: skip
    assert target.calls["SayHello"] == 50
    assert done.returncode == 1, done.stderr  # the p99 threshold cannot hold
    report = json.loads(Path(f"{out}.json").read_text())
    assert [v["passed"] for v in report["thresholds"]] == [True, False]
    assert Path(f"{out}_stats.csv").read_text().count("/helloworld.Greeter/SayHello") == 1
    assert "/helloworld.Greeter/SayHello" in Path(f"{out}.html").read_text()
    assert "p99 &lt; 0.001ms" in Path(f"{out}.xml").read_text()
