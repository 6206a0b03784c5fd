"""The connectors mapping language (Apollo's JSONSelection): parse once, apply per response."""

from .ast import Selection
from .errors import SELECTION_SYNTAX, SelectionSyntaxError
from .evaluate import apply
from .parser import DEFAULT_VERSION, Version, parse_selection
from .values import MISSING

__all__ = [
    "DEFAULT_VERSION",
    "MISSING",
    "SELECTION_SYNTAX",
    "Selection",
    "SelectionSyntaxError",
    "Version",
    "apply",
    "parse_selection",
]
