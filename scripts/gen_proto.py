"""Generate the Python protobuf/gRPC modules for proto/loadforge/v1 into python/loadforge/_proto.

    python scripts/gen_proto.py            # write the generated modules
    python scripts/gen_proto.py --check    # exit 1 when the committed modules are stale

protoc writes `from loadforge.v1 import x_pb2`; the modules live flat in
`loadforge._proto`, so those imports are rewritten.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUT = ROOT / "python" / "loadforge" / "_proto"
IMPORT = re.compile(r"^from loadforge\.v1 import (\w+) as", re.MULTILINE)


def generate(dest: Path) -> dict[str, str]:
    from grpc_tools import protoc  # dev dependency, imported late

    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "protoc",
            f"-I{PROTO_ROOT}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *sources,
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        files: dict[str, str] = {}
        for path in sorted(Path(tmp).rglob("*.py*")):
            text = IMPORT.sub(r"from loadforge._proto import \1 as", path.read_text())
            files[path.name] = text
    files["__init__.py"] = '"""Generated protobuf modules (scripts/gen_proto.py). Do not edit."""\n'
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the output is stale")
    args = parser.parse_args()
    files = generate(OUT)
    if args.check:
        stale = [n for n, t in files.items() if not (OUT / n).exists() or (OUT / n).read_text() != t]
        extra = [p.name for p in OUT.glob("*_pb2*.py*") if p.name not in files]
        if stale or extra:
            print(f"stale generated protobuf code: {stale + extra}; run `make proto`")
            return 1
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (OUT / name).write_text(text)
    print(f"wrote {len(files)} files to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
