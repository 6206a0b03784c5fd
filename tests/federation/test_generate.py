"""The operation generator and the deviations list of the generated differential test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse, validate
from graphql.execution.values import get_variable_values

from gateway.supergraph import load_supergraph
from tests.federation.corpus import Case, discover_cases
from tests.federation.deviations import (
    deviation_of,
    load_deviations,
    witness_slots,
)
from tests.federation.generate import (
    SHADOWING_ALIAS,
    GeneratedOperation,
    OperationGenerator,
    coordinates_of,
    spread,
)
from tests.federation.unshadow import renamed_back, unshadowed

CASES = discover_cases()


def test_operations_are_deterministic_by_seed() -> None:
    case = discover_cases(["abstract/partial-union"])[0]
    first = OperationGenerator.for_case(case, seed=1).operations(range(5))
    again = OperationGenerator.for_case(case, seed=1).operations(range(5))
    other = OperationGenerator.for_case(case, seed=2).operations(range(5))
    assert [o.query for o in first] == [o.query for o in again]
    assert [o.variables for o in first] == [o.variables for o in again]
    assert [o.query for o in first] != [o.query for o in other]
    assert [o.id for o in first] == [f"abstract/partial-union#{i}" for i in range(5)]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_operations_are_valid_against_the_api_schema(case: Case) -> None:
    supergraph = load_supergraph(case.supergraph_path.read_text())
    for operation in OperationGenerator.for_case(case, seed=0).operations(range(6)):
        document = parse(operation.query)
        assert validate(supergraph.api_schema, document) == [], operation.query
        # Every variable the operation declares has a value of its type.
        definition = document.definitions[0]
        assert isinstance(definition, OperationDefinitionNode)
        coerced = get_variable_values(
            supergraph.api_schema, definition.variable_definitions or (), operation.variables or {}
        )
        assert not isinstance(coerced, list), coerced  # a list of errors
        declared = {d.variable.name.value for d in definition.variable_definitions or ()}
        assert declared == set(operation.variables or {}), operation.query


def test_the_generator_draws_every_construct_it_promises() -> None:
    """Over the corpus, a modest number of operations already uses each construct."""
    texts = [
        operation.query
        for case in CASES
        for operation in OperationGenerator.for_case(case, seed=0).operations(range(8))
    ]
    joined = "\n".join(texts)
    assert "fragment F0 on " in joined and "...F0" in joined  # named fragments
    assert "... on " in joined  # inline fragments with a type condition
    assert "@skip(if: $v" in joined and "@include(if: $v" in joined  # conditions on variables
    assert "@skip(if: true)" in joined or "@include(if: false)" in joined  # literal conditions
    assert ": __typename" in joined and "\n    __typename" in joined  # __typename, aliased too
    assert "(id: " in joined or "(upc: " in joined  # arguments from the corpus' data
    assert any(
        line.strip().startswith(("a: ", "b: ", "c: ")) for t in texts for line in t.splitlines()
    )
    assert "mutation Generated" in joined  # root/mutations-in-order has a Mutation type
    # Inline fragments on members of a union (partial-union: Result = Song | Book | Movie).
    assert "... on Song" in joined and "... on Movie" in joined
    operations = [
        operation
        for case in CASES
        for operation in OperationGenerator.for_case(case, seed=0).operations(range(8))
    ]
    # Aliases that are another field's name (a key or required field, often).
    assert any(SHADOWING_ALIAS in operation.coordinates for operation in operations)
    # Conditions nested in conditions.
    nested = re.compile(r"\.\.\. @(skip|include)\(if: [^)]*\) \{[^{}]*\.\.\. @(skip|include)")
    assert any(nested.search(" ".join(o.query.split())) for o in operations)


def test_coordinates_name_fields_and_type_conditions() -> None:
    case = discover_cases(["abstract/partial-union"])[0]
    schema = load_supergraph(case.supergraph_path.read_text()).api_schema
    document = parse(
        "{ search { __typename ... on Book { t: title } ...M } } fragment M on Movie { id }"
    )
    assert coordinates_of(schema, document) == {
        "Query.search",
        "Result.__typename",
        "Result>Book",
        "Book.title",
        "Movie.id",
        "Result>Movie",
    }


def test_coordinates_name_aliases_that_shadow_fields() -> None:
    case = discover_cases(["abstract/partial-union"])[0]
    schema = load_supergraph(case.supergraph_path.read_text()).api_schema
    document = parse("{ search { ... on Book { id: title title2: title } } }")
    assert coordinates_of(schema, document) == {
        "Query.search",
        "Result>Book",
        "Book.title",
        "Book.id=title",
        SHADOWING_ALIAS,
    }


def test_slots_spread_a_total_over_the_cases() -> None:
    slots = spread(7, CASES[:3])
    assert [(c.id, i) for c, i in slots] == [
        (CASES[0].id, 0),
        (CASES[1].id, 0),
        (CASES[2].id, 0),
        (CASES[0].id, 1),
        (CASES[1].id, 1),
        (CASES[2].id, 1),
        (CASES[0].id, 2),
    ]


def test_every_deviation_names_a_case_and_explains_itself() -> None:
    ids = {case.id for case in CASES}
    for deviation in load_deviations():
        assert deviation.case in ids, deviation.case
        assert len(deviation.reason) > 40
        assert all(w.startswith(deviation.case + "#") for w in deviation.witnesses)
    assert all(case_id in ids for case_id, _ in witness_slots(load_deviations()))


def _operation(case: str, index: int, coordinates: set[str]) -> GeneratedOperation:
    return GeneratedOperation(case, index, "{ x }", None, frozenset(coordinates))


def test_deviations_match_witnesses_selections_or_whole_cases(tmp_path: Path) -> None:
    path = tmp_path / "deviations.toml"
    path.write_text(
        """
[[deviation]]
case = "a/b"
kind = "ours-bug"
selects = ["T.f", "T>U"]
witnesses = ["a/b#3"]
reason = "why"

[[deviation]]
case = "a/c"
kind = "implementation-defined"
selects = ["*"]
reason = "why not"
"""
    )
    deviations = load_deviations(path)
    assert deviation_of(_operation("a/b", 3, set()), deviations) is deviations[0]
    assert deviation_of(_operation("a/b", 4, {"T.f", "T>U", "Q.x"}), deviations) is deviations[0]
    assert deviation_of(_operation("a/b", 4, {"T.f"}), deviations) is None
    assert deviation_of(_operation("a/c", 9, set()), deviations) is deviations[1]
    assert witness_slots(deviations) == [("a/b", 3)]
    # Another seed: witness ids name other operations, so only `selects` matches.
    without = load_deviations(path, witnesses=False)
    assert deviation_of(_operation("a/b", 3, set()), without) is None


@pytest.mark.parametrize(
    "entry",
    [
        'case = "a/b"\nkind = "mystery"\nselects = ["T.f"]\nreason = "r"',
        'case = "a/b"\nkind = "ours-bug"\nselects = ["*"]\nreason = "r"',
        'case = "a/b"\nkind = "ours-bug"\nreason = "r"',
        'case = "a/b"\nkind = "ours-bug"\nselects = ["T.f"]',
        'case = "a/b"\nkind = "ours-bug"\nselects = ["T.f"]\nreason = "r"\ntypo = 1',
    ],
)
def test_a_malformed_deviation_is_refused(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "deviations.toml"
    path.write_text("[[deviation]]\n" + entry + "\n")
    with pytest.raises(ValueError, match="deviation 0"):
        load_deviations(path)


def test_unshadowing_renames_only_aliases_that_name_another_field() -> None:
    case = discover_cases(["abstract/partial-union"])[0]
    schema = load_supergraph(case.supergraph_path.read_text()).api_schema
    query = "{ search { ... on Book { id: title t: title } } }"
    assert " ".join(unshadowed(schema, query).split()) == (
        "{ search { ... on Book { unshadowed_id: title t: title } } }"
    )
    assert renamed_back({"search": [{"unshadowed_id": "Dune", "t": "Dune"}]}) == {
        "search": [{"id": "Dune", "t": "Dune"}]
    }
