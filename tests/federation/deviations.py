"""Known disagreements of the generated differential test (`deviations.toml`), and matching them.

Each entry names a case, what the operations select (``selects``: coordinates as
``generate.coordinates_of`` writes them, all of which must be selected; ``["*"]``: every operation
of the case), a ``kind`` and why:

- ``ours-bug``: our gateway is wrong (Hive Gateway with the Rust planner answers like Apollo).
- ``apollo-bug``: Apollo Gateway is wrong (Hive answers like us), as a ``<op>.corrected.json``.
- ``implementation-defined``: no single right answer (error texts, codes and paths of failed
  subgraph calls, where the corpus keeps ``*.corrected.json`` for Apollo's); the gateways may all
  differ, but the ``data`` must still agree.

``witnesses`` are operation ids (``topic/case#index``) of the default run (seed 0, default count)
that show the disagreement: they must still disagree (an ``ours-bug`` witness is a strict xfail,
so fixing the planner turns the test red until the entry goes). Other operations that match
``selects`` may disagree (explained) or agree.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.federation.generate import GeneratedOperation

DEVIATIONS_PATH = Path(__file__).parent / "deviations.toml"
Kind = Literal["ours-bug", "apollo-bug", "implementation-defined"]
KINDS: tuple[Kind, ...] = ("ours-bug", "apollo-bug", "implementation-defined")


@dataclass(frozen=True, slots=True)
class Deviation:
    case: str
    kind: Kind
    selects: frozenset[str]
    reason: str
    witnesses: frozenset[str] = frozenset()

    def matches(self, operation: GeneratedOperation) -> bool:
        if operation.case_id != self.case:
            return False
        if operation.id in self.witnesses or "*" in self.selects:
            return True
        return bool(self.selects) and self.selects <= operation.coordinates

    def describe(self) -> str:
        return f"{self.kind} in {self.case}: {self.reason}"


def load_deviations(path: Path = DEVIATIONS_PATH, *, witnesses: bool = True) -> list[Deviation]:
    """The entries of ``deviations.toml``; a malformed entry raises ``ValueError``.

    ``witnesses=False`` (another seed: the ids name other operations) keeps only ``selects``."""
    raw = tomllib.loads(path.read_text()) if path.exists() else {}
    found = []
    for number, entry in enumerate(raw.get("deviation", [])):
        unknown = set(entry) - {"case", "kind", "selects", "reason", "witnesses"}
        if unknown or entry.get("kind") not in KINDS or not entry.get("reason"):
            raise ValueError(f"{path.name}: deviation {number} is malformed: {entry}")
        if entry["kind"] == "ours-bug" and "*" in entry.get("selects", ()):
            raise ValueError(f"{path.name}: deviation {number}: an ours-bug cannot cover a case")
        if not entry.get("selects") and not entry.get("witnesses"):
            raise ValueError(f"{path.name}: deviation {number} has neither selects nor witnesses")
        found.append(
            Deviation(
                case=entry["case"],
                kind=entry["kind"],
                selects=frozenset(entry.get("selects", ())),
                reason=" ".join(entry["reason"].split()),
                witnesses=frozenset(entry.get("witnesses", ()) if witnesses else ()),
            )
        )
    return found


def witness_slots(deviations: list[Deviation]) -> list[tuple[str, int]]:
    """(case id, index) of every witness, so that each runs whatever the total count is."""
    found = []
    for deviation in deviations:
        for witness in sorted(deviation.witnesses):
            case_id, _, index = witness.rpartition("#")
            found.append((case_id, int(index)))
    return found


def deviation_of(operation: GeneratedOperation, deviations: list[Deviation]) -> Deviation | None:
    """The first entry that explains a disagreement on ``operation`` (witness entries first)."""
    for deviation in deviations:
        if operation.id in deviation.witnesses:
            return deviation
    return next((d for d in deviations if d.matches(operation)), None)
