"""`locust.shape`: `LoadTestShape`."""

from loadforge.scenario.shape import LoadTestShape

__all__ = ["LoadTestShape"]
