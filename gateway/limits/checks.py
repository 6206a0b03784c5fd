"""Structural limits of one document, measured with fragments expanded (each fragment once).

A fragment spread counts what its fragment contains every time it is spread, so a document that
multiplies work through nested fragments is measured by the work it asks for; each fragment is
measured once (memoised), so measuring stays linear in the document's size. The operation walk
runs in document mode, as written (the outcome is cached per document, and the limits protect
validation, which reads every selection): selections under ``@skip``/``@include`` count, literal
or variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)

from gateway.limits.config import LimitsSection
from gateway.limits.cost import CostEstimator
from gateway.limits.errors import (
    COST_TOO_EXPENSIVE,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_DIRECTIVES,
    MAX_LENGTH,
    MAX_ROOT_FIELDS,
    MAX_TOKENS,
    LimitExceeded,
    limit_error,
)
from gateway.operation import Field, Fragment, OperationWalk


@dataclass(slots=True)
class _Measure:
    depth: int = 0
    aliases: int = 0
    directives: int = 0
    fields: int = 0


class OperationLimits:
    """Applies a ``LimitsSection`` to documents; built once, shared by every request."""

    def __init__(self, section: LimitsSection | None = None) -> None:
        self.section = section = section or LimitsSection()
        self._max_tokens = section.max_tokens or None
        self.cost = CostEstimator(section.cost)
        #: documents over the cost limit seen in ``measure`` mode (one per distinct document)
        self.over_cost_measured = 0

    def parse(self, query: str) -> DocumentNode:
        """Parse ``query`` within the length and token limits.

        Raises ``LimitExceeded`` over a limit (nesting too deep for the parser included) and
        graphql-core's ``GraphQLError`` for a syntax error.
        """
        section = self.section
        if section.max_query_length and len(query) > section.max_query_length:
            raise LimitExceeded(
                [
                    limit_error(
                        MAX_LENGTH,
                        f"The query is {len(query)} characters long; "
                        f"the limit is {section.max_query_length}.",
                    )
                ]
            )
        try:
            return parse(query, max_tokens=self._max_tokens)
        except RecursionError as error:
            message = "The operation is nested too deeply to be parsed."
            raise LimitExceeded([limit_error(MAX_DEPTH, message)]) from error
        except GraphQLError as error:
            if "tokens. Parsing aborted." in error.message:
                message = f"The query has more than {section.max_tokens} tokens (the limit)."
                raise LimitExceeded([limit_error(MAX_TOKENS, message)]) from error
            if "nested too deeply" in error.message:  # graphql-core 3.3's own guard
                message = "The operation is nested too deeply to be parsed."
                raise LimitExceeded([limit_error(MAX_DEPTH, message)]) from error
            raise

    def check(self, document: DocumentNode) -> None:
        """Raise ``LimitExceeded`` if an operation of ``document`` is over a structural limit."""
        memo: dict[str, _Measure] = {}
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                # before validation, which reads every selection: measured as written
                walk = OperationWalk(document, definition, as_written=True)
                measure = _measure(walk, definition.selection_set, memo)
                measure.directives += len(definition.directives or ())
                errors = self._exceeded(measure, _operation_label(definition))
                if errors:
                    raise LimitExceeded(errors)

    def _exceeded(self, measure: _Measure, name: str) -> list[dict[str, Any]]:
        section = self.section
        checks = (
            (MAX_DEPTH, section.max_depth, measure.depth, "is nested {n} levels deep"),
            (MAX_ALIASES, section.max_aliases, measure.aliases, "has {n} aliases"),
            (MAX_ROOT_FIELDS, section.max_root_fields, measure.fields, "selects {n} root fields"),
            (MAX_DIRECTIVES, section.max_directives, measure.directives, "has {n} directives"),
        )
        return [
            limit_error(code, f"{name} {what.format(n=n)}; the limit is {limit}.")
            for code, limit, n, what in checks
            if limit and n > limit
        ]

    def check_cost(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        """Raise ``LimitExceeded`` if an operation's estimated cost is over the limit (enforce).

        Runs on a valid document, against the supergraph schema (which keeps ``@cost`` and
        ``@listSize``).
        """
        settings = self.section.cost
        if settings.mode == "off":
            return
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            cost = self.cost.estimate(schema, document, definition)
            if cost <= settings.max:
                continue
            if settings.mode == "measure":
                self.over_cost_measured += 1
                continue
            name = _operation_label(definition)
            raise LimitExceeded(
                [
                    limit_error(
                        COST_TOO_EXPENSIVE,
                        f"{name} has an estimated cost of {cost}; the limit is {settings.max}.",
                        cost={"estimated": cost, "max": settings.max},
                    )
                ]
            )


def _operation_label(definition: OperationDefinitionNode) -> str:
    return f'Operation "{definition.name.value}"' if definition.name else "The operation"


def _measure(
    walk: OperationWalk, selection_set: SelectionSetNode, memo: dict[str, _Measure]
) -> _Measure:
    """The measure of one selection set; a named fragment is measured once (memoised)."""
    result = _Measure()
    for selection in walk.selections(selection_set, None):
        result.directives += len(selection.node.directives or ())
        if isinstance(selection, Field):
            result.fields += 1
            if selection.node.alias is not None:
                result.aliases += 1
            if selection.node.selection_set is None:
                result.depth = max(result.depth, 1)
                continue
            inner = _measure(walk, selection.node.selection_set, memo)
            result.depth = max(result.depth, inner.depth + 1)
        else:
            inner = _fragment_measure(walk, selection, memo)
            result.depth = max(result.depth, inner.depth)
            result.fields += inner.fields
        result.aliases += inner.aliases
        result.directives += inner.directives
    return result


def _fragment_measure(
    walk: OperationWalk, fragment: Fragment, memo: dict[str, _Measure]
) -> _Measure:
    name, definition = fragment.name, fragment.definition
    if name is None or definition is None:
        return _measure(walk, fragment.selection_set, memo)
    cached = memo.get(name)
    if cached is None:
        cached = _measure(walk, fragment.selection_set, memo)
        cached.directives += len(definition.directives or ())
        memo[name] = cached
    return cached
