"""The demo target's HTTP/1.1 request parser and multipart parser, fed bytes directly."""

from __future__ import annotations

import pytest

from loadforge.demo.http_parser import BadRequest, RequestParser
from loadforge.demo.multipart import MultipartError, parse_header_params, parse_multipart


def test_requests_come_out_one_at_a_time_in_order() -> None:
    parser = RequestParser()
    parser.feed(b"\r\nGET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.0\r\nContent-Le")
    first = parser.next_request()
    assert first is not None
    assert (first.method, first.path, first.query, first.keep_alive) == ("GET", "/a", "x=1", True)
    assert parser.next_request() is None  # the second head is incomplete
    parser.feed(b"ngth: 3\r\n\r\nab")
    assert parser.next_request() is None  # body incomplete
    parser.feed(b"c")
    second = parser.next_request()
    assert second is not None
    assert (second.body, second.keep_alive) == (b"abc", False)  # HTTP/1.0 closes by default
    assert parser.next_request() is None


def test_http10_keep_alive_and_http11_close() -> None:
    parser = RequestParser()
    parser.feed(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    parser.feed(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n")
    assert [r.keep_alive for r in (parser.next_request(), parser.next_request()) if r] == [
        True,
        False,
    ]


def test_oversized_body_is_refused_before_it_arrives() -> None:
    parser = RequestParser(max_body=10)
    parser.feed(b"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n")
    with pytest.raises(BadRequest) as error:
        parser.next_request()
    assert error.value.status == 413


def test_header_params_respect_quotes() -> None:
    kind, params = parse_header_params('form-data; name="a;b"; filename="x\\"y.png"')
    assert kind == "form-data"
    assert params == {"name": "a;b", "filename": 'x"y.png'}


def test_multipart_part_without_headers_is_refused() -> None:
    body = b"--b\r\n\r\nno headers\r\n--b--"
    with pytest.raises(MultipartError):
        parse_multipart(body, "multipart/form-data; boundary=b")


def test_multipart_keeps_binary_bytes_exactly() -> None:
    data = b"\r\n--b-not-quite\r\n\x00\xff"
    body = (
        b'--b\r\nContent-Disposition: form-data; name="image"; filename="i.bin"\r\n\r\n'
        + data
        + b"\r\n--b--\r\n"
    )
    [part] = parse_multipart(body, "multipart/form-data; boundary=b")
    assert (part.name, part.filename, part.data) == ("image", "i.bin", data)
