"""The installed version, from the package metadata (Cargo.toml's version via maturin)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("loadforge")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
