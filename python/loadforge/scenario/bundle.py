"""Build the scenario bundle: the file, the local modules it imported, its data files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from loadforge._proto import plan_pb2


def _file(root: Path, path: Path) -> plan_pb2.BundleFile:
    content = path.read_bytes()
    return plan_pb2.BundleFile(
        path=path.relative_to(root).as_posix(),
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def build_bundle(
    entry: Path, modules: Iterable[Path], data_files: Iterable[Path]
) -> plan_pb2.Bundle:
    """Files are stored relative to the entry file's folder, each with its sha256."""
    root = entry.parent
    seen: set[Path] = set()
    files = []
    for path in [entry, *sorted(modules), *data_files]:
        if path in seen:
            continue
        seen.add(path)
        files.append(_file(root, path))
    return plan_pb2.Bundle(entry=entry.name, files=files)


def local_modules(root: Path, module_files: Iterable[str | None]) -> list[Path]:
    """The module files importable from `root`: `root/x.py` and packages `root/pkg/...`
    (helpers, generated *_pb2.py). Files under plain folders are not importable from
    `root`, so they are left out."""
    found = []
    for name in module_files:
        if not name or not name.endswith(".py"):
            continue
        path = Path(name).resolve()
        if not path.is_relative_to(root) or "__pycache__" in path.parts:
            continue
        parts = path.relative_to(root).parts
        folders = [root.joinpath(*parts[:i]) for i in range(1, len(parts))]
        if all((folder / "__init__.py").is_file() for folder in folders):
            found.append(path)
    return found
