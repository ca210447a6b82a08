"""Locust's command line on `loadforge run`: its flags, its file finding, its custom arguments.

- `loadforge run locustfile.py`, `loadforge run -f locustfile.py [UserClass ...]`, or a
  bare `loadforge run` that takes `./locustfile.py`.
- Locust's spellings (`-T/-E` tags, `-i` iterations, `--only-summary`, `--reset-stats`,
  `--exit-code-on-error`, `-L/--loglevel`, `--logfile`, `--json[-file]`...), and
  `--master` / `--worker` as `loadforge controller` / `loadforge worker`.
- `init_command_line_parser` listeners add their arguments to this command; they end up
  in `environment.parsed_options`, in the controller and in every worker.
- A Locust flag loadforge does not have is refused with a message naming it (exit 2);
  a Locust 0.x flag gets the 2.x spelling.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loadforge.errors import ConfigError
from loadforge.scenario.durations import parse_duration

DEFAULT_LOCUSTFILE = "locustfile.py"
MASTER_PORT = 5557

# Locust flags without a loadforge equivalent: what to say instead.
UNSUPPORTED = {
    "--web-host": "the web UI is not available yet; run with --headless",
    "--web-port": "the web UI is not available yet; run with --headless",
    "--web-login": "the web UI is not available yet; run with --headless",
    "--web-auth": "the web UI is not available yet; run with --headless",
    "--web-base-path": "the web UI is not available yet; run with --headless",
    "--class-picker": "the web UI is not available yet; pick classes with -f FILE Class ...",
    "--modern-ui": "the web UI is not available yet; run with --headless",
    "--legacy-ui": "the web UI is not available yet; run with --headless",
    "--show-task-ratio": "not available; the task weights are in the scenario file",
    "--show-task-ratio-json": "not available; the task weights are in the scenario file",
    "--hatch-rate": "was renamed --spawn-rate (-r) in Locust 1.0",
    "--clients": "was renamed --users (-u) in Locust 1.0",
    "--no-web": "was renamed --headless in Locust 1.0",
    "--step-load": "was removed in Locust 2.0: use --stages 30s:10,1m:100 or a LoadTestShape",
    "--heartbeat-liveness": "not available: loadforge's workers have their own heartbeat",
    "--heartbeat-interval": "not available: loadforge's workers have their own heartbeat",
}
# Accepted and without effect (said in docs/locust.md).
NO_OPS = ("--skip-log-setup", "--print-stats", "--enable-rebalancing", "--autostart")


class _Unsupported(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("nargs", "?")
        kwargs["default"] = argparse.SUPPRESS
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        flag = self.option_strings[0]
        parser.exit(2, f"loadforge: error: {flag}: {UNSUPPORTED[flag]}\n")


def duration_arg(text: str) -> float:
    """An argparse `type` for seconds given as `30`, `2.5` or `1m30s`."""
    try:
        return parse_duration(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_locust_options(p: argparse.ArgumentParser, *, controller: bool) -> None:
    """Locust's flags on `run` / `controller` (ours with the same meaning stay as they are)."""
    g = p.add_argument_group("Locust compatibility")
    g.add_argument(
        "-f", "--locustfile", help="the scenario (as Locust's -f); default ./locustfile.py"
    )
    g.add_argument("--only-summary", action="store_true", help="no live view, final summary only")
    g.add_argument(
        "--reset-stats", action="store_true", help="drop what was measured while users spawned"
    )
    g.add_argument(
        "--exit-code-on-error",
        type=int,
        default=1,
        metavar="N",
        help="exit code when, without thresholds, a request failed or a task raised (default 1)",
    )
    g.add_argument("-L", "--loglevel", default="WARNING", help="DEBUG, INFO, WARNING, ERROR")
    g.add_argument("--logfile", help="write log lines here instead of stderr")
    g.add_argument("--json-file", metavar="PREFIX", help="JSON summary written to PREFIX.json")
    g.add_argument("--autoquit", type=int, default=-1, help=argparse.SUPPRESS)
    g.add_argument(
        "-l", "--list", action="store_true", dest="list_classes", help="list user classes"
    )
    for flag in NO_OPS:
        g.add_argument(flag, action="store_true", help=argparse.SUPPRESS)
    for flag in UNSUPPORTED:
        g.add_argument(flag, action=_Unsupported, help=argparse.SUPPRESS)
    if not controller:
        g.add_argument(
            "--master", action="store_true", help="be a controller (loadforge controller)"
        )
        g.add_argument("--master-bind-host", default="127.0.0.1", help="with --master")
        g.add_argument("--master-bind-port", type=int, default=MASTER_PORT, help="with --master")
        g.add_argument("--expect-workers", type=int, default=1, help="with --master")
        g.add_argument("--worker", action="store_true", help="be a worker (loadforge worker)")
        g.add_argument("--master-host", default="127.0.0.1", help="with --worker")
        g.add_argument("--master-port", type=int, default=MASTER_PORT, help="with --worker")


def scenario_and_classes(args: argparse.Namespace) -> tuple[str | None, list[str]]:
    """(scenario file, user class names) from `FILE [Class ...]` or `-f FILE [Class ...]`."""
    positional = list(getattr(args, "scenario", None) or [])
    if args.locustfile:
        path: str | None = args.locustfile
        classes = positional
    elif positional and (positional[0].endswith(".py") or Path(positional[0]).is_file()):
        path, classes = positional[0], positional[1:]
    elif positional and Path(DEFAULT_LOCUSTFILE).is_file():
        path, classes = DEFAULT_LOCUSTFILE, positional  # `loadforge run WebUser`, as Locust
    elif positional:
        path, classes = positional[0], positional[1:]
    else:
        path, classes = (DEFAULT_LOCUSTFILE if Path(DEFAULT_LOCUSTFILE).is_file() else None), []
    if path is not None:
        if "," in path:
            raise ConfigError(f"-f {path}: one scenario file per run (no comma-separated list)")
        if Path(path).is_dir():
            raise ConfigError(f"-f {path}: a folder; give the scenario file itself")
    return path, classes


class ParserAdapter:
    """What `init_command_line_parser` listeners get as `parser`: Locust's spelling
    (`env_var=`, `include_in_web_ui=`, `is_secret=`) over the command's argparse parser."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def add_argument(self, *names: str, **kwargs: Any) -> Any:
        env_var = kwargs.pop("env_var", None)
        for key in ("include_in_web_ui", "is_secret", "is_required"):
            kwargs.pop(key, None)
        if env_var and env_var in os.environ:
            kwargs["default"] = os.environ[env_var]
        try:
            return self._target.add_argument(*names, **kwargs)
        except argparse.ArgumentError as err:
            raise ConfigError(f"init_command_line_parser: {err}") from None

    def add_argument_group(self, *args: Any, **kwargs: Any) -> ParserAdapter:
        return ParserAdapter(self._target.add_argument_group(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def parsed_options(args: argparse.Namespace) -> argparse.Namespace:
    """`environment.parsed_options`: every option, plus Locust's names for ours."""
    values = dict(vars(args))
    values.update(
        num_users=args.users,
        html_file=getattr(args, "html_path", None),
        csv_prefix=getattr(args, "csv_prefix", None),
        json_file=getattr(args, "json_file", None),
        stop_timeout=getattr(args, "stop_timeout", None),
        headless=True,
    )
    values.pop("func", None)
    return argparse.Namespace(**values)
