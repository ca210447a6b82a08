"""What a Python task gets back from `self.client`: the `Response`.

A `Response` is built straight from the engine's completion event, once per request, so
its constructor does the least it can: headers become a case-insensitive mapping, the
body is decoded and `elapsed` becomes a `timedelta` only when someone asks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import orjson

# The engine's completion event: (0, token, status, headers, body, elapsed_us, error_kind,
# error_message), headers as one bytes of `name: value\r\n` lines; see
# docs/architecture.md.
CompletionEvent = tuple[int, int, int, bytes | list[tuple[str, str]], bytes, int, str, str]


class ResponseError(Exception):
    """Raised by `Response.raise_for_status()` for a failed request."""

    def __init__(self, message: str, response: Response) -> None:
        super().__init__(message)
        self.response = response


class Headers(Mapping[str, str]):
    """Response headers, looked up without regard to case.

    Repeated headers are joined with ", " (as HTTP allows), except `set-cookie`, whose
    values are kept apart in `get_all()`.

    >>> h = Headers([("Content-Type", "text/plain")])
    >>> h["content-type"], "CONTENT-TYPE" in h
    ('text/plain', True)
    """

    __slots__ = ("_map", "_raw")

    def __init__(self, raw: bytes | list[tuple[str, str]]) -> None:
        if isinstance(raw, bytes):
            raw = _split_block(raw)
        self._raw = raw
        joined: dict[str, str] = {}
        for name, value in raw:
            key = name.lower()
            previous = joined.get(key)
            joined[key] = value if previous is None else f"{previous}, {value}"
        self._map = joined

    def __getitem__(self, name: str) -> str:
        return self._map[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def get_all(self, name: str) -> list[str]:
        """Every value of a header, in the order received."""
        key = name.lower()
        return [value for header, value in self._raw if header.lower() == key]

    def __repr__(self) -> str:
        return f"Headers({self._raw!r})"


def _split_block(block: bytes) -> list[tuple[str, str]]:
    """`name: value\\r\\n` lines (the engine's header block) as (name, value) pairs."""
    pairs = []
    for line in block.decode("latin-1").split("\r\n"):
        name, sep, value = line.partition(": ")
        if sep:
            pairs.append((name, value))
    return pairs


class Response:
    """The outcome of one request made with `self.client`.

    A failed exchange (connection refused, timeout, reset...) does not raise: `status` is
    0 and `error` names the error kind, so a task can look at it as at any response.

    >>> event = (0, 1, 200, b"Content-Type: application/json\\r\\n", b'{"a": 1}', 1500, "", "")
    >>> r = Response(event, "GET", "http://h/x")
    >>> r.status, r.ok, r.json(), r.elapsed_ms, r.headers["content-type"]
    (200, True, {'a': 1}, 1.5, 'application/json')
    """

    __slots__ = (
        "_headers",
        "_raw_headers",
        "content",
        "elapsed_us",
        "error",
        "error_message",
        "method",
        "status",
        "url",
    )

    def __init__(self, event: CompletionEvent, method: str, url: str) -> None:
        _, _, status, raw_headers, body, elapsed_us, error_kind, error_message = event
        self.status: int = status
        self._raw_headers = raw_headers
        self._headers: Headers | None = None
        self.content: bytes = body
        self.elapsed_us: int = elapsed_us
        self.error: str | None = error_kind or None
        self.error_message: str = error_message
        self.method = method
        self.url = url

    @property
    def status_code(self) -> int:
        """Alias of `status`, as Locust and requests spell it."""
        return self.status

    @property
    def headers(self) -> Headers:
        """Response headers (case-insensitive)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = Headers(self._raw_headers)
        return headers

    @property
    def text(self) -> str:
        """The body decoded with the charset of `Content-Type` (UTF-8 when absent)."""
        return self.content.decode(self.encoding, errors="replace")

    @property
    def encoding(self) -> str:
        """The charset named by `Content-Type`, or "utf-8"."""
        content_type = self.headers.get("content-type", "")
        for param in content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"')
        return "utf-8"

    def json(self) -> Any:
        """The body parsed as JSON."""
        return orjson.loads(self.content)

    @property
    def elapsed(self) -> timedelta:
        """Time from sending the request to the end of the response, measured by the engine."""
        return timedelta(microseconds=self.elapsed_us)

    @property
    def elapsed_ms(self) -> float:
        """`elapsed` in milliseconds."""
        return self.elapsed_us / 1000.0

    @property
    def ok(self) -> bool:
        """True when the exchange worked and the status is below 400."""
        return self.error is None and self.status < 400

    def raise_for_status(self) -> None:
        """Raise `ResponseError` when the request failed (transport error or status >= 400)."""
        if self.error is not None:
            raise ResponseError(f"{self.error}: {self.error_message} ({self.url})", self)
        if self.status >= 400:
            raise ResponseError(f"HTTP {self.status} ({self.method} {self.url})", self)

    def __repr__(self) -> str:
        outcome = self.error if self.error is not None else self.status
        return f"<Response {self.method} {self.url} {outcome}>"


def status_outcome(response: Response) -> tuple[bool, str, str]:
    """(ok, error kind, message) of a response judged by its status alone, as the engine
    judges a request without checks: a transport error or a status >= 400 fails."""
    if response.error is not None:
        return False, response.error, response.error_message
    if response.status >= 400:
        return False, "http_status", f"HTTP {response.status}"
    return True, "", ""
