"""Bench: a Python `async def` gRPC unary task (compared with a grpc.aio client loop)."""

import sys
from pathlib import Path

from loadforge import GrpcUser, constant, task

# helloworld messages generated from tests/protos (scripts/gen_proto.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from _proto.helloworld_pb2 import HelloReply, HelloRequest

REQUEST = HelloRequest(name="x")


class Bench(GrpcUser):
    wait_time = constant(0)

    @task
    async def say_hello(self) -> None:
        await self.client.unary("/helloworld.Greeter/SayHello", REQUEST, HelloReply)
