"""Before ramping up: does the target answer at all?

A load test against a target that is down measures nothing; say so before firing. By default
this only warns (the target may come up during the ramp); `--require-target` makes it fatal.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from loadforge._proto import plan_pb2
from loadforge.scenario.errors import InvalidInput


class TargetUnreachable(InvalidInput):
    """The target did not accept a connection (with --require-target: exit 2)."""


def targets(plan: plan_pb2.Plan) -> list[tuple[str, int]]:
    """The distinct (host, port) pairs the plan's requests go to."""
    urls = [plan.host] if plan.host else []
    for user in plan.engine.users:
        for t in user.tasks:
            if t.WhichOneof("kind") == "request":
                urls.append(t.request.url)
        urls += [r.url for r in user.on_start] + [r.url for r in user.on_stop]
    seen: dict[tuple[str, int], None] = {}
    for url in urls:
        parts = urlsplit(url)
        if parts.hostname:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            seen[(parts.hostname, port)] = None
    return list(seen)


def unreachable(plan: plan_pb2.Plan, timeout_s: float = 2.0) -> list[str]:
    """Human-readable problems, one per target that refused or timed out."""
    problems = []
    for host, port in targets(plan):
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                pass
        except OSError as err:
            problems.append(f"{host}:{port} does not answer ({err.strerror or err})")
    return problems
