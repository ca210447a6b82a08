"""The demo target's session endpoints: what a Locust-style test of a web API logs in to.

- `POST /login` (`{"username": u, "password": p}` JSON, or a form): 200 `{"token": ...}`
  and `Set-Cookie: session=<token>`; 401 without both fields.
- `POST /logout`: 200 and a `Set-Cookie` that removes the session cookie.
- `GET /me`: 200 `{"user": u, "via": "cookie"|"bearer"|"basic"}` for a session cookie, a
  `Bearer <token>` or HTTP Basic credentials; 401 otherwise.
- `GET /redirect?to=PATH&code=302`: a redirect (301/302/303/307/308) to PATH.
- `ANY /echo`: 200 with the method, query, headers and body length it received.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

import orjson

from loadforge.demo.http_parser import Request
from loadforge.demo.http_response import Response, error_response, json_response

PATHS = frozenset({"/login", "/logout", "/me", "/redirect", "/echo"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def handle(request: Request) -> Response:
    """Answer a request for one of `PATHS`."""
    path = request.path
    if path == "/echo":
        return _echo(request)
    if path == "/redirect":
        return _redirect(request)
    if path == "/me":
        return _me(request)
    if request.method != "POST":
        return error_response(405, f"{path} takes POST, not {request.method}")
    if path == "/logout":
        return Response(
            200, b'{"logged_out":true}', headers=(("Set-Cookie", "session=; Max-Age=0; Path=/"),)
        )
    return _login(request)


def _login(request: Request) -> Response:
    fields: dict[str, object]
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            loaded = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            return error_response(422, "body is not JSON")
        fields = loaded if isinstance(loaded, dict) else {}
    else:
        fields = {k: v[-1] for k, v in parse_qs(request.body.decode("latin-1")).items()}
    user, password = fields.get("username"), fields.get("password")
    if not isinstance(user, str) or not user or not isinstance(password, str) or not password:
        return error_response(401, "username and password are required")
    token = f"tok-{user}"
    return Response(
        200,
        orjson.dumps({"token": token}),
        headers=(("Set-Cookie", f"session={token}; Path=/; HttpOnly"),),
    )


def _me(request: Request) -> Response:
    cookies = request.headers.get("cookie", "")
    for part in cookies.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "session" and value.startswith("tok-"):
            return json_response(200, {"user": value[4:], "via": "cookie"})
    auth = request.headers.get("authorization", "")
    scheme, _, credentials = auth.partition(" ")
    if scheme.lower() == "bearer" and credentials.startswith("tok-"):
        return json_response(200, {"user": credentials[4:], "via": "bearer"})
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        if user and password:
            return json_response(200, {"user": user, "via": "basic"})
    return error_response(401, "log in first")


def _redirect(request: Request) -> Response:
    query = parse_qs(request.query)
    target = query.get("to", ["/health"])[-1]
    code_text = query.get("code", ["302"])[-1]
    if not target.startswith("/") or not code_text.isdigit() or int(code_text) not in _REDIRECTS:
        return error_response(422, "to must be a path and code one of 301, 302, 303, 307, 308")
    return Response(int(code_text), b"", headers=(("Location", target),))


def _echo(request: Request) -> Response:
    return json_response(
        200,
        {
            "method": request.method,
            "query": request.query,
            "headers": request.headers,
            "body_bytes": len(request.body),
        },
    )
