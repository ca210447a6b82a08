"""The demo target's HTTP endpoints: an ML-inference-shaped API plus test helpers.

- `GET /`: service name and the endpoint list.
- `GET /health`: `{"status":"healthy","model_loaded":true}`.
- `POST /predict`: `{"data": [784 numbers]}` -> `{"prediction": int, "confidence": float}`;
  422 `{"error": ...}` when the body is not JSON, lacks `data`, or has the wrong length/types.
- `POST /detect?return_image=true|false`: multipart/form-data with a file field (`image`,
  `file`, or any part with a filename) -> `{"detections": [{"label", "confidence", "box"}],
  "image_bytes": n, "filename": ...}`; with `return_image=true` also `"image"`: the uploaded
  bytes, base64-encoded. 415 if the body is not multipart, 422 on a bad body or no file.
- `GET /stats`, `POST /stats/reset`: counters of everything answered (these two are not
  counted themselves).
- `GET /delay?ms=N`: sleeps N ms (0..60000), then 200.
- `ANY /status/{code}`: answers with that status (200..599).
- `/login`, `/logout`, `/me`, `/redirect`, `/echo`: sessions, cookies, redirects
  (`loadforge.demo.session_routes`).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable
from urllib.parse import parse_qs

import orjson

from loadforge.demo import session_routes
from loadforge.demo.counters import Counters
from loadforge.demo.http_parser import Request
from loadforge.demo.http_response import Response, error_response, json_response
from loadforge.demo.model import InvalidInput, detect, predict, validate_features
from loadforge.demo.multipart import MultipartError, parse_multipart

SERVICE = "loadforge-demo"
ENDPOINTS = [
    "GET /",
    "GET /health",
    "POST /predict",
    "POST /detect?return_image=true|false",
    "GET /stats",
    "POST /stats/reset",
    "GET /delay?ms=N",
    "GET /status/{code}",
    "POST /login",
    "POST /logout",
    "GET /me",
    "GET /redirect?to=PATH&code=302",
    "ANY /echo",
]
MAX_DELAY_MS = 60_000
_FILE_FIELDS = ("image", "file")
_UNCOUNTED = frozenset({"/stats", "/stats/reset"})

_INDEX = json_response(200, {"service": SERVICE, "endpoints": ENDPOINTS})
_HEALTH = json_response(200, {"status": "healthy", "model_loaded": True})


class Router:
    """Answers one request: a Response now, or an awaitable of one (for `/delay`)."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters

    def handle(self, request: Request) -> Response | Awaitable[Response]:
        """Route and answer `request`, counting the response under its path and status."""
        path = request.path
        if path == "/health" and request.method == "GET":
            response: Response | Awaitable[Response] = _HEALTH
        else:
            response = self._route(request)
        if isinstance(response, Response):
            if path not in _UNCOUNTED:
                self.counters.count_http(path, response.status)
            return response
        return self._counted_later(path, response)

    async def _counted_later(self, path: str, pending: Awaitable[Response]) -> Response:
        response = await pending
        self.counters.count_http(path, response.status)
        return response

    def _route(self, request: Request) -> Response | Awaitable[Response]:
        path, method = request.path, request.method
        if path.startswith("/status/"):
            return _status(path[len("/status/") :])
        if path in session_routes.PATHS:
            return session_routes.handle(request)
        allowed = _METHODS.get(path)
        if allowed is None:
            return error_response(404, f"no endpoint {path}")
        if method != allowed:
            return error_response(405, f"{path} takes {allowed}, not {method}")
        if path == "/":
            return _INDEX
        if path == "/health":
            return _HEALTH
        if path == "/predict":
            return _predict(request)
        if path == "/detect":
            return _detect(request)
        if path == "/stats":
            return json_response(200, self.counters.snapshot())
        if path == "/stats/reset":
            self.counters.reset()
            return json_response(200, {"reset": True})
        return _delay(request)


_METHODS = {
    "/": "GET",
    "/health": "GET",
    "/predict": "POST",
    "/detect": "POST",
    "/stats": "GET",
    "/stats/reset": "POST",
    "/delay": "GET",
}


def _predict(request: Request) -> Response:
    try:
        payload = orjson.loads(request.body)
    except orjson.JSONDecodeError as e:
        return error_response(422, f"body is not JSON: {e}")
    if not isinstance(payload, dict) or "data" not in payload:
        return error_response(422, "body must be a JSON object with a 'data' field")
    try:
        features = validate_features(payload["data"])
    except InvalidInput as e:
        return error_response(422, str(e))
    prediction, confidence = predict(features)
    return json_response(200, {"prediction": prediction, "confidence": confidence})


def _detect(request: Request) -> Response:
    flag = parse_qs(request.query).get("return_image", ["false"])[-1].lower()
    if flag not in ("true", "false", "1", "0"):
        return error_response(422, f"return_image must be true or false, got {flag!r}")
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return error_response(415, "send the image as multipart/form-data")
    try:
        parts = parse_multipart(request.body, content_type)
    except MultipartError as e:
        return error_response(422, str(e))
    image = next((p for p in parts if p.name in _FILE_FIELDS or p.filename is not None), None)
    if image is None:
        return error_response(422, "no file field ('image', 'file', or any part with a filename)")
    reply: dict[str, object] = {
        "detections": detect(image.data),
        "image_bytes": len(image.data),
        "filename": image.filename,
    }
    if flag in ("true", "1"):
        reply["image"] = base64.b64encode(image.data).decode("ascii")
    return json_response(200, reply)


def _status(code_text: str) -> Response:
    if not code_text.isdigit() or not 200 <= int(code_text) <= 599:
        return error_response(400, f"status code must be 200..599, got {code_text!r}")
    code = int(code_text)
    return json_response(code, {"status": code})


def _delay(request: Request) -> Response | Awaitable[Response]:
    values = parse_qs(request.query).get("ms", ["0"])
    text = values[-1]
    if not text.isdigit() or int(text) > MAX_DELAY_MS:
        return error_response(422, f"ms must be an integer 0..{MAX_DELAY_MS}, got {text!r}")
    return _sleep_then_answer(int(text))


async def _sleep_then_answer(ms: int) -> Response:
    await asyncio.sleep(ms / 1000.0)
    return json_response(200, {"delayed_ms": ms})
