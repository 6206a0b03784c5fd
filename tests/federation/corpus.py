"""The conformance corpus on disk: cases, their subgraphs and operations (see README.md)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway import engine
from tests.federation.subgraph_server import DataDrivenSubgraph, SubgraphHost

CASES_DIR = Path(__file__).parent / "cases"


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a case: `operations/<name>.graphql` and its sibling files."""

    name: str
    query_path: Path

    @property
    def query(self) -> str:
        return self.query_path.read_text()

    def _sibling(self, suffix: str) -> Path:
        return self.query_path.with_name(self.name + suffix)

    @property
    def variables(self) -> dict[str, Any] | None:
        path = self._sibling(".variables.json")
        return json.loads(path.read_text()) if path.exists() else None

    @property
    def expected_path(self) -> Path:
        return self._sibling(".expected.json")

    @property
    def corrected_path(self) -> Path:
        return self._sibling(".corrected.json")

    @property
    def expected(self) -> dict[str, Any]:
        """The answer our gateway must give: the hand-corrected one where Apollo is wrong."""
        path = self.corrected_path if self.corrected_path.exists() else self.expected_path
        return json.loads(path.read_text())  # type: ignore[no-any-return]

    @property
    def xfail_reason(self) -> str | None:
        """Why our gateway may differ from the expected answer (`<op>.xfail`), if it may."""
        path = self._sibling(".xfail")
        return " ".join(path.read_text().split()) if path.exists() else None

    @property
    def fetches_path(self) -> Path:
        return self._sibling(".fetches.json")

    @property
    def fetches(self) -> dict[str, int] | None:
        path = self.fetches_path
        return json.loads(path.read_text()) if path.exists() else None


@dataclass(frozen=True, slots=True)
class Case:
    """A case directory: `cases/<topic>/<case>/`."""

    topic: str
    name: str
    path: Path

    @property
    def id(self) -> str:
        return f"{self.topic}/{self.name}"

    @property
    def subgraphs_dir(self) -> Path:
        return self.path / "subgraphs"

    @property
    def subgraph_names(self) -> list[str]:
        return sorted(p.stem for p in self.subgraphs_dir.glob("*.graphql"))

    @property
    def supergraph_path(self) -> Path:
        return self.path / "supergraph.graphql"

    @property
    def hive_oracle(self) -> bool:
        """Recorded from Hive Gateway: Apollo Gateway refuses the supergraph (``hive-oracle``
        says why, e.g. @fromContext); tests against live Apollo Gateway leave the case out."""
        return (self.path / "hive-oracle").exists()

    @property
    def operations(self) -> list[Operation]:
        return [Operation(p.stem, p) for p in sorted((self.path / "operations").glob("*.graphql"))]

    def load_subgraphs(self) -> dict[str, DataDrivenSubgraph]:
        return {
            name: DataDrivenSubgraph.from_files(
                name,
                self.subgraphs_dir / f"{name}.graphql",
                self.subgraphs_dir / f"{name}.json",
            )
            for name in self.subgraph_names
        }


def discover_cases(selected: list[str] | None = None) -> list[Case]:
    """All cases, or those whose id (`topic/case`) or topic is in `selected`."""
    cases = [
        Case(path.parent.name, path.name, path)
        for path in sorted(CASES_DIR.glob("*/*"))
        if (path / "subgraphs").is_dir()
    ]
    if selected:
        wanted = {s.strip("/") for s in selected}
        cases = [c for c in cases if c.id in wanted or c.topic in wanted]
    return cases


@dataclass
class RunningCase:
    """A case's subgraphs served by a host: their URLs (by subgraph name) and request logs."""

    case: Case
    subgraphs: dict[str, DataDrivenSubgraph]
    urls: dict[str, str]

    def reset(self) -> None:
        for subgraph in self.subgraphs.values():
            subgraph.reset()

    def fetch_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter({name: 0 for name in self.subgraphs})
        for name, subgraph in self.subgraphs.items():
            counts[name] += len(subgraph.requests)
        return dict(sorted(counts.items()))


@contextmanager
def serve_case(host: SubgraphHost, case: Case) -> Iterator[RunningCase]:
    """Mount a case's subgraphs on a running host (fresh data) for the duration of the block.

    What was mounted at those paths before (e.g. by the session-wide Apollo Gateway fixture) is
    put back afterwards, so serving a case twice in one session never unmounts the other."""
    subgraphs = case.load_subgraphs()
    previous = {name: host.apps.get(f"{case.id}/{name}") for name in subgraphs}
    urls = {name: host.mount(f"{case.id}/{name}", sg) for name, sg in subgraphs.items()}
    try:
        yield RunningCase(case, subgraphs, urls)
    finally:
        for name, app in previous.items():
            if app is None:
                host.apps.pop(f"{case.id}/{name}", None)
            else:
                host.apps[f"{case.id}/{name}"] = app


def corpus_gateway(case: Case, urls: dict[str, str], **options: Any) -> engine.Gateway:
    """Our gateway on a case's supergraph, routed to ``urls``, with the debug check that every
    subgraph operation of every plan is valid against that subgraph's schema."""
    return engine.Gateway.from_supergraph_sdl(
        case.supergraph_path.read_text(),
        subgraph_urls=urls,
        validate_subgraph_operations=True,
        **options,
    )


def dump_response(response: dict[str, Any]) -> str:
    """The canonical text of a response (key order kept) as stored in `<op>.expected.json`."""
    return json.dumps(response, indent=2, ensure_ascii=False) + "\n"


def canonical_url(name: str) -> str:
    """The routing URL compose.mjs writes into supergraphs (replaced by real URLs at run time)."""
    return f"http://{name}.subgraphs.test/graphql"


def normalize_urls(response: dict[str, Any], urls: dict[str, str]) -> dict[str, Any]:
    """Replace run-time subgraph URLs (ephemeral ports) in a response by their canonical URLs."""
    text = json.dumps(response, ensure_ascii=False)
    for name, url in sorted(urls.items(), key=lambda item: -len(item[1])):
        text = text.replace(json.dumps(url)[1:-1], canonical_url(name))
    # Bare host:port (e.g. "connect ECONNREFUSED 127.0.0.1:40097"), where it names one subgraph.
    netlocs = Counter(urlsplit(url).netloc for url in urls.values())
    for name, url in urls.items():
        netloc = urlsplit(url).netloc
        if netlocs[netloc] == 1:
            text = text.replace(netloc, urlsplit(canonical_url(name)).netloc)
    return json.loads(text)  # type: ignore[no-any-return]
