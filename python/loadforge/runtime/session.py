"""`self.client` of a synchronous (Locust-style) user: a requests-like session.

    @task
    def predict(self):
        r = self.client.post("/predict", json={"data": [0.5] * 784})
        assert r.status_code == 200, r.text

A call blocks its own user only: it hands the request to the engine and waits in the
user's greenlet (`greenlets.await_only`), so every other user keeps running. The engine
sends it, times it at the socket and records it. What the session adds over the engine's
`HttpClient` is what Locust's clients do:

- session state per user: `headers` (update or replace), `cookies` (from `Set-Cookie`),
  `auth`;
- redirects followed (up to 30), recorded once under the first request's name with the
  time of the whole chain; `allow_redirects=False` stops that;
- names as Locust writes them: the path with its query unless `name=`, or
  `rename_request("name")`;
- `catch_response=True` gives a context manager (`success()`, `failure(msg)`);
- the `request` event fires per request, only when a listener is registered.

The same calls from `async def` code return awaitables (and `async with` for
`catch_response`).
"""

from __future__ import annotations

import base64
import contextlib
import time
import traceback
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
from greenlet import getcurrent

from loadforge.events import events
from loadforge.scenario.body import JSON_TYPE, encode_body, with_params

from .client import HttpClient, join_url
from .cookies import CookieJar
from .greenlets import PARKED, UserGreenlet, await_only, in_user, run_sync
from .response import Response, ResponseError, status_outcome

MAX_REDIRECTS = 30
_NO_HISTORY: tuple[Any, ...] = ()
# Names of plain paths, as computed by `_path_url` (bounded: dropped when it gets big).
_NAMES: dict[str, str] = {}
_MAX_NAMES = 10_000
REDIRECTS = frozenset((301, 302, 303, 307, 308))
_request_hook = events.request
_NO_HEADERS: list[tuple[str, str]] = []
_JSON_HEADERS = [("content-type", JSON_TYPE)]


class RequestInfo:
    """What was sent, as `response.request` (requests' `PreparedRequest` spelling)."""

    __slots__ = ("body", "headers", "method", "url")

    def __init__(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body

    @property
    def path_url(self) -> str:
        """The path and query of the URL."""
        return _path_url(self.url)


class LocustResponse(Response):
    """A `Response` with requests' spellings: `status_code`, `reason`, `cookies`,
    `history`, `request`, `raise_for_status()`; plus `js` for `rest()`."""

    __slots__ = ("_sent", "history", "js")

    def __init__(self, event: Any, method: str, url: str) -> None:
        # Response.__init__ inlined: this runs once per request of every sync user.
        _, _, status, raw_headers, body, elapsed_us, error_kind, error_message = event
        self.status = status
        self._raw_headers = raw_headers
        self._headers = None
        self.content = body
        self.elapsed_us = elapsed_us
        self.error = error_kind or None
        self.error_message = error_message
        self.method = method
        self.url = url
        self.history: Any = _NO_HISTORY
        self._sent: Any = None
        self.js: Any = None

    @property
    def request(self) -> RequestInfo:
        """What was sent for this response."""
        sent = self._sent
        if isinstance(sent, RequestInfo):
            return sent
        info = RequestInfo(self.method, self.url, sent or {}, b"")
        self._sent = info
        return info

    @request.setter
    def request(self, info: RequestInfo) -> None:
        self._sent = info

    def _sets_cookies(self) -> bool:
        # Looks at the raw header block first: parsing every response's headers for a
        # Set-Cookie that is rarely there would cost more than the rest of the call.
        raw = self._raw_headers
        if isinstance(raw, bytes) and b"ookie" not in raw and b"OOKIE" not in raw:
            return False
        return "set-cookie" in self.headers

    @property
    def reason(self) -> str:
        """The status's reason phrase ("OK", "Not Found"); the error kind when it failed."""
        if self.error is not None:
            return self.error
        from http import HTTPStatus

        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    @property
    def cookies(self) -> CookieJar:
        """Cookies this response set."""
        jar = CookieJar()
        jar.extract(self.headers.get_all("set-cookie"))
        return jar

    @property
    def is_redirect(self) -> bool:
        return self.status in REDIRECTS and "location" in self.headers

    def raise_for_status(self) -> None:
        """Raise `ResponseError` for a transport error or a status >= 400."""
        if self.error is not None:
            raise ResponseError(f"{self.error}: {self.error_message} ({self.url})", self)
        if self.status >= 400:
            kind = "Client" if self.status < 500 else "Server"
            raise ResponseError(
                f"{self.status} {kind} Error: {self.reason} for url: {self.url}", self
            )

    def iter_content(self, chunk_size: int = 1, decode_unicode: bool = False) -> Iterator[Any]:
        """The body in chunks (it is already read whole)."""
        data: Any = self.text if decode_unicode else self.content
        size = max(1, chunk_size or len(data) or 1)
        for start in range(0, len(data), size):
            yield data[start : start + size]

    def __bool__(self) -> bool:
        return self.ok


class ResponseContextManager:
    """`with self.client.get(url, catch_response=True) as response:` — the task decides.

    `response.success()` / `response.failure(reason)` set the verdict; without one, the
    status decides (>= 400 or a transport error fails). An exception raised in the block
    fails the request with it and still propagates (a `ResponseError` is swallowed, as in
    Locust). The request is recorded once, when the block ends.
    """

    __slots__ = ("_done", "_reason", "_sent", "_session", "_verdict", "response")

    def __init__(self, session: HttpSession, response: LocustResponse, sent: _Sent) -> None:
        self._session = session
        self.response = response
        self._sent = sent
        self._verdict: bool | None = None
        self._reason = ""
        self._done = False

    def success(self) -> None:
        """Count this request as a success, whatever its status."""
        self._verdict, self._reason = True, ""

    def failure(self, reason: object = "failed") -> None:
        """Count this request as a failure (kind `check_failed`) with this reason."""
        self._verdict, self._reason = False, str(reason)

    def __getattr__(self, name: str) -> Any:
        # The manager stands in for the response: `response.status_code`, `.json()`...
        return getattr(self.response, name)

    def __enter__(self) -> ResponseContextManager:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if self._done:
            return False
        self._done = True
        response = self.response
        swallow = False
        if exc is not None and self._verdict is None:
            if not isinstance(exc, Exception):
                return False  # cancelled or exiting: the run is ending, nothing to judge
            swallow = isinstance(exc, ResponseError)
            self._sent.record(response, False, "exception", f"{type(exc).__name__}: {exc}")
        elif self._verdict is True:
            self._sent.record(response, True, "", "")
        elif self._verdict is False:
            self._sent.record(response, False, "check_failed", self._reason)
        else:
            self._sent.record_outcome(response)
        return swallow

    async def __aenter__(self) -> ResponseContextManager:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return self.__exit__(exc_type, exc, tb)


class _Sent:
    """One logical request (with its redirect hops) and how to record it once."""

    __slots__ = ("elapsed_us", "method", "name", "session", "start_time", "url")

    def __init__(self, session: HttpSession, method: str, name: str, url: str) -> None:
        self.session = session
        self.method = method
        self.name = name
        self.url = url
        self.elapsed_us = 0
        self.start_time = time.time()

    def record_outcome(self, response: LocustResponse) -> None:
        self.record(response, *status_outcome(response))

    def record(self, response: LocustResponse, ok: bool, kind: str, message: str) -> None:
        self.session._client._engine.record(
            self.method,
            self.name,
            self.elapsed_us,
            ok=ok,
            status=response.status,
            bytes_received=len(response.content),
            error_kind=kind,
            error_message=message,
        )
        if _request_hook.handlers:
            self.session._fire(self, response, None if ok else _failure(kind, message))


class CatchResponseError(Exception):
    """A failure set with `response.failure(...)`, as the `request` event reports it."""


def _failure(kind: str, message: str) -> Exception:
    return CatchResponseError(message or kind)


class HttpSession:
    """Locust's `HttpUser.client`: requests' calls, sent and timed by the engine.

    `get/post/put/patch/delete/head/options/request(method, url, ...)` take `params`,
    `data`, `json`, `files`, `headers`, `cookies`, `auth=(user, password)`, `timeout`,
    `allow_redirects`, `name` and `catch_response` (`verify`, `stream`, `proxies`, `cert`
    and `hooks` are accepted and have no effect: TLS verification is the run's
    `--tls-insecure`, bodies are always read whole).
    """

    # Locust's FastHttpUser names a request by the URL as given; HttpUser by its path.
    _name_by_path = True

    def __init__(self, client: HttpClient, base_url: str, user: Any = None) -> None:
        self._client = client
        self.base_url = base_url.rstrip("/")
        self._headers: dict[str, str] = {}
        self.cookies = CookieJar()
        self.auth: Any = None
        self.request_name: str | None = None
        self.user = user
        self.verify: Any = True

    # Session state, as on requests.Session.

    @property
    def headers(self) -> dict[str, str]:
        """Headers sent with every request of this user (update it, or assign a dict)."""
        return self._headers

    @headers.setter
    def headers(self, value: Mapping[str, str]) -> None:
        self._headers = dict(value)

    @contextlib.contextmanager
    def rename_request(self, name: str) -> Iterator[None]:
        """Group every request in the block under `name`."""
        previous, self.request_name = self.request_name, name
        try:
            yield
        finally:
            self.request_name = previous

    # The verbs, with requests' positional parameters.

    def get(self, url: str, params: Any = None, **kwargs: Any) -> Any:
        # `_plain()` inlined: this test runs before every GET of a simple task.
        if (
            params is None
            and not kwargs
            and not (self._headers or self.cookies._values or self.request_name)
            and self.auth is None
        ):
            return self._quick("GET", url, b"", _NO_HEADERS)
        return self.request("GET", url, params=params, **kwargs)

    def post(self, url: str, data: Any = None, json: Any = None, **kwargs: Any) -> Any:
        if data is None and not kwargs and self._plain():
            if json is None:
                return self._quick("POST", url, b"", _NO_HEADERS)
            body = orjson.dumps(json, option=orjson.OPT_SERIALIZE_NUMPY)
            return self._quick("POST", url, body, _JSON_HEADERS)
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url: str, data: Any = None, **kwargs: Any) -> Any:
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url: str, data: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("allow_redirects", False)  # as requests
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> Any:
        return self.request("OPTIONS", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        name: str | None = None,
        catch_response: bool = False,
        context: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Send a request; in a sync task it returns the response (or, with
        `catch_response=True`, a context manager); in `async def` code, an awaitable."""
        if in_user():
            return self._send(method, url, name, catch_response, context, kwargs)
        return _AsyncCall(run_sync(self._send, method, url, name, catch_response, context, kwargs))

    # Custom protocols, as on the engine's client.

    def record(self, *args: Any, **kwargs: Any) -> None:
        """Record one request measured by the task; see `HttpClient.record`."""
        self._client.record(*args, **kwargs)

    def measure(self, method: str, name: str) -> Any:
        """Time a block and record it; see `HttpClient.measure`."""
        return self._client.measure(method, name)

    # --- internals ----------------------------------------------------------------------

    def _plain(self) -> bool:
        # No session state that changes the request: the common shape of a load test.
        return (
            not (self._headers or self.cookies._values or self.request_name) and self.auth is None
        )

    def _quick(self, method: str, url: str, body: bytes, headers: list[tuple[str, str]]) -> Any:
        """`request()` for a URL with no per-call options, in a sync task: the same
        submission and outcome with a fraction of the bytecode (this is the per-request
        cost of every simple Locust task)."""
        current = getcurrent()
        if type(current) is not UserGreenlet:
            return self.request(method, url, data=body or None, headers=dict(headers))
        full = join_url(self.base_url, url)
        name = _NAMES.get(full) if self._name_by_path else url
        if name is None:
            name = _path_url(full)
            if len(_NAMES) >= _MAX_NAMES:
                _NAMES.clear()
            _NAMES[full] = name
        # The user itself waits for the answer: the dispatcher switches back into it.
        self._client.send_quick(method, full, headers, body, name, LocustResponse, current)
        response: LocustResponse = current.driver.switch(PARKED)
        if response.status in REDIRECTS:
            sent = _Sent(self, method, name, full)
            sent.elapsed_us = response.elapsed_us
            response.request = RequestInfo(method, full, dict(headers), body)
            return self._follow(sent, response, dict(headers), None, False)
        raw = response._raw_headers
        # Inlined `_sets_cookies`: most answers set none, and this runs per request.
        if (not isinstance(raw, bytes) or b"ookie" in raw or b"OOKIE" in raw) and (
            "set-cookie" in response.headers
        ):
            self.cookies.extract(response.headers.get_all("set-cookie"))
        if _request_hook.handlers:
            sent = _Sent(self, method, name, full)
            sent.elapsed_us = response.elapsed_us
            self._fire(sent, response, None if response.ok else _response_error(response))
        return response

    def _send(
        self,
        method: str,
        url: str,
        name: str | None,
        catch_response: bool,
        context: Any,
        kw: dict[str, Any],
    ) -> Any:
        params = kw.pop("params", None)
        data = kw.pop("data", None)
        json = kw.pop("json", None)
        files = kw.pop("files", None)
        headers = kw.pop("headers", None)
        cookies = kw.pop("cookies", None)
        auth = kw.pop("auth", None)
        timeout = kw.pop("timeout", None)
        allow_redirects = bool(kw.pop("allow_redirects", True))
        for ignored in ("verify", "stream", "proxies", "cert", "hooks"):
            kw.pop(ignored, None)
        if kw:
            raise TypeError(
                f"{method.lower()}() got an unexpected keyword argument {next(iter(kw))!r}"
            )
        method = method.upper()
        full = with_params(join_url(self.base_url, url), _without_none(params))
        if name is None:
            name = self.request_name
        if name is None:
            name = _path_url(full) if self._name_by_path else url
        body, content_type = _body(json, data, files)
        header_map = self._header_map(headers, content_type, cookies, auth)
        sent = _Sent(self, method, name, full)
        response = self._exchange(
            sent, method, full, header_map, body, timeout, catch_response, allow_redirects
        )
        # A redirect the engine left unrecorded: follow it (or record it) here.
        deferred = allow_redirects and response.status in REDIRECTS
        if deferred:
            response = self._follow(sent, response, header_map, timeout, catch_response)
        if catch_response:
            return ResponseContextManager(self, response, sent)
        if _request_hook.handlers and not deferred:
            # Recorded by the engine; the event still fires, as Locust's does.
            self._fire(sent, response, None if response.ok else _response_error(response))
        return response

    def _header_map(
        self, headers: Any, content_type: str | None, cookies: Any, auth: Any
    ) -> dict[str, str]:
        merged: dict[str, str] = {}
        if content_type is not None:
            merged["content-type"] = content_type
        for key, value in self._headers.items():
            if value is not None:
                merged[key.lower()] = str(value)
        if headers:
            items = headers.items() if isinstance(headers, Mapping) else headers
            for key, value in items:
                if value is None:
                    merged.pop(key.lower(), None)  # requests: None removes a session header
                else:
                    merged[key.lower()] = str(value)
        auth = auth if auth is not None else self.auth
        if auth is not None and "authorization" not in merged:
            merged["authorization"] = _basic_auth(auth)
        if self.cookies or cookies:
            extra = dict(cookies) if cookies else None
            merged["cookie"] = self.cookies.header(extra)
        return merged

    def _exchange(
        self,
        sent: _Sent,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        timeout: Any,
        catch_response: bool,
        defer_redirects: bool,
    ) -> LocustResponse:
        future = self._client.send(
            method,
            url,
            list(headers.items()),
            body,
            sent.name,
            timeout=_seconds(timeout),
            record=not catch_response,
            defer_redirects=defer_redirects,
            response_class=LocustResponse,
        )
        response: LocustResponse = await_only(future)
        response.request = RequestInfo(method, url, headers, body)
        sent.elapsed_us += response.elapsed_us
        if response._sets_cookies():
            self.cookies.extract(response.headers.get_all("set-cookie"))
        return response

    def _follow(
        self,
        sent: _Sent,
        first: LocustResponse,
        headers: dict[str, str],
        timeout: Any,
        catch_response: bool,
    ) -> LocustResponse:
        """Follow redirects from `first` (which the engine left unrecorded) and record the
        chain once, unless the task decides (`catch_response`)."""
        response = first
        history: list[LocustResponse] = []
        method = sent.method
        body = response.request.body if response.request is not None else b""
        while response.status in REDIRECTS and "location" in response.headers:
            if len(history) >= MAX_REDIRECTS:
                break
            history.append(response)
            target = urljoin(response.url, response.headers["location"])
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body = ("GET" if method != "HEAD" else "HEAD"), b""
                headers = {k: v for k, v in headers.items() if k != "content-type"}
            if self.cookies:
                headers = {**headers, "cookie": self.cookies.header()}
            elif "cookie" in headers:
                headers = {k: v for k, v in headers.items() if k != "cookie"}
            response = self._exchange(sent, method, target, headers, body, timeout, True, False)
        response.history = history
        if len(history) >= MAX_REDIRECTS and response.status in REDIRECTS:
            response.error = "other"
            response.error_message = f"more than {MAX_REDIRECTS} redirects"
        if not catch_response:
            sent.record_outcome(response)
        return response

    def _fire(self, sent: _Sent, response: LocustResponse, exception: BaseException | None) -> None:
        _request_hook.notify(
            request_type=sent.method,
            name=sent.name,
            response_time=sent.elapsed_us / 1000.0,
            response_length=len(response.content),
            response=response,
            context={},
            exception=exception,
            start_time=sent.start_time,
            url=sent.url,
        )


class FastHttpSession(HttpSession):
    """Locust's `FastHttpUser.client`: the same calls (named by the URL as given), plus
    `rest()`."""

    _name_by_path = False

    @contextlib.contextmanager
    def rest(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Iterator[ResponseContextManager]:
        """A JSON request whose response has `.js`; an exception (an `assert` on
        `resp.js`) in the block fails the request with its message instead of the task."""
        merged = {"Content-Type": JSON_TYPE, "Accept": JSON_TYPE, **(headers or {})}
        with self.request(method, url, catch_response=True, headers=merged, **kwargs) as resp:
            response = resp.response
            if response.error is not None:
                resp.failure(f"{response.error}: {response.error_message}")
            elif response.content:
                try:
                    response.js = response.json()
                except ValueError as exc:
                    resp.failure(
                        f"Could not parse response as JSON. {response.text[:250]}, "
                        f"response code {response.status_code}, error {exc}"
                    )
            try:
                yield resp
            except AssertionError as exc:
                resp.failure(exc.args[0] if exc.args else "Assertion failed")
            except Exception as exc:
                where = traceback.extract_tb(exc.__traceback__)[-1]
                resp.failure(f"{type(exc).__name__}: {exc} at {where.filename}:{where.lineno}")


class _AsyncCall:
    """A session call made from `async def` code: await it, or `async with` it."""

    __slots__ = ("_coro", "_manager")

    def __init__(self, coro: Any) -> None:
        self._coro = coro
        self._manager: Any = None

    def __await__(self) -> Any:
        return self._coro.__await__()

    async def __aenter__(self) -> Any:
        self._manager = await self._coro
        return self._manager

    async def __aexit__(self, *exc: Any) -> Any:
        return self._manager.__exit__(*exc)

    def __enter__(self) -> Any:
        self._coro.close()
        raise TypeError(
            "catch_response=True in `async def` needs `async with` (or make the task a plain `def`)"
        )

    def __exit__(self, *exc: Any) -> None:  # pragma: no cover - __enter__ always raises
        return None


def _without_none(params: Any) -> Any:
    # requests leaves out a parameter whose value is None.
    if not params or isinstance(params, str | bytes):
        return params
    items = params.items() if isinstance(params, Mapping) else params
    return [(k, v) for k, v in items if v is not None]


def _body(json: Any, data: Any, files: Any) -> tuple[bytes, str | None]:
    # requests sends data=/files= when json= is given beside them.
    return encode_body(json=None if data is not None or files else json, data=data, files=files)


def _basic_auth(auth: Any) -> str:
    if isinstance(auth, tuple | list) and len(auth) == 2:
        user, password = auth
    elif hasattr(auth, "username") and hasattr(auth, "password"):
        user, password = auth.username, auth.password
    else:
        raise TypeError(f"auth= takes (user, password), got {auth!r}")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _seconds(timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, tuple | list):
        return float(sum(t for t in timeout if t is not None)) or None
    return float(timeout)


def _path_url(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _response_error(response: LocustResponse) -> Exception:
    try:
        response.raise_for_status()
    except ResponseError as exc:
        return exc
    return ResponseError("failed", response)
