"""Find the source line of a class, a class attribute or a module-level name.

Errors found after import (a bad weight, a task that is not callable) still point at the
line the user wrote, by reading the file's syntax tree: no traceback needed.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
import traceback
from pathlib import Path
from types import TracebackType


@functools.lru_cache(maxsize=64)
def _parse(file: str, mtime_ns: int, size: int) -> ast.Module | None:
    try:
        return ast.parse(Path(file).read_text(encoding="utf-8"), filename=file)
    except (OSError, SyntaxError, ValueError):
        return None


def _tree(file: str) -> ast.Module | None:
    # Keyed by mtime and size so a rewritten file is parsed again.
    try:
        st = Path(file).stat()
    except OSError:
        return None
    return _parse(file, st.st_mtime_ns, st.st_size)


def _assigned_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    return []


def class_file(cls: type) -> str | None:
    """The file a class was defined in, when known."""
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None)
    if file is None:
        try:
            file = inspect.getfile(cls)
        except (TypeError, OSError):
            return None
    return str(file)


def _class_node(cls: type) -> tuple[str, ast.ClassDef] | None:
    file = class_file(cls)
    tree = _tree(file) if file else None
    if file is None or tree is None:
        return None
    body: list[ast.stmt] = tree.body
    node: ast.ClassDef | None = None
    for part in cls.__qualname__.split("."):
        node = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if node is None:
            return None
        body = node.body
    return (file, node) if node is not None else None


def class_location(cls: type) -> tuple[str | None, int | None]:
    """`(file, line)` of `class X` (the line of `class`, after any decorators)."""
    found = _class_node(cls)
    if found is None:
        return class_file(cls), None
    return found[0], found[1].lineno


def attr_location(cls: type, attr: str) -> tuple[str | None, int | None]:
    """`(file, line)` where `attr` is assigned in the class (or the base) that defines it."""
    owner = next((k for k in cls.__mro__ if attr in vars(k)), cls)
    found = _class_node(owner)
    if found is None:
        return class_location(owner)
    file, node = found
    for stmt in node.body:
        if attr in _assigned_names(stmt):
            return file, stmt.lineno
    return file, node.lineno


def module_location(file: str, name: str, index: int | None = None) -> int | None:
    """Line of a module-level assignment to `name`; with `index`, of that list element."""
    tree = _tree(file)
    if tree is None:
        return None
    for stmt in tree.body:
        if name in _assigned_names(stmt):
            value = getattr(stmt, "value", None)
            if index is not None and isinstance(value, ast.List | ast.Tuple):
                if 0 <= index < len(value.elts):
                    return value.elts[index].lineno
            return stmt.lineno
    return None


def traceback_line(tb: TracebackType | None, file: str) -> int | None:
    """The deepest line of `file` in a traceback (where the scenario called into trouble)."""
    line = None
    target = str(Path(file).resolve())
    for frame in traceback.extract_tb(tb):
        if str(Path(frame.filename).resolve()) == target:
            line = frame.lineno
    return line
