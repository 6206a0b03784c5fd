"""Compose subgraph SDLs into a supergraph: read, validate per subgraph, merge, validate, print."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    build_ast_schema,
    parse,
    validate_schema,
)

from gateway.composition import errors as E
from gateway.composition.connect import check_connectors, routing_url
from gateway.composition.context import check_context_reachable, check_contexts
from gateway.composition.emit import print_supergraph
from gateway.composition.enums_inputs import merge_enums, merge_inputs
from gateway.composition.errors import CompositionError, CompositionFailed, error
from gateway.composition.inaccessible import check_inaccessible
from gateway.composition.interface_object import (
    add_interface_object_fields,
    check_interface_objects,
)
from gateway.composition.keys import check_keys
from gateway.composition.merge import Merger, check_extensions_and_interfaces, check_sharing
from gateway.composition.model import Composition
from gateway.composition.override import check_override
from gateway.composition.requires_provides import check_external, check_requires_provides
from gateway.composition.satisfiability import check_satisfiability
from gateway.composition.subgraph import Subgraph, read_subgraph

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@dataclass(frozen=True, slots=True)
class SubgraphSource:
    """What an OPD publishes: a name, where the gateway reaches it, and its SDL."""

    name: str
    sdl: str
    #: empty: ``http://NAME.subgraphs.test/graphql``, or ``http://ignored`` for a connector
    #: subgraph (it has no endpoint; the gateway calls its REST API)
    url: str = ""


@dataclass(slots=True)
class CompositionResult:
    supergraph_sdl: str | None
    errors: list[CompositionError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.supergraph_sdl is not None and not self.errors


def graph_enum_names(names: Iterable[str]) -> dict[str, str]:
    """Subgraph name -> ``join__Graph`` value (upper case, ``_`` for other characters, unique)."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name).upper()
        if base[:1].isdigit():
            base = "_" + base
        candidate, n = base, 1
        while candidate in taken:
            candidate = f"{base}_{n}"
            n += 1
        taken.add(candidate)
        result[name] = candidate
    return result


def _read_sources(
    sources: Iterable[SubgraphSource],
) -> tuple[dict[str, Subgraph], list[CompositionError]]:
    """Each source read as a subgraph (its SDL parsed once), with the errors found."""
    found: list[CompositionError] = []
    subgraphs: dict[str, Subgraph] = {}
    for source in sorted(sources, key=lambda s: s.name):
        if not _NAME.match(source.name) or source.name in subgraphs:
            found.append(
                error(
                    E.INVALID_SUBGRAPH_NAME,
                    f'"{source.name}" is not a usable subgraph name (letters, digits, "_" and '
                    '"-"; unique).',
                )
            )
            continue
        try:  # parsed once, for the routing URL and the reader
            document: DocumentNode | str = parse(source.sdl)
        except GraphQLError:
            document = source.sdl  # the reader reports the syntax error
        url = routing_url(source.url, document) or _default_url(source.name)
        sub, errs = read_subgraph(source.name, document, url)
        found.extend(errs)
        if sub is not None and sub.connect is not None:
            found.extend(check_connectors(source.name, source.sdl, sub.connect))
        if sub is not None:
            subgraphs[source.name] = sub
    return subgraphs, found


def compose(sources: Iterable[SubgraphSource]) -> CompositionResult:
    """Compose; on failure ``errors`` lists every finding (sorted by code, then message)."""
    subgraphs, found = _read_sources(sources)
    if found:
        return CompositionResult(None, found)
    for sub in subgraphs.values():
        found.extend(check_keys(sub))
        found.extend(check_requires_provides(sub))
        found.extend(check_contexts(sub))
    c = Composition(subgraphs=subgraphs, graph_enum=graph_enum_names(subgraphs))
    merger = Merger(c)
    merger.merge()
    found.extend(merger.errors)
    if not found:
        found.extend(merge_enums(c))
        found.extend(merge_inputs(c))
        found.extend(check_sharing(c))
        found.extend(check_override(c))
        found.extend(check_interface_objects(c))
        found.extend(check_external(c))
        add_interface_object_fields(c)
        found.extend(check_extensions_and_interfaces(c))
        found.extend(check_inaccessible(c))
        query = c.types.get("Query")
        if query is None or not query.fields:
            found.append(
                error(E.NO_QUERIES, "No subgraph defines a field on Query; nothing can be asked.")
            )
    if not found:
        found.extend(check_context_reachable(c))
    if found:
        return CompositionResult(None, _dedupe(found))
    sdl = print_supergraph(c)
    problems, parsed = _validate_supergraph(sdl)
    found.extend(problems)
    if not found and parsed is not None:  # on the supergraph the gateway would load
        found.extend(check_satisfiability(sdl, parsed))
    if found:
        return CompositionResult(None, _dedupe(found))
    return CompositionResult(sdl)


def _validate_supergraph(
    sdl: str,
) -> tuple[list[CompositionError], tuple[DocumentNode, GraphQLSchema] | None]:
    """GraphQL validity of the merged schema (e.g. an implementation's field, merged across
    subgraphs, must still be a subtype of its interface's field), and the parsed document and
    schema, which the satisfiability check models rather than parsing the SDL again."""
    try:
        document = parse(sdl)
        schema = build_ast_schema(document, assume_valid_sdl=True)
    except (GraphQLError, TypeError) as exc:
        return [error(E.INVALID_GRAPHQL, f"the merged schema is not valid GraphQL: {exc}")], None
    problems = [
        error(E.INVALID_GRAPHQL, f"the merged schema is not valid GraphQL: {problem.message}")
        for problem in validate_schema(schema)
    ]
    return problems, (document, schema)


def compose_or_raise(sources: Iterable[SubgraphSource]) -> str:
    result = compose(sources)
    if result.supergraph_sdl is None:
        raise CompositionFailed(result.errors)
    return result.supergraph_sdl


def _default_url(name: str) -> str:
    return f"http://{name}.subgraphs.test/graphql"


def _dedupe(found: list[CompositionError]) -> list[CompositionError]:
    seen: set[tuple[str, str]] = set()
    result = []
    for e in found:
        if (e.code, e.message) not in seen:
            seen.add((e.code, e.message))
            result.append(e)
    return result
