"""The README's first command: start the demo target, load-test it, print the report.

make demo        # or: python scripts/demo.py [--users 20] [--run-time 10s]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="20")
    parser.add_argument("--run-time", default="10s")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "demo.py"))
    args = parser.parse_args()

    server = subprocess.Popen(
        [sys.executable, "-m", "loadforge.demo", "--port", "0", "--grpc-port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("demo target:"):
            print(f"demo target did not start: {line!r}", file=sys.stderr)
            return 3
        http_url = line.split()[2]
        print(line.strip(), flush=True)
        out = ROOT / "out"
        out.mkdir(exist_ok=True)
        cmd = [
            sys.executable, "-m", "loadforge", "run", args.scenario,
            "-H", http_url, "-u", args.users, "-r", args.users, "-t", args.run_time,
            "--json", str(out / "demo.json"), "--csv", str(out / "demo"),
            "--html", str(out / "demo.html"),
        ]  # fmt: skip
        print("$ loadforge " + " ".join(cmd[3:]), flush=True)
        return subprocess.call(cmd)
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
