"""One HTTP/1.1 connection of the demo target, as a raw asyncio.Protocol.

Requests are answered strictly in arrival order (pipelining): while an asynchronous
handler (`/delay`) runs, later requests wait in the parser's buffer.
"""

from __future__ import annotations

import asyncio
import socket
from typing import cast

from loadforge.demo.http_parser import BadRequest, RequestParser
from loadforge.demo.http_response import Response, error_response
from loadforge.demo.routes import Router


class HttpConnection(asyncio.Protocol):
    """Parses requests off one socket and writes the router's responses back in order."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self._parser = RequestParser()
        self._transport: asyncio.Transport | None = None
        self._pending: asyncio.Task[Response] | None = None
        self._pending_keep_alive = True
        self._closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        if self._pending is not None:
            self._pending.cancel()

    def data_received(self, data: bytes) -> None:
        self._parser.feed(data)
        if self._pending is None:
            self._answer_buffered()

    # Back-pressure: when the client stops reading our answers, stop reading its requests.
    def pause_writing(self) -> None:
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        if self._transport is not None and not self._closing:
            self._transport.resume_reading()

    def _answer_buffered(self) -> None:
        transport = self._transport
        assert transport is not None
        out: list[bytes] = []
        while not self._closing:
            try:
                request = self._parser.next_request()
            except BadRequest as e:
                self._router.counters.count_http("(bad request)", e.status)
                out.append(error_response(e.status, e.reason).encode(keep_alive=False))
                self._close_after(out)
                return
            if request is None:
                break
            answer = self._router.handle(request)
            if isinstance(answer, Response):
                out.append(answer.encode(request.keep_alive))
                if not request.keep_alive:
                    self._close_after(out)
                    return
                continue
            # Asynchronous answer: flush what is ready, resume parsing when it is done.
            if out:
                transport.write(b"".join(out))
            self._pending_keep_alive = request.keep_alive
            self._pending = asyncio.ensure_future(answer)
            self._pending.add_done_callback(self._on_pending_done)
            return
        if out:
            transport.write(b"".join(out))

    def _on_pending_done(self, task: asyncio.Task[Response]) -> None:
        self._pending = None
        if task.cancelled() or self._closing:
            return
        error = task.exception()
        if error is not None:
            response = error_response(500, f"{type(error).__name__}: {error}")
        else:
            response = task.result()
        data = response.encode(self._pending_keep_alive)
        if not self._pending_keep_alive:
            self._close_after([data])
            return
        assert self._transport is not None
        self._transport.write(data)
        self._answer_buffered()

    def _close_after(self, out: list[bytes]) -> None:
        assert self._transport is not None
        self._closing = True
        self._transport.write(b"".join(out))
        self._transport.close()  # flushes the write buffer first
