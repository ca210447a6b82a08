"""Build the `Plan` (protobuf) a worker runs from a loaded scenario and the run options."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from loadforge._proto import plan_pb2
from loadforge.thresholds import parse_thresholds

from .errors import ConfigError, ScenarioError
from .hosts import check_host
from .loader import Scenario
from .locate import class_location
from .spec import UserSpec


@dataclass
class PlanOptions:
    """Run options, usually from the command line or `loadforge.run(...)` arguments.

    Closed model: `users` and `spawn_rate`. Open model: `arrival_rate` (iterations per
    second) with `max_in_flight` capping concurrent iterations (defaults to `users`).
    `stages` (`[(duration_s, target), ...]`) ramps either model.
    """

    users: int | None = None
    spawn_rate: float | None = None
    run_time_s: float = 0.0
    stages: Sequence[tuple[float, float]] = ()
    arrival_rate: float | None = None
    max_in_flight: int | None = None
    iterations: int = 0
    host: str | None = None
    connect_timeout_s: float = 5.0
    request_timeout_s: float = 30.0
    stop_timeout_s: float = 5.0
    thresholds: Sequence[Any] = ()
    tags: Sequence[str] = ()
    exclude_tags: Sequence[str] = ()
    threads: int = 0
    tls_insecure: bool = False
    connection_per_request: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PlanOptions:
        """Build from a dict, ignoring None values; unknown keys land in `extra`."""
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in values.items() if k in names and v is not None}
        extra = {k: v for k, v in values.items() if k not in names}
        return cls(**known, extra=extra)


def _number(value: Any, what: str, *, integer: bool = False, positive: bool = False) -> Any:
    ok_type = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_type) or math.isnan(value):
        raise ConfigError(f"{what} must be a{'n integer' if integer else ' number'}, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{what} must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return value


def _profile(options: PlanOptions) -> plan_pb2.LoadProfile:
    profile = plan_pb2.LoadProfile(
        run_time_s=_number(options.run_time_s, "run time"),
        iterations=_number(options.iterations, "iterations", integer=True),
    )
    for duration, target in options.stages:
        profile.stages.add(
            duration_s=_number(duration, "stage duration", positive=True),
            target=_number(target, "stage target"),
        )
    if options.arrival_rate is not None:
        cap = options.max_in_flight if options.max_in_flight is not None else options.users or 0
        profile.open.rate = _number(options.arrival_rate, "arrival rate", positive=True)
        profile.open.max_in_flight = _number(cap, "max in flight", integer=True)
    else:
        users = 1 if options.users is None else options.users
        spawn = 1.0 if options.spawn_rate is None else options.spawn_rate
        profile.closed.users = _number(users, "users", integer=True)
        profile.closed.spawn_rate = _number(spawn, "spawn rate", positive=True)
    return profile


def _user_class(spec: UserSpec, host: str | None) -> plan_pb2.UserClass:
    if host is None:
        file, line = class_location(spec.cls)
        raise ScenarioError(
            f'{spec.name} has no host: set `host = "http://..."` on the class or pass -H/--host',
            file=file,
            line=line,
        )
    message = plan_pb2.UserClass(
        name=spec.name,
        weight=spec.weight,
        fixed_count=spec.fixed_count,
        wait_time=spec.wait_time.to_proto(),
        python=spec.python,
        python_on_start=spec.python_on_start,
        python_on_stop=spec.python_on_stop,
    )
    for task in spec.tasks:
        if task.request is not None:
            message.tasks.add(weight=task.weight, request=task.request.to_proto(host))
        else:
            message.tasks.add(weight=task.weight, python=task.python)
    message.on_start.extend(r.to_proto(host) for r in spec.on_start)
    message.on_stop.extend(r.to_proto(host) for r in spec.on_stop)
    return message


def build_plan(
    scenario: Scenario, options: PlanOptions | Mapping[str, Any] | None = None
) -> plan_pb2.Plan:
    """The full Plan: engine part (users, tasks, templates with absolute URLs, profile,
    timeouts), the bundle, the thresholds (scenario's then the options'), tags and host.

    Raises `ScenarioError` (a class without a host) or `ConfigError` (bad option) or
    `ThresholdError` (bad `--threshold`), all `InvalidInput`.
    """
    if options is None:
        options = PlanOptions()
    elif isinstance(options, Mapping):
        options = PlanOptions.from_mapping(options)
    default_host = scenario.host
    if options.host:
        default_host = check_host(options.host, "--host")
    engine = plan_pb2.EnginePlan(
        profile=_profile(options),
        connect_timeout_s=_number(options.connect_timeout_s, "connect timeout", positive=True),
        request_timeout_s=_number(options.request_timeout_s, "request timeout", positive=True),
        stop_timeout_s=_number(options.stop_timeout_s, "stop timeout"),
        threads=_number(options.threads, "threads", integer=True),
        tls_insecure=bool(options.tls_insecure),
        connection_per_request=bool(options.connection_per_request),
    )
    for spec in scenario.users:
        engine.users.append(_user_class(spec, spec.host or default_host))
    thresholds = [*scenario.thresholds, *parse_thresholds(options.thresholds)]
    return plan_pb2.Plan(
        scenario=str(scenario.path),
        engine=engine,
        bundle=scenario.bundle,
        thresholds=[t.to_proto() for t in thresholds],
        tags=list(options.tags or scenario.tags),
        exclude_tags=list(options.exclude_tags or scenario.exclude_tags),
        host=default_host or "",
    )
