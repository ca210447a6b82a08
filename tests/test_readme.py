"""The README's "From a test suite" example runs as written, in a fresh directory.

The snippet is copied out of README.md into a temporary folder and run by pytest there,
against the demo target (`API_URL`), so the README cannot drift from what works.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from loadforge.testing import DemoProcess

README = Path(__file__).parent.parent / "README.md"


def _snippet(section: str) -> str:
    text = README.read_text()
    start = text.index(f"### {section}")
    match = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert match, section
    return match.group(1)


def test_test_suite_example_runs_in_a_fresh_directory(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    (tmp_path / "test_load.py").write_text(_snippet("From a test suite"))
    env = {**os.environ, "API_URL": demo_target.http_url}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_load.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout, done.stdout
