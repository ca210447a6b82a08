"""The Python task runtime driving the real engine against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import random
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from runtime_target import HttpTarget

from loadforge import _core
from loadforge._proto import plan_pb2, snapshot_pb2
from loadforge.control.loop import new_event_loop
from loadforge.runtime import ExceptionCounter, Headers, PythonRunner, Response, ResponseError
from loadforge.runtime.exceptions import MAX_KINDS, OVERFLOW_KIND
from loadforge.runtime.user_spec import UserSpec
from loadforge.scenario.user import HttpUser


@pytest.fixture(scope="module")
def target() -> Iterator[HttpTarget]:
    with HttpTarget() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_counts(target: HttpTarget) -> None:
    target.hits.clear()
    target.bodies.clear()


# --- driving the engine ------------------------------------------------------------------


def user_class(
    name: str,
    tasks: list[tuple[int, str | plan_pb2.RequestTemplate]],
    *,
    wait: plan_pb2.WaitTime | None = None,
    on_start: bool = False,
    on_stop: bool = False,
) -> plan_pb2.UserClass:
    message = plan_pb2.UserClass(
        name=name,
        weight=1,
        python=True,
        python_on_start=on_start,
        python_on_stop=on_stop,
        wait_time=wait or plan_pb2.WaitTime(constant_s=0.0),
    )
    for weight, task in tasks:
        if isinstance(task, str):
            message.tasks.add(weight=weight, python=task)
        else:
            message.tasks.add(weight=weight, request=task)
    return message


def closed_plan(users: list[plan_pb2.UserClass], count: int) -> plan_pb2.EnginePlan:
    return plan_pb2.EnginePlan(
        users=users,
        profile=plan_pb2.LoadProfile(closed=plan_pb2.ClosedModel(users=count, spawn_rate=1000.0)),
        request_timeout_s=5.0,
        connect_timeout_s=2.0,
        stop_timeout_s=5.0,
    )


class Outcome:
    """What a run produced: per-endpoint stats summed over snapshots, and exceptions."""

    def __init__(self) -> None:
        self.endpoints: dict[tuple[str, str], dict[str, Any]] = {}
        self.exceptions: list[snapshot_pb2.ErrorCount] = []
        self.iterations = 0

    def add(self, snapshot: snapshot_pb2.Snapshot) -> None:
        self.iterations += snapshot.iterations
        for ep in snapshot.endpoints:
            entry = self.endpoints.setdefault(
                (ep.method, ep.name),
                {"requests": 0, "failures": 0, "errors": Counter(), "status": Counter()},
            )
            entry["requests"] += ep.requests
            entry["failures"] += ep.failures
            for err in ep.errors:
                entry["errors"][err.kind] += err.count
            for code, n in ep.status_codes.items():
                entry["status"][code] += n

    def requests(self, method: str, name: str) -> int:
        return int(self.endpoints.get((method, name), {"requests": 0})["requests"])

    def exception_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for e in self.exceptions:
            counts[e.kind] += e.count
        return dict(counts)


def run(
    plan: plan_pb2.EnginePlan,
    classes: dict[str, type],
    host: str,
    *,
    seconds: float,
    during: Callable[[Any, PythonRunner], Any] | None = None,
) -> Outcome:
    """Run the plan in a real engine on a uvloop loop, as the worker does."""
    if not hasattr(_core, "Engine"):
        pytest.skip("loadforge._core.Engine is not built yet")

    async def main() -> Outcome:
        loop = asyncio.get_running_loop()
        engine = _core.Engine(plan.SerializeToString())
        runner = PythonRunner(engine, list(plan.users), classes, host=host)
        runner.attach(loop)
        outcome = Outcome()
        engine.start()
        try:
            if during is not None:
                await during(engine, runner)
            await asyncio.sleep(seconds)
            outcome.add(snapshot_pb2.Snapshot.FromString(engine.snapshot()))
            outcome.exceptions.extend(runner.take_exceptions())
        finally:
            await runner.stop()
            last = await loop.run_in_executor(None, engine.stop, 5.0)
        outcome.add(snapshot_pb2.Snapshot.FromString(last))
        outcome.exceptions.extend(runner.take_exceptions())
        return outcome

    loop = new_event_loop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


# --- responses ---------------------------------------------------------------------------


class Inspector(HttpUser):
    seen: ClassVar[list[Response]] = []

    async def look(self) -> None:
        r = await self.client.get("/json", params={"q": "x"}, name="json")
        self.seen.append(r)


def test_response_has_status_headers_text_and_json(target: HttpTarget) -> None:
    Inspector.seen = []
    plan = closed_plan([user_class("Inspector", [(1, "look")])], 1)
    out = run(plan, {"Inspector": Inspector}, target.url, seconds=0.3)
    assert Inspector.seen, "the task never ran"
    r = Inspector.seen[0]
    assert r.status == 200 and r.status_code == 200 and r.ok and r.error is None
    assert r.headers["x-trace"] == "abc" and r.headers["X-TRACE"] == "abc"
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"label": "cat", "query": {"q": ["x"]}}
    assert '"label":"cat"' in r.text
    assert r.url == f"{target.url}/json?q=x"
    assert r.elapsed_ms > 0 and r.elapsed.total_seconds() * 1000 == pytest.approx(r.elapsed_ms)
    r.raise_for_status()
    # Every request the server saw was recorded under the task's name.
    assert out.requests("GET", "json") == target.hits["/json"] == len(Inspector.seen)


class Refused(HttpUser):
    seen: ClassVar[list[Response]] = []

    async def knock(self) -> None:
        self.seen.append(await self.client.get("/nothing-here"))


def test_a_failed_exchange_is_a_response_with_an_error_kind() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    Refused.seen = []
    plan = closed_plan([user_class("Refused", [(1, "knock")], wait=_constant(0.05))], 1)
    out = run(plan, {"Refused": Refused}, f"http://127.0.0.1:{closed_port}", seconds=0.3)
    r = Refused.seen[0]
    assert r.status == 0 and not r.ok
    assert r.error == "connect_refused"
    with pytest.raises(ResponseError):
        r.raise_for_status()
    stats = out.endpoints[("GET", "/nothing-here")]
    assert stats["failures"] == stats["requests"] >= 1
    assert stats["errors"]["connect_refused"] == stats["failures"]


# --- names, bodies, counts ---------------------------------------------------------------


class Mixed(HttpUser):
    async def predict(self) -> None:
        r = await self.client.post("/echo", json={"data": [0.5] * 4}, name="predict")
        assert r.status == 200
        assert r.json() == {"data": [0.5] * 4}

    async def by_id(self) -> None:
        # Distinct URLs, one endpoint name.
        await self.client.get(f"/item/{random.randrange(1000)}", name="/item/[id]")

    async def form(self) -> None:
        await self.client.post("/echo", data={"a": "1", "b": "two"}, name="form")

    async def upload(self) -> None:
        files = {"image": ("cat.png", b"\x89PNG-bytes", "image/png")}
        await self.client.post("/echo", files=files, data={"label": "cat"}, name="upload")


def test_names_group_stats_and_counts_equal_the_servers(target: HttpTarget) -> None:
    plan = closed_plan(
        [user_class("Mixed", [(3, "predict"), (2, "by_id"), (1, "form"), (1, "upload")])], 4
    )
    out = run(plan, {"Mixed": Mixed}, target.url, seconds=1.0)
    item_hits = sum(n for path, n in target.hits.items() if path.startswith("/item/"))
    assert out.requests("GET", "/item/[id]") == item_hits > 10
    assert len([p for p in target.hits if p.startswith("/item/")]) > 1
    posts = sum(out.requests("POST", n) for n in ("predict", "form", "upload"))
    assert posts == target.hits["/echo"] > 10
    assert out.exception_counts() == {}
    json_bodies = [b for _, b, h in target.bodies if h.get("content-type") == "application/json"]
    assert json_bodies and all(b == b'{"data":[0.5,0.5,0.5,0.5]}' for b in json_bodies)
    forms = [b for _, b, h in target.bodies if "form-urlencoded" in h.get("content-type", "")]
    assert forms and all(b == b"a=1&b=two" for b in forms)
    uploads = [b for _, b, h in target.bodies if "multipart" in h.get("content-type", "")]
    assert uploads and all(b'filename="cat.png"' in b and b"PNG-bytes" in b for b in uploads)
    # Weights 3:2:1 show in the mix (loosely: this is random).
    assert out.requests("POST", "predict") > out.requests("POST", "form")


# --- catch_response ----------------------------------------------------------------------


class Judge(HttpUser):
    async def reject(self) -> None:
        async with self.client.get("/json", catch_response=True, name="judged") as r:
            if r.json()["label"] != "dog":
                r.failure("expected a dog")

    async def forgive(self) -> None:
        async with self.client.get("/status/404", catch_response=True, name="forgiven") as r:
            r.success()


def test_catch_response_decides_success_and_failure(target: HttpTarget) -> None:
    plan = closed_plan([user_class("Judge", [(1, "reject"), (1, "forgive")])], 2)
    out = run(plan, {"Judge": Judge}, target.url, seconds=0.6)
    judged = out.endpoints[("GET", "judged")]
    assert judged["requests"] == judged["failures"] == target.hits["/json"] > 0
    assert judged["errors"]["check_failed"] == judged["failures"]
    forgiven = out.endpoints[("GET", "forgiven")]
    assert forgiven["requests"] == target.hits["/status/404"] > 0
    assert forgiven["failures"] == 0


# --- exceptions --------------------------------------------------------------------------


class Flaky(HttpUser):
    async def boom(self) -> None:
        await self.client.get("/health")
        raise ValueError("model returned garbage")

    async def check(self) -> None:
        r = await self.client.get("/status/500")
        assert r.status == 200, "server error"


def test_exceptions_are_counted_with_a_traceback_and_the_user_goes_on(
    target: HttpTarget,
) -> None:
    plan = closed_plan([user_class("Flaky", [(1, "boom"), (1, "check")])], 1)
    out = run(plan, {"Flaky": Flaky}, target.url, seconds=0.6)
    counts = out.exception_counts()
    boom = "boom: ValueError: model returned garbage"
    check = "check: AssertionError: server error"
    assert set(counts) == {boom, check}
    # One exception per run of each task; a single user kept going after each.
    assert counts[boom] == target.hits["/health"] > 2
    assert counts[check] == target.hits["/status/500"] > 2
    sample = next(e.sample for e in out.exceptions if e.kind == boom)
    assert "Traceback" in sample and "in boom" in sample and "ValueError" in sample


def test_exception_kinds_are_bounded() -> None:
    counter = ExceptionCounter()
    for i in range(MAX_KINDS + 50):
        try:
            raise KeyError(f"id-{i}")
        except KeyError as exc:
            counter.add("lookup", exc)
    taken = counter.take()
    assert len(taken) == MAX_KINDS + 1
    overflow = next(e for e in taken if e.kind == OVERFLOW_KIND)
    assert overflow.count == 50
    assert counter.take() == []


# --- stopping ----------------------------------------------------------------------------


class Slow(HttpUser):
    events: ClassVar[list[str]] = []

    async def on_start(self) -> None:
        self.events.append("start")

    async def crawl(self) -> None:
        self.events.append("task")
        r = await self.client.get("/slow", params={"s": "0.4"}, name="slow")
        self.events.append(f"done {r.status}")

    async def on_stop(self) -> None:
        self.events.append("stop")


def test_stop_user_lets_the_current_task_finish(target: HttpTarget) -> None:
    Slow.events = []

    async def scale_down(engine: Any, runner: PythonRunner) -> None:
        await asyncio.sleep(0.2)  # the first slow request is in flight
        engine.scale(users=0)
        await asyncio.sleep(0.6)
        assert runner.users == 0
        assert engine.users == 0

    plan = closed_plan([user_class("Slow", [(1, "crawl")], on_start=True, on_stop=True)], 1)
    out = run(plan, {"Slow": Slow}, target.url, seconds=0.0, during=scale_down)
    assert Slow.events == ["start", "task", "done 200", "stop"]
    assert out.requests("GET", "slow") == target.hits["/slow"] == 1


# --- declarative requests, custom measurements ------------------------------------------


class Hybrid(HttpUser):
    async def custom(self) -> None:
        async with self.client.measure("CUSTOM", "block"):
            await asyncio.sleep(0.002)
        self.client.record("WS", "sent", 1.5)


def test_templates_and_custom_records_in_a_python_user(target: HttpTarget) -> None:
    wrong_label = plan_pb2.RequestTemplate(
        method="GET",
        url=f"{target.url}/json",
        name="template-check",
        check=plan_pb2.Check(status=[200], json_path="label", json_equals='"dog"'),
    )
    plain = plan_pb2.RequestTemplate(method="GET", url=f"{target.url}/health", name="plain")
    plan = closed_plan([user_class("Hybrid", [(1, wrong_label), (1, plain), (1, "custom")])], 2)
    out = run(plan, {"Hybrid": Hybrid}, target.url, seconds=0.6)
    checked = out.endpoints[("GET", "template-check")]
    assert checked["requests"] == checked["failures"] == target.hits["/json"] > 0
    assert checked["errors"]["check_failed"] == checked["failures"]
    assert out.requests("GET", "plain") == target.hits["/health"] > 0
    assert out.endpoints[("GET", "plain")]["failures"] == 0
    blocks = out.requests("CUSTOM", "block")
    assert blocks > 0 and out.requests("WS", "sent") == blocks


# --- open model --------------------------------------------------------------------------


class Arrival(HttpUser):
    instances: ClassVar[int] = 0

    async def on_start(self) -> None:
        type(self).instances += 1

    async def hit(self) -> None:
        await self.client.get("/health", name="arrival")


def test_open_model_runs_one_task_per_iteration(target: HttpTarget) -> None:
    Arrival.instances = 0
    plan = plan_pb2.EnginePlan(
        users=[user_class("Arrival", [(1, "hit")], on_start=True)],
        profile=plan_pb2.LoadProfile(
            open=plan_pb2.OpenModel(rate=200.0, max_in_flight=20), iterations=100
        ),
        request_timeout_s=5.0,
    )

    async def until_done(engine: Any, runner: PythonRunner) -> None:
        loop = asyncio.get_running_loop()
        finished = await loop.run_in_executor(None, engine.wait, 5.0)
        assert finished

    out = run(plan, {"Arrival": Arrival}, target.url, seconds=0.0, during=until_done)
    assert out.requests("GET", "arrival") == target.hits["/health"] == 100
    # Instances are pooled: on_start ran once per instance, far fewer than iterations.
    assert 1 <= Arrival.instances <= 20


# --- pieces that need no engine ---------------------------------------------------------


def test_headers_are_case_insensitive_and_join_repeats() -> None:
    h = Headers([("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("X-A", "1")])
    assert h["SET-COOKIE"] == "a=1, b=2"
    assert h.get_all("set-cookie") == ["a=1", "b=2"]
    assert "x-a" in h and len(h) == 2


def test_weighted_choice_follows_the_weights() -> None:
    class Two(HttpUser):
        async def a(self) -> None: ...

        async def b(self) -> None: ...

    plan_user = user_class("Two", [(3, "a"), (1, "b")])
    spec = UserSpec(0, plan_user, Two, "http://127.0.0.1:1")
    user = Two()
    pick = spec.picker(spec.bind(user, None), random.Random(7))
    picks = Counter(pick()[0] for _ in range(8000))
    assert picks["a"] / picks["b"] == pytest.approx(3.0, rel=0.1)


def _constant(seconds: float) -> plan_pb2.WaitTime:
    return plan_pb2.WaitTime(constant_s=seconds)
