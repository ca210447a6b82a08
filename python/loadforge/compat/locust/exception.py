"""`locust.exception`: the exceptions a locustfile raises or catches."""

from __future__ import annotations

from loadforge.runtime.response import ResponseError as _EngineResponseError
from loadforge.runtime.session import CatchResponseError
from loadforge.scenario.errors import ScenarioError
from loadforge.scenario.flow import (
    InterruptTaskSet,
    RescheduleTask,
    RescheduleTaskImmediately,
    StopUser,
)


class LocustError(Exception):
    """Base of Locust's own errors."""


class ResponseError(_EngineResponseError):
    """A failed response (raise it in a `catch_response` block to fail the request)."""

    def __init__(self, message: str = "", response: object = None) -> None:
        Exception.__init__(self, message)
        self.response = response  # type: ignore[assignment]


class MissingWaitTimeError(LocustError):
    pass


class RPCError(LocustError):
    pass


class RPCSendError(RPCError):
    pass


class RPCReceiveError(RPCError):
    pass


class RunnerAlreadyExistsError(LocustError):
    pass


__all__ = [
    "CatchResponseError",
    "InterruptTaskSet",
    "LocustError",
    "MissingWaitTimeError",
    "RPCError",
    "RPCReceiveError",
    "RPCSendError",
    "RescheduleTask",
    "RescheduleTaskImmediately",
    "ResponseError",
    "RunnerAlreadyExistsError",
    "ScenarioError",
    "StopUser",
]
