"""A small HTTP/1.1 keep-alive server on loopback that counts what it answers.

Used by tests/test_runtime.py: routes `/json` (JSON + a custom header), `/status/N`,
`/slow?s=S`, `/echo` (body and content type back) and anything else (`{"status":"ok"}`).
"""

from __future__ import annotations

import asyncio
import collections
import threading
from urllib.parse import parse_qs, urlsplit

import orjson


class HttpTarget:
    """Runs on its own thread and event loop; `url` is its base URL, `hits` its counts."""

    def __init__(self) -> None:
        self.hits: collections.Counter[str] = collections.Counter()
        self.bodies: list[tuple[str, bytes, dict[str, str]]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port = 0

    def __enter__(self) -> HttpTarget:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *_: object) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            # Python 3.11's wait_closed() does not wait for open keep-alive connections.
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        key, _, value = line.partition(":")
                        headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, extra, payload = await self._answer(method, target, headers, body)
                head_out = f"HTTP/1.1 {status} X\r\ncontent-length: {len(payload)}\r\n"
                head_out += "".join(f"{k}: {v}\r\n" for k, v in extra)
                writer.write(head_out.encode() + b"\r\n" + payload)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(target)
        path = parts.path
        self.hits[path] += 1
        query = parse_qs(parts.query)
        if path == "/json":
            return (
                200,
                [("Content-Type", "application/json"), ("X-Trace", "abc")],
                orjson.dumps({"label": "cat", "query": query}),
            )
        if path.startswith("/status/"):
            return int(path.rsplit("/", 1)[1]), [], b"status"
        if path == "/slow":
            await asyncio.sleep(float(query.get("s", ["0.2"])[0]))
            return 200, [], b"slow"
        if path == "/echo":
            self.bodies.append((method, body, headers))
            ctype = headers.get("content-type", "application/octet-stream")
            return 200, [("Content-Type", ctype)], body
        return 200, [("Content-Type", "application/json")], b'{"status":"ok"}'
