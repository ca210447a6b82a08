"""`locust.contrib.fasthttp`: `FastHttpUser` and its session (also sent by the engine)."""

from loadforge.compat.locust.users import FastHttpUser
from loadforge.runtime.session import FastHttpSession, LocustResponse, ResponseContextManager

FastResponse = LocustResponse
RestResponseContextManager = ResponseContextManager

__all__ = [
    "FastHttpSession",
    "FastHttpUser",
    "FastResponse",
    "ResponseContextManager",
    "RestResponseContextManager",
]
