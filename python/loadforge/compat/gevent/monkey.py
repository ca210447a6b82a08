"""`gevent.monkey`: nothing to patch; blocking calls in tasks are already cooperative."""

from typing import Any


def patch_all(*args: Any, **kwargs: Any) -> bool:
    return True


def is_module_patched(name: str) -> bool:
    return name in ("time", "socket")


def __getattr__(name: str) -> Any:
    if name.startswith("patch_"):
        return patch_all
    raise AttributeError(name)
