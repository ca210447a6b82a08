"""loadforge: load tests for HTTP and gRPC services.

Scenarios are Python (User classes with weighted tasks, as in Locust); a Rust engine fires
the requests and records HDR histograms; a controller spreads the run over worker processes.

    from loadforge import HttpUser, between, get, post

    class Api(HttpUser):
        wait_time = between(1, 3)
        tasks = {get("/health"): 2, post("/predict", json={"data": [0.0] * 784}): 10}

    result = loadforge.run("scenario.py", users=20, run_time="30s", host="http://127.0.0.1:8000")
"""

from typing import TYPE_CHECKING, Any

from loadforge.events import events
from loadforge.runtime import Response
from loadforge.scenario import (
    ConfigError,
    GrpcSchema,
    GrpcUser,
    HttpUser,
    InterruptTaskSet,
    InvalidInput,
    LoadTestShape,
    RescheduleTask,
    RescheduleTaskImmediately,
    ScenarioError,
    SequentialTaskSet,
    StopUser,
    TaskSet,
    User,
    between,
    constant,
    constant_pacing,
    constant_throughput,
    delete,
    get,
    head,
    patch,
    post,
    proto_schema,
    put,
    reflect_schema,
    request,
    server_stream,
    tag,
    task,
    unary,
)

if TYPE_CHECKING:
    from loadforge._version import __version__
    from loadforge.api import RunBroken, arun, run
    from loadforge.result import EndpointResult, Result, ThresholdsFailed

# Imported on first use: a worker process or a scenario file (`from loadforge import
# HttpUser`) needs none of the controller, the reports or the package metadata, and
# importing them cost every worker process about 0.35 s of its start.
_LAZY = {
    "__version__": "loadforge._version",
    "RunBroken": "loadforge.api",
    "arun": "loadforge.api",
    "run": "loadforge.api",
    "EndpointResult": "loadforge.result",
    "Result": "loadforge.result",
    "ThresholdsFailed": "loadforge.result",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'loadforge' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ConfigError",
    "EndpointResult",
    "GrpcSchema",
    "GrpcUser",
    "HttpUser",
    "InterruptTaskSet",
    "InvalidInput",
    "LoadTestShape",
    "RescheduleTask",
    "RescheduleTaskImmediately",
    "Response",
    "Result",
    "RunBroken",
    "ScenarioError",
    "SequentialTaskSet",
    "StopUser",
    "TaskSet",
    "ThresholdsFailed",
    "User",
    "__version__",
    "arun",
    "between",
    "constant",
    "constant_pacing",
    "constant_throughput",
    "delete",
    "events",
    "get",
    "head",
    "patch",
    "post",
    "proto_schema",
    "put",
    "reflect_schema",
    "request",
    "run",
    "server_stream",
    "tag",
    "task",
    "unary",
]
