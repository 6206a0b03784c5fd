"""Functions on the request path this issue reshaped stay under 60 lines (issue 11).

Covers the operation walk and its users: the engine, limits, authorization, masking, access
control and response shaping. A function that grows past the limit is a sign it does two things.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2] / "gateway"
GUARDED = [
    *sorted((ROOT / "operation").glob("*.py")),
    ROOT / "engine.py",
    *sorted((ROOT / "limits").glob("*.py")),
    ROOT / "auth" / "authorize.py",
    ROOT / "auth" / "masking.py",
    ROOT / "auth" / "access.py",
    ROOT / "executor" / "response.py",
]
LIMIT = 60


@pytest.mark.parametrize("path", GUARDED, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_functions_are_under_the_limit(path: Path) -> None:
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 >= LIMIT
    ]
    assert long == []
