"""Bench: declarative gRPC unary SayHello over h2c (compared with h2load's gRPC-shaped POST)."""

# Generated beside this file from tests/protos/helloworld.proto (scripts/gen_proto.py), so
# it travels to workers in the scenario bundle.
from helloworld_pb2 import HelloReply, HelloRequest

from loadforge import GrpcUser, constant, unary


class Bench(GrpcUser):
    wait_time = constant(0)
    tasks = {unary("/helloworld.Greeter/SayHello", HelloRequest(name="x"), HelloReply): 1}
