"""`locust.user.task`."""

from loadforge.scenario.flow import InterruptTaskSet
from loadforge.scenario.task import tag, task
from loadforge.scenario.taskset import TaskSet

__all__ = ["InterruptTaskSet", "TaskSet", "tag", "task"]
