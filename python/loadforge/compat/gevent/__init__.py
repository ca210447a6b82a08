"""`gevent` inside a loadforge run: the calls locustfiles make, on the engine's event loop.

`gevent.sleep`, `gevent.spawn`, `spawn_later`, `joinall`, `killall`, `Greenlet`,
`getcurrent`, `GreenletExit`, `gevent.pool.Pool/Group`, `gevent.event.Event`,
`gevent.lock.Semaphore/BoundedSemaphore/RLock` and
`gevent.monkey.patch_all()` (a no-op). Called from a synchronous task, a spawned function
runs as one more greenlet on the loop (a request in it never blocks the others); called
from anywhere else (an `init` listener in the controller, say) it runs in a daemon thread,
where `time.sleep` and `environment.runner.quit()` work as usual. Anything else is an
ImportError naming it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from typing import Any

from greenlet import GreenletExit, getcurrent

from loadforge.compat import cooperative_sleep, missing
from loadforge.runtime.greenlets import await_only, in_user, run_sync

__all__ = [
    "Greenlet",
    "GreenletExit",
    "getcurrent",
    "joinall",
    "killall",
    "sleep",
    "spawn",
    "spawn_later",
]


def sleep(seconds: float = 0) -> None:
    """Sleep without blocking other users (in a task) or the caller's thread only."""
    cooperative_sleep(seconds)


class Greenlet:
    """A spawned function: `join()`, `get()`, `kill()`, `ready()`, `value`, `exception`."""

    def __init__(self, run: Callable[..., Any] | None = None, *args: Any, **kwargs: Any) -> None:
        self._run = run if run is not None else getattr(self, "_run", None)
        self.args = args
        self.kwargs = kwargs
        self.value: Any = None
        self.exception: BaseException | None = None
        self._task: asyncio.Task[Any] | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()

    @classmethod
    def spawn(cls, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Greenlet:
        g = cls(run, *args, **kwargs)
        g.start()
        return g

    def _call(self) -> Any:
        try:
            self.value = self._run(*self.args, **self.kwargs)  # type: ignore[misc]
        except GreenletExit:
            pass
        except Exception as exc:
            self.exception = exc
        finally:
            self._done.set()
        return self.value

    def start(self) -> None:
        if in_user():
            self._task = asyncio.get_running_loop().create_task(run_sync(self._call))
        else:
            self._thread = threading.Thread(target=self._call, daemon=True, name="gevent.spawn")
            self._thread.start()

    def start_later(self, seconds: float) -> None:
        run, args, kwargs = self._run, self.args, self.kwargs

        def later() -> Any:
            sleep(seconds)
            return run(*args, **kwargs)  # type: ignore[misc]

        self._run, self.args, self.kwargs = later, (), {}
        self.start()

    def ready(self) -> bool:
        return self._done.is_set()

    @property
    def dead(self) -> bool:
        return self._done.is_set()

    def successful(self) -> bool:
        return self._done.is_set() and self.exception is None

    def join(self, timeout: float | None = None) -> None:
        if self._task is not None and in_user():
            task = self._task
            done = asyncio.wait([task], timeout=timeout)
            await_only(done)
        elif self._thread is not None:
            self._thread.join(timeout)
        else:
            self._done.wait(timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if block:
            self.join(timeout)
        if self.exception is not None:
            raise self.exception
        return self.value

    def kill(
        self, exception: Any = GreenletExit, block: bool = True, timeout: float | None = None
    ) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            self._done.set()


def spawn(run: Callable[..., Any], *args: Any, **kwargs: Any) -> Greenlet:
    """Run `run(*args, **kwargs)` concurrently; returns its `Greenlet`."""
    return Greenlet.spawn(run, *args, **kwargs)


def spawn_later(seconds: float, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Greenlet:
    g = Greenlet(run, *args, **kwargs)
    g.start_later(seconds)
    return g


def joinall(
    greenlets: Iterable[Greenlet], timeout: float | None = None, raise_error: bool = False
) -> list[Greenlet]:
    done = []
    for g in list(greenlets):
        g.join(timeout)
        if raise_error and g.exception is not None:
            raise g.exception
        if g.ready():
            done.append(g)
    return done


def killall(greenlets: Iterable[Greenlet], *args: Any, **kwargs: Any) -> None:
    for g in list(greenlets):
        g.kill()


def wait(objects: Iterable[Greenlet] | None = None, timeout: float | None = None) -> list[Greenlet]:
    return joinall(objects or [], timeout)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise missing("gevent", name)


_ = getcurrent  # re-exported
