"""`gevent.pool`: `Pool` and `Group` of spawned functions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from loadforge.compat.gevent import Greenlet, joinall


class Group:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.greenlets: list[Greenlet] = []

    def spawn(self, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Greenlet:
        g = Greenlet.spawn(run, *args, **kwargs)
        self.greenlets.append(g)
        return g

    def add(self, greenlet: Greenlet) -> None:
        self.greenlets.append(greenlet)

    def discard(self, greenlet: Greenlet) -> None:
        if greenlet in self.greenlets:
            self.greenlets.remove(greenlet)

    def join(self, timeout: float | None = None, raise_error: bool = False) -> bool:
        joinall(self.greenlets, timeout, raise_error)
        self.greenlets = [g for g in self.greenlets if not g.ready()]
        return not self.greenlets

    def kill(self, *args: Any, **kwargs: Any) -> None:
        for g in self.greenlets:
            g.kill()

    def map(self, func: Callable[[Any], Any], iterable: Iterable[Any]) -> list[Any]:
        spawned = [self.spawn(func, item) for item in iterable]
        return [g.get() for g in spawned]

    def __len__(self) -> int:
        return len([g for g in self.greenlets if not g.ready()])


class Pool(Group):
    def __init__(self, size: int | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.size = size
