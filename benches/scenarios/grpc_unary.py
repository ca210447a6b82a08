"""Bench: declarative gRPC unary SayHello over h2c (compared with h2load's gRPC-shaped POST)."""

import sys
from pathlib import Path

from loadforge import GrpcUser, constant, unary

# helloworld messages generated from tests/protos (scripts/gen_proto.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from _proto.helloworld_pb2 import HelloReply, HelloRequest


class Bench(GrpcUser):
    wait_time = constant(0)
    tasks = {unary("/helloworld.Greeter/SayHello", HelloRequest(name="x"), HelloReply): 1}
