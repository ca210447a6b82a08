"""Generate the Python protobuf/gRPC modules from the .proto files.

    python scripts/gen_proto.py            # write the generated modules
    python scripts/gen_proto.py --check    # exit 1 when the committed modules are stale

Two trees are generated, each into one flat package:
- proto/ (loadforge.v1, loadforge.demo.v1, ...) -> python/loadforge/_proto
- tests/protos/ (helloworld, used by tests and benches) -> tests/_proto, and its message
  modules (`*_pb2.py`, no stubs) also beside the bench scenarios, which get shipped to
  workers in the scenario bundle only when they live in the scenario's folder

protoc writes imports that follow the proto package path (`from loadforge.v1 import x_pb2`,
`from loadforge.demo.v1 import y_pb2`, or `import x_pb2` for a proto at the root); the
modules live flat in one package, so those imports are rewritten to point there.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `from loadforge.v1 import plan_pb2 as ...`, `from loadforge.demo.v1 import inference_pb2 as ...`
PACKAGE_IMPORT = re.compile(r"^from loadforge(?:\.\w+)* import (\w+_pb2) as", re.MULTILINE)
# `import helloworld_pb2 as helloworld__pb2` (a proto file at the root of its tree)
BARE_IMPORT = re.compile(r"^import (\w+_pb2) as", re.MULTILINE)


@dataclass(frozen=True)
class Tree:
    """One proto source tree and the flat package its modules go to."""

    source: Path
    out: Path
    package: str  # what generated modules import each other from
    docstring: str
    copies: tuple[Path, ...] = ()  # more folders that get the plain *_pb2.py/.pyi modules


TREES = [
    Tree(
        ROOT / "proto",
        ROOT / "python" / "loadforge" / "_proto",
        "loadforge._proto",
        "Generated protobuf modules (scripts/gen_proto.py). Do not edit.",
    ),
    Tree(
        ROOT / "tests" / "protos",
        ROOT / "tests" / "_proto",
        ".",
        "Generated protobuf modules for tests and benches (scripts/gen_proto.py). Do not edit.",
        (ROOT / "benches" / "scenarios",),
    ),
]


def _is_message_module(name: str) -> bool:
    return name.endswith(("_pb2.py", "_pb2.pyi"))


def _rewrite(text: str, package: str) -> str:
    text = PACKAGE_IMPORT.sub(rf"from {package} import \1 as", text)
    return BARE_IMPORT.sub(rf"from {package} import \1 as", text)


def generate(tree: Tree) -> dict[str, str]:
    """Run protoc over every .proto in the tree; return {file name: text} for the output."""
    from grpc_tools import protoc  # dev dependency, imported late

    sources = sorted(str(p.relative_to(tree.source)) for p in tree.source.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "protoc",
            f"-I{tree.source}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *sources,
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        files: dict[str, str] = {}
        for path in sorted(Path(tmp).rglob("*.py*")):
            if path.name in files:
                raise SystemExit(f"two protos generate {path.name}; flat modules need unique names")
            files[path.name] = _rewrite(path.read_text(), tree.package)
    files["__init__.py"] = f'"""{tree.docstring}"""\n'
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the output is stale")
    args = parser.parse_args()
    stale: list[str] = []
    for tree in TREES:
        files = generate(tree)
        outputs = [(tree.out, files)]
        outputs += [
            (folder, {n: t for n, t in files.items() if _is_message_module(n)})
            for folder in tree.copies
        ]
        for out, wanted in outputs:
            if args.check:
                stale += [
                    str((out / n).relative_to(ROOT))
                    for n, t in wanted.items()
                    if not (out / n).exists() or (out / n).read_text() != t
                ]
                stale += [
                    str(p.relative_to(ROOT)) for p in out.glob("*_pb2*.py*") if p.name not in wanted
                ]
                continue
            out.mkdir(parents=True, exist_ok=True)
            for name, text in wanted.items():
                (out / name).write_text(text)
            print(f"wrote {len(wanted)} files to {out.relative_to(ROOT)}")
    if stale:
        print(f"stale generated protobuf code: {stale}; run `make proto`")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
