"""The runtime for Python `async def` tasks: the client, responses and the user runner.

The worker creates a `PythonRunner` for the engine's plan on its uvloop event loop; the
runner starts and stops users when the engine says so and gives each an `HttpClient`
whose requests the engine fires, times and records.
"""

from .catch import CatchResponse, CaughtResponse
from .client import HttpClient, Measure
from .exceptions import ExceptionCounter
from .grpc_client import GrpcClient, GrpcResponse
from .response import Headers, Response, ResponseError
from .runner import PythonRunner, StopUser

__all__ = [
    "CatchResponse",
    "CaughtResponse",
    "ExceptionCounter",
    "GrpcClient",
    "GrpcResponse",
    "Headers",
    "HttpClient",
    "Measure",
    "PythonRunner",
    "Response",
    "ResponseError",
    "StopUser",
]
