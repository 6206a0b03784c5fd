"""One corner case, three security controls: each handles it through the same operation walk.

The case: a field behind ``@include(if: $v)`` inside a named fragment on an interface. On the zoo
supergraph (tests/auth/abstract) ``Animal.name`` carries ``@policy(birdwatch)`` (lifted from
``Bird.name``). Authorization reports the refusal only when the request includes the field, yet its
rewrite (and so the plan) does not depend on ``$v``; masking masks it exactly when the shaper
returns it; cost, blind to variable values, always counts it. A literal ``@include(if: false)``
excludes it from all three.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import DocumentNode, OperationDefinitionNode, build_schema, parse, print_ast
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.auth.access import AccessControl
from gateway.auth.config import IdentifierKind, IdentifiersSection, PolicySection
from gateway.auth.cursors import CursorSeal
from gateway.auth.identifiers import Identifiers
from gateway.auth.masking import Masker
from gateway.auth.principal import Principal
from gateway.executor.response import ResponseShaper
from gateway.limits.config import CostSection
from gateway.limits.cost import CostEstimator
from gateway.operation import OperationWalk
from gateway.supergraph import Supergraph, load_supergraph
from tests.auth.harness import dev_section

ZOO = Path(__file__).parents[1] / "auth" / "abstract" / "supergraph.graphql"
HIDDEN = """
query Seen($v: Boolean!) { animals { ...Seen } }
fragment Seen on Animal { id name @include(if: $v) }
"""
LITERAL = HIDDEN.replace("@include(if: $v)", "@include(if: false)")
CALLER = Principal(authenticated=True, application="zoo-app")

KEY = b"test-identifier-key-0123456789abcdef"


@pytest.fixture(scope="module")
def zoo() -> Supergraph:
    return load_supergraph(ZOO.read_text(), authorization_enforced=True)


def parsed(query: str) -> tuple[DocumentNode, OperationDefinitionNode]:
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return document, operation


@pytest.fixture(scope="module")
def access(zoo: Supergraph) -> AccessControl:
    # the caller is authenticated but not of the OPD the policy names: Animal.name is refused
    policies = {"birdwatch": PolicySection(opds=["dinas-kehutanan"])}
    return AccessControl(zoo, dev_section(policies=policies))


def authorize(access: AccessControl, query: str, variables: dict[str, Any]) -> Any:
    document, operation = parsed(query)
    return access.prepare(CALLER, query, document, operation, variables)


def test_authorization_reports_the_refusal_only_when_the_field_is_included(
    access: AccessControl,
) -> None:
    included = authorize(access, HIDDEN, {"v": True})
    excluded = authorize(access, HIDDEN, {"v": False})
    assert [(e["path"], e["extensions"]["code"]) for e in included.errors] == [
        (["animals", "name"], "UNAUTHORIZED_FIELD_OR_TYPE")
    ]
    assert excluded.errors == [] and not excluded.rejection
    # the rewrite and the plan key are the document's, whatever $v is (plans stay cached per
    # document and rights): the refused field is removed for both
    assert included.authorized is excluded.authorized
    assert included.plan_key == excluded.plan_key != frozenset()
    assert (
        included.decided.coordinates
        == excluded.decided.coordinates
        == {
            "Query.animals",
            "Animal.id",
        }
    )
    assert included.authorized.document is not None
    assert "name" not in print_ast(included.authorized.document)
    literal = authorize(access, LITERAL, {})
    assert literal.errors == [] and literal.plan_key == frozenset()


def shaped_and_masked(zoo: Supergraph, query: str, variables: dict[str, Any]) -> Any:
    document, operation = parsed(query)
    shaper = ResponseShaper(zoo.api_schema, document, operation)
    raw = {"animals": [{"__typename": "Bird", "id": "b1", "name": "1871011204900001"}]}
    data, errors = shaper.shape(raw, variables)
    assert errors == []
    section = IdentifiersSection(
        kinds={"name": IdentifierKind(fields=["Bird.name"], reveal_scope="r")}
    )
    identifiers = Identifiers(section, KEY)
    masker = Masker(zoo.api_schema, identifiers, CursorSeal(KEY), zoo.possible_types)
    walk = OperationWalk(document, operation, zoo.api_schema, variables)
    masker.mask_data(data, walk, frozenset({"name"}), "app")
    return data


def test_masking_masks_the_field_exactly_when_the_response_holds_it(zoo: Supergraph) -> None:
    section = IdentifiersSection(
        kinds={"name": IdentifierKind(fields=["Bird.name"], reveal_scope="r")}
    )
    pseudonym = Identifiers(section, KEY).pseudonym("name", "app", "1871011204900001")
    assert shaped_and_masked(zoo, HIDDEN, {"v": True}) == {
        "animals": [{"id": "b1", "name": pseudonym}]
    }
    assert shaped_and_masked(zoo, HIDDEN, {"v": False}) == {"animals": [{"id": "b1"}]}
    assert shaped_and_masked(zoo, LITERAL, {}) == {"animals": [{"id": "b1"}]}


COST_SCHEMA = build_schema(
    """
    directive @cost(weight: Int!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
    directive @listSize(assumedSize: Int, slicingArguments: [String!]) on FIELD_DEFINITION
    type Query { animals: [Animal!]! @listSize(assumedSize: 10) }
    interface Animal { id: ID! name: String! @cost(weight: 5) }
    type Bird implements Animal { id: ID! name: String! @cost(weight: 5) }
    """
)


def test_cost_counts_the_field_whatever_the_variables_and_not_when_literally_excluded() -> None:
    estimator = CostEstimator(CostSection())
    document, operation = parsed(HIDDEN)
    # blind to variable values: the estimate is cached with the document
    assert estimator.estimate(COST_SCHEMA, document, operation) == 10 * (1 + 5)
    document, operation = parsed(LITERAL)
    assert estimator.estimate(COST_SCHEMA, document, operation) == 10 * 1


CONDITIONAL = """
query C($a: Boolean!, $b: Boolean!) {
  animals { id ...Named @include(if: $a) ... on Dog @skip(if: $b) { breed } }
  keeper @include(if: $b) { name secret @skip(if: $a) }
}
fragment Named on Animal { name }
"""


@settings(max_examples=8, deadline=None)
@given(a=st.booleans(), b=st.booleans())
def test_authorization_reports_what_the_values_written_in_would_refuse(
    access: AccessControl, a: bool, b: bool
) -> None:
    variables = {"a": a, "b": b}
    literal = CONDITIONAL.replace("$a)", f"{str(a).lower()})").replace("$b)", f"{str(b).lower()})")
    assert authorize(access, CONDITIONAL, variables).errors == authorize(access, literal, {}).errors
