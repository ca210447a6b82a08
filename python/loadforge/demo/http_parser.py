"""A small incremental HTTP/1.1 request parser for the demo target.

Bytes go in with `feed`; complete requests come out of `next_request` in order, so
pipelined requests on one connection are answered in the order they arrived. Bodies may
be framed by Content-Length or by chunked transfer coding.
"""

from __future__ import annotations

import re

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class BadRequest(Exception):
    """The bytes on the connection are not a request we can answer; the connection closes."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Request:
    """One parsed request. Header names are lower-case; a repeated header keeps its last value."""

    __slots__ = ("body", "headers", "keep_alive", "method", "path", "query", "version")

    def __init__(
        self,
        method: str,
        path: str,
        query: str,
        version: str,
        headers: dict[str, str],
        body: bytes,
        keep_alive: bool,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive


class RequestParser:
    """Turns a byte stream into `Request`s; raises `BadRequest` on malformed input."""

    def __init__(self, max_body: int = MAX_BODY_BYTES) -> None:
        self._buf = bytearray()
        self._max_body = max_body

    def feed(self, data: bytes) -> None:
        """Append bytes received from the connection."""
        self._buf += data

    def next_request(self) -> Request | None:
        """The next complete request, or None until more bytes arrive."""
        buf = self._buf
        # RFC 9112 2.2: ignore empty lines before a request line (some clients send CRLF
        # after a POST body).
        while buf[:2] == b"\r\n":
            del buf[:2]
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            if len(buf) > MAX_HEAD_BYTES:
                raise BadRequest(431, "request head too large")
            return None
        lines = buf[:head_end].decode("latin-1").split("\r\n")
        method, target, version = _request_line(lines[0])
        headers = _headers(lines[1:])
        body_start = head_end + 4
        framed = self._body(headers, body_start)
        if framed is None:
            return None
        body, end = framed
        del buf[:end]
        path, _, query = target.partition("?")
        connection = headers.get("connection", "").lower()
        if version == "HTTP/1.1":
            keep_alive = "close" not in connection
        else:
            keep_alive = "keep-alive" in connection
        return Request(method, path, query, version, headers, body, keep_alive)

    def _body(self, headers: dict[str, str], start: int) -> tuple[bytes, int] | None:
        buf = self._buf
        coding = headers.get("transfer-encoding")
        if coding is not None:
            if coding.strip().lower() != "chunked":
                raise BadRequest(501, f"transfer-encoding {coding!r} is not supported")
            if "content-length" in headers:
                # Both framings at once is the classic request-smuggling shape: refuse.
                raise BadRequest(400, "both transfer-encoding and content-length")
            return _chunked(buf, start, self._max_body)
        length_text = headers.get("content-length")
        if length_text is None:
            return b"", start
        if not length_text.isdigit():
            raise BadRequest(400, f"bad content-length {length_text!r}")
        length = int(length_text)
        if length > self._max_body:
            raise BadRequest(413, "request body too large")
        end = start + length
        if len(buf) < end:
            return None
        return bytes(buf[start:end]), end


def _request_line(line: str) -> tuple[str, str, str]:
    parts = line.split(" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise BadRequest(400, f"malformed request line {line[:100]!r}")
    if parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(505, f"unsupported version {parts[2][:20]!r}")
    return parts[0], parts[1], parts[2]


def _headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.fullmatch(name):
            raise BadRequest(400, f"malformed header line {line[:100]!r}")
        headers[name.lower()] = value.strip(" \t")
    return headers


def _chunked(buf: bytearray, pos: int, max_body: int) -> tuple[bytes, int] | None:
    """Decode a chunked body starting at `pos`: (body, end offset), or None if incomplete."""
    chunks: list[bytes] = []
    total = 0
    while True:
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            if len(buf) - pos > 4096:
                raise BadRequest(400, "chunk size line too long")
            return None
        size_text = bytes(buf[pos:line_end]).split(b";", 1)[0].strip(b" \t")
        if not _HEX.fullmatch(size_text):
            raise BadRequest(400, f"bad chunk size {size_text[:20]!r}")
        size = int(size_text, 16)
        pos = line_end + 2
        if size == 0:
            return _trailers(buf, pos, b"".join(chunks))
        total += size
        if total > max_body:
            raise BadRequest(413, "request body too large")
        if len(buf) < pos + size + 2:
            return None
        if buf[pos + size : pos + size + 2] != b"\r\n":
            raise BadRequest(400, "chunk data not followed by CRLF")
        chunks.append(bytes(buf[pos : pos + size]))
        pos += size + 2


def _trailers(buf: bytearray, pos: int, body: bytes) -> tuple[bytes, int] | None:
    # Trailer fields are read and dropped; an empty line ends the message.
    while True:
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            if len(buf) - pos > MAX_HEAD_BYTES:
                raise BadRequest(431, "trailers too large")
            return None
        if line_end == pos:
            return body, pos + 2
        pos = line_end + 2
