"""Triage of disagreements that involve aliases named like other fields (`id: name`).

    .venv/bin/python -m tests.federation.unshadow TOPIC/CASE#INDEX [...]

For each generated operation: every alias that is another field's name is renamed to a fresh
one, Apollo Gateway answers the renamed operation, its response keys are renamed back, and the
result is compared with our answer to the original operation. "same" means Apollo, once nothing
shadows a field name, answers as we do: the disagreement is Apollo confusing the alias with the
field (deviations.toml, `alias=field` entries). Needs Node.js and `npm ci` in tools/reference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import ExitStack
from typing import Any

import httpx
from graphql import (
    FieldNode,
    GraphQLSchema,
    NameNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    parse,
    print_ast,
    visit,
)

from gateway.supergraph import load_supergraph
from tests.federation.corpus import discover_cases, serve_case
from tests.federation.differential import (
    DEFAULT_SEED,
    generator_for,
    ours_answer,
    reference_answer,
)
from tests.federation.generate import GeneratedOperation
from tests.federation.record import apollo_gateways
from tests.federation.subgraph_server import SubgraphHost

PREFIX = "unshadowed_"


def unshadowed(schema: GraphQLSchema, query: str) -> str:
    """``query`` with every alias that names another field of its parent type prefixed."""
    type_info = TypeInfo(schema)

    class Rename(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> FieldNode | None:
            fields = getattr(type_info.get_parent_type(), "fields", None) or {}
            alias = node.alias.value if node.alias else None
            if alias is None or alias == node.name.value or alias not in fields:
                return None
            return FieldNode(
                alias=NameNode(value=PREFIX + alias),
                name=node.name,
                arguments=node.arguments,
                directives=node.directives,
                selection_set=node.selection_set,
            )

    return print_ast(visit(parse(query), TypeInfoVisitor(type_info, Rename())))


def renamed_back(value: Any) -> Any:
    if isinstance(value, dict):
        return {key.removeprefix(PREFIX): renamed_back(item) for key, item in value.items()}
    if isinstance(value, list):
        return [renamed_back(item) for item in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("operations", nargs="+", help="generated operation ids (CASE#INDEX)")
    parser.add_argument("--seed", default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    wanted: dict[str, list[int]] = {}
    for operation_id in args.operations:
        case_id, _, index = operation_id.rpartition("#")
        wanted.setdefault(case_id, []).append(int(index))
    cases = {case.id: case for case in discover_cases(list(wanted))}
    differs = 0
    with SubgraphHost() as host, ExitStack() as stack, httpx.Client(timeout=30) as client:
        running = {
            case_id: stack.enter_context(serve_case(host, cases[case_id])) for case_id in wanted
        }
        specs = [(cases[c].supergraph_path, running[c].urls) for c in wanted]
        apollo = dict(zip(wanted, stack.enter_context(apollo_gateways(specs)), strict=True))
        for case_id, indices in wanted.items():
            schema = load_supergraph(cases[case_id].supergraph_path.read_text()).api_schema
            for index in indices:
                operation = generator_for(cases[case_id], args.seed).operation(index)
                run = running[case_id]
                ours = json.loads(asyncio.run(ours_answer(run, operation)))
                renamed = GeneratedOperation(
                    case_id,
                    index,
                    unshadowed(schema, operation.query),
                    operation.variables,
                    frozenset(),
                )
                theirs = renamed_back(
                    json.loads(reference_answer(client, apollo[case_id], run, renamed))
                )
                same = ours == theirs
                differs += not same
                print(f"{operation.id}: {'same' if same else 'differs'}")
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
