"""The demo target, over real sockets: every endpoint, HTTP/1.1 framing, counters, gRPC."""

from __future__ import annotations

import base64
import http.client
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import grpc
import orjson
import pytest

from loadforge._proto import inference_pb2, inference_pb2_grpc
from loadforge.demo import serve
from loadforge.demo.model import predict
from loadforge.testing import DemoProcess

FEATURES = [float(i % 17) / 16.0 for i in range(784)]


def _host_port(demo: DemoProcess) -> tuple[str, int]:
    host, _, port = demo.http_url.removeprefix("http://").rpartition(":")
    return host, int(port)


def _request(
    demo: DemoProcess,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(*_host_port(demo), timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _json(demo: DemoProcess, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
    body = None if payload is None else orjson.dumps(payload)
    status, _, data = _request(demo, method, path, body, {"Content-Type": "application/json"})
    return status, orjson.loads(data)


def _read_response(stream: Any) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response (Content-Length framed) off a socket file."""
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers: dict[str, str] = {}
    while (line := stream.readline()) != b"\r\n":
        assert line, "connection closed inside the head"
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


def _connect(demo: DemoProcess) -> socket.socket:
    sock = socket.create_connection(_host_port(demo), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


# --- endpoints ---------------------------------------------------------------


def test_index_lists_the_endpoints(demo_target: DemoProcess) -> None:
    status, body = _json(demo_target, "GET", "/")
    assert status == 200
    assert body["service"] == "loadforge-demo"
    assert "POST /predict" in body["endpoints"]


def test_health(demo_target: DemoProcess) -> None:
    status, headers, body = _request(demo_target, "GET", "/health")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert orjson.loads(body) == {"status": "healthy", "model_loaded": True}


def test_predict_answers_the_model(demo_target: DemoProcess) -> None:
    status, body = _json(demo_target, "POST", "/predict", {"data": FEATURES})
    expected, confidence = predict(FEATURES)
    assert status == 200
    assert body == {"prediction": expected, "confidence": pytest.approx(confidence)}
    assert 0.1 <= body["confidence"] <= 1.0


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"not json", "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2]", "'data' field"),
        (b'{"values": []}', "'data' field"),
        (orjson.dumps({"data": [0.0] * 783}), "got 783"),
        (orjson.dumps({"data": "x" * 784}), "must be a list"),
        (orjson.dumps({"data": [0.0] * 783 + ["1"]}), "data[783]"),
        (orjson.dumps({"data": [0.0] * 783 + [True]}), "data[783]"),
        (orjson.dumps({"data": [None] * 784}), "data[0]"),
    ],
)
def test_predict_rejects_bad_input_with_422(
    demo_target: DemoProcess, body: bytes, complaint: str
) -> None:
    status, headers, data = _request(demo_target, "POST", "/predict", body)
    assert status == 422
    assert headers["Content-Type"] == "application/json"
    assert complaint in orjson.loads(data)["error"]


def test_wrong_method_and_unknown_path(demo_target: DemoProcess) -> None:
    assert _request(demo_target, "GET", "/predict")[0] == 405
    assert _request(demo_target, "GET", "/nope")[0] == 404


def _multipart(fields: list[tuple[str, str | None, bytes]], boundary: str) -> bytes:
    out = b"preamble, ignored\r\n"
    for name, filename, data in fields:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        out += b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    return out + f"--{boundary}--\r\nepilogue".encode()


# Bytes that look like framing: CRLFs, a near-boundary, NULs.
IMAGE = b"\x89PNG\r\n\x1a\n\x00\x00\r\n--abc\r\n" + bytes(range(256)) * 4


@pytest.mark.parametrize("return_image", ["true", "false"])
def test_detect_parses_multipart(demo_target: DemoProcess, return_image: str) -> None:
    boundary = "abc123"
    body = _multipart([("note", None, b"hello"), ("image", "cat.png", IMAGE)], boundary)
    status, _, data = _request(
        demo_target,
        "POST",
        f"/detect?return_image={return_image}",
        body,
        {"Content-Type": f'multipart/form-data; boundary="{boundary}"'},
    )
    assert status == 200, data
    reply = orjson.loads(data)
    assert reply["image_bytes"] == len(IMAGE)
    assert reply["filename"] == "cat.png"
    assert 1 <= len(reply["detections"]) <= 3
    assert {"label", "confidence", "box"} <= set(reply["detections"][0])
    if return_image == "true":
        assert base64.b64decode(reply["image"]) == IMAGE
    else:
        assert "image" not in reply


@pytest.mark.parametrize(
    ("path", "content_type", "body", "status"),
    [
        ("/detect", "application/json", b"{}", 415),
        ("/detect", "multipart/form-data; boundary=xyz", b"--xyz\r\nbroken", 422),
        ("/detect", "multipart/form-data", b"", 422),
        (
            "/detect",
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nx\r\n--b--',
            422,
        ),
        ("/detect?return_image=maybe", "multipart/form-data; boundary=b", b"", 422),
    ],
)
def test_detect_rejects_bad_uploads(
    demo_target: DemoProcess, path: str, content_type: str, body: bytes, status: int
) -> None:
    got, _, data = _request(demo_target, "POST", path, body, {"Content-Type": content_type})
    assert got == status, data
    assert orjson.loads(data)["error"]


def test_delay_sleeps_as_asked(demo_target: DemoProcess) -> None:
    started = time.perf_counter()
    status, body = _json(demo_target, "GET", "/delay?ms=120")
    elapsed = time.perf_counter() - started
    assert status == 200 and body == {"delayed_ms": 120}
    assert 0.12 <= elapsed < 0.6
    assert _request(demo_target, "GET", "/delay?ms=-5")[0] == 422


def test_status_answers_the_code(demo_target: DemoProcess) -> None:
    assert _json(demo_target, "GET", "/status/503") == (503, {"status": 503})
    assert _json(demo_target, "POST", "/status/201", {}) == (201, {"status": 201})
    status, headers, body = _request(demo_target, "GET", "/status/204")
    assert (status, body) == (204, b"")
    assert "Content-Length" not in headers
    assert _request(demo_target, "GET", "/status/99")[0] == 400


# --- HTTP/1.1 framing ----------------------------------------------------------


def test_keep_alive_serves_many_requests_on_one_connection(demo_target: DemoProcess) -> None:
    conn = http.client.HTTPConnection(*_host_port(demo_target), timeout=5)
    try:
        conn.request("GET", "/health")
        conn.getresponse().read()
        first_socket = conn.sock
        for i in range(20):
            path, body = ("/predict", orjson.dumps({"data": FEATURES})) if i % 2 else ("/", None)
            conn.request("POST" if body else "GET", path, body=body)
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("Connection") == "keep-alive"
        assert conn.sock is first_socket
    finally:
        conn.close()


def test_pipelined_requests_are_answered_in_order(demo_target: DemoProcess) -> None:
    predict_body = orjson.dumps({"data": FEATURES})
    requests = (
        b"GET /delay?ms=80 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /status/418 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: "
        + str(len(predict_body)).encode()
        + b"\r\n\r\n"
        + predict_body
        + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    with _connect(demo_target) as sock, sock.makefile("rb") as stream:
        sock.sendall(requests)  # all four in one write
        answers = [_read_response(stream) for _ in range(4)]
    assert [status for status, _, _ in answers] == [200, 418, 200, 200]
    assert orjson.loads(answers[0][2]) == {"delayed_ms": 80}
    assert "prediction" in orjson.loads(answers[2][2])
    assert orjson.loads(answers[3][2])["status"] == "healthy"


def test_request_split_across_many_writes(demo_target: DemoProcess) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n\r\n"
    with _connect(demo_target) as sock, sock.makefile("rb") as stream:
        for i in range(0, len(request), 7):
            sock.sendall(request[i : i + 7])
            time.sleep(0.002)
        assert _read_response(stream)[0] == 200


def test_chunked_request_body(demo_target: DemoProcess) -> None:
    body = orjson.dumps({"data": FEATURES})
    pieces = [body[:100], body[100:1000], body[1000:]]
    chunked = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in pieces)
    chunked += b"0\r\nX-Trailer: yes\r\n\r\n"
    head = b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    with _connect(demo_target) as sock, sock.makefile("rb") as stream:
        sock.sendall(head + chunked[:50])
        time.sleep(0.01)
        sock.sendall(chunked[50:] + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, data = _read_response(stream)
        assert status == 200, data
        assert orjson.loads(data)["prediction"] == predict(FEATURES)[0]
        assert _read_response(stream)[0] == 200  # the request after the body is intact


def test_connection_close_is_honoured(demo_target: DemoProcess) -> None:
    with _connect(demo_target) as sock, sock.makefile("rb") as stream:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, _ = _read_response(stream)
        assert (status, headers["connection"]) == (200, "close")
        assert stream.read() == b""  # closed by the server


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"garbage\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"POST /predict HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"POST /predict HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
    ],
)
def test_malformed_requests_get_an_error_and_a_close(
    demo_target: DemoProcess, raw: bytes, status: int
) -> None:
    with _connect(demo_target) as sock, sock.makefile("rb") as stream:
        sock.sendall(raw)
        got, headers, body = _read_response(stream)
        assert got == status, body
        assert headers["connection"] == "close"
        assert stream.read() == b""


# --- counters ----------------------------------------------------------------


def test_stats_count_every_answer_exactly(demo_target: DemoProcess) -> None:
    demo_target.reset()
    for _ in range(5):
        _request(demo_target, "GET", "/health")
    for _ in range(3):
        _request(demo_target, "POST", "/predict", b"{}")
    _request(demo_target, "GET", "/status/500")
    with grpc.insecure_channel(demo_target.grpc_addr) as channel:
        stub = inference_pb2_grpc.InferenceStub(channel)
        stub.Predict(inference_pb2.PredictRequest(data=FEATURES), timeout=5)
        list(stub.StreamPredictions(inference_pb2.StreamRequest(count=4, data=FEATURES)))
    demo_target.stats()  # reading the counters is not counted
    stats = demo_target.stats()
    assert stats["http"] == {
        "/health": {"200": 5},
        "/predict": {"422": 3},
        "/status/500": {"500": 1},
    }
    assert stats["grpc"] == {
        "/loadforge.demo.v1.Inference/Predict": {"OK": 1},
        "/loadforge.demo.v1.Inference/StreamPredictions": {"OK": 1},
    }
    assert stats["grpc_streamed_messages"] == 4
    assert (stats["http_total"], stats["grpc_total"], stats["total"]) == (9, 2, 11)
    demo_target.reset()
    assert demo_target.stats()["total"] == 0


# --- gRPC --------------------------------------------------------------------


def test_grpc_predict(demo_target: DemoProcess) -> None:
    with grpc.insecure_channel(demo_target.grpc_addr) as channel:
        stub = inference_pb2_grpc.InferenceStub(channel)
        reply = stub.Predict(inference_pb2.PredictRequest(data=FEATURES), timeout=5)
        with pytest.raises(grpc.RpcError) as error:
            stub.Predict(inference_pb2.PredictRequest(data=[1.0, 2.0]), timeout=5)
    expected, confidence = predict(
        [float(x) for x in inference_pb2.PredictRequest(data=FEATURES).data]
    )
    assert reply.prediction == expected
    assert reply.confidence == pytest.approx(confidence, rel=1e-6)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "784" in (error.value.details() or "")


def test_grpc_stream_predictions(demo_target: DemoProcess) -> None:
    with grpc.insecure_channel(demo_target.grpc_addr) as channel:
        stub = inference_pb2_grpc.InferenceStub(channel)
        replies = list(stub.StreamPredictions(inference_pb2.StreamRequest(count=7, data=FEATURES)))
        with pytest.raises(grpc.RpcError) as error:
            list(stub.StreamPredictions(inference_pb2.StreamRequest(count=2, data=[0.0])))
    assert len(replies) == 7
    assert {r.prediction for r in replies} == {predict(FEATURES)[0]}
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


# --- starting and stopping -----------------------------------------------------


def test_serve_in_process_and_stop() -> None:
    demo = serve()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", demo.http_port, timeout=5)
        conn.request("GET", "/health")
        assert conn.getresponse().status == 200
        conn.close()
        with grpc.insecure_channel(f"127.0.0.1:{demo.grpc_port}") as channel:
            stub = inference_pb2_grpc.InferenceStub(channel)
            assert stub.Predict(inference_pb2.PredictRequest(data=FEATURES), timeout=5)
    finally:
        demo.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", demo.http_port), timeout=1).close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_the_addresses_and_exits_cleanly_on_signal(sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadforge.demo", "--port", "0", "--grpc-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith("demo target: http://127.0.0.1:"), line
        assert " grpc://127.0.0.1:" in line
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=10)
        assert proc.returncode == 0, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
