"""The committed protobuf modules match the .proto files (regenerate with `make proto`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_protobuf_code_is_current() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_stale_code_is_detected(tmp_path: Path) -> None:
    """The check can fail: a changed .proto in a copy of the tree is reported as stale."""
    import shutil

    copy = tmp_path / "tree"
    for part in ("proto", "scripts", "python/loadforge/_proto", "tests/protos", "tests/_proto"):
        if (ROOT / part).exists():
            shutil.copytree(ROOT / part, copy / part)
    for extra in (ROOT / "benches" / "scenarios").glob("*_pb2*.py*"):
        (copy / "benches" / "scenarios").mkdir(parents=True, exist_ok=True)
        shutil.copy(extra, copy / "benches" / "scenarios" / extra.name)
    plan = copy / "proto" / "loadforge" / "v1" / "plan.proto"
    plan.write_text(plan.read_text() + "\nmessage Extra { string x = 1; }\n")
    proc = subprocess.run(
        [sys.executable, str(copy / "scripts" / "gen_proto.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "stale" in proc.stdout
