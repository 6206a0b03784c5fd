"""The syntax tree of the connectors mapping language (Apollo's JSONSelection).

Immutable, position-free values: the parser is the only producer, the evaluator the only
consumer. Names follow the grammar in docs/connectors.md ("Mapping language").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class KeyStep:
    """``.key`` (``optional``: ``.key?``, v0.3)."""

    key: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class MethodStep:
    """``->name(arg, ...)``; arguments are literal expressions evaluated by the method."""

    name: str
    args: tuple[Lit, ...] = ()


Step = KeyStep | MethodStep


@dataclass(frozen=True, slots=True)
class VarStart:
    """``$`` (name ``"$"``), ``@``, or a named variable such as ``$args``."""

    name: str


@dataclass(frozen=True, slots=True)
class KeyStart:
    """A path starting at a key of ``$`` (``a.b``)."""

    key: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class LitStart:
    """``$( literal )``."""

    lit: Lit


@dataclass(frozen=True, slots=True)
class Path:
    start: VarStart | KeyStart | LitStart
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True, slots=True)
class PathSel:
    """A path, optionally followed by a subselection applied to its value."""

    path: Path
    sub: Sub | None = None


@dataclass(frozen=True, slots=True)
class Field:
    """``key`` or ``key { ... }``: output key = input key."""

    key: str
    sub: Sub | None = None
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Alias:
    """``alias: path``."""

    alias: str
    value: PathSel


@dataclass(frozen=True, slots=True)
class Group:
    """``alias: { ... }``: a new object built from the same ``$``."""

    alias: str
    sub: Sub


@dataclass(frozen=True, slots=True)
class Merge:
    """An anonymous path ending in ``{ ... }``: its fields merge into the enclosing object."""

    value: PathSel


Named = Field | Alias | Group | Merge


@dataclass(frozen=True, slots=True)
class Sub:
    items: tuple[Named, ...]


@dataclass(frozen=True, slots=True)
class Selection:
    """A whole mapping: either one anonymous path (its value is the result) or named items."""

    path: PathSel | None = None
    sub: Sub | None = None
    source: str = ""


# ------------------------------------------------------------------ literal expressions


@dataclass(frozen=True, slots=True)
class LitValue:
    """A JSON primitive: string, number, true, false, null."""

    value: Any


@dataclass(frozen=True, slots=True)
class LitObject:
    props: tuple[tuple[str, Lit], ...]


@dataclass(frozen=True, slots=True)
class LitArray:
    items: tuple[Lit, ...]


@dataclass(frozen=True, slots=True)
class LitPath:
    value: PathSel


@dataclass(frozen=True, slots=True)
class LitChain:
    """A literal followed by steps: ``"ff"->parseInt(16)``, ``{ a: 1 }.a``."""

    base: Lit
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class LitCoalesce:
    """``A ?? B ?? C`` (``op`` ``"??"``) or ``A ?! B`` (``op`` ``"?!"``), v0.3."""

    op: str
    items: tuple[Lit, ...]


Lit = LitValue | LitObject | LitArray | LitPath | LitChain | LitCoalesce
