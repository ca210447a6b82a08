"""Task sets (Locust's TaskSet, kept simple) against the real demo target: the user enters
a set, runs its tasks by weight (nested sets too) until a task interrupts, with the set's
on_start/on_stop around each stay; every request is counted exactly."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import loadforge
from loadforge import HttpUser, TaskSet, constant, task
from loadforge.testing import DemoProcess


class Browse(TaskSet):
    async def on_start(self) -> None:
        await self.client.get("/status/201", name="enter")

    async def on_stop(self) -> None:
        await self.client.get("/status/202", name="leave")

    @task(3)
    async def page(self) -> None:
        r = await self.client.get("/health")
        assert r.status == 200 and self.user is self.parent.user

    @task(1)
    async def out(self) -> None:
        self.interrupt()


class Section(TaskSet):
    tasks = {Browse: 2}

    @task(1)
    async def done(self) -> None:
        self.interrupt()


class Reader(HttpUser):
    wait_time = constant(0.002)
    tasks = {Section: 3}

    @task(1)
    async def home(self) -> None:
        await self.client.get("/", name="home")


def test_task_sets_run_until_interrupted_and_count_exactly(demo_target: DemoProcess) -> None:
    demo_target.reset()
    result = loadforge.run(
        classes=[Reader], host=demo_target.http_url, users=3, run_time="2s", processes=1
    )
    served = demo_target.stats()["http"]
    assert result.stats is not None and result.stats.exceptions == {}
    assert result.total.failures == 0
    enter = result.endpoints["GET enter"].requests
    assert enter == served["/status/201"]["201"] > 10
    # Every stay ends with on_stop, also the ones the end of the run interrupted.
    assert result.endpoints["GET leave"].requests == served["/status/202"]["202"] == enter
    pages = result.endpoints["GET /health"].requests
    assert pages == served["/health"]["200"] > enter  # ~3 pages per stay
    assert result.endpoints["GET home"].requests == served["/"]["200"] > 0


def test_a_declarative_request_in_a_task_set_is_refused_before_any_request(
    demo_target: DemoProcess, tmp_path: Path
) -> None:
    path = tmp_path / "scenario.py"
    path.write_text(
        textwrap.dedent(
            """
            from loadforge import HttpUser, TaskSet, get

            class Declarative(TaskSet):
                tasks = [get("/health")]

            class WrongUser(HttpUser):
                tasks = [Declarative]
            """
        )
    )
    demo_target.reset()
    with pytest.raises(loadforge.ScenarioError, match="belong on the user class") as caught:
        loadforge.run(path, host=demo_target.http_url, users=1, run_time="1s")
    assert str(caught.value).startswith(f"{path}:8: WrongUser: task set Declarative: task GET")
    assert demo_target.stats()["http_total"] == 0
