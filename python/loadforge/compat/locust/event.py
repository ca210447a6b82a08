"""`locust.event`: `EventHook` and `Events` (the instance is `locust.events`)."""

from loadforge.events import EventHook, Events

DeprecatedEventHook = EventHook

__all__ = ["DeprecatedEventHook", "EventHook", "Events"]
