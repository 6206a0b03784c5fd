"""``jamajama schema write|check``: the subgraph SDL files in ``schema/``.

Each ``schema/<name>.graphql`` is exactly what the subgraph publishes at ``{ _service { sdl } }``.
``write`` regenerates them; ``check`` exits 1 and shows a diff when code and files disagree.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from subgraphs import SUBGRAPHS, load_subgraph


def sdl_of(name: str) -> str:
    from subgraphs.kit.app import service_sdl

    sdl = service_sdl(load_subgraph(name).schema)
    return sdl if sdl.endswith("\n") else sdl + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["write", "check"])
    parser.add_argument("--dir", type=Path, default=Path("schema"), help="default: %(default)s")
    parser.add_argument("names", nargs="*", metavar="NAME", help="subgraphs (default: all)")


def run(args: argparse.Namespace) -> int:
    names = args.names or list(SUBGRAPHS)
    unknown = [n for n in names if n not in SUBGRAPHS]
    if unknown:
        print(f"unknown subgraph(s): {', '.join(unknown)}; known: {', '.join(SUBGRAPHS)}",
              file=sys.stderr)  # fmt: skip
        return 2
    stale = 0
    for name in names:
        path = args.dir / f"{name}.graphql"
        sdl = sdl_of(name)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if args.action == "write":
            if current != sdl:
                args.dir.mkdir(parents=True, exist_ok=True)
                path.write_text(sdl, encoding="utf-8")
                print(f"wrote {path}")
            else:
                print(f"{path} unchanged")
        elif current != sdl:
            stale += 1
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    sdl.splitlines(keepends=True),
                    fromfile=str(path),
                    tofile=f"{name} (_service.sdl)",
                )
            )
    if stale:
        print(f"{stale} schema file(s) out of date: run `jamajama schema write`", file=sys.stderr)
        return 1
    if args.action == "check":
        print(f"{len(names)} schema file(s) match the code")
    return 0
