"""User classes: subclass `HttpUser` or `GrpcUser` and give it tasks.

Only the shape lives here (class attributes the loader reads); requests are fired by the
engine, or, for `async def` tasks, by the Python runtime through `self.client`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .wait import WaitTime, constant

PROTOCOL_HTTP = "http"
PROTOCOL_GRPC = "grpc"


class User:
    """Base of every user class. Set `abstract = True` on a base class to keep it out of runs.

    Class attributes:
      host         base URL (`http://...` / `https://...`); else the `-H` option
      weight       relative share of users (default 1)
      fixed_count  exactly this many users of the class, taken before weights
      wait_time    `between(a, b)`, `constant(s)`, `constant_pacing(s)`, `constant_throughput(x)`
      tasks        `{task: weight}` or a list; tasks are `async def` functions or
                   declarative requests (`get(...)`, `post(...)`, `unary(...)`)
      on_start / on_stop  an `async def` method or a list of declarative requests
      http2        (HttpUser) send every request of the class over HTTP/2: h2c with prior
                   knowledge for `http://`, ALPN for `https://` (default False)
    """

    abstract: ClassVar[bool] = True
    protocol: ClassVar[str] = PROTOCOL_HTTP
    host: ClassVar[str | None] = None
    weight: ClassVar[int] = 1
    fixed_count: ClassVar[int] = 0
    wait_time: ClassVar[WaitTime | Any] = constant(0)
    tasks: ClassVar[Any] = ()
    on_start: Any = None
    on_stop: Any = None
    http2: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # As in Locust: only a class that says so itself is abstract.
        if "abstract" not in cls.__dict__:
            cls.abstract = False

    def __init__(self, client: Any = None, *, host: str | None = None, user_id: int = 0) -> None:
        self.client = client
        self.user_id = user_id
        if host is not None:
            self.host = host  # type: ignore[misc]

    @classmethod
    def _loadforge_construct(cls, client: Any, user_id: int) -> Any:
        """How the runtime builds one user (Locust's classes take an environment)."""
        return cls(client, user_id=user_id)


class HttpUser(User):
    """A user speaking HTTP/1.1; `self.client` sends requests.

    HTTP/2 for one request: `get("/x", http2=True)`; for the whole class: `http2 = True`
    (declarative requests, hooks, and `self.client` in `async def` tasks).

    Example:
        class Api(HttpUser):
            http2 = True
            tasks = {get("/health"): 1}
    """

    abstract = True
    protocol = PROTOCOL_HTTP


class GrpcUser(User):
    """A user making gRPC calls (h2c for `http://` hosts, TLS for `https://`)."""

    abstract = True
    protocol = PROTOCOL_GRPC
