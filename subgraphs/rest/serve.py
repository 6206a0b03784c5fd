"""``jamajama rest ...``: serve one of the REST OPDs (``jamajama dev`` starts all five).

jamajama rest serve NAME [--host H] [--port P] [--seed S] [--scale X] [--data-dir D]
jamajama rest list
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from subgraphs.kit.generator import DEFAULT_SCALE, DEFAULT_SEED, ensure_world

from . import REST_OPDS, api_key, create_app


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="serve one REST OPD over HTTP (uvicorn)")
    serve.add_argument("name", choices=list(REST_OPDS), help="which OPD")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: the OPD's own port")
    serve.add_argument("--seed", type=int, default=DEFAULT_SEED)
    serve.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    serve.add_argument("--data-dir", default=None, help="generated stores (as jamajama subgraph)")
    sub.add_parser("list", help="list the REST OPDs, their ports and sources")


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        for name, (module, port, source) in REST_OPDS.items():
            print(f"{name:<15} port {port}  source {source:<10} ({module})")
        return 0
    import uvicorn

    from .world import RestWorld

    try:
        report = ensure_world(args.seed, args.scale, Path(args.data_dir) if args.data_dir else None)
    except ValueError as error:
        print(f"jamajama rest: {error}", file=sys.stderr)
        return 2
    world = RestWorld.load(report.directory, args.seed)
    port = args.port if args.port is not None else REST_OPDS[args.name][1]
    app = create_app(args.name, world, api_key(args.name))
    print(f"{args.name} (REST) listening on http://{args.host}:{port} "
          f"(OpenAPI at /openapi.json)", flush=True)  # fmt: skip
    uvicorn.run(app, host=args.host, port=port, log_level="warning", access_log=False)
    return 0
