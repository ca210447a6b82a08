"""The nginx fixture serves exactly what the benchmarks rely on."""

from __future__ import annotations

import http.client
import socket

import grpc
from _proto import helloworld_pb2, helloworld_pb2_grpc

from loadforge.testing import GRPC_HELLO_PATH, HEALTH_BODY, NginxServer


def test_health_over_http1_is_41_bytes_of_json(nginx: NginxServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=5)
    try:
        for _ in range(3):  # keep-alive: the same connection answers again
            conn.request("GET", "/health")
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200
            assert response.version == 11
            assert response.getheader("Content-Type") == "application/json"
            assert body == HEALTH_BODY
            assert len(body) == 41
    finally:
        conn.close()


def test_h2_port_speaks_http2_with_prior_knowledge(nginx: NginxServer) -> None:
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    empty_settings = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    with socket.create_connection(("127.0.0.1", nginx.h2_port), timeout=5) as sock:
        sock.sendall(preface + empty_settings)
        frame_head = sock.recv(9)
    assert frame_head[3] == 0x4  # the server's first frame is SETTINGS


def test_static_grpc_reply_decodes_with_a_real_grpc_client(nginx: NginxServer) -> None:
    assert GRPC_HELLO_PATH == "/helloworld.Greeter/SayHello"
    with grpc.insecure_channel(nginx.grpc_addr) as channel:
        stub = helloworld_pb2_grpc.GreeterStub(channel)
        for name in ("a", "someone else"):
            reply, call = stub.SayHello.with_call(helloworld_pb2.HelloRequest(name=name), timeout=5)
            assert reply == helloworld_pb2.HelloReply(message="hi")
            assert call.code() == grpc.StatusCode.OK


def test_one_worker_runs(nginx: NginxServer) -> None:
    assert len(nginx.worker_pids()) == 1
