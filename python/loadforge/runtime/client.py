"""`self.client` of a Python `HttpUser`: requests go to the engine, which times and records them.

Every call encodes its body once, takes a token, registers a future and calls
`engine.submit(...)`; the `Dispatcher` resolves the future with a `Response` when the
engine's completion event arrives. The call submits at once and returns the future, so
`await self.client.get("/x")` costs no extra coroutine, and several requests can be in
flight together (`await asyncio.gather(c.get("/a"), c.get("/b"))`).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Literal, overload
from urllib.parse import urlencode

import orjson

from loadforge._proto import plan_pb2
from loadforge.scenario.body import JSON_TYPE, encode_body

from .catch import CatchResponse, CaughtResponse
from .dispatcher import Dispatcher
from .response import Response

# How late (µs) the current open-model iteration started against its schedule; the engine
# adds it to each request's latency so a stalled server cannot hide (coordinated omission).
START_DELAY_US: contextvars.ContextVar[int] = contextvars.ContextVar("START_DELAY_US", default=0)

Headers = Mapping[str, str] | Iterable[tuple[str, str]]

_NO_HEADERS: list[tuple[str, str]] = []
# `Engine.submit_batch` flag: leave a redirect answer unrecorded (the session follows it).
SUBMIT_DEFER_REDIRECTS = 1
_JSON_HEADERS = [("content-type", JSON_TYPE)]


class HttpClient:
    """Sends HTTP requests through the engine for one user.

    `host` is the base URL (`http://127.0.0.1:8000`); paths are joined to it, absolute
    URLs are used as they are. `headers` is sent with every request (set it in
    `on_start`, e.g. an auth token).

    >>> r = await self.client.post("/predict", json={"x": 1})  # doctest: +SKIP
    >>> r.status, r.json()  # doctest: +SKIP
    """

    __slots__ = (
        "_create_future",
        "_dispatcher",
        "_engine",
        "_flush_soon",
        "_next_token",
        "_outbox",
        "_pending",
        "_protocol",
        "_submit",
        "_submit_later",
        "headers",
        "host",
    )

    def __init__(self, dispatcher: Dispatcher, host: str, *, http2: bool = False) -> None:
        self.host = host.rstrip("/")
        # A user class with `http2 = True` sends every request over HTTP/2.
        self._protocol = plan_pb2.PROTOCOL_HTTP2 if http2 else plan_pb2.PROTOCOL_HTTP1
        self.headers: dict[str, str] = {}
        self._engine = dispatcher.engine
        self._submit = dispatcher.engine.submit
        self._submit_later = dispatcher.submit_later
        self._next_token = dispatcher.next_token
        self._create_future = dispatcher.loop.create_future
        self._pending = dispatcher.pending
        self._outbox = dispatcher.outbox
        self._flush_soon = dispatcher.flush_soon
        self._dispatcher = dispatcher

    @overload
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Headers | None = None,
        name: str | None = None,
        timeout: float | None = None,
        catch_response: Literal[False] = False,
    ) -> asyncio.Future[Response]: ...

    @overload
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Headers | None = None,
        name: str | None = None,
        timeout: float | None = None,
        catch_response: Literal[True],
    ) -> CatchResponse: ...

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Headers | None = None,
        name: str | None = None,
        timeout: float | None = None,
        catch_response: bool = False,
    ) -> asyncio.Future[Response] | CatchResponse:
        """Send a request; await the result for a `Response`.

        `name` groups statistics (default: the path as given, before `params`).
        `json=` is encoded with orjson, `data=` form-encoded (a dict) or sent as is
        (bytes/str), `files=` as multipart. `timeout` (seconds) overrides the plan's.
        With `catch_response=True` the result is an async context manager whose response
        has `success()` / `failure(reason)`.
        """
        if name is None:
            name = path
        url = join_url(self.host, path)
        if params:
            query = urlencode(params, doseq=True)
            url = f"{url}&{query}" if "?" in url else f"{url}?{query}"

        content_type: str | None
        if json is not None and data is None and files is None:
            body = orjson.dumps(json, option=orjson.OPT_SERIALIZE_NUMPY)
            content_type = JSON_TYPE
        elif json is not None or data is not None or files is not None:
            # The same encoder as declarative requests, so both spell bodies alike.
            body, content_type = encode_body(json=json, data=data, files=files)
        else:
            body = b""
            content_type = None

        if headers is None and not self.headers:
            if content_type is None:
                header_list = _NO_HEADERS
            elif content_type is JSON_TYPE:
                header_list = _JSON_HEADERS
            else:
                header_list = [("content-type", content_type)]
        else:
            header_list = self._merge_headers(headers, content_type)

        token = self._next_token()
        future = self._create_future()
        response_class = CaughtResponse if catch_response else Response
        self._dispatcher.pending[token] = (future, response_class, method, url)
        delay = START_DELAY_US.get()
        if not catch_response:
            # Queued: the requests of every task that runs in this loop iteration go to
            # the engine in one call, one wake-up of its thread per burst, not per request.
            # A request the engine refuses (bad URL) fails this future.
            self._submit_later(
                (
                    token,
                    method,
                    url,
                    header_list,
                    body,
                    name,
                    self._protocol,
                    float(timeout or 0.0),
                    delay,
                    0,
                )
            )
            return future
        try:
            self._submit(
                token,
                method,
                url,
                header_list,
                body,
                name,
                protocol=self._protocol,
                record=False,  # recorded by CatchResponse with the task's verdict
                timeout_s=float(timeout or 0.0),
                intended_start_delay_us=delay,
            )
        except BaseException:
            self._dispatcher.pending.pop(token, None)
            raise
        return CatchResponse(future, self._engine, method, name)

    def send(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes,
        name: str,
        *,
        timeout: float | None = None,
        record: bool = True,
        defer_redirects: bool = False,
        response_class: type[Response] = Response,
    ) -> asyncio.Future[Any]:
        """Submit one fully built request (absolute URL, final headers); the future
        resolves to `response_class(event, method, url)`.

        `record=False`: the caller records it (`engine.record`). `defer_redirects`: a
        301/302/303/307/308 answer is left unrecorded for the caller to follow.
        """
        future = self._create_future()
        if record:
            flags = SUBMIT_DEFER_REDIRECTS if defer_redirects else 0
            self.send_quick(
                method, url, headers, body, name, response_class, future, timeout, flags
            )
            return future
        token = self._next_token()
        self._pending[token] = (future, response_class, method, url)
        delay = START_DELAY_US.get()
        try:
            self._submit(
                token,
                method,
                url,
                headers,
                body,
                name,
                protocol=self._protocol,
                record=False,
                timeout_s=float(timeout or 0.0),
                intended_start_delay_us=delay,
            )
        except BaseException:
            self._pending.pop(token, None)
            raise
        return future

    def send_quick(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes,
        name: str,
        response_class: type[Response],
        waiter: Any,
        timeout: float | None = None,
        flags: int = SUBMIT_DEFER_REDIRECTS,
    ) -> None:
        """Queue a recorded request answered to `waiter` (a future, or a parked user
        greenlet, which has a future's `set_result`); by default its redirects are left
        for the caller to follow. The Locust session's per-request fast path."""
        token = self._next_token()
        self._pending[token] = (waiter, response_class, method, url)
        outbox = self._outbox
        outbox.append(
            (
                token,
                method,
                url,
                headers,
                body,
                name,
                self._protocol,
                0.0 if timeout is None else float(timeout),
                START_DELAY_US.get(),
                flags,
            )
        )
        if len(outbox) == 1:
            self._flush_soon()

    def _merge_headers(
        self, headers: Headers | None, content_type: str | None
    ) -> list[tuple[str, str]]:
        merged: dict[str, tuple[str, str]] = {}
        if content_type is not None:
            merged["content-type"] = ("content-type", content_type)
        for key, value in self.headers.items():
            merged[key.lower()] = (key, value)
        if headers is not None:
            items = headers.items() if isinstance(headers, Mapping) else headers
            for key, value in items:
                merged[key.lower()] = (key, value)
        return list(merged.values())

    def _plain(
        self,
        method: str,
        path: str,
        name: str | None,
        timeout: float | None,
        body: bytes = b"",
        header_list: list[tuple[str, str]] = _NO_HEADERS,
    ) -> asyncio.Future[Response]:
        # `request()` for the common calls (a path, maybe a name and timeout, no headers or
        # params; a JSON body or none): the same submission in a fraction of the bytecode.
        if path[:1] == "/":
            url = self.host + path
        elif path[:7] == "http://" or path[:8] == "https://":
            url = path
        else:
            url = f"{self.host}/{path}"
        token = self._next_token()
        future = self._create_future()
        self._pending[token] = (future, Response, method, url)
        outbox = self._outbox
        outbox.append(
            (
                token,
                method,
                url,
                header_list,
                body,
                path if name is None else name,
                self._protocol,
                0.0 if timeout is None else float(timeout),
                START_DELAY_US.get(),
                0,
            )
        )
        if len(outbox) == 1:
            self._flush_soon()
        return future

    # The verbs. Explicit signatures (no **kwargs) keep each call to one small frame.

    def get(
        self,
        path: str,
        *,
        params: Any = None,
        headers: Headers | None = None,
        name: str | None = None,
        timeout: float | None = None,
        catch_response: bool = False,
    ) -> Any:
        """`GET path`; see `request()`."""
        if params is None and headers is None and not catch_response and not self.headers:
            return self._plain("GET", path, name, timeout)
        return self.request(
            "GET",
            path,
            params=params,
            headers=headers,
            name=name,
            timeout=timeout,
            catch_response=catch_response,  # type: ignore[call-overload]
        )

    def post(
        self,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Headers | None = None,
        name: str | None = None,
        timeout: float | None = None,
        catch_response: bool = False,
    ) -> Any:
        """`POST path`; see `request()`."""
        if (
            data is None
            and files is None
            and params is None
            and headers is None
            and not catch_response
            and not self.headers
        ):
            if json is None:
                return self._plain("POST", path, name, timeout)
            body = orjson.dumps(json, option=orjson.OPT_SERIALIZE_NUMPY)
            return self._plain("POST", path, name, timeout, body, _JSON_HEADERS)
        return self.request(
            "POST",
            path,
            params=params,
            json=json,
            data=data,
            files=files,
            headers=headers,
            name=name,
            timeout=timeout,
            catch_response=catch_response,  # type: ignore[call-overload]
        )

    def put(self, path: str, **kwargs: Any) -> Any:
        """`PUT path`; see `request()`."""
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        """`PATCH path`; see `request()`."""
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        """`DELETE path`; see `request()`."""
        return self.request("DELETE", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> Any:
        """`HEAD path`; see `request()`."""
        return self.request("HEAD", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Any:
        """`OPTIONS path`; see `request()`."""
        return self.request("OPTIONS", path, **kwargs)

    # Custom protocols: time something yourself and record it beside the HTTP stats.

    def record(
        self,
        method: str,
        name: str,
        elapsed_ms: float,
        *,
        ok: bool = True,
        status: int = 0,
        bytes_received: int = 0,
        error: str = "",
        message: str = "",
    ) -> None:
        """Record one request measured by the task (e.g. another protocol).

        `error` is the error kind of a failure (default "other" when `ok` is False).

        >>> self.client.record("WS", "chat", 12.5)  # doctest: +SKIP
        """
        if not ok and not error:
            error = "other"
        self._engine.record(
            method,
            name,
            max(0, round(elapsed_ms * 1000.0)),
            ok=ok,
            status=status,
            bytes_received=bytes_received,
            error_kind=error,
            error_message=message,
        )

    def measure(self, method: str, name: str) -> Measure:
        """Time a block and record it; an exception in the block records a failure.

        >>> async with self.client.measure("CUSTOM", "db query"):  # doctest: +SKIP
        ...     await run_query()
        """
        return Measure(self, method, name)


class Measure:
    """Context manager (sync or async) from `HttpClient.measure()`."""

    __slots__ = ("_client", "_method", "_name", "_start_ns")

    def __init__(self, client: HttpClient, method: str, name: str) -> None:
        self._client = client
        self._method = method
        self._name = name
        self._start_ns = 0

    def __enter__(self) -> Measure:
        self._start_ns = time.perf_counter_ns()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        elapsed_ms = (time.perf_counter_ns() - self._start_ns) / 1e6
        if exc is None:
            self._client.record(self._method, self._name, elapsed_ms)
        elif not isinstance(exc, asyncio.CancelledError):
            self._client.record(
                self._method,
                self._name,
                elapsed_ms,
                ok=False,
                error="exception",
                message=f"{type(exc).__name__}: {exc}",
            )
        return False

    async def __aenter__(self) -> Measure:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        return self.__exit__(exc_type, exc, tb)


def join_url(host: str, path: str) -> str:
    """`path` on `host` (no trailing slash): a relative path is joined, an absolute
    `http(s)://` URL is used as it is."""
    if path[:1] == "/":
        return host + path
    if path[:7].lower() == "http://" or path[:8].lower() == "https://":
        return path
    return f"{host}/{path}"
