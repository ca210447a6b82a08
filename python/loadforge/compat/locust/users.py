"""Locust's user classes over loadforge's: `User`, `HttpUser`, `FastHttpUser`.

Their users always run synchronously (a greenlet each), get `self.environment`, are built
as Locust builds them (`cls(environment)`, so an `__init__(self, environment)` override
works), and their `self.client` is the requests-like session that the engine sends.
"""

from __future__ import annotations

from typing import Any, ClassVar

from loadforge import environment as _environment
from loadforge.runtime.session import FastHttpSession
from loadforge.runtime.user_spec import SYNC_CLASS_ATTR
from loadforge.scenario import user as _base
from loadforge.scenario.errors import ScenarioError
from loadforge.scenario.flow import StopUser
from loadforge.scenario.taskset import RUNTIME_ATTR
from loadforge.scenario.wait import constant

# Spellings of Locust before 1.0, and what replaced them.
_OLD_ATTRIBUTES = {
    "task_set": "`task_set = X` was removed in Locust 1.0: use `tasks = [X]`",
    "min_wait": "`min_wait`/`max_wait` were removed in Locust 1.0: use "
    "`wait_time = between(min, max)` (in seconds)",
    "max_wait": "`min_wait`/`max_wait` were removed in Locust 1.0: use "
    "`wait_time = between(min, max)` (in seconds)",
}

# The client the runner hands to the user being constructed (Locust's constructors take
# only the environment, and `__init__` overrides may use `self.client` at once).
_next_client: Any = None


class _LocustUser:
    """What Locust's users have beyond loadforge's: environment, stop(), wait()..."""

    abstract: ClassVar[bool] = True
    wait_time: Any = constant(0)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, message in _OLD_ATTRIBUTES.items():
            if name in cls.__dict__:
                raise ScenarioError(f"{cls.__name__}: {message}")

    def __init__(self, environment: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(_next_client)  # type: ignore[call-arg]
        self.environment = environment or _environment.current()
        if getattr(self, "host", None) is None:
            self.host = self.environment.host  # as Locust: -H for a class without a host

    @classmethod
    def _loadforge_construct(cls, client: Any, user_id: int) -> Any:
        global _next_client
        _next_client = client
        try:
            user = cls(_environment.current())
        finally:
            _next_client = None
        user.user_id = user_id  # type: ignore[attr-defined]
        return user

    def on_start(self) -> None:
        """Runs when the user starts (override it)."""

    def on_stop(self) -> None:
        """Runs when the user stops (override it)."""

    def stop(self, force: bool = False) -> None:
        """Stop this user (from one of its tasks)."""
        raise StopUser()

    def wait(self) -> None:
        """Sleep for the user's wait time now."""
        getattr(self, RUNTIME_ATTR).sleep(float(self.wait_time()))

    def context(self) -> dict[str, Any]:
        """Extra context for the `request` event (Locust's hook; empty here)."""
        return {}

    @property
    def greenlet(self) -> Any:
        from greenlet import getcurrent

        return getcurrent()


class User(_LocustUser, _base.User):
    """Locust's `User`: bring your own client and record with `events.request.fire(...)`."""

    abstract = True
    _loadforge_needs_host = False


setattr(User, SYNC_CLASS_ATTR, True)


class HttpUser(_LocustUser, _base.HttpUser):
    """Locust's `HttpUser`: `self.client` is a requests-like session."""

    abstract = True
    _loadforge_needs_host = True


setattr(HttpUser, SYNC_CLASS_ATTR, True)


class FastHttpUser(_LocustUser, _base.HttpUser):
    """Locust's `FastHttpUser`: the same session (named by the URL as given) plus `rest()`."""

    abstract = True
    _loadforge_session = "fast"
    # geventhttpclient's settings, accepted: the engine has its own connection handling.
    network_timeout: float = 60.0
    connection_timeout: float = 60.0
    max_redirects: int = 30
    max_retries: int = 0
    insecure: bool = True
    default_headers: dict[str, str] | None = None
    concurrency: int = 10
    proxy_host: str | None = None
    proxy_port: int | None = None
    client_pool: Any = None
    ssl_context_factory: Any = None

    def rest(self, method: str, url: str, headers: Any = None, **kwargs: Any) -> Any:
        """`with self.rest("POST", "/x", json=...) as resp:` — see `FastHttpSession.rest`."""
        client: FastHttpSession = self.client
        return client.rest(method, url, headers=headers, **kwargs)

    def rest_(self, method: str, url: str, name: str | None = None, **kwargs: Any) -> Any:
        return self.rest(method, url, name=name, **kwargs)


setattr(FastHttpUser, SYNC_CLASS_ATTR, True)
