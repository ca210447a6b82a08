"""The bundled scenarios load, validate and build plans (they use the public spellings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadforge._proto import plan_pb2
from loadforge.scenario import PlanOptions, build_plan, load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
HOST = "http://127.0.0.1:8000"


def plan_of(name: str) -> plan_pb2.Plan:
    return build_plan(load_scenario(SCENARIOS / name), PlanOptions(users=10, host=HOST))


def weights(user: plan_pb2.UserClass) -> dict[str, int]:
    return {(t.request.name or t.python): t.weight for t in user.tasks}


def test_mnist_api() -> None:
    plan = plan_of("mnist_api.py")
    normal, stress = plan.engine.users
    assert weights(normal) == {
        "/predict": 10,
        "/health": 2,
        "/": 1,
        "/predict [zeros]": 1,
        "/predict [ones]": 1,
        "/predict [invalid]": 1,
    }
    assert normal.wait_time.between.min_s == 1 and normal.wait_time.between.max_s == 3
    assert weights(stress) == {"/predict": 1}
    assert (stress.wait_time.between.min_s, stress.wait_time.between.max_s) == (0.1, 0.5)
    assert [t.expr for t in plan.thresholds] == [
        "p95 < 2s",
        "p99 < 5s",
        "fail_ratio < 1%",
        "rps > 10",
    ]


def test_object_detection_uploads_bmp_images() -> None:
    import email
    import email.policy

    plan = plan_of("object_detection.py")
    (user,) = plan.engine.users
    assert sorted(weights(user).values()) == [10, 10, 20, 60]
    large = next(t.request for t in user.tasks if "1920x1080" in t.request.name)
    ctype = next(h.value for h in large.headers if h.name == "content-type")
    message = email.message_from_bytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + large.body, policy=email.policy.HTTP
    )
    (part,) = message.iter_parts()
    image = part.get_payload(decode=True)
    assert image[:2] == b"BM"
    assert int.from_bytes(image[18:22], "little") == 1920
    assert int.from_bytes(image[22:26], "little") == 1080
    assert len(image) == int.from_bytes(image[2:6], "little") == 54 + 1920 * 3 * 1080
    assert large.url.endswith("/detect?return_image=false")


def test_movies_api_uses_python_tasks() -> None:
    plan = plan_of("movies_api.py")
    (user,) = plan.engine.users
    assert user.python
    assert weights(user) == {"status": 1, "by_id": 1, "by_title": 1}
    assert (user.wait_time.between.min_s, user.wait_time.between.max_s) == (5, 9)


@pytest.mark.parametrize("name", ["demo.py"])
def test_demo(name: str) -> None:
    plan = plan_of(name)
    assert plan.engine.users[0].wait_time.constant_s == pytest.approx(0.1)
    assert plan.bundle.entry == name


@pytest.mark.parametrize("name", ["mnist_api.py", "object_detection.py"])
def test_bundled_scenario_runs_against_the_demo_target(name: str, demo_target: Any) -> None:
    """A short real run: every request the demo answered is counted exactly once."""
    import loadforge

    demo_target.reset()
    result = loadforge.run(
        str(SCENARIOS / name),
        host=demo_target.http_url,
        users=6,
        spawn_rate=100,
        run_time="3s",
        processes=1,
    )
    served = demo_target.stats()
    assert result.total.requests == served["http_total"] > 0
    # Only the deliberate edge cases fail (422 for all-zeros/all-ones input is not a failure
    # of the target): every failure is an HTTP status the scenario did not accept.
    assert result.total.failures <= result.total.requests * 0.2
