"""gRPC messages without generated code: from a `.proto` file compiled when the scenario
loads, or from the server's reflection service (as ghz does).

    from loadforge import GrpcUser, proto_schema

    inference = proto_schema("inference.proto")           # beside the scenario
    PREDICT = "/loadforge.demo.v1.Inference/Predict"

    class Api(GrpcUser):
        tasks = [inference.unary(PREDICT, {"data": [0.5] * 784})]

`reflect_schema("127.0.0.1:50051")` asks a running server instead. Every mistake (a
missing import, an unknown method, a message that does not fit the method) is a
`ScenarioError` while the scenario loads, so the run exits 2 before anything is fired.
"""

from __future__ import annotations

import importlib.resources
import inspect
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import MethodDescriptor

from .errors import ScenarioError
from .requests import RequestSpec, server_stream, unary

# .proto files compiled by scenarios loaded in this process; the loader ships the ones in
# the scenario's folder to the workers.
LOADED_PROTOS: list[Path] = []

REFLECTION_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class GrpcMethod:
    """One method: its path, message classes and shape."""

    path: str  # "/pkg.Service/Method"
    request_type: Any
    response_type: Any
    client_streaming: bool
    server_streaming: bool


class GrpcSchema:
    """Services and message classes from a descriptor pool; see the module docstring."""

    def __init__(
        self, pool: descriptor_pool.DescriptorPool, source: str, services: Iterable[str]
    ) -> None:
        self._pool = pool
        self.source = source
        self.services = sorted(services)

    def method(self, path: str) -> GrpcMethod:
        """The method `"/pkg.Service/Method"` (or `"pkg.Service/Method"`)."""
        service_name, method_name = _split(path)
        if service_name not in self.services:
            known = ", ".join(self.services) or "none"
            raise ScenarioError(f"{self.source}: no service {service_name!r} (it has: {known})")
        service = self._pool.FindServiceByName(service_name)
        found: MethodDescriptor | None = service.methods_by_name.get(method_name)
        if found is None:
            known = ", ".join(sorted(service.methods_by_name)) or "none"
            raise ScenarioError(
                f"{self.source}: service {service_name} has no method {method_name!r} "
                f"(it has: {known})"
            )
        return GrpcMethod(
            path=f"/{service_name}/{method_name}",
            request_type=message_factory.GetMessageClass(found.input_type),
            response_type=message_factory.GetMessageClass(found.output_type),
            client_streaming=found.client_streaming,
            server_streaming=found.server_streaming,
        )

    def request(self, path: str, data: Mapping[str, Any] | str | bytes | None = None) -> Any:
        """The method's request message built from `data` (a dict or JSON text)."""
        method = self.method(path)
        return _parse(method, data)

    def unary(
        self, path: str, data: Mapping[str, Any] | str | bytes | None = None, **kwargs: Any
    ) -> RequestSpec:
        """A declarative unary call (see `loadforge.unary`) with the request from `data`."""
        method = self.method(path)
        if method.client_streaming or method.server_streaming:
            raise ScenarioError(f"{method.path} is a streaming method, not unary")
        return unary(method.path, _parse(method, data), method.response_type, **kwargs)

    def declarative(
        self, path: str, data: Mapping[str, Any] | str | bytes | None = None, **kwargs: Any
    ) -> RequestSpec:
        """`unary()` or `server_stream()`, whichever the method is (client-streaming and
        bidirectional methods need a Python task)."""
        method = self.method(path)
        if method.client_streaming:
            raise ScenarioError(
                f"{method.path} streams requests: call it from an async task "
                "(self.client.client_stream / bidi)"
            )
        if method.server_streaming:
            return self.server_stream(path, data, **kwargs)
        return self.unary(path, data, **kwargs)

    def server_stream(
        self, path: str, data: Mapping[str, Any] | str | bytes | None = None, **kwargs: Any
    ) -> RequestSpec:
        """A declarative server-streaming call with the request from `data`."""
        method = self.method(path)
        if method.client_streaming or not method.server_streaming:
            raise ScenarioError(f"{method.path} is not a server-streaming method")
        return server_stream(method.path, _parse(method, data), method.response_type, **kwargs)


def proto_schema(path: str | Path, *, include: Iterable[str | Path] = ()) -> GrpcSchema:
    """Compile a `.proto` file now (grpcio-tools' protoc) and return its schema.

    A relative `path` is taken from the calling scenario's folder; imports are looked up
    beside it, in `include` folders and in protobuf's well-known types.
    """
    proto = _resolve(Path(path))
    if not proto.is_file():
        raise ScenarioError(f"proto file not found: {proto}")
    includes = [proto.parent, *(_resolve(Path(i)) for i in include)]
    well_known = Path(str(importlib.resources.files("grpc_tools") / "_proto"))
    with tempfile.TemporaryDirectory(prefix="loadforge-proto-") as tmp:
        out = Path(tmp) / "set.pb"
        command = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            *(f"--proto_path={p}" for p in [*includes, well_known]),
            "--include_imports",
            f"--descriptor_set_out={out}",
            str(proto),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}"
            raise ScenarioError(f"cannot compile {proto.name}: {detail}")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    for file in files.file:  # the proto and the imports found beside it
        found = next((i / file.name for i in includes if (i / file.name).is_file()), None)
        if found is not None:
            LOADED_PROTOS.append(found.resolve())
    services = [
        f"{file.package}.{service.name}" if file.package else service.name
        for file in files.file
        for service in file.service
    ]
    return GrpcSchema(pool, proto.name, services)


def reflect_schema(address: str, *, timeout: float = REFLECTION_TIMEOUT_S) -> GrpcSchema:
    """Ask the server at `address` (`host:port` or `http://host:port`) for its services
    through gRPC server reflection."""
    import grpc
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    target = address.split("://", 1)[-1].rstrip("/")
    channel = grpc.insecure_channel(target)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
        database = ProtoReflectionDescriptorDatabase(channel)
        services = list(database.get_services())
        pool = descriptor_pool.DescriptorPool(database)
        schema = GrpcSchema(pool, f"reflection at {target}", services)
        # Load every service now, while the channel is open.
        for name in services:
            pool.FindServiceByName(name)
    except grpc.FutureTimeoutError:
        raise ScenarioError(f"reflection: no gRPC server answers at {target}") from None
    except grpc.RpcError as exc:
        raise ScenarioError(
            f"reflection at {target} failed: {exc.code().name} {exc.details()}"
        ) from None
    finally:
        channel.close()
    return schema


def _split(path: str) -> tuple[str, str]:
    text = path.lstrip("/")
    if "/" in text:
        service, _, method = text.rpartition("/")
    else:
        service, _, method = text.rpartition(".")
    if not service or not method:
        raise ScenarioError(f"gRPC method must look like '/pkg.Service/Method', got {path!r}")
    return service, method


def _parse(method: GrpcMethod, data: Mapping[str, Any] | str | bytes | None) -> Any:
    if data is None:
        return method.request_type()
    try:
        fields = orjson.loads(data) if isinstance(data, str | bytes) else dict(data)
    except orjson.JSONDecodeError as exc:
        raise ScenarioError(f"{method.path}: request data is not valid JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise ScenarioError(f"{method.path}: request data must be a JSON object")
    try:
        return json_format.ParseDict(fields, method.request_type())
    except json_format.ParseError as exc:
        name = method.request_type.DESCRIPTOR.full_name
        raise ScenarioError(f"{method.path}: the data does not fit {name}: {exc}") from None


def _resolve(path: Path) -> Path:
    """A relative path from the scenario file that called us (else the working folder)."""
    if path.is_absolute():
        return path
    for frame in inspect.stack()[2:]:
        caller = Path(frame.filename)
        if caller.name != Path(__file__).name and caller.is_file():
            if (caller.parent / path).exists():
                return (caller.parent / path).resolve()
            break
    return path.resolve()
