"""Split a run's load over workers in proportion to their capacity.

Integer quantities (users, fixed counts, iterations, in-flight caps) are split with the
largest-remainder method so the parts always add up to the whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from loadforge._proto import control_pb2, plan_pb2


def split_int(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` that sum to ``total``.

    >>> split_int(10, [1, 1, 1])
    [4, 3, 3]
    """
    if not weights:
        return []
    whole = sum(weights)
    if whole <= 0:
        weights, whole = [1.0] * len(weights), float(len(weights))
    exact = [total * w / whole for w in weights]
    parts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def shares(engine: plan_pb2.EnginePlan, capacities: Sequence[float]) -> list[control_pb2.Share]:
    """One Share per worker, for workers of the given capacities (e.g. their cores)."""
    n = len(capacities)
    if n == 0:
        return []
    whole = sum(capacities) or float(n)
    fractions = [c / whole for c in capacities]
    profile = engine.profile
    users = split_int(profile.closed.users, capacities)
    iterations = split_int(profile.iterations, capacities)
    in_flight = split_int(profile.open.max_in_flight, capacities)
    fixed = {u.name: split_int(u.fixed_count, capacities) for u in engine.users if u.fixed_count}
    out = []
    for i in range(n):
        share = control_pb2.Share(
            users=users[i],
            rate=profile.open.rate * fractions[i],
            fraction=fractions[i],
            iterations=iterations[i],
            spawn_rate=profile.closed.spawn_rate * fractions[i],
            max_in_flight=in_flight[i],
            class_offset=i,
        )
        for name, counts in fixed.items():
            share.fixed_counts[name] = counts[i]
        out.append(share)
    return out


def apply_share(engine: plan_pb2.EnginePlan, share: control_pb2.Share) -> plan_pb2.EnginePlan:
    """The engine plan one worker runs: the whole plan scaled down to its share."""
    mine = plan_pb2.EnginePlan()
    mine.CopyFrom(engine)
    profile = mine.profile
    if profile.HasField("open"):
        profile.open.rate = share.rate
        profile.open.max_in_flight = share.max_in_flight
    else:
        profile.closed.users = share.users
        profile.closed.spawn_rate = share.spawn_rate
    profile.iterations = share.iterations
    for stage in profile.stages:
        scaled = stage.target * share.fraction
        stage.target = scaled if profile.HasField("open") else float(round(scaled))
    if len(mine.users) > 1 and share.class_offset:
        k = share.class_offset % len(mine.users)
        rotated = [*mine.users[k:], *mine.users[:k]]
        del mine.users[:]
        mine.users.extend(rotated)
    for user in mine.users:
        if user.fixed_count:
            user.fixed_count = share.fixed_counts.get(user.name, 0)
            if user.fixed_count == 0:
                # This worker runs none of them: weight 0 keeps the class out of the mix.
                user.weight = 0
    return mine
