"""Mutation differential: small edits to every corpus subgraph set, composed by both composers.

Each mutant removes a ``@shareable`` or ``@external``, renames a key field, drops a field, flips a
field's nullability, changes a scalar type, or breaks a ``@requires``/``@provides`` field name.
Where the npm composer refuses a mutant, ours must refuse it too; where both accept, the
supergraphs must be equivalent. Where ours agrees with ``@apollo/composition`` instead (both
refuse, or both give equivalent supergraphs), Apollo's composer is the judge and the mutant
passes. One known quirk of the reference is allowed (it omits the ``@join__field``s of interface
fields in some ``@interfaceObject`` set-ups; the committed corpus corrects the same quirk by hand).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gateway.composition.compose import compose
from tests.composition.conftest import FEDERATION_CASES, REFERENCE, sources_in
from tests.composition.supergraph_diff import diff_supergraphs

pytestmark = [pytest.mark.node, pytest.mark.slow]

PER_FILE = 2
REFERENCE_PACKAGES = ("@theguild", "@apollo/composition")
SEED = 6


def _mutants(text: str) -> list[tuple[str, str]]:
    out = []
    for m in re.finditer(r" @shareable", text):
        out.append(("noshare", text[: m.start()] + text[m.end() :]))
    for m in re.finditer(r" @external", text):
        out.append(("noext", text[: m.start()] + text[m.end() :]))
    for m in re.finditer(r'@key\(fields: "(\w+)', text):
        out.append(("badkey", text[: m.start(1)] + m.group(1) + "x" + text[m.end(1) :]))
    for m in re.finditer(r'@(requires|provides)\(fields: "(\w+)', text):
        out.append(("badset", text[: m.start(2)] + m.group(2) + "z" + text[m.end(2) :]))
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if re.match(r"\s+\w+(\(.*\))?: [\w\[\]!]+", line):
            before, after = lines[:i], lines[i + 1 :]
            out.append(("drop", "\n".join(before + after)))
            flipped = (
                line.replace("!", "", 1)
                if "!" in line
                else re.sub(r"(: [\w\]]+)", r"\1!", line, count=1)
            )
            out.append(("nullflip", "\n".join([*before, flipped, *after])))
            retyped = re.sub(
                r": (Int|String|ID|Float|Boolean)",
                ": Float" if "Float" not in line else ": Int",
                line,
                count=1,
            )
            out.append(("retype", "\n".join([*before, retyped, *after])))
    return out


def _interface_object_quirk(difference: str) -> bool:
    return "expected []" in difference and "join__field" in difference


def test_mutants_agree_with_the_reference(tmp_path: Path) -> None:
    node = shutil.which("node")
    installed = all((REFERENCE / "node_modules" / p).exists() for p in REFERENCE_PACKAGES)
    if node is None or not installed:
        pytest.skip("the reference composer is not installed (cd tools/reference && npm ci)")
    rng = random.Random(SEED)
    valid = Path(__file__).parent / "valid"
    sets = sorted(FEDERATION_CASES.glob("*/*/subgraphs")) + sorted(valid.glob("*/subgraphs"))
    count = 0
    for subgraphs in sets:
        files = sorted(subgraphs.glob("*.graphql"))
        for file in files:
            mutants = _mutants(file.read_text())
            rng.shuffle(mutants)
            for kind, text in mutants[:PER_FILE]:
                count += 1
                target = tmp_path / "m" / f"{count:04d}-{kind}" / "subgraphs"
                target.mkdir(parents=True)
                for other in files:
                    (target / other.name).write_text(text if other == file else other.read_text())
    answers = _batch(node, tmp_path, "guild")
    judged = _batch(node, tmp_path, "apollo")
    missed, lenient, different = [], [], []
    for key, answer in sorted(answers.items()):
        ours = compose(sources_in(tmp_path / key / "subgraphs"))
        if _agrees(ours.supergraph_sdl, judged[key]):
            continue  # where the two npm composers disagree, Apollo's is the judge
        if "errors" in answer and ours.supergraph_sdl is not None:
            missed.append((key, answer["errors"][0]["message"]))
        elif "supergraph" in answer and ours.supergraph_sdl is None:
            lenient.append((key, ours.errors[0].message))
        elif "supergraph" in answer and ours.supergraph_sdl is not None:
            diff = diff_supergraphs(ours.supergraph_sdl, answer["supergraph"])
            if [d for d in diff if not _interface_object_quirk(d)]:
                different.append((key, diff[:3]))
    assert count > 150
    assert missed == []  # every mutant the reference refuses, we refuse
    assert different == []
    # We are stricter in one known place: an @interfaceObject field whose type contradicts the
    # interface's (the reference accepts e.g. ID! against Float!).
    assert all("has incompatible types" in message for _, message in lenient), lenient


def _batch(node: str, directory: Path, composer: str) -> dict[str, Any]:
    done = subprocess.run(
        [node, str(REFERENCE / "compose.mjs"), "--composer", composer, "--batch", str(directory)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    answers: dict[str, Any] = json.loads(done.stdout)
    return answers


def _agrees(ours: str | None, answer: dict[str, Any]) -> bool:
    """Ours and the npm composer both accept with equivalent supergraphs, or both refuse."""
    if ours is None or "supergraph" not in answer:
        return ours is None and "supergraph" not in answer
    return diff_supergraphs(ours, answer["supergraph"]) == []
