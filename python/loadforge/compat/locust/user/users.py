"""`locust.user.users`."""

from loadforge.compat.locust.users import HttpUser, User

__all__ = ["HttpUser", "User"]
