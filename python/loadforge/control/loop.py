"""The event loop workers and controllers run on: uvloop when available."""

from __future__ import annotations

import asyncio


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; platforms without it
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
