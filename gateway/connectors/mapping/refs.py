"""Which variables a selection reads: ``$args.nik`` -> ``("$args", "nik")``.

Used by validation (do the referenced arguments and fields exist?) and by entity resolution (the
``$this``/``$batch``/``$args`` keys a connector needs are the ones it references).
"""

from __future__ import annotations

from collections.abc import Iterator

from . import ast


def references(selection: ast.Selection) -> set[tuple[str, str | None]]:
    """(variable, first key or None) for every variable path in ``selection``."""
    found: set[tuple[str, str | None]] = set()
    if selection.path is not None:
        _pathsel(selection.path, found)
    if selection.sub is not None:
        _sub(selection.sub, found)
    return found


def _sub(sub: ast.Sub, found: set[tuple[str, str | None]]) -> None:
    for item in sub.items:
        if isinstance(item, ast.Field):
            if item.sub is not None:
                _sub(item.sub, found)
        elif isinstance(item, ast.Group):
            _sub(item.sub, found)
        else:
            _pathsel(item.value, found)


def _pathsel(sel: ast.PathSel, found: set[tuple[str, str | None]]) -> None:
    start = sel.path.start
    if isinstance(start, ast.VarStart) and start.name not in ("$", "@"):
        first = sel.path.steps[0] if sel.path.steps else None
        found.add((start.name, first.key if isinstance(first, ast.KeyStep) else None))
    if isinstance(start, ast.LitStart):
        _lit(start.lit, found)
    for step in sel.path.steps:
        if isinstance(step, ast.MethodStep):
            for arg in step.args:
                _lit(arg, found)
    if sel.sub is not None:
        _sub(sel.sub, found)


def _lit(lit: ast.Lit, found: set[tuple[str, str | None]]) -> None:
    for child in _children(lit):
        if isinstance(child, ast.PathSel):
            _pathsel(child, found)
        else:
            _lit(child, found)


def _children(lit: ast.Lit) -> Iterator[ast.Lit | ast.PathSel]:
    if isinstance(lit, ast.LitPath):
        yield lit.value
    elif isinstance(lit, ast.LitObject):
        yield from (value for _, value in lit.props)
    elif isinstance(lit, ast.LitArray | ast.LitCoalesce):
        yield from lit.items
    elif isinstance(lit, ast.LitChain):
        yield lit.base
        for step in lit.steps:
            if isinstance(step, ast.MethodStep):
                yield from step.args
