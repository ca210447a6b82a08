"""Validate target hosts: `http://host:port` or `https://host:port`, optionally a base path."""

from __future__ import annotations

from urllib.parse import urlsplit

from .errors import ConfigError


def check_host(host: object, what: str = "host") -> str:
    """Return `host` without a trailing slash, or raise `ConfigError` saying what is wrong.

    >>> check_host("http://127.0.0.1:8000/")
    'http://127.0.0.1:8000'
    """
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{what} must be a URL like http://127.0.0.1:8000, got {host!r}")
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{what} {host!r} must start with http:// or https:// and name a host")
    if parts.query or parts.fragment:
        raise ConfigError(f"{what} {host!r} must not carry a query or fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{what} {host!r} has an invalid port") from None
    return host.rstrip("/")
