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


def tune_garbage_collector() -> None:
    """Freeze what the process holds now and raise the collection thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
