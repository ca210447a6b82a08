"""Unpack a scenario bundle on a worker, refusing anything that escapes its folder."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path, PurePosixPath

from loadforge._proto import plan_pb2


class BundleError(Exception):
    """The bundle is damaged or tries to write outside its folder."""


def unpack(bundle: plan_pb2.Bundle, into: Path | None = None) -> Path:
    """Write the bundle's files under a fresh folder; return the entry file's path."""
    root = Path(into or tempfile.mkdtemp(prefix="loadforge-bundle-"))
    for item in bundle.files:
        rel = PurePosixPath(item.path)
        if rel.is_absolute() or ".." in rel.parts:
            raise BundleError(f"bundle file {item.path!r} points outside the bundle")
        if item.sha256 and hashlib.sha256(item.content).hexdigest() != item.sha256:
            raise BundleError(f"bundle file {item.path!r} does not match its hash")
        target = root.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.content)
    return root.joinpath(*PurePosixPath(bundle.entry).parts)
