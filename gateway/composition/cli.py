"""``jamajama compose``: subgraph SDL files or live subgraph URLs -> a supergraph SDL.

``jamajama compose kesehatan=schema/kesehatan.graphql wilayah=http://127.0.0.1:4002/graphql``
reads files, or asks a live subgraph for ``_service { sdl }`` (its URL is then its routing URL).
A connector subgraph needs no URL (``http://ignored``: the gateway calls its REST API).
Composition errors go to stderr, one reviewer's comment a line, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

from gateway.composition.compose import SubgraphSource, compose
from gateway.composition.connect import routing_url

SERVICE_QUERY = "{ _service { sdl } }"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "subgraphs",
        nargs="*",
        metavar="NAME=FILE_OR_URL",
        help="a subgraph: its name and an SDL file or a live URL (asked for _service { sdl })",
    )
    parser.add_argument("--dir", type=Path, help="compose every DIR/*.graphql (name = file stem)")
    parser.add_argument(
        "--url", action="append", default=[], metavar="NAME=URL", help="routing URL of a subgraph"
    )
    parser.add_argument("-o", "--output", type=Path, help="write the supergraph here (else stdout)")
    parser.add_argument("--json", action="store_true", help="print errors as JSON")


def fetch_sdl(url: str, timeout: float = 10.0) -> str:
    """Ask a live subgraph for its SDL (Federation ``_service { sdl }``)."""
    response = httpx.post(url, json={"query": SERVICE_QUERY}, timeout=timeout)
    response.raise_for_status()
    body = response.json()
    sdl = (body.get("data") or {}).get("_service", {}).get("sdl")
    if not isinstance(sdl, str):
        raise ValueError(f"{url} did not answer _service {{ sdl }}: {body.get('errors')}")
    return sdl


def collect_sources(
    specs: list[str], directory: Path | None, urls: dict[str, str]
) -> list[SubgraphSource]:
    sources: list[SubgraphSource] = []
    if directory is not None:
        for path in sorted(directory.glob("*.graphql")):
            if path.stem == "supergraph":
                continue
            sources.append(SubgraphSource(path.stem, path.read_text(), urls.get(path.stem, "")))
    for spec in specs:
        name, sep, where = spec.partition("=")
        if not sep:
            raise ValueError(f"expected NAME=FILE_OR_URL, got {spec!r}")
        if where.startswith(("http://", "https://")):
            sources.append(SubgraphSource(name, fetch_sdl(where), urls.get(name, where)))
        else:
            sources.append(SubgraphSource(name, Path(where).read_text(), urls.get(name, "")))
    return sources


def run(args: argparse.Namespace) -> int:
    urls = dict(u.split("=", 1) for u in args.url)
    try:
        sources = collect_sources(args.subgraphs, args.dir, urls)
    except (OSError, ValueError, httpx.HTTPError) as exc:
        print(f"jamajama compose: {exc}", file=sys.stderr)
        return 2
    if not sources:
        print("jamajama compose: no subgraphs given", file=sys.stderr)
        return 2
    result = compose(sources)
    if result.supergraph_sdl is None:
        if args.json:
            print(json.dumps([e.to_dict() for e in result.errors], indent=2))
        else:
            for error in result.errors:
                print(f"{error.code}: {error.message}", file=sys.stderr)
        return 1
    placeholders = sorted(s.name for s in sources if not routing_url(s.url, s.sdl))
    if placeholders:
        print(
            f"jamajama compose: warning: no routing URL for {', '.join(placeholders)}; the "
            "supergraph names placeholders (http://NAME.subgraphs.test/graphql) that no gateway "
            "can reach: give --url NAME=URL, or the subgraph's live URL instead of a file",
            file=sys.stderr,
        )
    if args.output:
        args.output.write_text(result.supergraph_sdl)
    else:
        sys.stdout.write(result.supergraph_sdl)
    return 0
