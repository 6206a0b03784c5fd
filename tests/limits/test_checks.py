"""Structural limits (gateway/limits/checks.py): fragments expanded, each measured once."""

from __future__ import annotations

import pytest
from graphql import parse

from gateway.limits import LimitsSection, OperationLimits
from gateway.limits.errors import LimitExceeded


def _codes(limits: OperationLimits, query: str) -> list[str]:
    try:
        limits.check(limits.parse(query))
    except LimitExceeded as exceeded:
        return [e["extensions"]["code"] for e in exceeded.errors]
    return []


def test_within_limits_passes() -> None:
    assert _codes(OperationLimits(), "{ me { id name reviews { body } } }") == []


def test_depth_counts_root_fields_as_one_and_follows_fragments() -> None:
    limits = OperationLimits(LimitsSection(max_depth=3))
    assert _codes(limits, "{ a { b { c } } }") == []
    assert _codes(limits, "{ a { b { c { d } } } }") == ["MAX_DEPTH_LIMIT"]
    assert _codes(limits, "{ a { ...F } } fragment F on T { b { c { d } } }") == ["MAX_DEPTH_LIMIT"]
    assert _codes(limits, "{ a { ... on T { b { c { d } } } } }") == ["MAX_DEPTH_LIMIT"]


def test_aliases_multiply_through_fragment_spreads() -> None:
    limits = OperationLimits(LimitsSection(max_aliases=8))
    fragments = "fragment F on T { x1: a x2: a x3: a }"
    assert _codes(limits, "{ ...F ...F } " + fragments) == []
    assert _codes(limits, "{ a { ...F } b { ...F } c { ...F } } " + fragments) == [
        "MAX_ALIASES_LIMIT"
    ]


def test_fragment_bomb_is_measured_in_linear_time() -> None:
    fragments = ["fragment F0 on T { x: a }"]
    for i in range(1, 40):
        fragments.append(f"fragment F{i} on T {{ ...F{i - 1} ...F{i - 1} }}")
    query = "{ ...F39 } " + " ".join(fragments)
    assert _codes(OperationLimits(), query) == ["MAX_ALIASES_LIMIT", "MAX_ROOT_FIELDS_LIMIT"]


def test_cyclic_fragments_do_not_loop() -> None:
    query = "{ ...A } fragment A on T { a ...B } fragment B on T { b ...A }"
    assert _codes(OperationLimits(), query) == []


def test_root_fields_and_directives() -> None:
    limits = OperationLimits(LimitsSection(max_root_fields=2, max_directives=2))
    assert _codes(limits, "{ a b c }") == ["MAX_ROOT_FIELDS_LIMIT"]
    assert _codes(limits, "{ a @skip(if: false) b @include(if: true) }") == []
    assert _codes(limits, "query Q @x { a @skip(if: false) b @include(if: true) }") == [
        "MAX_DIRECTIVES_LIMIT"
    ]


def test_literally_skipped_selections_still_count() -> None:
    # the limits guard validation, which reads the whole document, skipped parts included
    limits = OperationLimits(LimitsSection(max_aliases=2, max_depth=2))
    skipped = "{ a @skip(if: true) { x: b y: b z: b } c @include(if: false) { d { e } } }"
    assert _codes(limits, skipped) == ["MAX_DEPTH_LIMIT", "MAX_ALIASES_LIMIT"]


def test_zero_switches_a_limit_off() -> None:
    limits = OperationLimits(LimitsSection(max_depth=0, max_aliases=0))
    deep = "{ a " * 40 + "{ b }" + " }" * 40
    assert _codes(limits, deep) == []


@pytest.mark.parametrize(
    ("section", "query", "code"),
    [
        (LimitsSection(max_query_length=10), "{ me { id } }", "MAX_LENGTH_LIMIT"),
        (LimitsSection(max_tokens=5), "{ me { id name } }", "MAX_TOKENS_LIMIT"),
        (LimitsSection(), "{ a " * 3000 + " }" * 3000, "MAX_DEPTH_LIMIT"),
    ],
)
def test_parse_limits(section: LimitsSection, query: str, code: str) -> None:
    with pytest.raises(LimitExceeded) as exceeded:
        OperationLimits(section).parse(query)
    assert exceeded.value.errors[0]["extensions"]["code"] == code


def test_syntax_errors_stay_syntax_errors() -> None:
    from graphql import GraphQLError

    with pytest.raises(GraphQLError):
        OperationLimits().parse("{ me { ")
    assert parse("{ a }")
