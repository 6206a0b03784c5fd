"""Seeded generator of valid operations over a supergraph's API schema (differential testing).

    .venv/bin/python -m tests.federation.generate TOPIC/CASE [--count N] [--seed S]

prints generated operations (and their variables) for a corpus case.

Each operation is a random walk down the API schema from ``Query`` (or ``Mutation``): fields of
every subgraph (biased towards fields with ``@requires``/``@provides``/``@external``/``@override``
or served by several subgraphs), nested entities, inline and named fragments on every abstract
type, its members and the interfaces they implement, aliases (and the same response name selected
twice, or reused on sibling fragments, where GraphQL allows it; an alias that is another field's
name, such as a key field's), ``__typename`` (aliased too), ``@skip``/``@include`` with variables
and literals (on fields, inline fragments and spreads, nested in one another),
arguments taken from the case's data and operations where it has some.
Every operation is validated with graphql-core against the API schema; an invalid draw is drawn
again. The same seed gives the same operations.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    Visitor,
    ast_from_value,
    coerce_input_value,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
    parse,
    print_ast,
    validate,
    value_from_ast,
    value_from_ast_untyped,
    visit,
)
from graphql.error import GraphQLError
from graphql.pyutils import Undefined
from graphql.utilities import type_from_ast

from gateway.supergraph import Supergraph, load_supergraph
from tests.federation.corpus import Case, discover_cases

#: nesting below the root at which only leaves (and ``__typename``) are chosen
MAX_DEPTH = 4
#: how many draws an operation may take before the generator gives up on it
MAX_ATTEMPTS = 50
_ALIASES = ("a", "b", "c")
#: the coordinate of every operation with an alias that is another field's name
SHADOWING_ALIAS = "alias=field"


@dataclass(frozen=True, slots=True)
class GeneratedOperation:
    """One generated operation; ``coordinates`` name what it selects (see ``coordinates_of``)."""

    case_id: str
    index: int
    query: str
    variables: dict[str, Any] | None
    coordinates: frozenset[str]

    @property
    def id(self) -> str:
        return f"{self.case_id}#{self.index}"


@dataclass
class ArgumentSamples:
    """Argument values seen in a case (data keys ``field(arg: value)`` and operations), by field."""

    by_field: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, field_name: str, arguments: dict[str, Any]) -> None:
        if arguments and arguments not in self.by_field[field_name]:
            self.by_field[field_name].append(arguments)

    def values(self, field_name: str, argument: str) -> list[Any]:
        return [a[argument] for a in self.by_field.get(field_name, []) if argument in a]

    @classmethod
    def of_case(cls, case: Case) -> ArgumentSamples:
        samples = cls()
        for path in sorted(case.subgraphs_dir.glob("*.json")):
            for key in _keys(json.loads(path.read_text())):
                if "(" in key:
                    _add_field_text(samples, key, {})
        for operation in case.operations:
            try:
                document = parse(operation.query)
            except GraphQLError:
                continue
            variables = operation.variables or {}
            for node in _field_nodes(document):
                arguments = {}
                for argument in node.arguments or ():
                    try:
                        arguments[argument.name.value] = value_from_ast_untyped(
                            argument.value, variables
                        )
                    except (GraphQLError, KeyError, TypeError):
                        continue
                samples.add(node.name.value, {k: v for k, v in arguments.items() if v is not None})
        return samples


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _add_field_text(samples: ArgumentSamples, key: str, variables: dict[str, Any]) -> None:
    try:
        document = parse("{" + key + "}")
    except GraphQLError:
        return
    for node in _field_nodes(document):
        arguments = {
            a.name.value: value_from_ast_untyped(a.value, variables) for a in node.arguments or ()
        }
        samples.add(node.name.value, arguments)


def _field_nodes(document: DocumentNode) -> list[FieldNode]:
    found: list[FieldNode] = []

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            found.append(node)

    visit(document, Collect())
    return found


def feature_weights(supergraph: Supergraph) -> dict[tuple[str, str], int]:
    """Fields worth selecting more often: where subgraphs meet (the planner's hard part)."""
    weights: dict[tuple[str, str], int] = {}
    mentioned: set[str] = set()
    for (type_name, field_name), graphs in supergraph.field_graphs.items():
        weight = 1
        if len(graphs) > 1:
            weight += 1
        for entry in graphs.values():
            if entry.requires is not None or entry.provides is not None:
                weight += 2
            if entry.external or entry.override_label or entry.overrides:
                weight += 1
            for text in (entry.requires_text, entry.provides_text):
                if text:
                    mentioned.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
        weights[(type_name, field_name)] = weight
    for (type_name, field_name), weight in list(weights.items()):
        if field_name in mentioned:
            weights[(type_name, field_name)] = weight + 1
    return weights


class _Draw:
    """One attempt at an operation: a random walk that prints GraphQL text as it goes."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rng: random.Random,
        samples: ArgumentSamples,
        weights: dict[tuple[str, str], int],
        shapes: random.Random | None = None,
    ) -> None:
        self.schema = schema
        self.rng = rng
        self.samples = samples
        self.weights = weights
        self.variables: dict[str, tuple[str, Any]] = {}
        self.fragments: list[str] = []
        # Shapes added later draw from their own stream: an operation changes only where one of
        # them is drawn (a good share do; deviations.toml's witnesses were re-taken then).
        self.shapes = shapes if shapes is not None else random.Random(0)

    def operation(self) -> tuple[str, dict[str, Any] | None]:
        kind, root_type = "query", self.schema.query_type
        # Mutations too where the schema has some (one in three operations); executed serially.
        if self.schema.mutation_type is not None and self.rng.random() < 1 / 3:
            kind, root_type = "mutation", self.schema.mutation_type
        assert root_type is not None
        body = self.selections(root_type, 0, root=True)
        definitions = ""
        if self.variables:
            definitions = (
                "(" + ", ".join(f"${n}: {t}" for n, (t, _) in self.variables.items()) + ")"
            )
        text = f"{kind} Generated{definitions} {{ {' '.join(body)} }}"
        text = "\n".join([text, *self.fragments])
        values = {n: v for n, (_, v) in self.variables.items()}
        return text, values or None

    # -- selection sets -------------------------------------------------------------------------

    def selections(self, parent: GraphQLNamedType, depth: int, *, root: bool = False) -> list[str]:
        rng = self.rng
        chosen: list[str] = []
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            chosen.extend(self.fields_of(parent, depth, root=root))
        if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType) and depth < MAX_DEPTH:
            chosen.extend(self.fragments_on(parent, depth))
        if not chosen or rng.random() < (0.05 if root else 0.3):
            alias = f"{rng.choice(_ALIASES)}: " if rng.random() < 0.3 else ""
            chosen.insert(rng.randrange(len(chosen) + 1), f"{alias}__typename")
        if chosen and rng.random() < 0.15:
            chosen.append(rng.choice(chosen))  # the same selection twice: merged
        if not root and depth < MAX_DEPTH and rng.random() < 0.12:
            chosen = [self.named_fragment(parent, chosen)]
        if depth < MAX_DEPTH and len(chosen) > 1 and rng.random() < 0.1:
            condition = self.condition()
            split = rng.randrange(1, len(chosen))
            inner = chosen[split:]
            if len(inner) > 1 and self.shapes.random() < 0.4:  # nested @skip/@include
                nested = self.condition(self.shapes)
                cut = self.shapes.randrange(1, len(inner))
                inner = [*inner[:cut], f"... {nested} {{ {' '.join(inner[cut:])} }}"]
            chosen = [*chosen[:split], f"... {condition} {{ {' '.join(inner)} }}"]
        return chosen

    def fields_of(
        self, parent: GraphQLObjectType | GraphQLInterfaceType, depth: int, *, root: bool
    ) -> list[str]:
        rng = self.rng
        candidates = [
            (name, gql_field)
            for name, gql_field in parent.fields.items()
            if self.arguments_possible(name, gql_field)
            and (depth < MAX_DEPTH or is_leaf_type(get_named_type(gql_field.type)))
        ]
        if not candidates:
            return []
        count = rng.randint(1, min(3 if root else 4, len(candidates)))
        weights = [self.weights.get((parent.name, name), 1) for name, _ in candidates]
        picked: list[tuple[str, GraphQLField]] = []
        while len(picked) < count:
            choice = rng.choices(candidates, weights)[0]
            if choice not in picked:
                picked.append(choice)
        used: dict[str, str] = {}
        result = []
        for name, gql_field in picked:
            arguments = self.arguments(name, gql_field)
            response_name = name
            alias = ""
            if rng.random() < 0.2:
                candidate = rng.choice((*_ALIASES, name + "2"))
                if used.get(candidate, name + arguments) == name + arguments:
                    alias, response_name = f"{candidate}: ", candidate
            elif len(parent.fields) > 1 and self.shapes.random() < 0.1:
                # An alias that is another field's name (a key or required field, often).
                candidate = self.shapes.choice([n for n in parent.fields if n != name])
                if used.get(candidate, name + arguments) == name + arguments:
                    alias, response_name = f"{candidate}: ", candidate
            if used.get(response_name, name + arguments) != name + arguments:
                continue  # a different field under the same response name: not mergeable
            used[response_name] = name + arguments
            text = f"{alias}{name}{arguments}{self.directives()}"
            named = get_named_type(gql_field.type)
            if not is_leaf_type(named):
                text += " { " + " ".join(self.selections(named, depth + 1)) + " }"
            result.append(text)
        return result

    def fragments_on(
        self, parent: GraphQLInterfaceType | GraphQLUnionType, depth: int
    ) -> list[str]:
        """Inline fragments on the members, the interfaces they implement, the type itself."""
        rng = self.rng
        members = list(self.schema.get_possible_types(parent))
        conditions: list[GraphQLNamedType] = list(members)
        for member in members:
            conditions.extend(i for i in member.interfaces if i not in conditions)
        if isinstance(parent, GraphQLInterfaceType) and parent not in conditions:
            conditions.append(parent)
        wanted = 0.6 if isinstance(parent, GraphQLUnionType) else 0.4
        result = []
        for condition in conditions:
            if rng.random() >= wanted:
                continue
            inner = self.selections(condition, depth + 1)
            result.append(f"... on {condition.name}{self.directives()} {{ {' '.join(inner)} }}")
        return result

    def named_fragment(self, parent: GraphQLNamedType, selections: list[str]) -> str:
        name = f"F{len(self.fragments)}"
        self.fragments.append(f"fragment {name} on {parent.name} {{ {' '.join(selections)} }}")
        return f"...{name}{self.directives()}"

    # -- directives and arguments ---------------------------------------------------------------

    def condition(self, rng: random.Random | None = None) -> str:
        rng = rng or self.rng
        kind = rng.choice(("skip", "include"))
        if rng.random() < 0.3:
            return f"@{kind}(if: {rng.choice(('true', 'false'))})"
        name = f"v{len(self.variables)}"
        self.variables[name] = ("Boolean!", rng.random() < 0.5)
        return f"@{kind}(if: ${name})"

    def directives(self) -> str:
        return " " + self.condition() if self.rng.random() < 0.12 else ""

    def arguments_possible(self, field_name: str, gql_field: GraphQLField) -> bool:
        return all(
            self.value_for(field_name, name, argument) is not None
            for name, argument in gql_field.args.items()
            if _required(argument)
        )

    def arguments(self, field_name: str, gql_field: GraphQLField) -> str:
        rng = self.rng
        printed = []
        for name, argument in gql_field.args.items():
            if not _required(argument) and rng.random() < 0.6:
                continue
            value = self.value_for(field_name, name, argument)
            if value is None:
                continue
            if _literal(value, argument.type) is None:
                continue  # a sample of another field with the same name and argument
            if rng.random() < 0.2:
                variable = f"a{len(self.variables)}"
                self.variables[variable] = (str(argument.type), value)
                printed.append(f"{name}: ${variable}")
                continue
            node = _literal(value, argument.type)
            if node is None:
                continue
            printed.append(f"{name}: {print_ast(node)}")
        return f"({', '.join(printed)})" if printed else ""

    def value_for(self, field_name: str, name: str, argument: GraphQLArgument) -> Any:
        """A value seen in the case for this argument, else a plain one of its type."""
        seen = [
            value
            for value in self.samples.values(field_name, name)
            if _literal(value, argument.type) is not None
        ]
        if seen:
            return seen[self.rng.randrange(len(seen))]
        return _plain_value(argument.type, self.rng)


def _literal(value: Any, gql_type: GraphQLInputType) -> ValueNode | None:
    """The value as a literal of the API type, or None when the API refuses it (a sample from an
    operation that tests a refusal, e.g. an input field or enum value only one subgraph has):
    `ast_from_value` alone would drop unknown input fields, and the raw value goes to variables."""
    try:
        if coerce_input_value(value, gql_type) is Undefined:
            return None
        return ast_from_value(value, gql_type)
    except (GraphQLError, TypeError, ValueError):
        return None


def _required(argument: GraphQLArgument) -> bool:
    return is_non_null_type(argument.type) and argument.default_value is Undefined


def _plain_value(gql_type: GraphQLInputType, rng: random.Random, depth: int = 0) -> Any:
    if isinstance(gql_type, GraphQLNonNull):
        return _plain_value(gql_type.of_type, rng, depth)
    if isinstance(gql_type, GraphQLList):
        inner = _plain_value(gql_type.of_type, rng, depth + 1)
        return None if inner is None else [inner]
    if isinstance(gql_type, GraphQLEnumType):
        return next(iter(gql_type.values))
    if gql_type is GraphQLBoolean:
        return rng.random() < 0.5
    if gql_type is GraphQLInt:
        return rng.randint(0, 3)
    if gql_type is GraphQLFloat:
        return float(rng.randint(0, 3))
    if gql_type in (GraphQLString, GraphQLID):
        return "1"
    if isinstance(gql_type, GraphQLInputObjectType) and depth < 3:
        value = {}
        for name, input_field in gql_type.fields.items():
            if is_non_null_type(input_field.type) and input_field.default_value is Undefined:
                inner = _plain_value(input_field.type, rng, depth + 1)
                if inner is None:
                    return None
                value[name] = inner
        return value
    return None  # a custom scalar without a sample: the field is not drawn


def coordinates_of(schema: GraphQLSchema, document: DocumentNode) -> frozenset[str]:
    """What an operation selects: ``Type.field`` per field (on the type it is selected on),
    ``Type>Condition`` per inline fragment or fragment spread (on the type it is spread in), and
    ``Type.alias=field`` per alias that is the name of another field of that type (it shadows a
    field a plan may need internally, such as a key or a required field; ``SHADOWING_ALIAS``
    marks every operation that has one)."""
    found: set[str] = set()
    type_info = TypeInfo(schema)
    conditions = {
        d.name.value: d.type_condition.name.value
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            parent = type_info.get_parent_type()
            if parent is not None:
                found.add(f"{parent.name}.{node.name.value}")
                alias = node.alias.value if node.alias else None
                fields = getattr(parent, "fields", None) or {}
                if alias is not None and alias != node.name.value and alias in fields:
                    found.add(f"{parent.name}.{alias}={node.name.value}")
                    found.add(SHADOWING_ALIAS)

        def enter_inline_fragment(self, node: InlineFragmentNode, *_: object) -> None:
            parent = type_info.get_parent_type()
            if parent is not None and node.type_condition is not None:
                found.add(f"{parent.name}>{node.type_condition.name.value}")

        def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
            parent = type_info.get_parent_type()
            if parent is not None and node.name.value in conditions:
                found.add(f"{parent.name}>{conditions[node.name.value]}")

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return frozenset(found)


class OperationGenerator:
    """Generates valid operations for one supergraph; deterministic by (seed, index)."""

    def __init__(
        self,
        supergraph: Supergraph,
        samples: ArgumentSamples | None = None,
        *,
        seed: str | int = 0,
        case_id: str = "",
    ) -> None:
        self.schema = supergraph.api_schema
        self.samples = samples or ArgumentSamples()
        self.weights = feature_weights(supergraph)
        self.seed = seed
        self.case_id = case_id

    @classmethod
    def for_case(cls, case: Case, *, seed: str | int = 0) -> OperationGenerator:
        supergraph = load_supergraph(case.supergraph_path.read_text())
        return cls(supergraph, ArgumentSamples.of_case(case), seed=seed, case_id=case.id)

    def operation(self, index: int) -> GeneratedOperation:
        """The ``index``-th operation (valid against the API schema)."""
        for attempt in range(MAX_ATTEMPTS):
            rng = random.Random(f"{self.seed}:{self.case_id}:{index}:{attempt}")
            shapes = random.Random(f"{self.seed}:{self.case_id}:{index}:{attempt}:shapes")
            draw = _Draw(self.schema, rng, self.samples, self.weights, shapes)
            text, variables = draw.operation()
            try:
                document = parse(text)
            except GraphQLError:
                continue
            if validate(self.schema, document):
                continue
            if variables and not _coercible(self.schema, document, variables):
                continue
            return GeneratedOperation(
                self.case_id,
                index,
                print_ast(document),
                variables,
                coordinates_of(self.schema, document),
            )
        raise RuntimeError(f"{self.case_id}: no valid operation in {MAX_ATTEMPTS} draws")

    def operations(self, indices: Iterable[int]) -> list[GeneratedOperation]:
        return [self.operation(index) for index in indices]


def _coercible(schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]) -> bool:
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    for definition in operation.variable_definitions or ():
        gql_type = type_from_ast(schema, definition.type)
        value = variables.get(definition.variable.name.value)
        node = ast_from_value(value, gql_type) if gql_type is not None else None  # type: ignore[arg-type]
        if node is None or value_from_ast(node, gql_type) is Undefined:  # type: ignore[arg-type]
            return False
    return True


def spread(total: int, cases: list[Case]) -> list[tuple[Case, int]]:
    """``total`` operation slots over the cases, round-robin: (case, index within the case)."""
    counts: dict[str, int] = defaultdict(int)
    slots = []
    for slot in range(total):
        case = cases[slot % len(cases)]
        slots.append((case, counts[case.id]))
        counts[case.id] += 1
    return slots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", help="topic/case id")
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--seed", default="0")
    parser.add_argument("--start", type=int, default=0)
    args = parser.parse_args(argv)
    cases = discover_cases([args.case])
    if not cases:
        print(f"no case {args.case}", file=sys.stderr)
        return 1
    generator = OperationGenerator.for_case(cases[0], seed=args.seed)
    for index in range(args.start, args.start + args.count):
        operation = generator.operation(index)
        print(
            f"# {operation.id}"
            + (f" variables: {json.dumps(operation.variables)}" if operation.variables else "")
        )
        print(operation.query)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
