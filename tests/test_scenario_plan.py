"""The plan builder: templates with absolute URLs, bodies encoded once, weights, models."""

from __future__ import annotations

import email
import email.policy
import textwrap
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest

from loadforge._proto import plan_pb2
from loadforge.scenario import (
    ConfigError,
    PlanOptions,
    ScenarioError,
    build_plan,
    get,
    load_scenario,
    parse_duration,
    parse_stages,
    post,
    request,
    unary,
)
from loadforge.scenario.body import encode_multipart
from loadforge.thresholds import ThresholdError

HOST = "http://127.0.0.1:8000"


def scenario_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scenario.py"
    path.write_text("from loadforge.scenario import *\n" + textwrap.dedent(body))
    return path


def plan_for(tmp_path: Path, body: str, **options: object) -> plan_pb2.Plan:
    return build_plan(load_scenario(scenario_file(tmp_path, body)), PlanOptions(**options))  # type: ignore[arg-type]


def test_declarative_tasks_become_templates(tmp_path: Path) -> None:
    plan = plan_for(
        tmp_path,
        """
        class Api(HttpUser):
            wait_time = between(1, 3)
            weight = 3
            tasks = {get("/health", status=200): 2,
                     post("/predict", json={"data": [0.0] * 3}, name="predict",
                          contains=b"label", json_path="result.label", json_equals="7"): 10}
            on_start = [post("/login", data={"user": "a b", "n": 1})]
        """,
        users=10,
        spawn_rate=2.0,
        run_time="1m30s",
        host=HOST,
    )
    (user,) = plan.engine.users
    assert (user.name, user.weight, user.python) == ("Api", 3, False)
    assert user.wait_time.WhichOneof("kind") == "between"
    assert (user.wait_time.between.min_s, user.wait_time.between.max_s) == (1.0, 3.0)
    health, predict = user.tasks
    assert health.weight == 2 and predict.weight == 10
    assert health.request.url == f"{HOST}/health"
    assert list(health.request.check.status) == [200]
    assert predict.request.method == "POST"
    assert predict.request.name == "predict"
    assert orjson.loads(predict.request.body) == {"data": [0.0, 0.0, 0.0]}
    headers = {h.name: h.value for h in predict.request.headers}
    assert headers["content-type"] == "application/json"
    assert predict.request.check.body_contains == b"label"
    assert predict.request.check.json_path == "result.label"
    assert orjson.loads(predict.request.check.json_equals) == "7"
    assert predict.request.keep_body
    (login,) = user.on_start
    assert dict(parse_qsl(login.body.decode())) == {"user": "a b", "n": "1"}
    profile = plan.engine.profile
    assert profile.WhichOneof("model") == "closed"
    assert (profile.closed.users, profile.closed.spawn_rate, profile.run_time_s) == (10, 2.0, 90.0)
    assert plan.host == HOST


def test_class_host_wins_and_missing_host_names_the_class(tmp_path: Path) -> None:
    body = """
        class Own(HttpUser):
            host = "https://127.0.0.1:8443/api/"
            tasks = [get("/a", params={"q": "x y"})]

        class Needs(HttpUser):
            tasks = [get("/b")]
        """
    plan = plan_for(tmp_path, body, host=HOST)
    own, needs = plan.engine.users
    url = urlsplit(own.tasks[0].request.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "127.0.0.1:8443", "/api/a")
    assert parse_qsl(url.query) == [("q", "x y")]
    assert own.tasks[0].request.name == "/a"
    assert needs.tasks[0].request.url == f"{HOST}/b"
    with pytest.raises(ScenarioError) as info:
        plan_for(tmp_path, body)
    assert "Needs has no host" in str(info.value)
    lines = (tmp_path / "scenario.py").read_text().splitlines()
    assert info.value.line == lines.index("class Needs(HttpUser):") + 1


def test_python_tasks_mark_the_class(tmp_path: Path) -> None:
    plan = plan_for(
        tmp_path,
        """
        class Scripted(HttpUser):
            tasks = {get("/health"): 1}

            @task(3)
            async def predict(self):
                await self.client.post("/predict", json={})

            async def on_start(self):
                pass
        """,
        host=HOST,
    )
    (user,) = plan.engine.users
    assert user.python and user.python_on_start and not user.python_on_stop
    kinds = sorted((t.WhichOneof("kind"), t.weight) for t in user.tasks)
    assert kinds == [("python", 3), ("request", 1)]
    assert [t.python for t in user.tasks if t.python] == ["predict"]


def test_open_model_stages_and_thresholds(tmp_path: Path) -> None:
    plan = plan_for(
        tmp_path,
        """
        class Api(HttpUser):
            tasks = [get("/")]

        thresholds = ["p95 < 2s"]
        """,
        host=HOST,
        users=50,
        arrival_rate=200.0,
        stages="30s:100,1m:200",
        thresholds=["fail_ratio < 1%", "POST /predict: p99 < 500ms"],
    )
    profile = plan.engine.profile
    assert profile.WhichOneof("model") == "open"
    assert (profile.open.rate, profile.open.max_in_flight) == (200.0, 50)
    assert [(s.duration_s, s.target) for s in profile.stages] == [(30.0, 100.0), (60.0, 200.0)]
    assert [(t.scope, t.expr) for t in plan.thresholds] == [
        ("total", "p95 < 2s"),
        ("total", "fail_ratio < 1%"),
        ("POST /predict", "p99 < 500ms"),
    ]


def test_profile_fills_in_what_is_not_given(tmp_path: Path) -> None:
    body = "class Api(HttpUser):\n    tasks = [get('/')]\n"
    plan = plan_for(tmp_path, body, host=HOST, profile="quick")
    closed = plan.engine.profile.closed
    assert (closed.users, plan.engine.profile.run_time_s) == (10, 60.0)
    plan = plan_for(tmp_path, body, host=HOST, profile="spike", users=7)
    assert plan.engine.profile.closed.users == 7
    with pytest.raises(ConfigError, match="unknown profile"):
        plan_for(tmp_path, body, host=HOST, profile="huge")


def test_bad_options_are_config_errors(tmp_path: Path) -> None:
    body = "class Api(HttpUser):\n    tasks = [get('/')]\n"
    with pytest.raises(ConfigError):
        plan_for(tmp_path, body, host="localhost:8000")
    with pytest.raises(ConfigError):
        plan_for(tmp_path, body, host=HOST, users=-1)
    with pytest.raises(ConfigError):
        plan_for(tmp_path, body, host=HOST, run_time="ten minutes")
    with pytest.raises(ThresholdError):
        plan_for(tmp_path, body, host=HOST, thresholds=["p95 <"])


def test_multipart_parses_back(tmp_path: Path) -> None:
    image = bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n"
    spec = post(
        "/detect?return_image=true",
        files={"image": ("a.png", image, "image/png"), "meta": b"raw"},
        data={"threshold": "0.5"},
    )
    headers = dict(spec.headers)
    message = email.message_from_bytes(
        b"Content-Type: " + headers["content-type"].encode() + b"\r\n\r\n" + spec.body,
        policy=email.policy.HTTP,
    )
    assert message.is_multipart()
    parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    assert parts["threshold"].get_content() == "0.5"
    img = parts["image"]
    assert img.get_filename() == "a.png"
    assert img.get_content_type() == "image/png"
    assert img.get_payload(decode=True) == image
    assert parts["meta"].get_payload(decode=True) == b"raw"
    assert spec.name == "/detect?return_image=true"


def test_multipart_boundary_is_stable_and_absent_from_content() -> None:
    body1, ctype1 = encode_multipart(None, {"f": ("x.bin", b"abc")})
    body2, ctype2 = encode_multipart(None, {"f": ("x.bin", b"abc")})
    assert (body1, ctype1) == (body2, ctype2)
    boundary = ctype1.split("boundary=")[1]
    assert body1.count(boundary.encode()) == 2


def test_request_helpers_validate() -> None:
    with pytest.raises(ScenarioError):
        get("/", status="ok")  # type: ignore[arg-type]
    with pytest.raises(ScenarioError):
        post("/", json={"a": 1}, data=b"x")
    with pytest.raises(ScenarioError):
        request("GET", "")
    with pytest.raises(ScenarioError, match="json_path"):
        get("/", json_equals=3)
    assert get("/", status=[200, 204]).check.status == (200, 204)
    assert post("/", data="raw text").body == b"raw text"


def test_unary_serializes_once() -> None:
    from google.protobuf import wrappers_pb2

    spec = unary(
        "/helloworld.Greeter/SayHello",
        wrappers_pb2.StringValue(value="x"),
        wrappers_pb2.StringValue,
        metadata={"x-team": "a"},
    )
    assert spec.protocol == plan_pb2.PROTOCOL_GRPC
    assert spec.body == wrappers_pb2.StringValue(value="x").SerializeToString()
    template = spec.to_proto("http://127.0.0.1:50051")
    assert template.url == "http://127.0.0.1:50051/helloworld.Greeter/SayHello"
    assert template.protocol == plan_pb2.PROTOCOL_GRPC
    assert template.method == "POST"  # on the wire; statistics say "GRPC <name>"
    assert spec.endpoint == "GRPC /helloworld.Greeter/SayHello"
    assert dict((h.name, h.value) for h in template.headers) == {"x-team": "a"}
    with pytest.raises(ScenarioError):
        unary("SayHello", wrappers_pb2.StringValue())


def test_grpc_user_needs_unary(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        """
        class G(GrpcUser):
            tasks = [get("/x")]
        """,
    )
    with pytest.raises(ScenarioError, match="GrpcUser needs unary"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("1m30s", 90.0), ("2h", 7200.0), ("500ms", 0.5), ("1.5s", 1.5), (12, 12.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "1m30", "5x", "-3s", "1s 2"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_parse_stages() -> None:
    assert parse_stages("30s:10, 1m:100,10s:0") == [(30.0, 10.0), (60.0, 100.0), (10.0, 0.0)]
    for bad in ("30s", "30s:x", "x:10", "30s:-1"):
        with pytest.raises(ConfigError):
            parse_stages(bad)
