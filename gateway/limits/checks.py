"""Structural limits of one document, measured with fragments expanded (each fragment once).

A fragment spread counts what its fragment contains every time it is spread, so a document that
multiplies work through nested fragments is measured by the work it asks for; each fragment is
measured once (memoised), so measuring stays linear in the document's size.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
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
        section = self.section
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        memo: dict[str, _Measure] = {}
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            measure = _measure(definition.selection_set, fragments, memo, set())
            measure.directives += len(definition.directives or ())
            name = f'Operation "{definition.name.value}"' if definition.name else "The operation"
            errors = []
            if section.max_depth and measure.depth > section.max_depth:
                errors.append(
                    limit_error(
                        MAX_DEPTH,
                        f"{name} is nested {measure.depth} levels deep; "
                        f"the limit is {section.max_depth}.",
                    )
                )
            if section.max_aliases and measure.aliases > section.max_aliases:
                errors.append(
                    limit_error(
                        MAX_ALIASES,
                        f"{name} has {measure.aliases} aliases; "
                        f"the limit is {section.max_aliases}.",
                    )
                )
            if section.max_root_fields and measure.fields > section.max_root_fields:
                errors.append(
                    limit_error(
                        MAX_ROOT_FIELDS,
                        f"{name} selects {measure.fields} root fields; "
                        f"the limit is {section.max_root_fields}.",
                    )
                )
            if section.max_directives and measure.directives > section.max_directives:
                errors.append(
                    limit_error(
                        MAX_DIRECTIVES,
                        f"{name} has {measure.directives} directives; "
                        f"the limit is {section.max_directives}.",
                    )
                )
            if errors:
                raise LimitExceeded(errors)

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
            name = f'Operation "{definition.name.value}"' if definition.name else "The operation"
            raise LimitExceeded(
                [
                    limit_error(
                        COST_TOO_EXPENSIVE,
                        f"{name} has an estimated cost of {cost}; the limit is {settings.max}.",
                        cost={"estimated": cost, "max": settings.max},
                    )
                ]
            )


def _measure(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    memo: dict[str, _Measure],
    visiting: set[str],
) -> _Measure:
    result = _Measure()
    for selection in selection_set.selections:
        result.directives += len(selection.directives or ())
        if isinstance(selection, FieldNode):
            result.fields += 1
            if selection.alias is not None:
                result.aliases += 1
            if selection.selection_set is None:
                result.depth = max(result.depth, 1)
                continue
            inner = _measure(selection.selection_set, fragments, memo, visiting)
            result.depth = max(result.depth, inner.depth + 1)
        else:
            if isinstance(selection, InlineFragmentNode):
                inner = _measure(selection.selection_set, fragments, memo, visiting)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in visiting:  # validation reports these
                    continue
                cached = memo.get(name)
                if cached is None:
                    visiting.add(name)
                    cached = _measure(fragment.selection_set, fragments, memo, visiting)
                    cached.directives += len(fragment.directives or ())
                    visiting.discard(name)
                    memo[name] = cached
                inner = cached
            result.depth = max(result.depth, inner.depth)
            result.fields += inner.fields
        result.aliases += inner.aliases
        result.directives += inner.directives
    return result
