"""Load a scenario file: import it, find its user classes, validate everything.

Any problem raises `ScenarioError` with a short message naming the file and line;
nobody gets a 40-line traceback for a typo.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from loadforge import compat
from loadforge._proto import plan_pb2
from loadforge.events import reset as reset_events
from loadforge.thresholds import Threshold, ThresholdError, parse_threshold

from . import grpc_schema
from .bundle import build_bundle, local_modules
from .errors import InvalidInput, ScenarioError
from .hosts import check_host
from .locate import class_location, module_location, traceback_line
from .shape import LoadTestShape
from .spec import UserSpec, resolve_user
from .user import User


@dataclass
class Scenario:
    """A loaded, validated scenario."""

    path: Path
    module: ModuleType
    users: list[UserSpec]
    thresholds: list[Threshold] = field(default_factory=list)
    shape: type[LoadTestShape] | None = None
    bundle: plan_pb2.Bundle = field(default_factory=plan_pb2.Bundle)
    host: str | None = None
    tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()

    @property
    def classes(self) -> list[type[User]]:
        """The selected user classes, in file order."""
        return [u.cls for u in self.users]

    @property
    def user_classes(self) -> list[type[User]]:
        """Alias of `classes`."""
        return self.classes

    def user(self, name: str) -> UserSpec:
        """The user class spec named `name` (as in `Plan.engine.users[i].name`)."""
        for spec in self.users:
            if spec.name == name:
                return spec
        raise KeyError(name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    message = text[0] if text else ""
    message = message if len(message) <= 300 else message[:297] + "..."
    # The layer's own "not supported" errors read as the ImportError they are.
    kind = "ImportError" if isinstance(exc, compat.Unsupported) else type(exc).__name__
    return f"{kind}: {message}" if message else kind


def _forget_shadowed_modules(root: Path) -> None:
    """Drop modules imported from another folder under a name that `root` has a file for.

    Loading a second scenario in the same process (`loadforge.run` twice in a test suite)
    must import its own `helpers.py` / `x_pb2.py`, not reuse the first folder's, and must
    see it as newly imported so it goes into the bundle.
    """
    for name, loaded in list(sys.modules.items()):
        if "." in name or not (root / f"{name}.py").is_file():
            continue
        file = getattr(loaded, "__file__", None)
        if file and not Path(file).resolve().is_relative_to(root):
            del sys.modules[name]


# Scenarios imported ahead of `load_scenario` (the CLI imports a file early so that its
# `init_command_line_parser` listeners can add options): resolved path -> import result.
_preloaded: dict[Path, tuple[ModuleType, list[Path]]] = {}


def preload(path: str | Path) -> None:
    """Import the scenario now; the next `load_scenario` of the same file uses this import
    (a file runs its module code once)."""
    resolved = Path(path).resolve()
    if not resolved.is_file():
        raise ScenarioError("scenario file not found", file=str(path))
    _preloaded[resolved] = _import(resolved)


def _import(path: Path) -> tuple[ModuleType, list[Path]]:
    """Execute the file as a module with its folder on sys.path; return it and the
    local modules it imported."""
    early = _preloaded.pop(path, None)
    if early is not None:
        return early
    root = str(path.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    name = f"_loadforge_scenario_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ScenarioError("cannot be imported as Python", file=str(path))
    module = importlib.util.module_from_spec(spec)
    _forget_shadowed_modules(path.parent.resolve())
    # `import locust` / `import gevent` resolve to loadforge's layer; listeners of an
    # earlier scenario loaded in this process (a test suite) are dropped.
    compat.install()
    reset_events()
    before = set(sys.modules)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        where = exc.filename or str(path)
        raise ScenarioError(f"syntax error: {exc.msg}", file=where, line=exc.lineno) from None
    except ScenarioError as exc:
        sys.modules.pop(name, None)
        raise exc.located(str(path), traceback_line(exc.__traceback__, str(path))) from None
    except Exception as exc:
        sys.modules.pop(name, None)
        line = traceback_line(exc.__traceback__, str(path))
        raise ScenarioError(_first_line(exc), file=str(path), line=line) from None
    new = [getattr(sys.modules.get(m), "__file__", None) for m in set(sys.modules) - before]
    return module, local_modules(path.parent.resolve(), new)


def _find_classes(module: ModuleType) -> list[type[User]]:
    found: list[type[User]] = []
    for value in vars(module).values():
        if (
            inspect.isclass(value)
            and issubclass(value, User)
            and not value.abstract
            and value not in found
        ):
            found.append(value)
    return found


def _select(
    found: list[type[User]], module: ModuleType, wanted: Sequence[Any], file: str
) -> list[type[User]]:
    chosen: list[type[User]] = []
    for item in wanted:
        if isinstance(item, str):
            cls = getattr(module, item, None) if module is not None else None
            if not (inspect.isclass(cls) and issubclass(cls, User)):
                names = ", ".join(c.__name__ for c in found) or "none"
                raise ScenarioError(f"no user class named {item!r} (found: {names})", file=file)
        elif inspect.isclass(item) and issubclass(item, User):
            cls = item
        else:
            raise ScenarioError(f"classes= takes User subclasses or names, got {item!r}", file=file)
        if cls.__dict__.get("abstract", False):
            raise ScenarioError(f"{cls.__name__} is abstract", file=file)
        chosen.append(cls)
    return chosen


def _find_shape(module: ModuleType, file: str) -> type[LoadTestShape] | None:
    shapes = [
        v
        for v in vars(module).values()
        if inspect.isclass(v) and issubclass(v, LoadTestShape) and not v.__dict__.get("abstract")
    ]
    shapes = list(dict.fromkeys(shapes))
    if len(shapes) > 1:
        second = class_location(shapes[1])
        raise ScenarioError(
            "more than one LoadTestShape: " + ", ".join(s.__name__ for s in shapes),
            file=file,
            line=second[1],
        )
    if shapes and getattr(shapes[0], "tick", None) is LoadTestShape.tick:
        raise ScenarioError(
            f"{shapes[0].__name__} must define tick()", file=file, line=class_location(shapes[0])[1]
        )
    return shapes[0] if shapes else None


def _thresholds(module: ModuleType, file: str) -> list[Threshold]:
    items = getattr(module, "thresholds", None)
    if items is None:
        return []
    if not isinstance(items, list | tuple):
        raise ScenarioError(
            "thresholds must be a list", file=file, line=module_location(file, "thresholds")
        )
    parsed = []
    for index, item in enumerate(items):
        try:
            parsed.append(parse_threshold(item))
        except ThresholdError as exc:
            raise ScenarioError(
                str(exc), file=file, line=module_location(file, "thresholds", index)
            ) from None
    return parsed


def _data_files(module: ModuleType, path: Path) -> list[Path]:
    items = getattr(module, "data_files", None) or []
    file = str(path)
    root = path.parent.resolve()
    found = []
    for index, item in enumerate(items):
        line = module_location(file, "data_files", index)
        if not isinstance(item, str | Path):
            raise ScenarioError(
                f"data_files entries must be paths, got {item!r}", file=file, line=line
            )
        target = (path.parent / item).resolve()
        if not target.is_relative_to(root):
            raise ScenarioError(
                f"data file {item!r} is outside the scenario folder", file=file, line=line
            )
        if not target.is_file():
            raise ScenarioError(f"data file {item!r} not found", file=file, line=line)
        found.append(target)
    return found


def _protos(root: Path) -> list[Path]:
    """`.proto` files compiled by `proto_schema()` from the scenario's folder: workers that
    import the scenario compile them again."""
    root = root.resolve()
    return sorted({p for p in grpc_schema.LOADED_PROTOS if p.is_relative_to(root)})


def load_scenario(
    path: str | Path | None,
    *,
    host: str | None = None,
    tags: Iterable[str] = (),
    exclude_tags: Iterable[str] = (),
    classes: Sequence[Any] | None = None,
) -> Scenario:
    """Import and validate a scenario.

    `classes` (User subclasses or their names) selects the user classes instead of taking
    every non-abstract one in the file; with `path=None` the classes' own module is used
    (`loadforge.run(classes=[...])`).

    >>> scenario = load_scenario("scenarios/demo.py", host="http://127.0.0.1:8000")
    >>> [u.name for u in scenario.users]
    ['Visitor']
    """
    if path is None:
        if not classes or not all(inspect.isclass(c) for c in classes):
            raise ScenarioError("give a scenario path or classes=[UserClass, ...]")
        module = sys.modules[classes[0].__module__]
        file = getattr(module, "__file__", None)
        if file is None:
            raise ScenarioError(f"{classes[0].__name__} is not defined in a file")
        scenario_path = Path(file).resolve()
        # Workers import the same file from the bundle: ship the helpers it has imported.
        loaded = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
        modules = local_modules(scenario_path.parent, loaded)
    else:
        scenario_path = Path(path).resolve()
        if not scenario_path.is_file():
            raise ScenarioError("scenario file not found", file=str(path))
        module, modules = _import(scenario_path)
    file = str(scenario_path)
    found = _find_classes(module)
    chosen = _select(found, module, classes, file) if classes else found
    if not chosen:
        raise ScenarioError(
            "no user classes found (subclass HttpUser or GrpcUser and give it tasks)",
            file=file,
            line=1,
        )
    if host is not None:
        host = check_host(host, "--host")
    tags, exclude_tags = tuple(tags), tuple(exclude_tags)
    users = []
    for cls in chosen:
        try:
            users.append(resolve_user(cls, tags=tags, exclude_tags=exclude_tags))
        except ScenarioError:
            raise
        except InvalidInput as exc:
            loc = class_location(cls)
            raise ScenarioError(str(exc), file=loc[0], line=loc[1]) from None
    users = [u for u in users if u.tasks]
    if not users:
        raise ScenarioError(
            f"no tasks match tags={list(tags)} exclude_tags={list(exclude_tags)}", file=file, line=1
        )
    return Scenario(
        path=scenario_path,
        module=module,
        users=users,
        thresholds=_thresholds(module, file),
        shape=_find_shape(module, file),
        bundle=build_bundle(
            scenario_path,
            modules,
            [*_data_files(module, scenario_path), *_protos(scenario_path.parent)],
        ),
        host=host,
        tags=tags,
        exclude_tags=exclude_tags,
    )
