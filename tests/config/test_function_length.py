"""Functions on the request path stay short enough to read in one screen (under 60 lines).

"Request path": gateway/http, gateway/engine.py, gateway/auth, gateway/executor, gateway/planner,
gateway/limits, gateway/audit, and the composition root that wires them.
"""

from __future__ import annotations

import ast
from pathlib import Path

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
REQUEST_PATH = ("http", "engine.py", "auth", "executor", "planner", "limits", "audit")
WIRING = ("assembly.py", "serve.py", "reload.py", "config.py")
MAX_LINES = 59

#: functions over the limit when this test was written, each owned by other work in progress
#: (the shaper and planner rewrites); a function listed here may shrink, never grow past its size
KNOWN = {
    "executor/response.py::_completer": 63,
    "planner/builder.py::_plan_interface_object": 60,
}


def _files() -> list[Path]:
    files: list[Path] = []
    for name in (*REQUEST_PATH, *WIRING):
        path = GATEWAY / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return [f for f in files if f.exists()]


def test_request_path_functions_are_under_60_lines() -> None:
    too_long = []
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                key = f"{path.relative_to(GATEWAY)}::{node.name}"
                if lines > KNOWN.get(key, MAX_LINES):
                    too_long.append(f"{key} ({lines} lines)")
    assert too_long == []
