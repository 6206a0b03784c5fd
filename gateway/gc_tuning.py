"""Tune Python's cyclic garbage collector for a gateway process.

Responses are trees of dicts and lists freed by reference counting; the cyclic collector only
costs time here. With the defaults (a young collection every 700 allocations) it re-examines the
response being built over and over, and full collections walk every long-lived object (schemas,
plans, caches). Measured with ``bench/gc_probe.py`` (docs/benchmarks.md), CPU-ms per request
with the defaults and with this tuning: 1.2 and 1.0 on the reference workload, 200 and 122 at
100x its entities (116 with no collector at all).

``gc.freeze()`` moves what exists at start-up (the supergraph, the API schema, compiled code) to a
permanent generation no collection scans again, and is also kind to forked workers' shared pages.
"""

from __future__ import annotations

import gc

#: young generation every 50,000 allocations; full collections much rarer
THRESHOLDS = (50_000, 20, 100)
#: with tuning on, a full collection after this many cache evictions
EVICTIONS_PER_COLLECTION = 256

_tuned = False
_evictions = 0


def tune_garbage_collector() -> None:
    """Freeze what the process holds now and raise the collection thresholds."""
    global _tuned
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    _tuned = True


def note_eviction() -> None:
    """A cache dropped an entry: count it, and collect once enough garbage may be waiting.

    Cached entries hold reference cycles (a parsed document's token list, a compiled shaper's
    functions in their own globals), so an evicted entry is garbage only the cyclic collector
    frees; with raised thresholds it would wait in the oldest generation and a flood of distinct
    documents would grow the process. A stable workload evicts nothing and pays nothing.
    """
    global _evictions
    if not _tuned:
        return
    _evictions += 1
    if _evictions >= EVICTIONS_PER_COLLECTION:
        _evictions = 0
        gc.collect()
