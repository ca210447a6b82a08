"""Serializing responses of the demo target."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson

_REASONS = {s.value: s.phrase for s in HTTPStatus}
# RFC 9110: these carry no body and no Content-Length.
_BODYLESS = frozenset({204, 304})


class Response:
    """Status, body and content type; `encode` adds the framing headers."""

    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "application/json",
        headers: tuple[tuple[str, str], ...] = (),
    ):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers  # extra headers (Set-Cookie, Location)

    def encode(self, keep_alive: bool) -> bytes:
        """The bytes to write: status line, headers, body."""
        reason = _REASONS.get(self.status, "Unknown")
        connection = "keep-alive" if keep_alive else "close"
        if self.headers:
            connection += "".join(f"\r\n{name}: {value}" for name, value in self.headers)
        if self.status in _BODYLESS:
            return (
                f"HTTP/1.1 {self.status} {reason}\r\nServer: loadforge-demo\r\n"
                f"Connection: {connection}\r\n\r\n"
            ).encode("latin-1")
        head = (
            f"HTTP/1.1 {self.status} {reason}\r\nServer: loadforge-demo\r\n"
            f"Content-Type: {self.content_type}\r\nContent-Length: {len(self.body)}\r\n"
            f"Connection: {connection}\r\n\r\n"
        )
        return head.encode("latin-1") + self.body


def json_response(status: int, payload: Any) -> Response:
    """A JSON response (orjson)."""
    return Response(status, orjson.dumps(payload))


def error_response(status: int, message: str) -> Response:
    """The demo target's error shape: `{"error": message}`."""
    return Response(status, orjson.dumps({"error": message}))
