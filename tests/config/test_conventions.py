"""Request-level conventions have one home each."""

from __future__ import annotations

import re
from pathlib import Path

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"


def test_error_dict_is_declared_once() -> None:
    declared = sorted(
        str(path.relative_to(GATEWAY))
        for path in GATEWAY.rglob("*.py")
        if re.search(r"^ErrorDict\b.*=", path.read_text(), re.MULTILINE)
    )
    assert declared == ["errors.py"]


def test_the_request_id_header_is_read_in_one_place() -> None:
    readers = sorted(
        str(path.relative_to(GATEWAY))
        for path in GATEWAY.rglob("*.py")
        if "x-request-id" in path.read_text().lower()
    )
    # the default of [http] request_id_header, and its place in the CORS default headers
    assert readers == ["http/config.py"]


def test_access_control_is_built_in_the_composition_root_only() -> None:
    builders = sorted(
        str(path.relative_to(GATEWAY))
        for path in GATEWAY.rglob("*.py")
        if re.search(r"(?<!class )AccessControl\(", path.read_text())
    )
    assert builders == ["assembly.py"]
