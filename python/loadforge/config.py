"""Run settings from a config file and `LOADFORGE_*` environment variables.

`loadforge.toml` (or `[tool.loadforge]` in `pyproject.toml`) in the current directory, or
the file given with `--config PATH`, holds defaults for any flag of `loadforge run` /
`loadforge controller`, spelled like the flag (`spawn-rate` or `spawn_rate`, `json`,
`threshold` or `thresholds`), plus named environments and profiles:

    users = 10
    run-time = "30s"
    thresholds = ["p95 < 500ms", "fail_ratio < 1%"]
    env = "local"                       # the environment used without --env

    [environments.local]
    host = "http://127.0.0.1:8000"
    [environments.staging]
    host = "https://staging.example.com"

    [profiles.nightly]                  # --profile nightly
    users = 200
    run-time = "10m"

Precedence, lowest first: the parser's defaults, Locust's config (`~/.locust.conf`,
`./locust.conf`, `[tool.locust]` in `pyproject.toml`, or `--config FILE.conf`), the
file's top level, the chosen profile, the chosen environment, Locust's `LOCUST_<FLAG>`
variables, `LOADFORGE_<FLAG>` environment variables (`LOADFORGE_USERS=5`,
`LOADFORGE_RUN_TIME=1m`, lists separated by `;`), the command line. Unknown keys and
values of the wrong type raise `ConfigFileError` naming them (exit code 2).
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadforge.errors import ConfigError

ENV_PREFIX = "LOADFORGE_"
LOCUST_ENV_PREFIX = "LOCUST_"
LOCUST_FILES = ("~/.locust.conf", "locust.conf")
# Text settings (variables, locust.conf lines) that are converted like the command line's.
_TEXT_SOURCES = (ENV_PREFIX, LOCUST_ENV_PREFIX, "locust.conf", ".locust.conf")
FILE_NAMES = ("loadforge.toml", "pyproject.toml")
# Keys with a meaning of their own (not flags), and flags a file cannot set.
SECTION_KEYS = ("environments", "profiles")
NOT_SETTABLE = {"help", "config", "env", "scenario"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigFileError(ConfigError):
    """The config file or a `LOADFORGE_*` variable is invalid (exit code 2)."""


@dataclass
class ConfigFile:
    """A parsed config file: top-level settings, environments and profiles (by dest)."""

    path: Path | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_env: str | None = None


def find_config(cwd: Path) -> tuple[Path, dict[str, Any]] | None:
    """The config in `cwd`: `loadforge.toml`, else `pyproject.toml`'s `[tool.loadforge]`."""
    for name in FILE_NAMES:
        path = cwd / name
        if not path.is_file():
            continue
        data = _read_toml(path)
        if name == "pyproject.toml":
            table = data.get("tool", {}).get("loadforge")
            if table is None:
                continue
            return path, table
        return path, data
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as err:
        raise ConfigFileError(f"{path}: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigFileError(f"{path}: invalid TOML: {err}") from None


def option_actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Every name a setting may have (flag without dashes, either spelling; dest) → action."""
    names: dict[str, argparse.Action] = {}
    for action in parser._actions:
        if action.dest in NOT_SETTABLE or not action.option_strings:
            continue
        for flag in action.option_strings:
            if flag.startswith("--"):
                names[flag[2:].replace("-", "_")] = action
        names[action.dest] = action
    # The plural reads better in a file for repeatable flags.
    for action in list(names.values()):
        if isinstance(action, argparse._AppendAction):
            names.setdefault(f"{action.dest.removesuffix('s')}s", action)
    return names


def _coerce(action: argparse.Action, value: Any, where: str) -> Any:
    """A file or variable value checked (and, for strings from the environment, converted)
    against what the flag takes."""
    from_env = where.startswith(_TEXT_SOURCES) or ".conf" in where.split(":")[0]
    wants_list = isinstance(action, argparse._AppendAction) or action.nargs == "*"
    if isinstance(action, argparse._StoreTrueAction):
        if from_env and isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        if isinstance(value, bool):
            return value
        raise ConfigFileError(f"{where}: expected true or false, got {value!r}")
    if wants_list:
        if from_env and isinstance(value, str):
            return [v.strip() for v in value.split(";") if v.strip()]
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise ConfigFileError(f"{where}: expected a list of strings, got {value!r}")
    kind = action.type
    if kind in (int, float):
        if from_env and isinstance(value, str):
            try:
                return kind(value)
            except ValueError:
                pass
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if kind is float or isinstance(value, int):
                return kind(value)
        name = "an integer" if kind is int else "a number"
        raise ConfigFileError(f"{where}: expected {name}, got {value!r}")
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # run-time = 30 means 30 seconds
    raise ConfigFileError(f"{where}: expected a string, got {value!r}")


def _settings(
    table: Mapping[str, Any], actions: Mapping[str, argparse.Action], where: str
) -> dict[str, Any]:
    unknown = [k for k in table if k.replace("-", "_") not in actions]
    if unknown:
        known = sorted({a.option_strings[-1][2:] for a in actions.values()})
        raise ConfigFileError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(known)}, environments, profiles, env"
        )
    out = {}
    for key, value in table.items():
        action = actions[key.replace("-", "_")]
        out[action.dest] = _coerce(action, value, f"{where}: {key}")
    return out


def parse_config(
    path: Path | None, table: Mapping[str, Any], actions: Mapping[str, argparse.Action]
) -> ConfigFile:
    """Validate a config table (a whole `loadforge.toml`, or `[tool.loadforge]`)."""
    where = str(path) if path else "config"
    top = {k: v for k, v in table.items() if k not in (*SECTION_KEYS, "env")}
    config = ConfigFile(path=path, settings=_settings(top, actions, where))
    env = table.get("env")
    if env is not None and not isinstance(env, str):
        raise ConfigFileError(f"{where}: env: expected an environment name, got {env!r}")
    config.default_env = env
    for section in SECTION_KEYS:
        named = table.get(section, {})
        if not isinstance(named, dict) or not all(isinstance(v, dict) for v in named.values()):
            raise ConfigFileError(f"{where}: [{section}.NAME] tables expected")
        parsed = {
            name: _settings(body, actions, f"{where}: [{section}.{name}]")
            for name, body in named.items()
        }
        setattr(config, section, parsed)
    return config


def load_config(
    explicit: str | None, cwd: Path, actions: Mapping[str, argparse.Action]
) -> ConfigFile:
    """The config from `--config PATH`, or found in `cwd`; empty when there is none."""
    if explicit:
        path = Path(explicit)
        data = _read_toml(path)
        if path.name == "pyproject.toml":
            data = data.get("tool", {}).get("loadforge", {})
        return parse_config(path, data, actions)
    found = find_config(cwd)
    if found is None:
        return ConfigFile()
    return parse_config(found[0], found[1], actions)


def env_settings(
    environ: Mapping[str, str], actions: Mapping[str, argparse.Action]
) -> dict[str, Any]:
    """Settings from `LOADFORGE_<NAME>` variables (names as in the file, upper case).
    Variables that name no flag are left alone: other tools may share the prefix."""
    out = {}
    for var, value in environ.items():
        if not var.startswith(ENV_PREFIX):
            continue
        action = actions.get(var[len(ENV_PREFIX) :].lower())
        if action is not None:
            out[action.dest] = _coerce(action, value, var)
    return out


def locust_env_settings(
    environ: Mapping[str, str], actions: Mapping[str, argparse.Action]
) -> dict[str, Any]:
    """Settings from Locust's `LOCUST_<FLAG>` variables (`LOCUST_USERS`, `LOCUST_HOST`...).
    A variable naming no flag is left alone (`init_command_line_parser` arguments read
    their own `env_var`)."""
    out = {}
    for var, value in environ.items():
        if not var.startswith(LOCUST_ENV_PREFIX):
            continue
        name = var[len(LOCUST_ENV_PREFIX) :].lower()
        action = actions.get(name)
        if action is not None:
            out[action.dest] = _coerce_locust(action, value, var)
    return out


def _coerce_locust(action: argparse.Action, value: Any, where: str) -> Any:
    # Locust writes lists as `[a, b]` (or `a,b`) and `--json` as a boolean.
    if action.dest == "json_path" and isinstance(value, str | bool):
        truthy = value is True or str(value).lower() in _TRUE
        return "-" if truthy else None
    wants_list = isinstance(action, argparse._AppendAction) or action.nargs == "*"
    if wants_list and isinstance(value, str):
        value = [v.strip() for v in value.strip("[]").replace(";", ",").split(",") if v.strip()]
    return _coerce(action, value, where)


def read_locust_conf(path: Path) -> dict[str, Any]:
    """`key = value` lines of a Locust config file (`#` comments, `[section]`s ignored)."""
    table: dict[str, Any] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
        if not sep:
            raise ConfigFileError(f"{path}:{number}: expected `key = value`, got {raw!r}")
        table[key.strip()] = value.strip().strip('"').strip("'")
    return table


def locust_file_settings(
    explicit: str | None, cwd: Path, actions: Mapping[str, argparse.Action]
) -> dict[str, Any]:
    """Settings from Locust's config files, lowest layer; `--config FILE` (not `.toml`)."""
    tables: list[tuple[str, Mapping[str, Any]]] = []
    if explicit and not explicit.endswith(".toml"):
        path = Path(explicit)
        if not path.is_file():
            raise ConfigFileError(f"--config {explicit}: file not found")
        tables.append((str(path), read_locust_conf(path)))
    else:
        for name in LOCUST_FILES:
            path = Path(name).expanduser()
            path = path if path.is_absolute() else cwd / path
            if path.is_file():
                tables.append((str(path), read_locust_conf(path)))
        pyproject = cwd / "pyproject.toml"
        if pyproject.is_file():
            section = _read_toml(pyproject).get("tool", {}).get("locust")
            if section:
                tables.append((f"{pyproject} [tool.locust]", section))
    out: dict[str, Any] = {}
    for where, table in tables:
        for key, value in table.items():
            action = actions.get(key.replace("-", "_"))
            if action is None:
                raise ConfigFileError(f"{where}: unknown or unsupported Locust setting {key!r}")
            out[action.dest] = _coerce_locust(action, value, f"{where}: {key}")
    return out


def resolve(
    parser: argparse.ArgumentParser,
    command_parser: argparse.ArgumentParser,
    argv: Sequence[str],
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> argparse.Namespace:
    """Parse `argv` with the file and environment layered under the command line."""
    environ = os.environ if environ is None else environ
    actions = option_actions(command_parser)
    given = _given(parser, command_parser, argv)
    args = parser.parse_args(argv)
    explicit = getattr(given, "config", None)
    locust_files = locust_file_settings(explicit, cwd or Path.cwd(), actions)
    if explicit and not explicit.endswith(".toml"):
        explicit = None  # a Locust config file, read above
    config = load_config(explicit, cwd or Path.cwd(), actions)
    from_env = env_settings(environ, actions)
    from_locust_env = locust_env_settings(environ, actions)

    layers: list[dict[str, Any]] = [locust_files, config.settings]
    given_settings = {k: v for k, v in vars(given).items() if k in _dests(command_parser)}
    profile = (
        given_settings.get("profile") or from_env.get("profile") or config.settings.get("profile")
    )
    file_profile = config.profiles.get(profile) if profile else None
    if file_profile is not None:
        layers.append(file_profile)
    env_name = getattr(given, "env", None) or environ.get(f"{ENV_PREFIX}ENV") or config.default_env
    if env_name:
        if env_name not in config.environments:
            known = ", ".join(config.environments) or "none defined"
            where = config.path or "no config file"
            raise ConfigFileError(f"unknown environment {env_name!r} ({where}: {known})")
        layers.append(config.environments[env_name])
    layers.extend((from_locust_env, from_env, given_settings))
    for layer in layers:
        for dest, value in layer.items():
            setattr(args, dest, value)
    if file_profile is not None:
        # The file's profile stands for its settings; it may name a built-in one itself.
        args.profile = file_profile.get("profile")
    args.config_path = str(config.path) if config.path else None
    return args


def _dests(command_parser: argparse.ArgumentParser) -> set[str]:
    return {a.dest for a in command_parser._actions}


def _given(
    parser: argparse.ArgumentParser, command_parser: argparse.ArgumentParser, argv: Sequence[str]
) -> argparse.Namespace:
    """Only what the command line itself set: every default suppressed for one parse."""
    saved = [(a, a.default) for a in command_parser._actions]
    try:
        for action, _ in saved:
            if action.option_strings:
                action.default = argparse.SUPPRESS
        return parser.parse_args(argv)
    finally:
        for action, default in saved:
            action.default = default
