"""`locust.user`."""

from loadforge.compat.locust.users import HttpUser, User
from loadforge.scenario.task import tag, task
from loadforge.scenario.taskset import SequentialTaskSet, TaskSet

__all__ = ["HttpUser", "SequentialTaskSet", "TaskSet", "User", "tag", "task"]
