"""Which external tools the bench needs, and the Debian packages that provide them."""

from __future__ import annotations

import importlib.util
import shutil
import sys

from loadforge.testing import find_nginx

# tool -> Debian package
DEBIAN_PACKAGES = {
    "wrk": "wrk",
    "h2load": "nghttp2-client",
    "nginx": "nginx-light",
    "taskset": "util-linux",
}


def which(tool: str) -> str | None:
    """Path of an external tool, or None."""
    if tool == "nginx":
        return find_nginx()
    return shutil.which(tool)


def missing_tools(tools: list[str]) -> list[str]:
    """The tools in `tools` that are not installed."""
    return [t for t in tools if which(t) is None]


def install_hint(tools: list[str]) -> str:
    """`apt-get install ...` naming the Debian packages for the missing tools."""
    packages = sorted({DEBIAN_PACKAGES[t] for t in tools})
    return f"apt-get install {' '.join(packages)}"


def locust_command() -> list[str] | None:
    """How to run Locust: this interpreter's module if installed, else `locust` on PATH."""
    if importlib.util.find_spec("locust") is not None:
        return [sys.executable, "-m", "locust"]
    found = shutil.which("locust")
    return [found] if found else None
