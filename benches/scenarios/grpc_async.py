"""Bench: a Python `async def` gRPC unary task (compared with a grpc.aio client loop)."""

# Generated beside this file from tests/protos/helloworld.proto (scripts/gen_proto.py), so
# it travels to workers in the scenario bundle.
from helloworld_pb2 import HelloReply, HelloRequest

from loadforge import GrpcUser, constant, task

REQUEST = HelloRequest(name="x")


class Bench(GrpcUser):
    wait_time = constant(0)

    @task
    async def say_hello(self) -> None:
        await self.client.unary("/helloworld.Greeter/SayHello", REQUEST, HelloReply)
