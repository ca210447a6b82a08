"""The `loadforge` command: run, controller, worker, report, compare, grpc, demo-server.

Flags follow Locust's spelling (-u -r -t -H --headless --processes) so its users keep
their habits. Exit codes: 0 passed, 1 a threshold failed, 2 invalid input (nothing
fired), 3 the run broke.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from loadforge.errors import ConfigError
from loadforge.locust_flags import add_locust_options, duration_arg

EXIT_OK, EXIT_THRESHOLD, EXIT_INVALID, EXIT_BROKEN = 0, 1, 2, 3


class InvalidLogLevel(ConfigError):
    """`--loglevel` names no level (exit code 2)."""


def _load_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("load")
    g.add_argument("-u", "--users", type=int, help="users (closed model); in-flight cap (open)")
    g.add_argument("-r", "--spawn-rate", type=float, help="users started per second")
    g.add_argument("-t", "--run-time", help="run time, e.g. 30s, 5m, 1h30m")
    g.add_argument("-H", "--host", help="target base URL, e.g. http://127.0.0.1:8000")
    g.add_argument("--arrival-rate", type=float, help="open model: iterations started per second")
    g.add_argument("-i", "--iterations", type=int, help="stop after this many iterations in total")
    g.add_argument("--stages", help="ramp, e.g. 30s:10,1m:100 (users, or rate with --arrival-rate)")
    g.add_argument("--profile", help="smoke|quick|standard|load|spike|endurance|stress")
    g.add_argument("-T", "--tags", nargs="*", default=(), help="only tasks with these tags")
    g.add_argument("-E", "--exclude-tags", nargs="*", default=(), help="skip tasks with these tags")
    g.add_argument("--headless", action="store_true", help="accepted for Locust compatibility")
    g.add_argument("--connect-timeout", type=float, help="seconds (default 5)")
    g.add_argument("--timeout", type=float, dest="request_timeout", help="request timeout, s")
    g.add_argument(
        "--stop-timeout",
        type=duration_arg,
        help="seconds (or 30s, 1m) running tasks and in-flight requests may take to finish",
    )
    g.add_argument(
        "--connections",
        type=int,
        help="HTTP/2 and gRPC connections per target per engine thread (default 4)",
    )
    g.add_argument(
        "--tls-insecure",
        action="store_true",
        help="accept any certificate from an https:// target (self-signed test servers)",
    )
    g.add_argument(
        "--require-target", action="store_true", help="exit 2 when the target does not answer"
    )
    t = p.add_argument_group("thresholds")
    t.add_argument(
        "--threshold",
        action="append",
        default=[],
        dest="thresholds",
        metavar="EXPR",
        help='e.g. "p95 < 2s", "fail_ratio < 1%%", "POST /predict: p99 < 500ms"',
    )
    o = p.add_argument_group("output")
    o.add_argument(
        "--json",
        dest="json_path",
        metavar="PATH",
        nargs="?",
        const="-",
        help="JSON summary to PATH (bare --json: to standard output, as Locust)",
    )
    o.add_argument("--csv", dest="csv_prefix", metavar="PREFIX", help="Locust-style CSV files")
    o.add_argument("--csv-full-history", action="store_true", help="per-endpoint history rows")
    o.add_argument("--html", dest="html_path", metavar="PATH", help="self-contained HTML report")
    o.add_argument("--junit", dest="junit_path", metavar="PATH", help="JUnit XML of thresholds")
    o.add_argument("-q", "--quiet", action="store_true", help="no live view, final table only")
    o.add_argument(
        "--prometheus", metavar="HOST:PORT", help="serve live metrics at http://HOST:PORT/metrics"
    )
    c = p.add_argument_group("configuration")
    c.add_argument(
        "--config", metavar="PATH", help="config file (default: ./loadforge.toml or pyproject.toml)"
    )
    c.add_argument("--env", metavar="NAME", help="an [environments.NAME] of the config file")


def _security_options(p: argparse.ArgumentParser) -> None:
    s = p.add_argument_group("security")
    s.add_argument("--token", help="shared secret (or LOADFORGE_TOKEN)")
    s.add_argument("--tls-cert", help="PEM certificate")
    s.add_argument("--tls-key", help="PEM private key")
    s.add_argument("--tls-ca", help="PEM CA to verify the other side")


def build_parser() -> argparse.ArgumentParser:
    from loadforge._version import __version__

    parser = argparse.ArgumentParser(
        prog="loadforge", description="Load tests for HTTP and gRPC services."
    )
    parser.add_argument("--version", action="version", version=f"loadforge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario on this machine")
    run.add_argument(
        "scenario", nargs="*", help="scenario file (.py), then user class names to run (optional)"
    )
    _load_options(run)
    run.add_argument("--processes", type=int, help="local worker processes (default: cores)")
    add_locust_options(run, controller=False)

    ctl = sub.add_parser("controller", help="run a scenario on workers that dial in")
    ctl.add_argument(
        "scenario", nargs="*", help="scenario file (.py), then user class names to run (optional)"
    )
    _load_options(ctl)
    add_locust_options(ctl, controller=True)
    ctl.add_argument("--bind", default="127.0.0.1:5557", help="HOST:PORT to listen on")
    ctl.add_argument("--expect-workers", type=int, default=1, help="wait for N workers")
    ctl.add_argument("--expect-timeout", type=float, default=120.0, help="seconds to wait")
    ctl.add_argument("--insecure", action="store_true", help="allow non-loopback without token")
    _security_options(ctl)

    wrk = sub.add_parser("worker", help="join a controller and fire its plan")
    wrk.add_argument("--controller", required=True, help="controller HOST:PORT")
    wrk.add_argument("--id", dest="worker_id", help="worker name (default: host + random)")
    wrk.add_argument("--connect-timeout", type=float, default=30.0)
    _security_options(wrk)

    rep = sub.add_parser("report", help="re-render reports from a saved --json summary")
    rep.add_argument("summary", help="JSON summary written by --json")
    rep.add_argument("--html", dest="html_path", metavar="PATH", help="HTML report")
    rep.add_argument("--junit", dest="junit_path", metavar="PATH", help="JUnit XML")
    rep.add_argument("--csv", dest="csv_prefix", metavar="PREFIX", help="Locust-style CSV files")

    cmp = sub.add_parser("compare", help="per-endpoint deltas between two saved runs")
    cmp.add_argument("base", help="JSON summary of the baseline run")
    cmp.add_argument("new", help="JSON summary of the run to judge")
    cmp.add_argument(
        "--fail-on-regression",
        type=float,
        metavar="PCT",
        help="exit 1 when a metric got worse by more than PCT percent",
    )

    from loadforge.grpc_call import add_parser as add_grpc_parser

    add_grpc_parser(sub)

    demo = sub.add_parser("demo-server", help="start the built-in demo target on loopback")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--grpc-port", type=int, default=50051)
    return parser


def _run_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    keys = (
        "users spawn_rate run_time host arrival_rate iterations stages profile tags exclude_tags "
        "connect_timeout request_timeout stop_timeout require_target thresholds json_path "
        "csv_prefix csv_full_history html_path junit_path prometheus connections tls_insecure"
    ).split()
    kwargs = {k: getattr(args, k) for k in keys}
    kwargs["live"] = not (args.quiet or args.only_summary)
    kwargs["console"] = True
    kwargs["exit_code_on_error"] = args.exit_code_on_error
    kwargs["reset_stats"] = args.reset_stats
    if args.json_path == "-":
        kwargs["json_path"] = None  # printed to standard output after the run
    elif args.json_file and not args.json_path:
        kwargs["json_path"] = f"{args.json_file}.json"
    return kwargs


def _command_run(args: argparse.Namespace) -> int:
    from loadforge.api import run
    from loadforge.locust_flags import parsed_options, scenario_and_classes

    path, class_names = scenario_and_classes(args)
    if path is None:
        print(
            "loadforge: error: no scenario: give FILE, -f FILE, or run where ./locustfile.py is",
            file=sys.stderr,
        )
        return EXIT_INVALID
    kwargs = _run_kwargs(args)
    kwargs["parsed_options"] = parsed_options(args)
    if class_names:
        kwargs["classes"] = class_names
    if args.list_classes:
        from loadforge.scenario import load_scenario

        for cls in load_scenario(path, classes=class_names or None).classes:
            print(cls.__name__)
        return EXIT_OK
    if args.command == "run" and not (args.headless or args.master):
        print("loadforge: the web UI is not available yet: running headless", file=sys.stderr)
    if args.command == "run" and args.master:
        args.command = "controller"
        args.bind = f"{args.master_bind_host}:{args.master_bind_port}"
        args.expect_timeout = 120.0
        args.insecure = False
        for name in ("token", "tls_cert", "tls_key", "tls_ca"):
            setattr(args, name, None)
    if args.command == "run":
        kwargs["processes"] = args.processes
    else:
        kwargs.update(
            processes=0,
            bind=args.bind,
            expect_workers=args.expect_workers,
            expect_timeout=args.expect_timeout,
            token=args.token if args.token is not None else os.environ.get("LOADFORGE_TOKEN"),
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            tls_ca=args.tls_ca,
            insecure=args.insecure,
        )
    result = run(path, **kwargs)
    if args.json_path == "-":
        print(result.to_json())
    return int(result.exit_code)


def _command_worker(args: argparse.Namespace) -> int:
    from loadforge.control.channel import ChannelSecurity
    from loadforge.control.security import token_from_env
    from loadforge.control.worker import WorkerOptions, run_worker

    options = WorkerOptions(
        controller=args.controller,
        token=token_from_env(args.token),
        security=ChannelSecurity(cert=args.tls_cert, key=args.tls_key, ca=args.tls_ca),
        connect_timeout_s=args.connect_timeout,
    )
    if args.worker_id:
        options.worker_id = args.worker_id
    return run_worker(options)


def _command_report(args: argparse.Namespace) -> int:
    from loadforge.report.rerender import load_summary, write_from_summary

    if not (args.html_path or args.junit_path or args.csv_prefix):
        print("loadforge report: give --html, --junit and/or --csv", file=sys.stderr)
        return EXIT_INVALID
    summary = load_summary(args.summary)
    written = write_from_summary(
        summary, html_path=args.html_path, junit_path=args.junit_path, csv_prefix=args.csv_prefix
    )
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _command_compare(args: argparse.Namespace) -> int:
    from loadforge.report.compare import print_comparison
    from loadforge.report.rerender import load_summary

    base, new = load_summary(args.base), load_summary(args.new)
    regressions = print_comparison(base, new, args.fail_on_regression)
    return EXIT_THRESHOLD if regressions else EXIT_OK


def _command_demo(args: argparse.Namespace) -> int:
    from loadforge.demo import main as demo_main

    return int(
        demo_main(
            ["--host", args.host, "--port", str(args.port), "--grpc-port", str(args.grpc_port)]
        )
        or 0
    )


def _with_config(
    parser: argparse.ArgumentParser, command: str, argv: Sequence[str]
) -> argparse.Namespace:
    """The arguments with the config file and LOADFORGE_* variables layered beneath."""
    from loadforge.config import resolve

    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return resolve(parser, sub.choices[command], argv)


def _scenario_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Import the scenario early when its `init_command_line_parser` listeners may add
    arguments (as Locust does): they become options of this command. The module is kept
    for the run, so it is imported once."""
    from loadforge.events import events
    from loadforge.locust_flags import ParserAdapter, scenario_and_classes
    from loadforge.scenario.loader import preload

    # `--help` waits for the scenario's options, so it is left for the full parse.
    known, _ = parser.parse_known_args([a for a in argv if a not in ("-h", "--help")])
    if getattr(known, "worker", False):
        return
    # Before the scenario's own options are known, their values may look positional:
    # the scenario is -f, else the first positional .py file, else ./locustfile.py.
    files = [p for p in known.scenario or [] if p.endswith(".py")]
    known.scenario = files[:1]
    path, _classes = scenario_and_classes(known)
    if path is None or not path.endswith(".py"):
        return
    preload(path)
    if events.init_command_line_parser.handlers:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        target = sub.choices[argv[0]].add_argument_group("the scenario's own arguments")
        events.init_command_line_parser.fire(parser=ParserAdapter(target))


def _worker_args(args: argparse.Namespace) -> argparse.Namespace:
    """Locust's `--worker --master-host H --master-port P` as `loadforge worker`'s options."""
    return argparse.Namespace(
        controller=f"{args.master_host}:{args.master_port}",
        worker_id=None,
        connect_timeout=30.0,
        token=None,
        tls_cert=None,
        tls_key=None,
        tls_ca=None,
    )


def _setup_logging(level: str, logfile: str | None) -> None:
    import logging

    numeric = getattr(logging, str(level).upper(), None)
    if not isinstance(numeric, int):
        raise InvalidLogLevel(f"--loglevel {level}: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    handler: logging.Handler = (
        logging.FileHandler(logfile) if logfile else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s/%(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(numeric)
    root.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `loadforge` command; returns the exit code."""
    from loadforge.errors import InvalidInput, RunBroken

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in ("run", "controller"):
            _scenario_arguments(parser, argv)
        args = parser.parse_args(argv)
        if args.command in ("run", "controller"):
            args = _with_config(parser, args.command, argv)
            _setup_logging(args.loglevel, args.logfile)
            if getattr(args, "worker", False):
                return _command_worker(_worker_args(args))
            return _command_run(args)
        if args.command == "worker":
            return _command_worker(args)
        if args.command == "report":
            return _command_report(args)
        if args.command == "compare":
            return _command_compare(args)
        if args.command == "grpc":
            from loadforge.grpc_call import command as grpc_command

            return grpc_command(args)
        return _command_demo(args)
    except InvalidInput as err:
        print(f"loadforge: error: {err}", file=sys.stderr)
        return EXIT_INVALID
    except RunBroken as err:
        print(f"loadforge: the run broke: {err}", file=sys.stderr)
        return EXIT_BROKEN
    except KeyboardInterrupt:
        return EXIT_BROKEN


if __name__ == "__main__":
    sys.exit(main())
