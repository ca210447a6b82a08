"""What the demo target has served, so tests can check that no request was lost."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


class Counters:
    """Counts answered HTTP requests per (path, status) and gRPC calls per (method, code).

    Everything runs on the server's one event loop, so no lock is needed.
    """

    def __init__(self) -> None:
        self._http: defaultdict[tuple[str, int], int] = defaultdict(int)
        self._grpc: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._streamed = 0

    def count_http(self, path: str, status: int) -> None:
        """One HTTP response written."""
        self._http[(path, status)] += 1

    def count_grpc(self, method: str, code: str) -> None:
        """One gRPC call finished with status `code` (e.g. "OK", "INVALID_ARGUMENT")."""
        self._grpc[(method, code)] += 1

    def count_streamed(self, messages: int) -> None:
        """Messages sent on server streams (beside the per-call count)."""
        self._streamed += messages

    def reset(self) -> None:
        """Forget everything counted so far."""
        self._http.clear()
        self._grpc.clear()
        self._streamed = 0

    def snapshot(self) -> dict[str, Any]:
        """The JSON shape of `GET /stats`."""
        http: dict[str, dict[str, int]] = {}
        for (path, status), n in sorted(self._http.items()):
            http.setdefault(path, {})[str(status)] = n
        grpc: dict[str, dict[str, int]] = {}
        for (method, code), n in sorted(self._grpc.items()):
            grpc.setdefault(method, {})[code] = n
        http_total = sum(self._http.values())
        grpc_total = sum(self._grpc.values())
        return {
            "total": http_total + grpc_total,
            "http_total": http_total,
            "grpc_total": grpc_total,
            "http": http,
            "grpc": grpc,
            "grpc_streamed_messages": self._streamed,
        }
