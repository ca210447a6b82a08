"""`locust.user.sequential_taskset`."""

from loadforge.scenario.taskset import SequentialTaskSet

__all__ = ["SequentialTaskSet"]
