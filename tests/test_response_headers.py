"""Response headers arrive from the engine as one `name: value\\r\\n` block, split lazily."""

from __future__ import annotations

from loadforge.runtime.response import Headers, Response


def test_header_block_is_split_into_pairs() -> None:
    block = b"Content-Type: text/plain\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Empty: \r\n"
    h = Headers(block)
    assert h["content-type"] == "text/plain"
    assert h.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert h["x-empty"] == ""
    assert len(h) == 3


def test_value_with_colon_and_latin1_bytes_survive() -> None:
    h = Headers(b"Location: http://h:8/x\r\nX-Name: caf\xe9\r\n")
    assert h["location"] == "http://h:8/x"
    assert h["x-name"] == "caf\xe9"


def test_response_reads_the_block_only_when_asked() -> None:
    event = (0, 7, 200, b"Content-Type: application/json\r\n", b"{}", 10, "", "")
    r = Response(event, "GET", "http://h/x")
    assert r._headers is None
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {}
