"""`catch_response=True`: the task decides whether a request succeeded.

    async with self.client.get("/x", catch_response=True) as r:
        if r.json()["label"] != "cat":
            r.failure("wrong label")

The request is submitted with `record=False`; when the block ends the outcome is recorded
once with `engine.record(...)`, with the latency the engine measured at the socket.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Literal

from .greenlets import await_only, in_user
from .response import CompletionEvent, Response, status_outcome


class CaughtResponse(Response):
    """A `Response` whose outcome the task sets with `success()` or `failure(reason)`."""

    __slots__ = ("_reason", "_verdict")

    def __init__(self, event: CompletionEvent, method: str, url: str) -> None:
        super().__init__(event, method, url)
        self._verdict: bool | None = None
        self._reason = ""

    def success(self) -> None:
        """Count this request as a success, whatever its status."""
        self._verdict = True
        self._reason = ""

    def failure(self, reason: object = "failed") -> None:
        """Count this request as a failure (error kind `check_failed`) with this reason."""
        self._verdict = False
        self._reason = str(reason)


class CatchResponse:
    """The async context manager returned by a `catch_response=True` request."""

    __slots__ = ("_engine", "_future", "_method", "_name", "_response")

    def __init__(self, future: asyncio.Future[Any], engine: Any, method: str, name: str) -> None:
        self._future = future
        self._engine = engine
        self._method = method
        self._name = name
        self._response: CaughtResponse | None = None

    def __enter__(self) -> CaughtResponse:
        if in_user():
            # A synchronous task (its own greenlet): wait here, as Locust's `with` does.
            response: CaughtResponse = await_only(self._future)
            self._response = response
            return response
        # `with` inside `async def` cannot wait for the answer. The request is on the wire:
        # record it when it completes (its status decides), and fail the task loudly.
        self._future.add_done_callback(self._record_when_done)
        raise TypeError(
            "catch_response=True in `async def` needs `async with` (or make the task a "
            "plain `def`); the request was recorded by its status"
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        return self._finish(exc)

    def _record_when_done(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        response = future.result()
        self._response = response
        self._finish(None)

    async def __aenter__(self) -> CaughtResponse:
        response: CaughtResponse = await self._future
        self._response = response
        return response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        return self._finish(exc)

    def _finish(self, exc: BaseException | None) -> Literal[False]:
        response = self._response
        if response is None:
            return False
        verdict = response._verdict
        if exc is not None and verdict is None and not isinstance(exc, asyncio.CancelledError):
            # The block broke before deciding: the request failed with it. The exception
            # still propagates, so the task's exception count sees it too.
            self._record(response, False, "exception", f"{type(exc).__name__}: {exc}")
        elif verdict is True:
            self._record(response, True, "", "")
        elif verdict is False:
            self._record(response, False, "check_failed", response._reason)
        else:
            self._record(response, *status_outcome(response))
        return False

    def _record(self, response: Response, ok: bool, kind: str, message: str) -> None:
        self._engine.record(
            self._method,
            self._name,
            response.elapsed_us,
            ok=ok,
            status=response.status,
            bytes_received=len(response.content),
            error_kind=kind,
            error_message=message,
        )
