"""Load is split over workers so the parts add up to exactly the whole."""

from __future__ import annotations

import pytest

from loadforge._proto import plan_pb2
from loadforge.control.allocation import apply_share, shares, split_int


@pytest.mark.parametrize(
    ("total", "weights"),
    [(10, [1, 1, 1]), (7, [2, 1]), (0, [1, 1]), (3, [1, 1, 1, 1, 1]), (1000, [4, 2, 2, 1])],
)
def test_split_int_adds_up_and_is_proportional(total: int, weights: list[float]) -> None:
    parts = split_int(total, weights)
    assert sum(parts) == total
    whole = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        assert abs(part - total * w / whole) < 1


def _closed_plan() -> plan_pb2.EnginePlan:
    plan = plan_pb2.EnginePlan()
    plan.profile.closed.users = 101
    plan.profile.closed.spawn_rate = 10
    plan.profile.iterations = 1001
    plan.profile.stages.add(duration_s=10, target=50)
    plan.users.add(name="Fixed", weight=1, fixed_count=3)
    plan.users.add(name="Weighted", weight=5)
    return plan


def test_closed_shares_add_up_across_unequal_workers() -> None:
    plan = _closed_plan()
    parts = shares(plan, [4, 2, 1])
    assert sum(p.users for p in parts) == 101
    assert sum(p.iterations for p in parts) == 1001
    assert sum(p.fixed_counts["Fixed"] for p in parts) == 3
    assert sum(p.spawn_rate for p in parts) == pytest.approx(10)
    assert sum(p.fraction for p in parts) == pytest.approx(1)
    assert parts[0].users > parts[1].users > parts[2].users


def test_apply_share_scales_the_plan_for_one_worker() -> None:
    plan = _closed_plan()
    parts = shares(plan, [1, 1, 1, 1])
    mine = [apply_share(plan, p) for p in parts]
    assert sum(m.profile.closed.users for m in mine) == 101
    # Fixed-count classes: a worker without any of them must not run the class by weight.
    fixed = [next(u for u in m.users if u.name == "Fixed") for m in mine]
    without = [u for u in fixed if u.fixed_count == 0]
    assert without and all(u.weight == 0 for u in without)
    assert mine[0].profile.stages[0].target == round(50 / 4)
    assert plan.profile.closed.users == 101  # the whole plan is untouched


def test_open_model_rate_and_in_flight_split() -> None:
    plan = plan_pb2.EnginePlan()
    plan.profile.open.rate = 1000
    plan.profile.open.max_in_flight = 50
    parts = [apply_share(plan, s) for s in shares(plan, [1, 1, 1])]
    assert sum(p.profile.open.rate for p in parts) == pytest.approx(1000)
    assert sum(p.profile.open.max_in_flight for p in parts) == 50


def test_workers_with_few_users_each_still_run_every_class() -> None:
    """Each engine breaks ties towards its first class; rotating the class list per
    worker spreads one-user shares over both classes instead of piling onto the first."""
    plan = plan_pb2.EnginePlan()
    plan.profile.closed.users = 2
    plan.users.add(name="A", weight=1)
    plan.users.add(name="B", weight=1)
    first_classes = [apply_share(plan, s).users[0].name for s in shares(plan, [1, 1])]
    assert sorted(first_classes) == ["A", "B"]
