"""`locust.env`: the `Environment` listeners and users see."""

from loadforge.environment import Environment

__all__ = ["Environment"]
