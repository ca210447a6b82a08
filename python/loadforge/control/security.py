"""Who may join a run: token checks and the bind-address rule."""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets

TOKEN_ENV = "LOADFORGE_TOKEN"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_from_env(given: str | None) -> str:
    return given if given is not None else os.environ.get(TOKEN_ENV, "")


def tokens_match(expected: str, presented: str) -> bool:
    """Constant-time comparison, so a wrong token leaks nothing through timing."""
    return hmac.compare_digest(expected.encode(), presented.encode())


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
