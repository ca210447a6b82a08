"""`loadforge.run()` / `arun()` from a test suite, with classes defined right here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import loadforge
from loadforge import HttpUser, constant, get, task
from loadforge.testing import DemoProcess


class InlineVisitor(HttpUser):
    wait_time = constant(0.01)
    tasks = [get("/health")]


class InlineScripted(HttpUser):
    wait_time = constant(0.01)

    @task
    async def predict(self) -> None:
        r = await self.client.post("/predict", json={"data": [1.0] * 784})
        assert r.status == 200


def test_run_inline_classes_through_the_fixture(
    demo_target: DemoProcess, loadforge_run: Callable[..., Any]
) -> None:
    demo_target.reset()
    result = loadforge_run(
        classes=[InlineVisitor, InlineScripted],
        host=demo_target.http_url,
        users=4,
        spawn_rate=100,
        run_time="2s",
        thresholds=["fail_ratio < 1%", ("GET /health", "p99 < 2s")],
    )
    result.raise_for_thresholds()
    served = demo_target.stats()
    assert result.passed and result.exit_code == 0
    assert result.total.requests == served["http_total"]
    assert result.endpoints["GET /health"].requests == served["http"]["/health"]["200"]
    assert result.endpoints["POST /predict"].requests == served["http"]["/predict"]["200"]
    assert [v.passed for v in result.thresholds] == [True, True]


def test_failed_threshold_raises_with_the_observed_value(demo_target: DemoProcess) -> None:
    result = loadforge.run(
        classes=[InlineVisitor],
        host=demo_target.http_url,
        users=1,
        spawn_rate=10,
        run_time="1s",
        processes=1,
        thresholds=["p50 < 1us"],
    )
    assert not result.passed and result.exit_code == 1
    with pytest.raises(loadforge.ThresholdsFailed, match="p50 < 1us"):
        result.raise_for_thresholds()


def test_arun_inside_an_event_loop(demo_target: DemoProcess) -> None:
    async def main() -> loadforge.Result:
        return await loadforge.arun(
            classes=[InlineVisitor],
            host=demo_target.http_url,
            users=1,
            spawn_rate=10,
            run_time="1s",
            processes=1,
        )

    result = asyncio.run(main())
    assert result.total.requests > 0
    assert result.total.failures == 0
