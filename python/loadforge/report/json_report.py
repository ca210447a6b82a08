"""`--json PATH`: the run summary as JSON (shape in DESIGN.md, plus the time series)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loadforge.result import Result


def write_json(result: Result, path: str | Path) -> None:
    """Write `result.to_json()` to `path` (parent folders are created)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(result.to_json() + "\n", encoding="utf-8")
