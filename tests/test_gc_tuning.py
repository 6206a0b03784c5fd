"""The gateway process freezes its start-up objects and raises the GC thresholds."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gateway.gc_tuning import THRESHOLDS, tune_garbage_collector


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restore_gc")
def test_tuning_freezes_existing_objects_and_raises_thresholds() -> None:
    gc.unfreeze()
    tune_garbage_collector()
    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > 1000  # the interpreter and test session objects, at least
    assert gc.isenabled()  # cycles are still collected, only less often


class _Cycle:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.mark.usefixtures("restore_gc")
def test_cache_evictions_trigger_a_collection_once_tuned(monkeypatch: pytest.MonkeyPatch) -> None:
    import weakref

    from gateway import gc_tuning

    monkeypatch.setattr(gc_tuning, "_tuned", False)
    monkeypatch.setattr(gc_tuning, "_evictions", 0)
    gc.unfreeze()
    tune_garbage_collector()
    gc.disable()  # only note_eviction may collect during this test
    try:
        garbage = _Cycle()
        alive = weakref.ref(garbage)
        del garbage
        for _ in range(gc_tuning.EVICTIONS_PER_COLLECTION - 1):
            gc_tuning.note_eviction()
        assert alive() is not None  # not yet: below the eviction count
        gc_tuning.note_eviction()
        assert alive() is None  # the cycle was collected
    finally:
        gc.enable()


def test_evictions_cost_nothing_without_tuning(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway import gc_tuning

    monkeypatch.setattr(gc_tuning, "_tuned", False)
    monkeypatch.setattr(gc_tuning, "_evictions", 0)
    for _ in range(gc_tuning.EVICTIONS_PER_COLLECTION * 2):
        gc_tuning.note_eviction()
    assert gc_tuning._evictions == 0
