"""Exceptions a task raises to steer its user, spelled as in Locust."""

from __future__ import annotations


class StopUser(Exception):
    """Raise in a task to stop this user for good (it runs `on_stop` first)."""


class InterruptTaskSet(Exception):
    """Raised by `TaskSet.interrupt()`: back to the parent's tasks.

    `reschedule=False` skips the wait before the parent's next task.
    """

    def __init__(self, reschedule: bool = True) -> None:
        super().__init__(reschedule)
        self.reschedule = reschedule


class RescheduleTask(Exception):
    """Raise in a task to end it at once; the user waits and picks its next task."""


class RescheduleTaskImmediately(Exception):
    """Raise in a task to end it at once and pick the next task without waiting."""
