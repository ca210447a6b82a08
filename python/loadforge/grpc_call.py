"""`loadforge grpc`: load one gRPC method from the command line, in the spirit of ghz.

    loadforge grpc --call helloworld.Greeter/SayHello -d '{"name": "x"}' \\
        --proto helloworld.proto -c 50 -z 10s 127.0.0.1:50051
    loadforge grpc --call loadforge.demo.v1.Inference/Predict -d @request.json -n 1000 \\
        --rps 500 127.0.0.1:50051          # no --proto: the server's reflection is asked
    loadforge grpc --call helloworld.Greeter/SayHello --threshold "p99 < 50ms" \\
        --json out.json http://127.0.0.1:50051   # HOST:PORT or http(s)://HOST:PORT

The command writes a one-class scenario (a declarative `unary` or `server_stream` call
built from the schema) and runs it like `loadforge run`: the same controller, workers and
final report, the same exit codes (2 for bad input, before anything is fired).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import orjson

from loadforge.scenario.errors import InvalidInput

# ghz runs 200 calls when given neither a count nor a duration.
DEFAULT_CALLS = 200

SCENARIO = '''"""Written by `loadforge grpc`."""
from loadforge import GrpcUser, constant, proto_schema, reflect_schema

schema = {schema}


class {class_name}(GrpcUser):
    wait_time = constant(0)
    tasks = [schema.declarative({call!r}, {data!r}, metadata={metadata!r}, name={name!r})]
'''


def add_parser(sub: Any) -> None:
    """Adds the `grpc` subcommand to the CLI's subparsers."""
    p = sub.add_parser("grpc", help="load one gRPC method (ghz-style one-off run)")
    p.add_argument(
        "target",
        metavar="HOST:PORT",
        help="the gRPC server: HOST:PORT (h2c; --tls for TLS), or http:// / https:// HOST:PORT",
    )
    p.add_argument("--call", required=True, help="method, e.g. helloworld.Greeter/SayHello")
    p.add_argument(
        "-d", "--data", default="{}", help="request as JSON (an object), or @FILE to read it"
    )
    p.add_argument("-m", "--metadata", default="{}", help="metadata as a JSON object")
    p.add_argument("--proto", help=".proto file with the service (default: server reflection)")
    p.add_argument(
        "-i",
        "--import-path",
        action="append",
        default=[],
        help="folder to look up the proto's imports in (repeatable)",
    )
    p.add_argument("--name", help="statistics name (default: the method path)")
    p.add_argument("-c", "--concurrency", type=int, default=50, help="concurrent calls (users)")
    p.add_argument("-z", "--duration", help="run time, e.g. 10s, 1m")
    p.add_argument("-n", "--total", type=int, help=f"calls in total (default {DEFAULT_CALLS})")
    p.add_argument("--rps", type=float, help="calls started per second (open model)")
    p.add_argument("--timeout", type=float, help="deadline of each call, seconds")
    p.add_argument("--connections", type=int, help="connections per engine thread (default 4)")
    p.add_argument("--tls", action="store_true", help="TLS instead of cleartext h2c")
    p.add_argument("--processes", type=int, help="local worker processes (default: cores)")
    p.add_argument(
        "--threshold",
        action="append",
        default=[],
        dest="thresholds",
        metavar="EXPR",
        help='repeatable, as for run: "p95 < 50ms", "fail_ratio < 1%%"',
    )
    p.add_argument("--json", dest="json_path", metavar="PATH", help="JSON summary")
    p.add_argument("--csv", dest="csv_prefix", metavar="PREFIX", help="Locust-style CSV files")
    p.add_argument("--html", dest="html_path", metavar="PATH", help="self-contained HTML report")
    p.add_argument("--junit", dest="junit_path", metavar="PATH", help="JUnit XML of thresholds")
    p.add_argument("-q", "--quiet", action="store_true", help="no live view, final table only")


def command(args: argparse.Namespace) -> int:
    """Runs `loadforge grpc`; returns the exit code."""
    from loadforge.api import run

    host = _host(args.target, args.tls)
    if args.concurrency < 1:
        raise InvalidInput("-c/--concurrency must be at least 1")
    total = args.total
    if total is None and args.duration is None:
        total = DEFAULT_CALLS
    with tempfile.TemporaryDirectory(prefix="loadforge-grpc-") as folder:
        scenario = Path(folder) / "grpc_call.py"
        source = _scenario_source(args, host)
        scenario.write_text(source)
        try:
            result = run(
                scenario,
                host=host,
                users=args.concurrency,
                spawn_rate=float(args.concurrency) * 1000,  # all at once, as ghz does
                run_time=args.duration,
                iterations=total,
                arrival_rate=args.rps,
                request_timeout=args.timeout,
                connections=args.connections,
                processes=args.processes,
                thresholds=args.thresholds,
                json_path=args.json_path,
                csv_prefix=args.csv_prefix,
                html_path=args.html_path,
                junit_path=args.junit_path,
                live=not args.quiet,
                console=True,
            )
        except InvalidInput as err:
            raise _in_user_terms(err, scenario, source, args) from None
    return int(result.exit_code)


def _in_user_terms(
    err: InvalidInput, scenario: Path, source: str, args: argparse.Namespace
) -> InvalidInput:
    """The error as the user wrote the command: the scenario file is ours (a temp path the
    user never saw), so `FILE:LINE:` becomes the flag that line was built from."""
    text = str(err)
    place = f"{scenario}:"
    if text.startswith(place):
        line, _, rest = text[len(place) :].partition(": ")
        written = source.splitlines()[int(line) - 1] if line.isdigit() else ""
        if written.startswith("schema ="):
            origin = f"--proto {args.proto}" if args.proto else f"reflection at {args.target}"
        else:
            origin = f"--call {args.call}"
        text = f"{origin}: {rest}"
    return InvalidInput(text.replace(f"{scenario.parent}/", ""))


def _host(target: str, tls: bool) -> str:
    """`HOST:PORT` (as ghz takes it) or a URL as `run -H` takes it: both work."""
    if "://" in target:
        scheme = target.partition("://")[0]
        if scheme not in ("http", "https"):
            raise InvalidInput(f"target must be HOST:PORT or http(s)://HOST:PORT, got {target!r}")
        return target.rstrip("/")
    if ":" not in target:
        raise InvalidInput(f"target must be HOST:PORT, got {target!r}")
    return f"{'https' if tls else 'http'}://{target}"


def _json_object(text: str, what: str) -> dict[str, Any]:
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise InvalidInput(f"{what}: cannot read {text[1:]}: {exc.strerror}") from None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    return value


def _scenario_source(args: argparse.Namespace, host: str) -> str:
    data = _json_object(args.data, "--data")
    metadata = _json_object(args.metadata, "--metadata")
    if not all(isinstance(v, str) for v in metadata.values()):
        raise InvalidInput("--metadata values must be strings")
    call = args.call if args.call.startswith("/") else f"/{args.call}"
    if args.proto:
        proto = Path(args.proto).resolve()
        includes = [str(Path(i).resolve()) for i in args.import_path]
        schema = f"proto_schema({str(proto)!r}, include={includes!r})"
    else:
        schema = f"reflect_schema({host!r})"
    return SCENARIO.format(
        schema=schema,
        class_name="GrpcCall",
        call=call,
        data=orjson.dumps(data).decode(),
        metadata=metadata,
        name=args.name or call,
    )
