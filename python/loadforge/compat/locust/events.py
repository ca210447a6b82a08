"""`locust.events`: this process's event hooks (`events.request`, `events.quitting`...).

A module standing in for Locust's `Events` instance, so both `from locust import events`
and `import locust.events` give the same hooks.
"""

from typing import Any

from loadforge.events import EVENT_NAMES
from loadforge.events import events as _events

globals().update({name: getattr(_events, name) for name in EVENT_NAMES})


def __getattr__(name: str) -> Any:
    return getattr(_events, name)
