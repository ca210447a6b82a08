"""Encode request bodies once, as `requests` would: `json=`, `data=`, `files=`.

Used by the declarative templates (encoded when the plan is built) and available to the
Python runtime's client, so both spell bodies the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import orjson

from .errors import ScenarioError

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"


def _as_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    if hasattr(value, "read"):
        return _as_bytes(value.read(), what)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value).encode()
    raise ScenarioError(f"{what}: expected bytes or str, got {type(value).__name__}")


def _pairs(data: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    items = data.items() if isinstance(data, Mapping) else data
    pairs: list[tuple[str, Any]] = []
    for key, value in items:
        # A list value repeats the field, as in requests.
        if isinstance(value, list | tuple):
            pairs.extend((str(key), v) for v in value)
        else:
            pairs.append((str(key), value))
    return pairs


def _file_part(field: str, spec: Any) -> tuple[str, str | None, bytes, str, dict[str, str]]:
    """Normalize a `files=` value: bytes, (name, content), (name, content, type[, headers])."""
    extra: dict[str, str] = {}
    if isinstance(spec, tuple):
        if not 2 <= len(spec) <= 4:
            raise ScenarioError(
                f"files[{field!r}]: expected (filename, content[, type[, headers]])"
            )
        filename = spec[0]
        content = _as_bytes(spec[1], f"files[{field!r}]")
        ctype = spec[2] if len(spec) >= 3 and spec[2] else "application/octet-stream"
        if len(spec) == 4:
            extra = dict(spec[3])
    else:
        filename = field
        content = _as_bytes(spec, f"files[{field!r}]")
        ctype = "application/octet-stream"
    return field, filename, content, ctype, extra


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")


def encode_multipart(
    fields: Mapping[str, Any] | Iterable[tuple[str, Any]] | None, files: Mapping[str, Any]
) -> tuple[bytes, str]:
    """Build a multipart/form-data body; returns `(body, content_type)`.

    >>> body, ctype = encode_multipart({"a": "1"}, {"img": ("a.png", b"x", "image/png")})
    >>> ctype.startswith("multipart/form-data; boundary=")
    True
    """
    parts: list[tuple[bytes, bytes]] = []
    for name, value in _pairs(fields or {}):
        head = f'Content-Disposition: form-data; name="{_quote(name)}"\r\n'
        parts.append((head.encode(), _as_bytes(value, f"data[{name!r}]")))
    for field, spec in files.items():
        name, filename, content, ctype, extra = _file_part(str(field), spec)
        head = f'Content-Disposition: form-data; name="{_quote(name)}"'
        if filename is not None:
            head += f'; filename="{_quote(str(filename))}"'
        head += f"\r\nContent-Type: {ctype}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in extra.items())
        parts.append((head.encode(), content))
    # A boundary derived from the content keeps plans reproducible; make sure it is absent.
    digest = hashlib.sha256(b"".join(h + c for h, c in parts)).hexdigest()
    boundary = f"loadforge{digest[:24]}"
    salt = 0
    while any(boundary.encode() in c for _, c in parts):
        salt += 1
        boundary = f"loadforge{digest[:24]}{salt}"
    sep = f"--{boundary}\r\n".encode()
    body = b"".join(sep + head + b"\r\n" + content + b"\r\n" for head, content in parts)
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def encode_body(
    *, json: Any = None, data: Any = None, files: Mapping[str, Any] | None = None
) -> tuple[bytes, str | None]:
    """Encode a body from requests-style arguments; returns `(body, content_type or None)`."""
    if files:
        if json is not None:
            raise ScenarioError("give files= with data= fields, not json=")
        if data is not None and not isinstance(data, Mapping | list | tuple):
            raise ScenarioError("with files=, data= must be a dict of form fields")
        return encode_multipart(data, files)
    if json is not None:
        if data is not None:
            raise ScenarioError("give either json= or data=, not both")
        try:
            return orjson.dumps(json, option=orjson.OPT_SERIALIZE_NUMPY), JSON_TYPE
        except TypeError as exc:
            raise ScenarioError(f"json= cannot be encoded: {exc}") from None
    if data is None:
        return b"", None
    if isinstance(data, Mapping | list):
        return urlencode(_pairs(data)).encode(), FORM_TYPE
    return _as_bytes(data, "data="), None


def with_params(path: str, params: Any) -> str:
    """Append `params` (dict, pairs or a ready query string) to `path`."""
    if not params:
        return path
    query = params if isinstance(params, str) else urlencode(_pairs(params))
    return f"{path}{'&' if '?' in path else '?'}{query}"
