"""Build the `Plan` (protobuf) a worker runs from a loaded scenario and the run options."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from loadforge._proto import plan_pb2
from loadforge.thresholds import parse_thresholds

from .durations import parse_duration, parse_stages
from .errors import ConfigError, ScenarioError
from .hosts import check_host
from .loader import Scenario
from .locate import class_location
from .profiles import get_profile
from .requests import RequestSpec
from .spec import UserSpec


@dataclass
class PlanOptions:
    """Run options, as `loadforge.run(...)` and the command line spell them.

    Closed model: `users` and `spawn_rate`. Open model: `arrival_rate` (iterations per
    second); `max_in_flight` caps concurrent iterations and defaults to `users`.
    `stages` (`"30s:10,1m:100"` or `[(duration_s, target), ...]`) ramps either model.
    `run_time` and the timeouts take seconds or durations (`"1m30s"`). `profile` (`"smoke"`,
    ...) fills in users, spawn rate and run time not given explicitly. None means default.
    """

    users: int | None = None
    spawn_rate: float | None = None
    run_time: str | float | None = None
    stages: str | Sequence[tuple[float, float]] | None = None
    arrival_rate: float | None = None
    max_in_flight: int | None = None
    iterations: int | None = None
    profile: str | None = None
    host: str | None = None
    connect_timeout: str | float | None = None
    request_timeout: str | float | None = None
    stop_timeout: str | float | None = None
    thresholds: Sequence[Any] = ()
    tags: Sequence[str] = ()
    exclude_tags: Sequence[str] = ()
    threads: int = 0
    tls_insecure: bool = False
    connection_per_request: bool = False
    # HTTP/2 and gRPC connections per target per engine thread (0: the engine's 4).
    connections: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PlanOptions:
        """Build from a dict, ignoring None values; unknown keys land in `extra`."""
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in values.items() if k in names and v is not None}
        extra = {k: v for k, v in values.items() if k not in names}
        return cls(**known, extra=extra)


DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_REQUEST_TIMEOUT_S = 30.0
DEFAULT_STOP_TIMEOUT_S = 5.0


def _number(value: Any, what: str, *, integer: bool = False, positive: bool = False) -> Any:
    ok_type = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_type) or math.isnan(value):
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{what} must be {kind}, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{what} must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return value


def _seconds(value: str | float | None, default: float, what: str) -> float:
    if value is None:
        return default
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ConfigError(f"{what} must be > 0, got {value!r}")
    return seconds


def _profile(options: PlanOptions) -> plan_pb2.LoadProfile:
    preset = get_profile(options.profile) if options.profile else None
    users = options.users if options.users is not None else (preset.users if preset else 1)
    spawn = options.spawn_rate
    if spawn is None:
        spawn = preset.spawn_rate if preset else 1.0
    run_time = parse_duration(options.run_time) if options.run_time is not None else 0.0
    if options.run_time is None and preset is not None:
        run_time = preset.run_time_s
    profile = plan_pb2.LoadProfile(
        run_time_s=run_time,
        iterations=_number(options.iterations or 0, "iterations", integer=True),
    )
    stages = options.stages or ()
    if isinstance(stages, str):
        stages = parse_stages(stages)
    for duration, target in stages:
        profile.stages.add(
            duration_s=_number(duration, "stage duration", positive=True),
            target=_number(target, "stage target"),
        )
    if options.arrival_rate is not None:
        cap = options.max_in_flight if options.max_in_flight is not None else options.users or 0
        profile.open.rate = _number(options.arrival_rate, "arrival rate", positive=True)
        profile.open.max_in_flight = _number(cap, "max in flight", integer=True)
    else:
        profile.closed.users = _number(users, "users", integer=True)
        profile.closed.spawn_rate = _number(spawn, "spawn rate", positive=True)
    return profile


def _user_class(spec: UserSpec, host: str | None) -> plan_pb2.UserClass:
    if host is None and not getattr(spec.cls, "_loadforge_needs_host", True):
        host = ""  # Locust's plain `User`: a custom client, no HTTP base URL needed
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
        wait_time=None if spec.custom_wait else spec.wait_time.to_proto(),
        python=spec.python,
        python_on_start=spec.python_on_start,
        python_on_stop=spec.python_on_stop,
    )
    for task in spec.tasks:
        if task.request is not None:
            message.tasks.add(weight=task.weight, request=_template(spec, task.request, host))
        else:
            message.tasks.add(weight=task.weight, python=task.python)
    message.on_start.extend(_template(spec, r, host) for r in spec.on_start)
    message.on_stop.extend(_template(spec, r, host) for r in spec.on_stop)
    return message


def _template(spec: UserSpec, request: RequestSpec, host: str) -> plan_pb2.RequestTemplate:
    """The request's template; a class with `http2 = True` moves HTTP/1.1 ones to HTTP/2."""
    template = request.to_proto(host)
    if spec.http2 and template.protocol == plan_pb2.PROTOCOL_HTTP1:
        template.protocol = plan_pb2.PROTOCOL_HTTP2
    return template


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
        connect_timeout_s=_seconds(
            options.connect_timeout, DEFAULT_CONNECT_TIMEOUT_S, "connect timeout"
        ),
        request_timeout_s=_seconds(
            options.request_timeout, DEFAULT_REQUEST_TIMEOUT_S, "request timeout"
        ),
        stop_timeout_s=_seconds(options.stop_timeout, DEFAULT_STOP_TIMEOUT_S, "stop timeout"),
        threads=_number(options.threads, "threads", integer=True),
        tls_insecure=bool(options.tls_insecure),
        connection_per_request=bool(options.connection_per_request),
        h2_connections=_number(options.connections, "connections", integer=True),
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
