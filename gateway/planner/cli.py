"""`jamajama plan`: print the query plan of an operation against a supergraph file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graphql import GraphQLError, parse, validate

from gateway.errors import GatewayError
from gateway.planner import build_query_plan, print_plan
from gateway.planner.merge import merge_fetches
from gateway.supergraph import load_supergraph


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--supergraph", required=True, type=Path, help="the supergraph SDL file")
    parser.add_argument("query", metavar="QUERY_OR_@FILE", help="an operation, or @path to one")
    parser.add_argument("--operation-name", default=None, help="which operation of the document")
    parser.add_argument(
        "--no-merge",
        action="store_true",
        help="print the planner's fetches unmerged (as with [planner] merge_fetches = false)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        sdl = args.supergraph.read_text()
        query = Path(args.query[1:]).read_text() if args.query.startswith("@") else args.query
    except OSError as error:
        print(f"jamajama plan: cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        # Printing a plan serves no data, so security features need not be enforced here.
        supergraph = load_supergraph(sdl, authorization_enforced=True)
        document = parse(query)
        invalid = validate(supergraph.api_schema, document)
        if invalid:
            for problem in invalid:
                print(f"jamajama plan: invalid operation: {problem.message}", file=sys.stderr)
            return 1
        plan = build_query_plan(supergraph, document, args.operation_name)
        if not args.no_merge:
            plan = merge_fetches(plan)
    except GraphQLError as error:
        print(f"jamajama plan: the operation does not parse: {error}", file=sys.stderr)
        return 1
    except GatewayError as error:
        print(f"jamajama plan: {error.message} ({error.code})", file=sys.stderr)
        return 1
    print(print_plan(plan))
    return 0
