"""``jamajama subgraph ...``: serve one OPD subgraph, or prepare the generated stores.

jamajama subgraph serve NAME [--host H] [--port P] [--seed S] [--scale X] [--data-dir D]
jamajama subgraph generate [--seed S] [--scale X] [--data-dir D]
jamajama subgraph list
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
import time
from pathlib import Path

from subgraphs import SUBGRAPHS, load_subgraph
from subgraphs.kit.generator import DEFAULT_SCALE, DEFAULT_SEED, ensure_world


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="generator seed (%(default)s)"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=DEFAULT_SCALE,
        help="fraction of Lampung's real population to generate (%(default)s ≈ 9,100 residents; "
        "0.05 ≈ 457,000)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where generated stores are cached (default: $JAMAJAMA_DATA_DIR or ./var/data)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="serve one subgraph over HTTP (uvicorn)")
    serve.add_argument("name", choices=list(SUBGRAPHS), help="which OPD subgraph")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: the subgraph's own port")
    _data_options(serve)
    generate = sub.add_parser("generate", help="generate (or find cached) stores and report time")
    _data_options(generate)
    sub.add_parser("list", help="list the subgraphs and their default ports")


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        for name, (module, port) in SUBGRAPHS.items():
            print(f"{name:<14} port {port}  ({module})")
        return 0
    started = time.perf_counter()
    try:
        report = ensure_world(args.seed, args.scale, args.data_dir)
    except ValueError as exc:
        print(f"jamajama subgraph: {exc}", file=sys.stderr)
        return 2
    how = (
        f"generated {report.residents:,} residents in {report.families:,} families "
        f"in {report.seconds:.1f} s"
        if report.generated
        else "cached"
    )
    if args.action == "generate":
        print(f"stores in {report.directory} ({how})", flush=True)
        return 0
    return _serve(args, report.directory, how, started)


def _listen(host: str, port: int) -> socket.socket | None:
    """A listening socket, so that "listening" is printed only once it is true."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        reason = "the port is in use" if error.errno == errno.EADDRINUSE else error.strerror
        print(f"jamajama subgraph: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return None
    sock.listen(2048)
    return sock


def _serve(args: argparse.Namespace, directory: Path, how: str, started: float) -> int:
    import uvicorn

    from subgraphs.kit.app import build_app
    from subgraphs.kit.store import Store

    subgraph = load_subgraph(args.name)
    port = args.port if args.port is not None else SUBGRAPHS[args.name][1]
    sock = _listen(args.host, port)
    if sock is None:
        return 1
    store = Store(directory / f"{subgraph.name}.sqlite3")
    app = build_app(subgraph, store)
    print(
        f"{subgraph.name} listening on http://{args.host}:{sock.getsockname()[1]}/graphql "
        f"(seed {args.seed}, scale {args.scale:g}, data {how}, ready in "
        f"{time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        store.close()
    return 0
