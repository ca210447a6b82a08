"""Parsing multipart/form-data bodies (RFC 7578) for the demo's upload endpoint."""

from __future__ import annotations

from dataclasses import dataclass


class MultipartError(ValueError):
    """The body does not match its multipart Content-Type."""


@dataclass(frozen=True)
class Part:
    """One form field: its name, the file name if it is a file, its type and bytes."""

    name: str
    filename: str | None
    content_type: str
    data: bytes


def parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split `type; a=1; b="x;y"` into ("type", {"a": "1", "b": "x;y"}); names lower-case."""
    fields: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            current.append(ch)
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quoted:
        raise MultipartError(f"unterminated quoted string in {value!r}")
    fields.append("".join(current))
    params: dict[str, str] = {}
    for field in fields[1:]:
        name, sep, val = field.partition("=")
        if sep:
            params[name.strip().lower()] = val.strip()
    return fields[0].strip().lower(), params


def boundary_of(content_type: str) -> bytes:
    """The boundary of a multipart/form-data Content-Type; MultipartError otherwise."""
    kind, params = parse_header_params(content_type)
    if kind != "multipart/form-data":
        raise MultipartError(f"expected multipart/form-data, got {kind or 'nothing'!r}")
    boundary = params.get("boundary", "")
    if not 1 <= len(boundary) <= 70:
        raise MultipartError("multipart/form-data needs a boundary of 1 to 70 characters")
    return boundary.encode("latin-1")


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """All parts of a multipart/form-data body, in order."""
    delimiter = b"--" + boundary_of(content_type)
    start = body.find(delimiter)  # anything before the first delimiter is preamble
    if start < 0 or (start > 0 and body[start - 2 : start] != b"\r\n"):
        raise MultipartError("body does not contain the boundary")
    pos = start + len(delimiter)
    parts: list[Part] = []
    while True:
        if body[pos : pos + 2] == b"--":
            return parts  # the close delimiter; the epilogue is ignored
        line_end = body.find(b"\r\n", pos)
        if line_end < 0 or body[pos:line_end].strip(b" \t"):
            raise MultipartError("boundary not followed by CRLF")
        head_start = line_end + 2
        if body[head_start : head_start + 2] == b"\r\n":
            head, content_start = b"", head_start + 2
        else:
            head_end = body.find(b"\r\n\r\n", head_start)
            if head_end < 0:
                raise MultipartError("part headers not terminated")
            head, content_start = body[head_start:head_end], head_end + 4
        content_end = _next_delimiter(body, delimiter, content_start)
        parts.append(_part(head, body[content_start:content_end]))
        pos = content_end + 2 + len(delimiter)


def _next_delimiter(body: bytes, delimiter: bytes, start: int) -> int:
    """Offset of the CRLF before the next real delimiter: one followed by `--` or a line end.

    RFC 2046 forbids the delimiter inside content, but clients that pick short boundaries
    produce near-misses like `--b-x`; those are content, not a delimiter.
    """
    marker = b"\r\n" + delimiter
    pos = start
    while (found := body.find(marker, pos)) >= 0:
        after = body[found + len(marker) : found + len(marker) + 80]
        padded = after.lstrip(b" \t")  # transport padding may precede the line end
        if after.startswith(b"--") or padded.startswith(b"\r\n") or not padded:
            return found
        pos = found + 1
    raise MultipartError("part not terminated by the boundary")


def _part(head: bytes, data: bytes) -> Part:
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep:
            raise MultipartError(f"malformed part header {line[:100]!r}")
        headers[name.strip().lower()] = value.strip()
    disposition, params = parse_header_params(headers.get("content-disposition", ""))
    if disposition != "form-data" or "name" not in params:
        raise MultipartError("part without Content-Disposition: form-data; name=...")
    return Part(
        name=params["name"],
        filename=params.get("filename"),
        content_type=headers.get("content-type", "text/plain"),
        data=data,
    )
