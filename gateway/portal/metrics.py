"""The gateway's Prometheus metrics, per OPD subgraph: fetches, errors, latency, circuit state.

Parsed with ``prometheus_client``'s own text parser. A rate needs two scrapes: the portal keeps
the previous one (``Scrapes``) and divides the difference by the time between them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

FETCHES = "jamajama_subgraph_fetch_duration_seconds"
ERRORS = "jamajama_subgraph_fetch_errors"
CIRCUIT = "jamajama_subgraph_circuit_open"


@dataclass
class SubgraphFigures:
    name: str
    fetches: float = 0.0
    errors: float = 0.0
    seconds: float = 0.0
    circuit_open: bool = False
    #: fetches per second since the previous scrape (None on the first)
    rate: float | None = None
    #: (upper bound, cumulative count) of the latency histogram
    buckets: list[tuple[float, float]] = field(default_factory=list)

    @property
    def mean_ms(self) -> float | None:
        return 1000 * self.seconds / self.fetches if self.fetches else None

    @property
    def p95_ms(self) -> float | None:
        """The upper bound of the bucket holding the 95th percentile (an upper estimate)."""
        if not self.fetches:
            return None
        for bound, count in sorted(self.buckets):
            if count >= 0.95 * self.fetches:
                return 1000 * bound if bound != float("inf") else None
        return None

    @property
    def error_ratio(self) -> float | None:
        return 100 * self.errors / self.fetches if self.fetches else None


def parse(text: str) -> dict[str, SubgraphFigures]:
    figures: dict[str, SubgraphFigures] = {}

    def of(name: str) -> SubgraphFigures:
        return figures.setdefault(name, SubgraphFigures(name))

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            subgraph = sample.labels.get("subgraph")
            if not subgraph:
                continue
            if sample.name == f"{FETCHES}_count":
                of(subgraph).fetches += sample.value
            elif sample.name == f"{FETCHES}_sum":
                of(subgraph).seconds += sample.value
            elif sample.name == f"{FETCHES}_bucket":
                of(subgraph).buckets.append((float(sample.labels["le"]), sample.value))
            elif sample.name in (f"{ERRORS}_total", ERRORS):
                of(subgraph).errors += sample.value
            elif sample.name == CIRCUIT:
                of(subgraph).circuit_open = of(subgraph).circuit_open or sample.value >= 1
    return figures


class Scrapes:
    """Scrapes ``url``; remembers the previous scrape to give rates."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._previous: tuple[float, dict[str, SubgraphFigures]] | None = None

    async def scrape(self) -> dict[str, SubgraphFigures] | None:
        """The figures now, or None when the gateway's metrics cannot be read."""
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.url)
            response.raise_for_status()
            figures = parse(response.text)
        except (httpx.HTTPError, ValueError):
            return None
        now = time.monotonic()
        if self._previous is not None:
            then, before = self._previous
            elapsed = now - then
            for name, current in figures.items():
                old = before.get(name)
                if old is not None and elapsed > 0:
                    current.rate = max(0.0, current.fetches - old.fetches) / elapsed
        self._previous = (now, figures)
        return figures
