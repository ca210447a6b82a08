"""Declarative requests (`get("/health")`) in the task list of a Python user.

The plan resolves them to `RequestTemplate`s; here each becomes a ready-to-send request
submitted through the user's client. A template without a check is recorded by the engine
as usual; one with a check is submitted with `record=False`, checked here, and recorded.
"""

from __future__ import annotations

from typing import Any

import orjson

from loadforge._proto import plan_pb2

from .client import START_DELAY_US, HttpClient
from .response import Response

_MISSING = object()


class TemplateRequest:
    """One `RequestTemplate`, converted once, run with `await template.run(client)`."""

    __slots__ = (
        "body",
        "body_contains",
        "checked",
        "headers",
        "json_equals",
        "json_path",
        "method",
        "name",
        "protocol",
        "statuses",
        "url",
    )

    def __init__(self, template: plan_pb2.RequestTemplate) -> None:
        self.method = template.method or "GET"
        self.url = template.url
        self.headers = [(h.name, h.value) for h in template.headers]
        self.body = bytes(template.body)
        self.name = template.name or _path_of(template.url)
        self.protocol = int(template.protocol)
        check = template.check
        self.statuses = frozenset(check.status)
        self.body_contains = bytes(check.body_contains)
        self.json_path = [part for part in check.json_path.split(".") if part]
        self.json_equals: Any = orjson.loads(check.json_equals) if check.json_equals else _MISSING
        self.checked = bool(self.statuses or self.body_contains or self.json_path)

    async def run(self, client: HttpClient) -> Response:
        """Send the request, and record the check's verdict when there is a check."""
        dispatcher = client._dispatcher
        token = dispatcher.next_token()
        future = dispatcher.loop.create_future()
        dispatcher.pending[token] = (future, Response, self.method, self.url)
        delay = START_DELAY_US.get()
        try:
            client._submit(
                token,
                self.method,
                self.url,
                self.headers,
                self.body,
                self.name,
                protocol=self.protocol,
                record=not self.checked,
                intended_start_delay_us=delay,
            )
        except BaseException:
            dispatcher.pending.pop(token, None)
            raise
        response: Response = await future
        if self.checked:
            kind, message = self.verdict(response)
            dispatcher.engine.record(
                self.method,
                self.name,
                response.elapsed_us,
                ok=not kind,
                status=response.status,
                bytes_received=len(response.content),
                error_kind=kind,
                error_message=message,
            )
        return response

    def verdict(self, response: Response) -> tuple[str, str]:
        """("", "") when the response passes the check, else (error kind, message)."""
        if response.error is not None:
            return response.error, response.error_message
        status = response.status
        if self.statuses:
            if status not in self.statuses:
                return "http_status", f"HTTP {status}, expected {sorted(self.statuses)}"
        elif status >= 400:
            return "http_status", f"HTTP {status}"
        if self.body_contains and self.body_contains not in response.content:
            return "check_failed", f"body does not contain {self.body_contains[:60]!r}"
        if self.json_path:
            dotted = ".".join(self.json_path)
            try:
                value = _lookup(orjson.loads(response.content), self.json_path)
            except orjson.JSONDecodeError:
                return "check_failed", "body is not JSON"
            if value is _MISSING:
                return "check_failed", f"JSON field {dotted} is missing"
            if self.json_equals is not _MISSING and value != self.json_equals:
                return "check_failed", f"JSON field {dotted} is {value!r}, not {self.json_equals!r}"
        return "", ""


def _lookup(document: Any, path: list[str]) -> Any:
    value = document
    for part in path:
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _path_of(url: str) -> str:
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"
