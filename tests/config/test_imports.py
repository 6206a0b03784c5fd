"""The package graph stays acyclic: every module imports first, and the import contracts hold.

A cycle hidden by import order (``import gateway.config  # noqa`` at the top of a package) makes
a module fail when it is the first one imported; each module is imported here into an empty
``gateway`` namespace. The layer and independence contracts are in ``pyproject.toml``
(``[tool.importlinter]``) and checked with import-linter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"

IMPORT_EACH_FIRST = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "gateway" or m.startswith("gateway.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as error:
        failed.append(f"{name}: {type(error).__name__}: {error}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def gateway_modules() -> list[str]:
    names = []
    for path in sorted(GATEWAY.rglob("*.py")):
        parts = path.relative_to(GATEWAY.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_first() -> None:
    modules = gateway_modules()
    assert "gateway.registry.config" in modules
    run = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_FIRST, *modules],
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_import_contracts_hold() -> None:
    """The layers and independence contracts of ``[tool.importlinter]`` (pyproject.toml)."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=GATEWAY.parent,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_sections_import_nothing_they_configure() -> None:
    """A package's ``config.py`` (its configuration section) builds on gateway.sections only."""
    graph = grimp.build_graph("gateway", cache_dir=None)
    sections = [m for m in graph.modules if m.endswith(".config") and m != "gateway.config"]
    assert "gateway.registry.config" in sections
    for module in sections:
        imported = graph.find_modules_directly_imported_by(module)
        assert imported <= {"gateway.sections", "gateway.errors"}, (module, imported)


def test_packages_form_no_cycle() -> None:
    """The graph of top-level packages and modules of gateway/ is acyclic (the package
    sub-commands, entry points named in the layers contract, aside)."""
    graph = grimp.build_graph("gateway", cache_dir=None)
    top = {m: ".".join(m.split(".")[:2]) for m in graph.modules}
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        if module.endswith(".cli"):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if top[module] != top[imported]:
                edges.setdefault(top[module], set()).add(top[imported])

    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            for nxt in edges.get(stack.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    cycles = sorted(f"{a} -> {b}" for a in edges for b in edges[a] if reaches(b, a))
    assert cycles == []
