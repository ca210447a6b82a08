"""The scenario API: user classes, tasks, wait times, declarative requests, loader, plan."""

from .durations import parse_duration, parse_stages
from .errors import ConfigError, InvalidInput, ScenarioError
from .flow import InterruptTaskSet, RescheduleTask, RescheduleTaskImmediately, StopUser
from .grpc_schema import GrpcMethod, GrpcSchema, proto_schema, reflect_schema
from .loader import Scenario, load_scenario
from .plan import PlanOptions, build_plan
from .profiles import PROFILES, Profile, get_profile
from .requests import (
    RequestCheck,
    RequestSpec,
    delete,
    get,
    head,
    patch,
    post,
    put,
    request,
    server_stream,
    unary,
)
from .shape import LoadTestShape
from .spec import TaskSpec, UserSpec
from .task import tag, task
from .taskset import SequentialTaskSet, TaskSet
from .user import GrpcUser, HttpUser, User
from .wait import WaitTime, between, constant, constant_pacing, constant_throughput

__all__ = [
    "PROFILES",
    "ConfigError",
    "GrpcMethod",
    "GrpcSchema",
    "GrpcUser",
    "HttpUser",
    "InterruptTaskSet",
    "InvalidInput",
    "LoadTestShape",
    "PlanOptions",
    "Profile",
    "RequestCheck",
    "RequestSpec",
    "RescheduleTask",
    "RescheduleTaskImmediately",
    "Scenario",
    "ScenarioError",
    "SequentialTaskSet",
    "StopUser",
    "TaskSet",
    "TaskSpec",
    "User",
    "UserSpec",
    "WaitTime",
    "between",
    "build_plan",
    "constant",
    "constant_pacing",
    "constant_throughput",
    "delete",
    "get",
    "get_profile",
    "head",
    "load_scenario",
    "parse_duration",
    "parse_stages",
    "patch",
    "post",
    "proto_schema",
    "put",
    "reflect_schema",
    "request",
    "server_stream",
    "tag",
    "task",
    "unary",
]
