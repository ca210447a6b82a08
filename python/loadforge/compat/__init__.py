"""Locust's import names inside a loadforge run: `import locust` and `import gevent`.

`install()` puts an import finder first on `sys.meta_path` that answers `locust`,
`locust.*`, `gevent` and `gevent.*` with loadforge's compatibility modules
(`loadforge.compat.locust`, `loadforge.compat.gevent`), whether or not the real packages
are installed, so an existing locustfile runs unchanged and its requests still go through
the engine. It also makes `time.sleep()` cooperative inside synchronous tasks (Locust
gets that from gevent's monkey-patching): a sleeping user never blocks the others.

A name or module the layer lacks is an `ImportError` naming it; the scenario loader
reports it as file:line (exit 2, nothing fired).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import time
from types import ModuleType
from typing import Any

ALIASES = {"locust": "loadforge.compat.locust", "gevent": "loadforge.compat.gevent"}
DOCS = "docs/locust.md"

_real_sleep = time.sleep


class Unsupported(ImportError):
    """A Locust (or gevent) name that loadforge's layer does not provide."""


def missing(module: str, name: str, hint: str = "") -> Unsupported:
    """The error for `from module import name` when the layer lacks `name`."""
    text = f"{module}.{name} is not supported by loadforge's Locust layer"
    return Unsupported(f"{text}: {hint}" if hint else f"{text} (see {DOCS})", name=name)


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, real: str) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.real)

    def exec_module(self, module: ModuleType) -> None:
        return None  # the real module ran when it was imported


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        root, _, rest = fullname.partition(".")
        base = ALIASES.get(root)
        if base is None:
            return None
        real = f"{base}.{rest}" if rest else base
        if importlib.util.find_spec(real) is None:
            raise Unsupported(
                f"module {fullname} is not supported by loadforge's Locust layer (see {DOCS})",
                name=fullname,
            )
        module = importlib.import_module(real)
        return importlib.machinery.ModuleSpec(
            fullname, _AliasLoader(real), is_package=hasattr(module, "__path__")
        )


_finder = _AliasFinder()


def install() -> None:
    """Resolve `locust`/`gevent` to the layer from now on, and make `time.sleep`
    cooperative in synchronous tasks. Idempotent."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    for name in list(sys.modules):
        root = name.partition(".")[0]
        module = sys.modules[name]
        if root in ALIASES and not getattr(module, "__name__", "").startswith("loadforge."):
            del sys.modules[name]  # a real Locust or gevent imported earlier
    time.sleep = cooperative_sleep  # type: ignore[assignment]


def cooperative_sleep(seconds: float) -> None:
    """`time.sleep` that, inside a synchronous task, lets the other users run."""
    from loadforge.runtime.greenlets import await_only, in_user

    if in_user():
        await_only(asyncio.sleep(seconds))
    else:
        _real_sleep(seconds)
