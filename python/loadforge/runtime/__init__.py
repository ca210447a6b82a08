"""The runtime for Python tasks (`def` and `async def`): the client, responses and the user runner.

The worker creates a `PythonRunner` for the engine's plan on its uvloop event loop; the
runner starts and stops users when the engine says so and gives each an `HttpClient`
whose requests the engine fires, times and records.
"""

from .catch import CatchResponse, CaughtResponse
from .client import HttpClient, Measure
from .exceptions import ExceptionCounter
from .greenlets import await_only, in_user, run_sync
from .grpc_client import GrpcClient, GrpcResponse
from .response import Headers, Response, ResponseError
from .runner import PythonRunner, StopUser
from .session import FastHttpSession, HttpSession, LocustResponse, ResponseContextManager

__all__ = [
    "CatchResponse",
    "CaughtResponse",
    "ExceptionCounter",
    "FastHttpSession",
    "GrpcClient",
    "GrpcResponse",
    "Headers",
    "HttpClient",
    "HttpSession",
    "LocustResponse",
    "Measure",
    "PythonRunner",
    "Response",
    "ResponseContextManager",
    "ResponseError",
    "StopUser",
    "await_only",
    "in_user",
    "run_sync",
]
