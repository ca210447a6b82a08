"""Config files (`loadforge.toml`, `[tool.loadforge]`), environments, profiles and
`LOADFORGE_*` variables: precedence file < environment variables < command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from loadforge.cli import build_parser, main
from loadforge.config import ConfigFileError, resolve

ROOT = Path(__file__).resolve().parent.parent
DEMO = str(ROOT / "scenarios" / "demo.py")


def parse(argv: list[str], cwd: Path, environ: dict[str, str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return resolve(parser, sub.choices[argv[0]], argv, environ=environ or {}, cwd=cwd)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_precedence_file_then_environment_then_command_line(tmp_path: Path) -> None:
    write(
        tmp_path / "loadforge.toml",
        'users = 10\nspawn-rate = 2\nrun_time = "30s"\nthresholds = ["p95 < 1s"]\n'
        'quiet = true\n[environments.staging]\nhost = "http://127.0.0.1:9"\nusers = 20\n',
    )
    args = parse(["run", DEMO], tmp_path)
    assert (args.users, args.spawn_rate, args.run_time, args.quiet) == (10, 2.0, "30s", True)
    assert args.thresholds == ["p95 < 1s"] and args.host is None

    args = parse(["run", DEMO, "--env", "staging"], tmp_path)
    assert (args.users, args.host) == (20, "http://127.0.0.1:9")

    environ = {"LOADFORGE_USERS": "30", "LOADFORGE_THRESHOLD": "p99 < 2s;rps > 1"}
    args = parse(["run", DEMO, "--env", "staging"], tmp_path, environ)
    assert args.users == 30 and args.thresholds == ["p99 < 2s", "rps > 1"]

    args = parse(
        ["run", DEMO, "--env", "staging", "-u", "40", "--threshold", "p50 < 1s"], tmp_path, environ
    )
    assert args.users == 40 and args.thresholds == ["p50 < 1s"]
    assert args.spawn_rate == 2.0  # untouched layers still count


def test_environment_chosen_by_variable_or_file_default(tmp_path: Path) -> None:
    write(
        tmp_path / "loadforge.toml",
        'env = "local"\n[environments.local]\nhost = "http://127.0.0.1:1"\n'
        '[environments.prod]\nhost = "http://127.0.0.1:2"\n',
    )
    assert parse(["run", DEMO], tmp_path).host == "http://127.0.0.1:1"
    assert parse(["run", DEMO], tmp_path, {"LOADFORGE_ENV": "prod"}).host == "http://127.0.0.1:2"
    with pytest.raises(ConfigFileError, match=r"unknown environment 'qa'.*local, prod"):
        parse(["run", DEMO, "--env", "qa"], tmp_path)


def test_profiles_from_the_file_and_built_in_ones(tmp_path: Path) -> None:
    write(
        tmp_path / "loadforge.toml",
        '[profiles.nightly]\nusers = 200\nrun-time = "10m"\n'
        '[profiles.ci]\nprofile = "smoke"\njunit = "junit.xml"\n',
    )
    args = parse(["run", DEMO, "--profile", "nightly"], tmp_path)
    assert (args.users, args.run_time, args.profile) == (200, "10m", None)
    args = parse(["run", DEMO, "--profile", "ci"], tmp_path)
    assert (args.profile, args.junit_path) == ("smoke", "junit.xml")
    assert parse(["run", DEMO, "--profile", "load"], tmp_path).profile == "load"


def test_pyproject_tool_table_and_explicit_path(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert parse(["run", DEMO], tmp_path).users is None  # no [tool.loadforge]: no config
    write(tmp_path / "pyproject.toml", "[tool.loadforge]\nusers = 7\nexpect-workers = 3\n")
    args = parse(["controller", DEMO], tmp_path)
    assert (args.users, args.expect_workers) == (7, 3)
    other = write(tmp_path / "other.toml", "users = 9\n")
    assert parse(["run", DEMO, "--config", str(other)], tmp_path).users == 9


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("users = 1\nbogus = 2\nspeed = 3\n", {}, r"unknown key\(s\) 'bogus', 'speed'"),
        ("[environments.x]\nhots = 'h'\n", {}, r"\[environments.x\]: unknown key\(s\) 'hots'"),
        ("users = 'ten'\n", {}, r"users: expected an integer"),
        ("quiet = 'yes'\n", {}, r"quiet: expected true or false"),
        ("users = [\n", {}, r"invalid TOML"),
        ("", {"LOADFORGE_SPAWN_RATE": "fast"}, r"LOADFORGE_SPAWN_RATE: expected a number"),
    ],
)
def test_invalid_config_names_the_problem(
    tmp_path: Path, text: str, environ: dict[str, str], message: str
) -> None:
    write(tmp_path / "loadforge.toml", text)
    with pytest.raises(ConfigFileError, match=message):
        parse(["run", DEMO], tmp_path, environ)


def test_unknown_key_exits_2_and_fires_nothing(
    demo_target: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    demo_target.reset()
    write(tmp_path / "loadforge.toml", f'host = "{demo_target.http_url}"\nuserz = 3\n')
    monkeypatch.chdir(tmp_path)
    assert main(["run", DEMO, "-t", "1s", "--processes", "1", "-q"]) == 2
    assert "unknown key(s) 'userz'" in capsys.readouterr().err
    assert demo_target.stats()["http"] == {}


@pytest.mark.slow
def test_real_run_takes_host_and_outputs_from_the_config(
    demo_target: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    demo_target.reset()
    write(
        tmp_path / "loadforge.toml",
        'run-time = "2s"\nusers = 2\nspawn-rate = 100\nprocesses = 1\nquiet = true\n'
        'json = "out/summary.json"\n'
        f'[environments.local]\nhost = "{demo_target.http_url}"\n'
        '[environments.nowhere]\nhost = "http://127.0.0.1:1"\n',
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOADFORGE_USERS", "3")
    assert main(["run", DEMO, "--env", "local"]) == 0
    assert "wrote out/summary.json" in capsys.readouterr().out  # the summary lists its files
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    served = demo_target.stats()["http"]
    health = next(ep for ep in summary["endpoints"] if ep["name"] == "/health")
    assert health["requests"] == served["/health"]["200"] > 0
    assert max(point["users"] for point in summary["time_series"]) == 3
