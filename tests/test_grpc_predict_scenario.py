"""scenarios/grpc_predict.py against the demo target: loadforge's counts equal what the
demo's gRPC service counted (/stats `grpc` section), calls and streamed messages."""

from __future__ import annotations

from pathlib import Path

import loadforge
from loadforge.testing import DemoProcess

SCENARIO = Path(__file__).parent.parent / "scenarios" / "grpc_predict.py"
PREDICT = "/loadforge.demo.v1.Inference/Predict"
STREAM = "/loadforge.demo.v1.Inference/StreamPredictions"


def test_grpc_predict_counts_match_the_demo_target(demo_target: DemoProcess) -> None:
    demo_target.reset()
    result = loadforge.run(
        SCENARIO, host=f"http://{demo_target.grpc_addr}", users=8, spawn_rate=100, run_time=3
    )
    stats = demo_target.stats()
    assert result.exit_code == 0, [v for v in result.thresholds if not v.passed]
    assert result.stats is not None and result.stats.exceptions == {}

    predict = result.endpoint(f"GRPC {PREDICT}")
    assert predict.failures == 0
    assert predict.requests == stats["grpc"][PREDICT]["OK"] > 100

    stream = result.endpoint(f"GRPC {STREAM}")
    assert stream.requests == sum(stats["grpc"][STREAM].values()) > 10
    assert stream.requests - stream.failures == stats["grpc"][STREAM]["OK"]
    assert stream.stats is not None
    assert stream.stats.messages == stats["grpc_streamed_messages"]
    first = result.endpoint(f"GRPC-FIRST {STREAM}")
    assert first.requests == stream.requests - stream.failures
    assert result.total.requests == predict.requests + stream.requests
