"""`locust.user.wait_time`."""

from loadforge.scenario.wait import between, constant, constant_pacing, constant_throughput

__all__ = ["between", "constant", "constant_pacing", "constant_throughput"]
