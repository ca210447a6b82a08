"""`locust.clients`: `HttpUser`'s session and its responses."""

from loadforge.runtime.session import HttpSession, LocustResponse, ResponseContextManager

__all__ = ["HttpSession", "LocustResponse", "ResponseContextManager"]
