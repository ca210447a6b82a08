"""A user's cookies: kept from `Set-Cookie` answers, sent back as one `Cookie` header.

One jar per user, keyed by cookie name (a load test talks to one site per user class);
`Max-Age=0` or an `Expires` in the past removes a cookie, as a browser does.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, MutableMapping
from email.utils import parsedate_to_datetime
from http.cookies import CookieError, SimpleCookie


class CookieJar(MutableMapping[str, str]):
    """name -> value, with requests' `get_dict()` and `set()` spellings.

    >>> jar = CookieJar()
    >>> jar.extract(["sid=abc; Path=/; HttpOnly"])
    >>> jar.header()
    'sid=abc'
    """

    __slots__ = ("_values",)

    def __init__(self, values: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, str] = dict(values)

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __setitem__(self, name: str, value: str) -> None:
        self._values[name] = str(value)

    def __delitem__(self, name: str) -> None:
        del self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def set(self, name: str, value: str | None, **_: object) -> None:
        """Set (or with `None` remove) a cookie; requests' spelling."""
        if value is None:
            self._values.pop(name, None)
        else:
            self._values[name] = str(value)

    def get_dict(self) -> dict[str, str]:
        """The cookies as a plain dict."""
        return dict(self._values)

    def header(self, extra: MutableMapping[str, str] | None = None) -> str:
        """The `Cookie` header value for these cookies (plus `extra` for one request)."""
        values = self._values if not extra else {**self._values, **extra}
        return "; ".join(f"{name}={value}" for name, value in values.items())

    def extract(self, set_cookie_values: Iterable[str]) -> None:
        """Take the cookies of a response's `Set-Cookie` headers."""
        now = time.time()
        for raw in set_cookie_values:
            parsed = SimpleCookie()
            try:
                parsed.load(raw)
            except CookieError:
                continue  # a malformed cookie is ignored, as browsers do
            for name, morsel in parsed.items():
                if _expired(morsel["max-age"], morsel["expires"], now):
                    self._values.pop(name, None)
                else:
                    self._values[name] = morsel.value

    def __repr__(self) -> str:
        return f"CookieJar({self._values!r})"


def _expired(max_age: str, expires: str, now: float) -> bool:
    if max_age:
        try:
            return int(max_age) <= 0
        except ValueError:
            return False
    if expires:
        try:
            return parsedate_to_datetime(expires).timestamp() <= now
        except (TypeError, ValueError):
            return False
    return False
